package devserver

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/infisical"
)

func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		env[k] = strings.Trim(v, "'")
	}
	return env
}

// The credentials a developer gets from `handoff dev` work with the real
// clients, and the files holding them are private.
func TestStartServesBothWithWorkingCredentials(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(Options{StateFile: filepath.Join(dir, "state.json")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keyFile, envFile := filepath.Join(dir, "app.pem"), filepath.Join(dir, "dev.env")
	if err := s.WriteKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteEnvFile(envFile, keyFile); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{keyFile, envFile} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	env := readEnvFile(t, envFile)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	key, err := github.LoadPrivateKey(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	gh, err := github.New(github.Config{APIURL: env["HANDOFF_GITHUB_API_URL"], AppID: s.GitHub.AppID(), PrivateKeyPEM: key})
	if err != nil {
		t.Fatal(err)
	}
	insts, err := gh.Installations(ctx)
	if err != nil || len(insts) == 0 {
		t.Fatalf("installations: %v %v", insts, err)
	}
	cfg, err := infisical.ConfigFromEnv(func(k string) string { return env[k] }, infisical.Config{})
	if err != nil {
		t.Fatal(err)
	}
	inf, err := infisical.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inf.ListSecrets(ctx, "staging", "/MooseQuest/queue/staging", false); err != nil {
		t.Fatal(err)
	}
	if env["GITHUB_TOKEN"] == "" || env["GITHUB_REPOSITORY"] != DevRepository {
		t.Errorf("no Actions token for %s in the env file", DevRepository)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	s, err := Start(Options{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	id1, secret1 := s.Infisical.ProvisionerCredentials()
	s.Kit.Clock.Advance(2 * time.Hour)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	s2, err := Start(Options{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	id2, secret2 := s2.Infisical.ProvisionerCredentials()
	if id1 != id2 || secret1 != secret2 {
		t.Error("provisioner credentials changed across a restart")
	}
	if off := s2.Kit.Clock.Offset(); off < 2*time.Hour-time.Minute {
		t.Errorf("clock offset after restart = %v, want about 2h", off)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	if _, err := Start(Options{GitHubAddr: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("listening on 0.0.0.0: err = %v", err)
	}
}

func TestDevEndpointsShareOneKit(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := httpx.New(httpx.Config{})
	req, _ := http.NewRequest("POST", s.GitHubURL+"/_dev/clock", strings.NewReader(`{"advance":"1h"}`))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if off := s.Kit.Clock.Offset(); off < time.Hour-time.Minute {
		t.Errorf("advancing via the GitHub server did not move the shared clock: %v", off)
	}
}
