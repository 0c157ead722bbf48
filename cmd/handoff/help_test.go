package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// commandNames lists every command of the program, help included.
func commandNames() []string {
	var out []string
	for _, c := range newApp(&env{getenv: func(string) string { return "" }}).Commands {
		out = append(out, c.Name)
	}
	return out
}

// TestEveryCommandsHelp runs -help of every command (and of the program)
// and holds each page to the same rules (issue 12, item 21): flags written
// with one dash as everywhere else, a named placeholder for every value,
// at most one default per flag and written "(default: …)", none for a
// bool that is off, a one-line usage in lower case without a period, an
// exit status in the description, no line wider than 120 columns.
func TestEveryCommandsHelp(t *testing.T) {
	names := commandNames()
	if len(names) < 14 {
		t.Fatalf("only %d commands: %v", len(names), names)
	}
	var flagLine = regexp.MustCompile(`^   (-{1,2}[a-z][a-z-]*)( [A-Z/]+)?(, -{1,2}[a-zA-Z]+( [A-Z/]+)?)?\s{2,}(.*)$`)
	check := func(t *testing.T, args []string) {
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != 0 || stderr != "" {
			t.Fatalf("handoff %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
		}
		inOptions := false
		for _, line := range strings.Split(stdout, "\n") {
			if n := len([]rune(line)); n > 120 {
				t.Errorf("a line of %d columns: %q", n, line)
			}
			if strings.HasSuffix(line, "OPTIONS:") {
				inOptions = true
				continue
			}
			if !inOptions || strings.TrimSpace(line) == "" {
				continue
			}
			m := flagLine.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("not a flag line: %q", line)
				continue
			}
			if strings.HasPrefix(m[1], "--") {
				t.Errorf("a flag written with two dashes: %q", line)
			}
			if strings.Contains(line, " VALUE") || strings.Contains(line, " value ") {
				t.Errorf("a flag without a named placeholder: %q", line)
			}
			usage := m[5]
			if n := strings.Count(usage, "(default"); n > 1 {
				t.Errorf("%d defaults on one line: %q", n, line)
			}
			if strings.Contains(usage, "(default ") || strings.Contains(usage, "(default: false)") {
				t.Errorf("a default not written \"(default: …)\", or one of false: %q", line)
			}
		}
	}
	t.Run("handoff", func(t *testing.T) { check(t, []string{"-help"}) })
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			check(t, []string{name, "-help"})
			// The same page from `handoff help NAME`, and -no-color accepted.
			_, viaHelp, _ := runCLI(t, nil, "help", name)
			_, direct, _ := runCLI(t, nil, name, "-help")
			if viaHelp != direct && name != "help" {
				t.Errorf("handoff help %s differs from handoff %s -help", name, name)
			}
			if code, _, stderr := runCLI(t, nil, name, "-no-color", "-help"); code != 0 {
				t.Errorf("handoff %s -no-color: exit %d: %s", name, code, stderr)
			}
		})
	}
	app := newApp(&env{getenv: func(string) string { return "" }})
	for _, c := range app.Commands {
		if c.Usage == "" || strings.ToLower(c.Usage[:1]) != c.Usage[:1] || strings.HasSuffix(c.Usage, ".") {
			t.Errorf("%s: usage %q: want one line in lower case, without a period", c.Name, c.Usage)
		}
		if c.Name != "help" && !strings.Contains(c.Description, "Exit status:") {
			t.Errorf("%s: the description does not give the exit status", c.Name)
		}
		for _, f := range c.Flags {
			if df, ok := f.(cli.DocGenerationFlag); ok && df.GetUsage() == "" {
				t.Errorf("%s: flag %s has no usage", c.Name, f.Names()[0])
			}
		}
	}
}

// TestGlobalChdir (issue 12, item 16): -chdir=DIR before the command, as
// in terraform, for every command; paths are then read from DIR, and the
// working directory is back after the run.
func TestGlobalChdir(t *testing.T) {
	wd, _ := os.Getwd()
	for _, tt := range []struct {
		args []string
		code int
		out  string // in stdout or stderr
	}{
		{[]string{"-chdir=testdata/repos/ok", "validate"}, 0, "handoff validate: "},
		{[]string{"-chdir", "testdata/repos", "validate", "ok"}, 0, "handoff validate: "},
		{[]string{"-chdir=testdata/repos/invalid", "validate"}, 1, "specs/"},
		{[]string{"-chdir=testdata/repos/unformatted", "fmt", "-check"}, exitUnformatted, "messy-task.hcl"},
		{[]string{"-chdir=testdata/nowhere", "validate"}, 1, "handoff: -chdir=testdata/nowhere: no such file or directory"},
		{[]string{"-chdir=testdata/repos/ok", "show", "plan.bin"}, 1, "plan.bin"},
	} {
		code, stdout, stderr := runCLI(t, nil, tt.args...)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.out) {
			t.Errorf("handoff %s: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), code, tt.code, tt.out, stdout, stderr)
		}
		if now, _ := os.Getwd(); now != wd {
			t.Fatalf("the working directory is %s after handoff %s, want %s", now, strings.Join(tt.args, " "), wd)
		}
	}
	// GitHub annotations name files from the workspace's root, whatever
	// the directory -chdir switched to.
	_, _, stderr := runCLI(t, map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": wd}, "-chdir=testdata/repos/invalid", "validate")
	if !strings.Contains(stderr, "::error file=testdata/repos/invalid/specs/") {
		t.Errorf("annotations after -chdir do not name the files from the workspace:\n%s", stderr)
	}
	// A path given after -chdir is read from DIR: the invalid spec is
	// reported by its name there.
	_, _, stderr = runCLI(t, nil, "-chdir=testdata/repos", "validate", "invalid")
	if !strings.Contains(stderr, filepath.Join("invalid", "specs")) {
		t.Errorf("validate after -chdir: %s", stderr)
	}
}

// TestGlobalChdirWithRemoteCommands: the commands that read handoff.hcl
// find it through the global -chdir from anywhere.
func TestGlobalChdirWithRemoteCommands(t *testing.T) {
	c := newGitOps(t)
	elsewhere := t.TempDir()
	run := func(args ...string) (int, string, string) {
		t.Helper()
		wd, _ := os.Getwd()
		if err := os.Chdir(elsewhere); err != nil {
			t.Fatal(err)
		}
		defer os.Chdir(wd)
		return runCLI(t, c.env, append([]string{"-no-color", "-chdir=" + c.dir}, args...)...)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plan"}, 0, "Plan: 2 to create"},
		{[]string{"apply", "-auto-approve"}, 0, "Apply complete: 2 created"},
		{[]string{"gate", iapSlug}, 0, "may be dispatched"},
		{[]string{"verify"}, 0, "verified (active)"},
		{[]string{"env", iapSlug}, 0, `"slug": "` + iapSlug + `"`},
		{[]string{"audit", iapSlug}, 0, "create"},
		{[]string{"revoke", "-reason", "drill", iapSlug}, 0, "Revoked every surface of " + iapSlug},
		{[]string{"untombstone", iapSlug}, 0, "Tombstone of " + iapSlug + " lifted"},
	} {
		code, stdout, stderr := run(tt.args...)
		c.outputs = append(c.outputs, stdout, stderr)
		if code != tt.code || !strings.Contains(stdout, tt.want) {
			t.Errorf("handoff -chdir=DIR %s: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), code, tt.code, tt.want, stdout, stderr)
		}
	}
}

// TestMessagesSayThingsOnce (issue 12, item 21): no message repeats the
// command's prefix, an untombstone of a lifted tombstone does not claim to
// lift it, and an App id from the environment is not blamed on handoff.hcl.
func TestMessagesSayThingsOnce(t *testing.T) {
	c := newGitOps(t)
	_, stderr := c.must(exitNothingFound, "revoke", "nothing-here-20260101")
	if !strings.Contains(stderr, "handoff revoke nothing-here-20260101: nothing found") || strings.Contains(stderr, "apply:") {
		t.Errorf("revoke of nothing: %s", stderr)
	}
	_, stderr = c.must(exitNothingFound, "untombstone", "nothing-here-20260101")
	if !strings.Contains(stderr, "handoff untombstone nothing-here-20260101: nothing found") || strings.Contains(stderr, "apply:") {
		t.Errorf("untombstone of nothing: %s", stderr)
	}
	c.must(0, "apply", "-auto-approve")
	c.must(0, "revoke", "-by", "alice", iapSlug)
	stdout, _ := c.must(0, "untombstone", iapSlug)
	if !strings.Contains(stdout, "lifted (revoked by alice)") {
		t.Errorf("untombstone: %s", stdout)
	}
	stdout, _ = c.must(0, "untombstone", iapSlug)
	if !strings.Contains(stdout, "was lifted already") || strings.Contains(stdout, "lifted (revoked") {
		t.Errorf("a second untombstone: %s", stdout)
	}

	c.env["HANDOFF_GITHUB_APP_ID"] = "1"
	_, stderr = c.must(1, "plan")
	if !strings.Contains(stderr, "check HANDOFF_GITHUB_APP_ID") || strings.Contains(stderr, "check app_id in handoff.hcl") {
		t.Errorf("a wrong App id from the environment: %s", stderr)
	}
	c.env["HANDOFF_GITHUB_APP_ID"] = "12x"
	_, stderr = c.must(1, "plan")
	if !strings.Contains(stderr, `HANDOFF_GITHUB_APP_ID="12x" is not a GitHub App id`) {
		t.Errorf("an App id that is not a number: %s", stderr)
	}
}
