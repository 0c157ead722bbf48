package githubsrv

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestGHESPrefix: under /api/v3 the API answers the same, with URLs that
// keep the prefix, as a GitHub Enterprise Server does.
func TestGHESPrefix(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do("GET", GHESPrefix+"/app/installations/1001", "Bearer "+e.jwt(), nil)
	expect(t, r, 200, "")
	var in struct {
		AccessTokensURL string `json:"access_tokens_url"`
		HTMLURL         string `json:"html_url"`
	}
	r.json(t, &in)
	if in.AccessTokensURL != e.ts.URL+GHESPrefix+"/app/installations/1001/access_tokens" {
		t.Errorf("access_tokens_url %q", in.AccessTokensURL)
	}
	if in.HTMLURL != e.ts.URL+"/organizations/raxx-app/settings/installations/1001" {
		t.Errorf("html_url %q", in.HTMLURL)
	}
	// A client that follows access_tokens_url gets a token.
	tokResp := e.do("POST", strings.TrimPrefix(in.AccessTokensURL, e.ts.URL), "Bearer "+e.jwt(), nil)
	expect(t, tokResp, 201, "")
	if n := e.kit.Stats.Count("POST /app/installations/{installation_id}/access_tokens"); n != 1 {
		t.Errorf("stats key the route without the prefix: %d", n)
	}
}

// TestWebURL: a fixture's web_url is the base of html_url.
func TestWebURL(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) { fx.WebURL = "https://github.com/" })
	tok := "token " + e.mint(DefaultInstallationID, nil)
	var repo struct {
		HTMLURL  string `json:"html_url"`
		CloneURL string `json:"clone_url"`
		SSHURL   string `json:"ssh_url"`
		URL      string `json:"url"`
	}
	e.do("GET", "/repos/raxx-app/TradeMasterAPI", tok, nil).json(t, &repo)
	if repo.HTMLURL != "https://github.com/raxx-app/TradeMasterAPI" || repo.CloneURL != "https://github.com/raxx-app/TradeMasterAPI.git" ||
		repo.SSHURL != "git@github.com:raxx-app/TradeMasterAPI.git" || repo.URL != e.ts.URL+"/repos/raxx-app/TradeMasterAPI" {
		t.Errorf("%+v", repo)
	}
}

// TestConcurrentUse drives every kind of write at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, func(fx *Fixture) {
		fx.RateLimits = NoRateLimits()
	})
	admin := "token " + e.mint(DefaultInstallationID, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				var status int
				switch i % 5 {
				case 0:
					tok := e.mint(DefaultInstallationID, map[string]any{"repository_ids": []int64{DefaultTradeMasterRepoID}})
					status = e.do("DELETE", "/installation/token", "token "+tok, nil).status
				case 1:
					status = e.do("POST", "/repos/raxx-app/TradeMasterAPI/issues/42/comments", admin, map[string]string{"body": fmt.Sprint(g, i)}).status
				case 2:
					status = e.do("GET", "/repos/raxx-app/TradeMasterAPI/issues/42/comments?per_page=100", admin, nil).status
				case 3:
					status = e.do("GET", "/orgs/raxx-app/personal-access-tokens", admin, nil).status
				case 4:
					if _, err := e.srv.MarshalState(); err != nil {
						errs <- err
					}
					_ = e.srv.LiveTokens()
					status = 200
				}
				if status >= 300 && status != 304 {
					errs <- fmt.Errorf("goroutine %d step %d: status %d", g, i, status)
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(e.srv.Comments("raxx-app", "TradeMasterAPI", 42)); n != 1+8*2 {
		t.Errorf("%d comments, want %d", n, 1+8*2)
	}
	state, err := e.srv.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.RestoreState(state); err != nil {
		t.Fatal(err)
	}
	expect(t, e.do("GET", "/installation/repositories", admin, nil), 200, "")
}
