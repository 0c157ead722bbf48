package diag

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// WriteGitHubActions writes one GitHub Actions workflow command per
// diagnostic, which the runner turns into an annotation on the pull request:
//
//	::error file=specs/x.hcl,line=7,col=5,endLine=7,endColumn=19,title=Summary::Detail
//
// ("::warning" for warnings). Values are escaped by the workflow-command
// rules: '%', '\r' and '\n' in the message, and also ':' and ',' in
// properties; other control characters become '?'. workspace, when not
// empty, is the directory GitHub resolves file names against
// (GITHUB_WORKSPACE): absolute file names inside it are made relative to it.
// Like every renderer it shows all of diags: apply Limit first.
func WriteGitHubActions(w io.Writer, diags hcl.Diagnostics, workspace string) error {
	var b strings.Builder
	for _, d := range Sort(diags) {
		b.WriteString("::")
		b.WriteString(severity(d.Severity))
		var props []string
		if s := d.Subject; s != nil {
			props = append(props,
				"file="+escapeProperty(actionsPath(s.Filename, workspace)),
				fmt.Sprintf("line=%d", s.Start.Line),
				fmt.Sprintf("col=%d", s.Start.Column),
				fmt.Sprintf("endLine=%d", s.End.Line),
				fmt.Sprintf("endColumn=%d", s.End.Column),
			)
		}
		props = append(props, "title="+escapeProperty(d.Summary))
		b.WriteString(" ")
		b.WriteString(strings.Join(props, ","))
		b.WriteString("::")
		msg := d.Detail
		if msg == "" {
			msg = d.Summary
		}
		b.WriteString(escapeData(msg))
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func actionsPath(name, workspace string) string {
	if workspace != "" {
		// A relative name is relative to the working directory, which
		// need not be the workspace (handoff -chdir=DIR, a step's
		// working-directory).
		abs := name
		if !filepath.IsAbs(abs) {
			if a, err := filepath.Abs(name); err == nil {
				abs = a
			}
		}
		if rel, err := filepath.Rel(workspace, abs); err == nil && !strings.HasPrefix(rel, "..") {
			name = rel
		}
	}
	return filepath.ToSlash(name)
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// escapeData and escapeProperty also neutralise control characters other
// than the escaped ones, since GitHub's log viewer interprets ANSI sequences.
func escapeData(s string) string     { return dataEscaper.Replace(sanitize(s, "\t\r\n")) }
func escapeProperty(s string) string { return propertyEscaper.Replace(sanitize(s, "\t\r\n")) }
