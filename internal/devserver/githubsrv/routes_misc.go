package githubsrv

import "time"

type rateJSON struct {
	Limit     int   `json:"limit"`
	Used      int   `json:"used"`
	Remaining int   `json:"remaining"`
	Reset     int64 `json:"reset"`
}

type rateLimitJSON struct {
	Resources map[string]rateJSON `json:"resources"`
	Rate      rateJSON            `json:"rate"`
}

// GET /rate_limit: the caller's windows. It does not count against them.
func (s *Server) getRateLimit(c *call) {
	core, _ := s.lim.primaryUse(c.cred.rateKey, c.cred.limit, c.now, false)
	coreJSON := rateJSON{Limit: core.Limit, Used: core.Used, Remaining: core.remaining(), Reset: core.Reset}
	fresh := func(limit int, period time.Duration) rateJSON {
		return rateJSON{Limit: limit, Remaining: limit, Reset: c.now.Add(period).Unix()}
	}
	search, graphql := 30, 5000
	if c.cred.kind == anonymous {
		search, graphql = 10, 0
	}
	c.ok(rateLimitJSON{
		Resources: map[string]rateJSON{
			"core":                        coreJSON,
			"search":                      fresh(search, time.Minute),
			"graphql":                     fresh(graphql, time.Hour),
			"code_search":                 fresh(10, time.Minute),
			"integration_manifest":        fresh(5000, time.Hour),
			"source_import":               fresh(100, time.Minute),
			"actions_runner_registration": fresh(10000, time.Hour),
			"scim":                        fresh(15000, time.Hour),
			"dependency_snapshots":        fresh(100, time.Minute),
			"dependency_sbom":             fresh(100, time.Hour),
			"code_scanning_autofix":       fresh(10, time.Minute),
		},
		Rate: coreJSON,
	})
}

type metaJSON struct {
	VerifiablePasswordAuthentication bool              `json:"verifiable_password_authentication"`
	SSHKeyFingerprints               map[string]string `json:"ssh_key_fingerprints"`
	SSHKeys                          []string          `json:"ssh_keys"`
	Hooks                            []string          `json:"hooks"`
	Web                              []string          `json:"web"`
	API                              []string          `json:"api"`
	Git                              []string          `json:"git"`
	GithubEnterpriseImporter         []string          `json:"github_enterprise_importer"`
	Packages                         []string          `json:"packages"`
	Pages                            []string          `json:"pages"`
	Importer                         []string          `json:"importer"`
	Actions                          []string          `json:"actions"`
	ActionsMacos                     []string          `json:"actions_macos"`
	Dependabot                       []string          `json:"dependabot"`
	Copilot                          []string          `json:"copilot"`
	Domains                          metaDomainsJSON   `json:"domains"`
}

type metaDomainsJSON struct {
	Website    []string `json:"website"`
	Codespaces []string `json:"codespaces"`
	Copilot    []string `json:"copilot"`
	Packages   []string `json:"packages"`
	Actions    []string `json:"actions"`
}

// meta is GitHub's published meta information (a stable subset: GitHub's
// own addresses and host keys are public).
var meta = metaJSON{
	SSHKeyFingerprints: map[string]string{
		"SHA256_ECDSA":   "p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM",
		"SHA256_ED25519": "+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
		"SHA256_RSA":     "uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
	},
	SSHKeys: []string{
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=",
	},
	Hooks:                    []string{"192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20"},
	Web:                      []string{"192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20", "20.201.28.151/32"},
	API:                      []string{"192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20", "20.201.28.148/32"},
	Git:                      []string{"192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20", "20.201.28.151/32"},
	GithubEnterpriseImporter: []string{"192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20"},
	Packages:                 []string{"140.82.121.33/32", "140.82.121.34/32"},
	Pages:                    []string{"192.30.252.153/32", "192.30.252.154/32", "185.199.108.153/32", "185.199.109.153/32"},
	Importer:                 []string{"52.23.85.212/32", "52.0.228.224/32", "52.22.155.48/32"},
	Actions:                  []string{"4.148.0.0/16", "4.149.0.0/18", "13.64.0.0/16"},
	ActionsMacos:             []string{"13.105.49.0/31", "13.105.49.2/31"},
	Dependabot:               []string{},
	Copilot:                  []string{},
	Domains: metaDomainsJSON{
		Website:    []string{"*.github.com", "*.github.dev", "*.github.io", "*.githubassets.com", "*.githubusercontent.com"},
		Codespaces: []string{"*.github.com", "*.api.github.com", "*.azureedge.net", "*.github.dev", "*.msecnd.net", "*.visualstudio.com", "*.vscode-webview.net", "*.windows.net", "*.microsoft.com"},
		Copilot:    []string{"*.githubcopilot.com"},
		Packages:   []string{"ghcr.io", "*.pkg.github.com"},
		Actions:    []string{"*.actions.githubusercontent.com", "codeload.github.com", "pkg.actions.githubusercontent.com", "ghcr.io", "results-receiver.actions.githubusercontent.com", "*.blob.core.windows.net"},
	},
}

// GET /meta
func (s *Server) getMeta(c *call) { c.ok(meta) }
