package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/plan"
)

// devEnv starts the local servers on a frozen clock and returns them with
// the environment a command needs to use them (provisioner credentials
// included), plus the repository's own specs as the GitOps directory.
func devEnv(t *testing.T) (*devserver.Servers, map[string]string) {
	t.Helper()
	kit := devkit.NewKit()
	kit.Clock = devkit.NewFrozenClock(time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC))
	s, err := devserver.Start(devserver.Options{Kit: kit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := s.WriteKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	env := s.Env(keyFile)
	env["GITHUB_SHA"] = "0123456789abcdef0123456789abcdef01234567"
	return s, env
}

// secretsOf lists every secret value the environment and the servers hold,
// for scanning outputs.
func secretsOf(t *testing.T, s *devserver.Servers, env map[string]string) []string {
	t.Helper()
	out := []string{env["INFISICAL_CLIENT_SECRET"], env["GITHUB_TOKEN"]}
	key, err := os.ReadFile(env["GITHUB_APP_PRIVATE_KEY_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(key), "\n") {
		if len(line) > 40 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

func assertNoSecrets(t *testing.T, secrets []string, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		for _, s := range secrets {
			if s != "" && strings.Contains(o, s) {
				t.Errorf("an output contains a secret value (%d chars)", len(s))
			}
		}
	}
}

var volatile = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z|sha256:[0-9a-f]{12,64}`)

func TestPlanAgainstDevServers(t *testing.T) {
	s, env := devEnv(t)
	secrets := secretsOf(t, s, env)

	code, stdout, stderr := runCLI(t, env, "-no-color", "plan", "-detailed-exitcode", "../..")
	if code != exitChanges {
		t.Fatalf("plan -detailed-exitcode = %d, want 2\n%s", code, stderr)
	}
	for _, want := range []string{
		`+ handoff "iap-notif-handler-20260621"`,
		`+ handoff "founders-checkout-20260621"`,
		`+ github "installation token for raxx-app/TradeMasterAPI"`,
		"Plan: 2 to create, 0 to refresh, 0 to replace, 0 to revoke.",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}
	if code, _, _ := runCLI(t, env, "plan", "../.."); code != 0 {
		t.Errorf("plan without -detailed-exitcode = %d, want 0", code)
	}

	code, jsonOut, stderr := runCLI(t, env, "plan", "-json", "../..")
	if code != 0 {
		t.Fatalf("plan -json = %d: %s", code, stderr)
	}
	var doc struct {
		FormatVersion int  `json:"format_version"`
		HasChanges    bool `json:"has_changes"`
		Summary       struct{ Create int }
		GitCommit     string `json:"git_commit"`
	}
	if err := json.Unmarshal([]byte(jsonOut), &doc); err != nil {
		t.Fatalf("plan -json is not JSON: %v", err)
	}
	if doc.FormatVersion != plan.FormatVersion || !doc.HasChanges || doc.Summary.Create != 2 || doc.GitCommit != env["GITHUB_SHA"] {
		t.Errorf("plan -json = %+v", doc)
	}
	assertNoSecrets(t, secrets, stdout, stderr, jsonOut)

	// The text plan is pinned by a golden file, with times and digests
	// (which follow the wall clock and the checkout) normalised.
	golden := filepath.Join("testdata", "golden", "plan-dev-two-creates.txt")
	got := volatile.ReplaceAllString(stdout, "<volatile>")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("plan text differs from %s (rerun with -update if intended):\n%s", golden, got)
	}
}

func TestPlanOutAndShow(t *testing.T) {
	s, env := devEnv(t)
	secrets := secretsOf(t, s, env)
	file := filepath.Join(t.TempDir(), "handoff.plan")
	code, planText, stderr := runCLI(t, env, "-no-color", "plan", "-out", file, "../..")
	if code != 0 {
		t.Fatalf("plan -out = %d: %s", code, stderr)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("plan file: %v %v", fi, err)
	}
	code, shown, stderr := runCLI(t, env, "-no-color", "show", file)
	if code != 0 || shown != planText {
		t.Errorf("show = %d %s\nshown:\n%s\nplanned:\n%s", code, stderr, shown, planText)
	}
	raw, _ := os.ReadFile(file)
	assertNoSecrets(t, secrets, string(raw), planText, shown)

	tampered := bytes.Replace(raw, []byte(`"write"`), []byte(`"admin"`), 1)
	bad := filepath.Join(t.TempDir(), "tampered.plan")
	if err := os.WriteFile(bad, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, env, "show", bad); code != 1 || !strings.Contains(stderr, "handoff show:") {
		t.Errorf("show of a tampered plan = %d %q", code, stderr)
	}
}

func TestPlanPRCommentIsPostedOnceAndUpdated(t *testing.T) {
	s, env := devEnv(t)
	secrets := secretsOf(t, s, env)
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"action":"synchronize","pull_request":{"number":42}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env["GITHUB_EVENT_PATH"] = event
	env["GITHUB_SERVER_URL"] = "https://github.com"
	env["GITHUB_RUN_ID"] = "9876543210"
	before := len(s.GitHub.Comments("raxx-app", "TradeMasterAPI", 42))
	var outputs []string
	for i := range 2 {
		code, stdout, stderr := runCLI(t, env, "plan", "-pr-comment", "../..")
		if code != 0 {
			t.Fatalf("run %d: plan -pr-comment = %d: %s", i, code, stderr)
		}
		outputs = append(outputs, stdout, stderr)
	}
	comments := s.GitHub.Comments("raxx-app", "TradeMasterAPI", 42)
	if len(comments) != before+1 {
		t.Fatalf("%d comments after two runs, want %d (one posted, then updated)", len(comments), before+1)
	}
	body := comments[len(comments)-1].Body
	for _, want := range []string{"<!-- handoff-plan -->", "2 to create", "actions/runs/9876543210"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q", want)
		}
	}
	assertNoSecrets(t, secrets, append(outputs, body)...)

	delete(env, "GITHUB_TOKEN")
	code, _, stderr := runCLI(t, env, "plan", "-pr-comment", "../..")
	if code != 1 || !strings.Contains(stderr, "GITHUB_TOKEN") {
		t.Errorf("without a token: %d %q; a plan nobody sees must fail loudly", code, stderr)
	}
}

// Invalid specs stop plan before any request: nothing remote is touched.
// So does a handoff's own invalid spec its gate, env and verify.
func TestInvalidSpecsTouchNothingRemote(t *testing.T) {
	s, env := devEnv(t)
	dir := t.TempDir()
	copyTree(t, "../../specs", filepath.Join(dir, "specs"))
	cfg, err := os.ReadFile("../../handoff.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "handoff.hcl"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "specs", "founders-checkout-20260621.hcl")
	src, _ := os.ReadFile(spec)
	if err := os.WriteFile(spec, bytes.Replace(src, []byte(`ttl`), []byte(`ttl_typo`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	// The dev clock lookup is the only request Load may make.
	delete(env, "HANDOFF_DEV_CLOCK_URL")
	s.Kit.Stats.Reset()
	for _, args := range [][]string{
		{"plan", dir},
		{"apply", "-auto-approve", dir},
		// gate, env and verify of a handoff depend on its own spec only
		// (TestSlugCommandsIgnoreAnotherInvalidSpec): this one's is invalid.
		{"gate", "-chdir", dir, "founders-checkout-20260621"},
		{"env", "-chdir", dir, "founders-checkout-20260621"},
		{"verify", "-chdir", dir, "founders-checkout-20260621"},
		{"verify", "-chdir", dir},
		{"audit", "-chdir", dir},
		{"untombstone", "-chdir", dir, "iap-notif-handler-20260621"},
	} {
		code, _, stderr := runCLI(t, env, args...)
		if code != 1 || !strings.Contains(stderr, "founders-checkout-20260621.hcl:") || !strings.Contains(stderr, "nothing remote was touched") {
			t.Errorf("%s on an invalid spec = %d\n%s", args[0], code, stderr)
		}
	}
	if n := s.Kit.Stats.Total(); n != 0 {
		t.Errorf("%d requests reached the servers", n)
	}
}

func TestDevCommandWritesCredentialsAndNeverPrintsThem(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- runContext(ctx, []string{"handoff", "dev", "-dir", dir}, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	}()
	envFile := filepath.Join(dir, "dev.env")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "control:") {
		if time.Now().After(deadline) {
			t.Fatalf("handoff dev did not start: %s %s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("handoff dev exited %d: %s", code, stderr.String())
	}
	raw, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && (strings.HasSuffix(k, "SECRET") || strings.HasSuffix(k, "TOKEN")) {
			secrets = append(secrets, strings.Trim(v, "'"))
		}
	}
	if len(secrets) < 2 {
		t.Fatalf("dev.env holds %d secrets, want the client secret and the Actions token", len(secrets))
	}
	assertNoSecrets(t, secrets, stdout.String(), stderr.String())
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		t.Errorf("state not saved on stop: %v", err)
	}
	if ig, err := os.ReadFile(filepath.Join(dir, ".gitignore")); err != nil || !strings.Contains(string(ig), "\n*\n") {
		t.Errorf("the credentials directory has no .gitignore ignoring everything: %q, %v", ig, err)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestEndpointsInHandoffHCLCannotRedirectCredentials: a pull request that
// points site_url or api_url at its author's host gets nothing: without the
// environment's confirmation the command refuses before any request, and
// with the environment set, the environment's endpoint is used.
func TestEndpointsInHandoffHCLCannotRedirectCredentials(t *testing.T) {
	var rogue atomic.Int64
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rogue.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	defer trap.Close()
	_, env := devEnv(t)
	for _, tc := range []struct {
		name, attr, envName string
	}{
		{"infisical site_url", `site_url        = "https://app.infisical.com"`, "INFISICAL_SITE_URL"},
		{"github api_url", `api_url = "https://api.github.com"`, "HANDOFF_GITHUB_API_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, "../../specs", filepath.Join(dir, "specs"))
			cfg, err := os.ReadFile("../../handoff.hcl")
			if err != nil {
				t.Fatal(err)
			}
			name, _, _ := strings.Cut(tc.attr, " ")
			evil := []byte(name + ` = "` + trap.URL + `"`)
			if !bytes.Contains(cfg, []byte(tc.attr)) {
				t.Fatalf("handoff.hcl has no %s", tc.attr)
			}
			if err := os.WriteFile(filepath.Join(dir, "handoff.hcl"), bytes.Replace(cfg, []byte(tc.attr), evil, 1), 0o644); err != nil {
				t.Fatal(err)
			}
			unconfirmed := maps.Clone(env)
			delete(unconfirmed, tc.envName)
			code, _, stderr := runCLI(t, unconfirmed, "plan", dir)
			if code != 1 || !strings.Contains(stderr, "only the environment may choose") || !strings.Contains(stderr, "handoff.hcl:") {
				t.Errorf("plan with an unconfirmed %s: exit %d\n%s", name, code, stderr)
			}
			if code, _, stderr := runCLI(t, env, "plan", dir); code != 0 {
				t.Errorf("plan with %s set: exit %d\n%s", tc.envName, code, stderr)
			}
			if n := rogue.Load(); n != 0 {
				t.Errorf("%d requests reached the host handoff.hcl named", n)
			}
		})
	}
}
