package workspace

import (
	"context"
	"sort"
	"sync"
	"testing"
)

// TestProvisionerEnvCoversWhatLoadReads records every variable Load, the
// client getters and GitCommit read, and requires each to be in the one
// list of the provisioner's variables, or known to be harmless.
func TestProvisionerEnvCoversWhatLoadReads(t *testing.T) {
	harmless := map[string]bool{
		"GITHUB_SHA": true, // the commit the specs come from
	}
	var mu sync.Mutex
	read := map[string]bool{}
	getenv := func(k string) string {
		mu.Lock()
		read[k] = true
		mu.Unlock()
		return ""
	}
	ws, diags := Load(context.Background(), "../..", getenv)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, _ = ws.Infisical()
	_, _ = ws.GitHub()
	_, _ = ws.Cloudflare()
	_, _ = ws.AWS()
	_, _ = ws.Heroku()
	_ = ws.Registry()
	GitCommit(t.TempDir(), getenv)

	var names []string
	for k := range read {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) < 10 {
		t.Fatalf("only %v read: the recorder missed the getters", names)
	}
	for _, k := range names {
		if !ProvisionerEnv(k) && !harmless[k] {
			t.Errorf("the workspace reads %s, which ProvisionerEnv does not list: a process started for a handoff would inherit it", k)
		}
	}
}

func TestProvisionerEnv(t *testing.T) {
	for name, want := range map[string]bool{
		"INFISICAL_CLIENT_SECRET":     true,
		"GITHUB_APP_PRIVATE_KEY_FILE": true,
		"AWS_SECRET_ACCESS_KEY":       true,
		"AWS_PROFILE":                 true,
		"CF_ACCESS_CLIENT_SECRET":     true,
		"HEROKU_API_KEY":              true,
		"CLOUDFLARE_API_TOKEN":        true,
		"GITHUB_TOKEN":                true,
		"PATH":                        false,
		"HOME":                        false,
		"HANDOFF_TASK_SLUG":           false,
		"GH_TOKEN":                    false,
		"AWSOME":                      false,
	} {
		if got := ProvisionerEnv(name); got != want {
			t.Errorf("ProvisionerEnv(%s) = %v, want %v", name, got, want)
		}
	}
}
