// Package diag renders hcl.Diagnostics for people and machines: text with a
// quoted source line and a caret (WriteText), a stable JSON document
// (WriteJSON), and GitHub Actions workflow commands that annotate a pull
// request inline (WriteGitHubActions). Every renderer sorts first (Sort):
// by file, then by position, so all problems of a run read in order.
//
// The package only renders; it never decides what is an error.
package diag
