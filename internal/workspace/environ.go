package workspace

import (
	"strings"

	"github.com/raxx-app/handoff/internal/provider/cloudflare"
	"github.com/raxx-app/handoff/internal/provider/github"
	"github.com/raxx-app/handoff/internal/provider/heroku"
	"github.com/raxx-app/handoff/internal/provider/infisical"
)

// provisionerEnv are the environment variables the workspace reads for the
// provisioner: its credentials and the settings that point them somewhere.
// TestProvisionerEnvCoversWhatLoadReads checks this list against what Load
// and every client getter really read.
var provisionerEnv = map[string]bool{
	// Credentials.
	infisical.EnvClientID:       true,
	infisical.EnvClientSecret:   true,
	infisical.EnvCFAccessID:     true,
	infisical.EnvCFAccessSecret: true,
	github.EnvPrivateKey:        true,
	github.EnvPrivateKeyFile:    true,
	cloudflare.EnvAPIToken:      true,
	heroku.EnvAPIKey:            true,
	// The workflow's own GitHub token (`handoff plan -pr-comment`), and
	// what lets a GitHub Actions job mint OIDC tokens for the roles that
	// trust its repository (the provisioner's AWS role among them).
	"GITHUB_TOKEN":                   true,
	"ACTIONS_ID_TOKEN_REQUEST_TOKEN": true,
	"ACTIONS_ID_TOKEN_REQUEST_URL":   true,
	// Settings.
	infisical.EnvSiteURL:   true,
	infisical.EnvProjectID: true,
	EnvOrganizationID:      true,
	EnvGitHubAPIURL:        true,
	EnvGitHubAppID:         true,
	EnvDevClockURL:         true,
	EnvInfisicalRateLimits: true,
	EnvGitHubRateLimits:    true,
	EnvAWSEndpoint:         true,
	cloudflare.EnvAPIURL:   true,
	EnvHerokuAPIURL:        true,
}

// provisionerEnvPrefixes are families of variables read whole: the AWS
// SDK's credential chain reads AWS_* (keys, session token, profile, web
// identity, shared files, container credentials, endpoints) by itself.
var provisionerEnvPrefixes = []string{"AWS_"}

// ProvisionerEnv reports whether name is an environment variable the
// workspace reads for the provisioner (its credentials, or the settings
// that say where they are sent): one place for the list, so that a process
// started for a handoff (`handoff exec`) inherits none of them.
func ProvisionerEnv(name string) bool {
	if provisionerEnv[name] {
		return true
	}
	for _, p := range provisionerEnvPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
