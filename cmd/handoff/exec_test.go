package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/session"
	"github.com/raxx-app/handoff/internal/workspace"
)

// The test binary plays exec's command when envExecChild is set (see
// TestExecHelperChild), and handoff itself when envExecMain is set (see
// TestExecHelperMain, in exec_unix_test.go).
const (
	envExecChild = "GO_HANDOFF_EXEC_CHILD"
	envExecMain  = "GO_HANDOFF_EXEC_MAIN"
)

func init() {
	scenarios = append(scenarios,
		scenario{name: "exec-help", args: []string{"exec", "-help"}},
		scenario{name: "exec-no-command", args: []string{"exec", "some-slug"}},
		scenario{name: "exec-no-command-after-dashes", args: []string{"exec", "some-slug", "--"}},
		scenario{name: "exec-flag-after-slug", args: []string{"exec", "some-slug", "-C", "dir", "--", "true"}},
		scenario{name: "exec-two-slugs", args: []string{"exec", "a", "b", "--", "true"}},
	)
}

// TestExecHelperChild is not a test: it is the command `handoff exec`
// runs in the tests below (the test binary re-run with envExecChild set),
// doing what the arguments after "--" say:
//
//	env          print the environment as JSON on stdout
//	exit N       exit with status N
//	kill         kill itself with SIGTERM
//	mark FILE    create FILE (proof that it ran)
//	trap         print "ready", wait for SIGINT, SIGTERM, SIGHUP or SIGQUIT,
//	             print "got N" and exit with 40+N
//	hang         print "ready" and wait, never handling a signal
func TestExecHelperChild(t *testing.T) {
	if os.Getenv(envExecChild) == "" {
		t.Skip("only the command of the exec tests")
	}
	var args []string
	for i, a := range os.Args {
		if a == "--" {
			args = os.Args[i+1:]
			break
		}
	}
	os.Exit(execChild(args))
}

func execChild(args []string) int {
	switch args[0] {
	case "env":
		m := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		b, _ := json.Marshal(m)
		os.Stdout.Write(b)
		return 0
	case "exit":
		n, _ := strconv.Atoi(args[1])
		return n
	case "mark":
		if err := os.WriteFile(args[1], nil, 0o600); err != nil {
			return 99
		}
		return 0
	}
	return execChildSignals(args[0])
}

// execRun runs `handoff exec` in process with environ as its whole
// environment (the workspace reads c.env), the test binary as the command.
// Only exec's stderr joins the outputs the scan checks: stdout is the
// command's, which prints the secrets when asked.
func (c *gitops) execRun(environ map[string]string, slug string, child ...string) (int, string, string) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	list := []string{envExecChild + "=1"}
	for k, v := range environ {
		list = append(list, k+"="+v)
	}
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string { return c.env[k] }, environ: func() []string { return list }}
	args := []string{"handoff", "-no-color", "exec", "-chdir", c.dir, slug, "--", os.Args[0], "-test.run=^TestExecHelperChild$", "--"}
	code := e.run(context.Background(), append(args, child...))
	c.harvest()
	c.outputs = append(c.outputs, stderr.String())
	return code, stdout.String(), stderr.String()
}

// provisionerEnviron is the dev servers' environment with every other
// credential a provisioner may hold.
func (c *gitops) provisionerEnviron() map[string]string {
	m := map[string]string{
		"GITHUB_APP_PRIVATE_KEY":         "-----BEGIN RSA PRIVATE KEY-----\nprovisioner-app-key-in-the-environment\n-----END RSA PRIVATE KEY-----",
		"CF_ACCESS_CLIENT_ID":            "provisioner-cf-access-id.access",
		"CF_ACCESS_CLIENT_SECRET":        "provisioner-cf-access-secret-0123456789",
		"AWS_ACCESS_KEY_ID":              "AKIAPROVISIONER00001",
		"AWS_SECRET_ACCESS_KEY":          "provisioner-aws-secret-access-key-000000",
		"AWS_SESSION_TOKEN":              "provisioner-aws-session-token-000000000",
		"AWS_PROFILE":                    "provisioner",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "provisioner-actions-oidc-request-token",
		"CLOUDFLARE_API_TOKEN":           "provisioner-cloudflare-token-0000000000",
		"HEROKU_API_KEY":                 "provisioner-heroku-api-key-00000000000",
		"GITHUB_TOKEN":                   "ghs_provisionerworkflowtoken000000000",
		"EXEC_TEST_KEPT":                 "kept",
		"PATH":                           os.Getenv("PATH"),
	}
	for k, v := range c.env {
		m[k] = v
	}
	for k, v := range m {
		if workspace.ProvisionerEnv(k) && len(v) >= 8 {
			c.secrets[v] = true
		}
	}
	return m
}

// newExecGitOps is newGitOps without the vendors' rate limits: each exec
// makes six requests of Infisical Cloud's "secrets" class (40 a minute),
// and these tests measure exec, not the limits.
func newExecGitOps(t *testing.T) *gitops {
	c := newGitOps(t)
	c.s.NoRateLimits()
	c.env["HANDOFF_INFISICAL_RATE_LIMITS"], c.env["HANDOFF_GITHUB_RATE_LIMITS"] = "self-hosted", "enterprise"
	return c
}

func TestExec(t *testing.T) {
	c := newExecGitOps(t)
	environ := c.provisionerEnviron()
	mark := filepath.Join(t.TempDir(), "ran")

	// H4: no manifest, no command; gate's decision and reason.
	code, stdout, stderr := c.execRun(environ, iapSlug, "mark", mark)
	_, gateErr := c.must(1, "gate", iapSlug)
	if code != 1 || stdout != "" {
		t.Fatalf("exec before apply: exit %d, stdout %q", code, stdout)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("exec ran the command of a handoff the gate refuses")
	}
	_, reason, _ := strings.Cut(gateErr, " refused: ")
	if want := "handoff exec: " + iapSlug + " refused: " + reason; stderr != want {
		t.Errorf("exec refused with\n%q\nwant gate's reason\n%q", stderr, want)
	}

	c.must(0, "apply", "-auto-approve")
	identity := ""
	for _, id := range c.s.Infisical.Identities() {
		if strings.HasPrefix(id.Name, "infisical-handoff-"+iapSlug) {
			identity = id.ID
		}
	}
	tokens := func() int {
		n := 0
		for _, tok := range c.s.Infisical.LiveAccessTokens() {
			if tok.IdentityID == identity {
				n++
			}
		}
		return n
	}
	liveBefore, stats := tokens(), c.s.Kit.Stats.Snapshot()

	code, stdout, stderr = c.execRun(environ, iapSlug, "env")
	if code != 0 {
		t.Fatalf("exec env: exit %d\n%s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("exec printed on stderr: %q", stderr)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("the command's environment: %v", err)
	}

	// The handoff's own variables, read as its identity.
	folder := "/MooseQuest/handoffs/" + iapSlug
	secret := func(path, name string) string {
		s, ok := c.s.Infisical.Secret("staging", path, name)
		if !ok {
			t.Fatalf("no %s/%s", path, name)
		}
		return s.Value
	}
	for name, want := range map[string]string{
		"HANDOFF_TASK_SLUG":          iapSlug,
		"INFISICAL_SECRET_PATH":      folder,
		"INFISICAL_ENVIRONMENT":      "staging",
		"INFISICAL_SITE_URL":         c.env["INFISICAL_SITE_URL"],
		"GH_TOKEN":                   secret(folder, "GH_HANDOFF_TOKEN"),
		"INFISICAL_CLIENT_ID":        secret(folder, "INFISICAL_CLIENT_ID"),
		"INFISICAL_CLIENT_SECRET":    secret(folder, "INFISICAL_CLIENT_SECRET"),
		"APPLE_IAP_KEY_ID":           secret("/MooseQuest/queue/staging", "APPLE_IAP_KEY_ID"),
		"HANDOFF_READ_PATHS":         "/MooseQuest/queue/staging/APPLE_IAP_*",
		"HANDOFF_MCP_TOOLS":          "",
		"HANDOFF_MCP_TOOLS_EXCLUDED": "",
		"EXEC_TEST_KEPT":             "kept",
	} {
		if name == "HANDOFF_MCP_TOOLS" || name == "HANDOFF_MCP_TOOLS_EXCLUDED" {
			if got[name] == "" {
				t.Errorf("%s is empty", name)
			}
			continue
		}
		if got[name] != want {
			t.Errorf("%s = %.12q…, want %.12q…", name, got[name], want)
		}
	}
	if _, ok := got["HANDOFF_EXPIRES_AT"]; !ok {
		t.Error("no HANDOFF_EXPIRES_AT")
	}
	if _, ok := got["STRIPE_TEST_SECRET_KEY"]; ok {
		t.Error("the command reads a key outside the handoff's grant")
	}

	// None of the provisioner's: its credentials and settings are gone or
	// replaced by the handoff's, and no value of them is anywhere.
	var provisioner []string
	for k, v := range environ {
		if !workspace.ProvisionerEnv(k) || k == "INFISICAL_SITE_URL" || k == "INFISICAL_PROJECT_ID" {
			continue // the session sets the vault's settings again, the same
		}
		provisioner = append(provisioner, k)
		if g, ok := got[k]; ok && g == v {
			t.Errorf("the command inherits the provisioner's %s", k)
		}
		for name, g := range got {
			if len(v) >= 8 && strings.Contains(g, v) {
				t.Errorf("the command's %s holds the provisioner's %s", name, k)
			}
		}
	}
	sort.Strings(provisioner)
	if len(provisioner) < 13 {
		t.Fatalf("the test's provisioner environment is too thin: %v", provisioner)
	}
	for name := range got {
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "CF_ACCESS_") || name == "GITHUB_TOKEN" ||
			name == "CLOUDFLARE_API_TOKEN" || name == "HEROKU_API_KEY" || strings.HasPrefix(name, "GITHUB_APP_PRIVATE_KEY") {
			t.Errorf("the command has %s, which the handoff does not hold", name)
		}
	}

	// Read only, and the identity's access token is logged out.
	for route, n := range c.s.Kit.Stats.Snapshot() {
		method, path, _ := strings.Cut(route, " ")
		if n > stats[route] && method != "GET" && !strings.HasSuffix(path, "/login") && path != "/api/v1/auth/token/revoke" {
			t.Errorf("exec wrote: %s", route)
		}
	}
	if n := tokens(); n != liveBefore {
		t.Errorf("%d live access tokens of the handoff's identity after exec, %d before", n, liveBefore)
	}

	// Exit statuses as a shell reports them; nothing secret on exec's own
	// outputs.
	notExec := filepath.Join(t.TempDir(), "not-executable")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		child []string
		want  int
	}{
		{"success", []string{"exit", "0"}, 0},
		{"failure", []string{"exit", "3"}, 3},
		{"status 42", []string{"exit", "42"}, 42},
		{"killed by SIGTERM", []string{"kill"}, 128 + 15},
	} {
		code, stdout, stderr := c.execRun(environ, iapSlug, tc.child...)
		c.outputs = append(c.outputs, stdout)
		if code != tc.want {
			t.Errorf("%s: exit %d, want %d\n%s", tc.name, code, tc.want, stderr)
		}
	}
	for _, tc := range []struct {
		argv []string
		want int
		msg  string
	}{
		{[]string{"no-such-command-on-path"}, exitNotFound, "no-such-command-on-path: command not found"},
		{[]string{notExec}, exitCannotRun, "cannot run: permission denied"},
	} {
		var stdout, stderr bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
			getenv: func(k string) string { return c.env[k] }, environ: func() []string { return nil }}
		code := e.run(context.Background(), append([]string{"handoff", "exec", "-C", c.dir, iapSlug, "--"}, tc.argv...))
		c.outputs = append(c.outputs, stdout.String(), stderr.String())
		if code != tc.want || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%v: exit %d, want %d: %s", tc.argv, code, tc.want, stderr.String())
		}
	}

	// A killed surface: the command runs without it.
	c.must(0, "revoke", "-surface", "github", "-reason", "drill", "-by", "alice", iapSlug)
	code, stdout, stderr = c.execRun(environ, iapSlug, "env")
	got = nil
	if err := json.Unmarshal([]byte(stdout), &got); code != 0 || err != nil {
		t.Fatalf("exec after a kill: exit %d: %v\n%s", code, err, stderr)
	}
	if _, ok := got["GH_TOKEN"]; ok {
		t.Error("GH_TOKEN after the github surface was killed")
	}
	if !strings.Contains(stderr, "killed by alice") || got["INFISICAL_CLIENT_ID"] == "" {
		t.Errorf("exec after a kill: %s", stderr)
	}

	// Revoked: refused, nothing run.
	c.must(0, "revoke", "-reason", "task done", iapSlug)
	code, _, stderr = c.execRun(environ, iapSlug, "mark", mark)
	if _, err := os.Stat(mark); code != 1 || err == nil || !strings.Contains(stderr, "refused") {
		t.Errorf("exec of a revoked handoff: exit %d, ran %v: %s", code, err == nil, stderr)
	}
}

func TestChildEnviron(t *testing.T) {
	parent := []string{"PATH=/bin", "INFISICAL_CLIENT_ID=provisioner", "AWS_REGION=eu-west-1", "GH_TOKEN=orchestrator",
		"FOO=bar=baz", "HANDOFF_DEV_CLOCK_URL=http://127.0.0.1:1/_dev/clock", "=weird"}
	vars := session.Vars{{Name: "HANDOFF_TASK_SLUG", Value: "x"}, {Name: "GH_TOKEN", Value: "own"}, {Name: "INFISICAL_CLIENT_ID", Value: "own-id"}}
	got := childEnviron(parent, vars)
	want := []string{"PATH=/bin", "FOO=bar=baz", "HANDOFF_TASK_SLUG=x", "GH_TOKEN=own", "INFISICAL_CLIENT_ID=own-id"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("childEnviron = %q\nwant %q", got, want)
	}
}
