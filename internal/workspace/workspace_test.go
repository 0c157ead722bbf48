package workspace

import (
	"context"
	"strings"
	"testing"
)

func TestLoadResolvesSettingsWithEnvironmentOverrides(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want Settings
	}{
		{"from handoff.hcl", nil, Settings{
			SiteURL: "https://app.infisical.com", OrganizationID: "org-raxx", ProjectID: "proj-moosequest",
			Environment: "staging", HandoffRoot: "/MooseQuest/handoffs", GitHubAPIURL: "https://api.github.com", GitHubAppID: 424242,
		}},
		{"overridden", map[string]string{
			"INFISICAL_SITE_URL": "http://127.0.0.1:9", "INFISICAL_PROJECT_ID": "p2", "INFISICAL_ORGANIZATION_ID": "o2",
			"HANDOFF_GITHUB_API_URL": "https://ghe.example/api/v3", "HANDOFF_GITHUB_APP_ID": "7",
		}, Settings{
			SiteURL: "http://127.0.0.1:9", OrganizationID: "o2", ProjectID: "p2",
			Environment: "staging", HandoffRoot: "/MooseQuest/handoffs", GitHubAPIURL: "https://ghe.example/api/v3", GitHubAppID: 7,
			GitHubAppIDFrom: "HANDOFF_GITHUB_APP_ID",
		}},
		// Not an id: not ignored (handoff.hcl's would be used), refused by
		// GitHub().
		{"App id from the environment that is not a number", map[string]string{"HANDOFF_GITHUB_APP_ID": "42x"}, Settings{
			SiteURL: "https://app.infisical.com", OrganizationID: "org-raxx", ProjectID: "proj-moosequest",
			Environment: "staging", HandoffRoot: "/MooseQuest/handoffs", GitHubAPIURL: "https://api.github.com", GitHubAppIDFrom: "HANDOFF_GITHUB_APP_ID",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, diags := Load(context.Background(), "../..", func(k string) string { return tc.env[k] })
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if ws.Settings != tc.want {
				t.Errorf("settings = %+v\nwant       %+v", ws.Settings, tc.want)
			}
		})
	}
}

func TestClientsNeedCredentialsFromTheEnvironment(t *testing.T) {
	ws, diags := Load(context.Background(), "../..", func(string) string { return "" })
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if _, err := ws.Infisical(); err == nil || !strings.Contains(err.Error(), "INFISICAL_CLIENT_ID") {
		t.Errorf("Infisical() without credentials: %v", err)
	}
	if _, err := ws.GitHub(); err == nil || !strings.Contains(err.Error(), "GITHUB_APP_PRIVATE_KEY") {
		t.Errorf("GitHub() without a key: %v", err)
	}
}

func TestGitCommit(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	if got := GitCommit(".", func(k string) string { return map[string]string{"GITHUB_SHA": sha}[k] }); got != sha {
		t.Errorf("GITHUB_SHA: %q", got)
	}
	if got := GitCommit(t.TempDir(), func(string) string { return "" }); got != "" {
		t.Errorf("outside a checkout: %q", got)
	}
}

func TestDevClockURLMustAnswer(t *testing.T) {
	_, diags := Load(context.Background(), "../..", func(k string) string {
		return map[string]string{EnvDevClockURL: "http://127.0.0.1:1/_dev/clock"}[k]
	})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), EnvDevClockURL) {
		t.Errorf("unreachable dev clock: %v", diags)
	}
}

func TestDevClockOnlyOnLoopback(t *testing.T) {
	_, diags := Load(context.Background(), "../..", func(k string) string {
		return map[string]string{EnvDevClockURL: "http://clock.example.com/_dev/clock"}[k]
	})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "not a loopback address") {
		t.Errorf("remote dev clock: %v", diags)
	}
}
