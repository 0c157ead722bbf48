package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/planfile"
)

// TestColorDecidedInOnePlace (issue 12, item 16): one rule for the plan on
// stdout and the diagnostics on stderr: colors only on a terminal, never
// with -no-color (before or after the command's name), NO_COLOR set to
// anything, or TERM=dumb.
func TestColorDecidedInOnePlace(t *testing.T) {
	p := &plan.Plan{FormatVersion: plan.FormatVersion, CreatedAt: time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC), Environment: "staging", HandoffRoot: "/h",
		Handoffs: []plan.Handoff{{Slug: "a-task-20260621", Changes: []plan.Change{{Surface: "github", Action: plan.Create, Reason: "new spec"}}}}}
	p.Finalize()
	file := filepath.Join(t.TempDir(), "p.plan")
	if err := planfile.WriteFile(file, p); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		terminal bool
		environ  map[string]string
		args     []string
		want     bool
	}{
		{"terminal", true, nil, nil, true},
		{"not a terminal", false, nil, nil, false},
		{"-no-color before the command", true, nil, []string{"-no-color"}, false},
		{"-no-color after the command", true, nil, []string{"+no-color"}, false},
		{"NO_COLOR=1", true, map[string]string{"NO_COLOR": "1"}, nil, false},
		{"NO_COLOR=0 (any value)", true, map[string]string{"NO_COLOR": "0"}, nil, false},
		{"TERM=dumb", true, map[string]string{"TERM": "dumb"}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, cmd := range [][]string{{"show", file}, {"validate", "testdata/repos/invalid"}} {
				args := []string{"handoff"}
				if len(tt.args) > 0 && tt.args[0] == "-no-color" {
					args = append(args, "-no-color")
				}
				args = append(args, cmd[0])
				if len(tt.args) > 0 && tt.args[0] == "+no-color" {
					args = append(args, "-no-color")
				}
				args = append(args, cmd[1:]...)
				var stdout, stderr bytes.Buffer
				e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
					getenv: func(k string) string { return tt.environ[k] }, interactive: func() bool { return tt.terminal }}
				e.run(context.Background(), args)
				if got := strings.Contains(stdout.String()+stderr.String(), "\x1b["); got != tt.want {
					t.Errorf("%s: colored = %v, want %v\n%s%s", strings.Join(args, " "), got, tt.want, stdout.String(), stderr.String())
				}
			}
		})
	}
}
