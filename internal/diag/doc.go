// Package diag renders hcl.Diagnostics for people and machines: text with a
// quoted source line and a caret (WriteText), a stable JSON document
// (WriteJSON), and GitHub Actions workflow commands that annotate a pull
// request inline (WriteGitHubActions). Every renderer sorts first (Sort):
// by file, then by position, so all problems of a run read in order.
//
// Renderers show every diagnostic they are given; Limit bounds a list
// first: MaxPerFile problems of a file and MaxTotal in all, the rest
// counted by an "and N more …" diagnostic (Omitted) that Counts and the
// JSON document count as the problems it stands for.
//
// The package only renders and bounds; it never decides what is an error.
package diag
