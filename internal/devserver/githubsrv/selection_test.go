package githubsrv

import (
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// TestRepositorySelection: an installation reaches the repositories of its
// selection as GitHub's do, through every route that depends on it, each
// answer checked against GitHub's contract: "selected" reaches only the
// repositories its owner picked, "all" every repository of the account, a
// repository that does not exist is in none, and a change of the
// selection takes effect at once, for tokens already minted too.
func TestRepositorySelection(t *testing.T) {
	e := newEnv(t, nil)
	e.contract()
	jwtAuth := "Bearer " + e.jwt()
	installationOf := func(repo string) (int, string) {
		t.Helper()
		r := e.do("GET", "/repos/"+repo+"/installation", jwtAuth, nil)
		var in struct {
			ID                  int64  `json:"id"`
			RepositorySelection string `json:"repository_selection"`
		}
		if r.status == 200 {
			r.json(t, &in)
		}
		return r.status, in.RepositorySelection
	}
	reached := func(token string) (names []string, selection string) {
		t.Helper()
		r := e.do("GET", "/installation/repositories?per_page=100", "token "+token, nil)
		expect(t, r, 200, "")
		var out struct {
			TotalCount          int    `json:"total_count"`
			RepositorySelection string `json:"repository_selection"`
			Repositories        []struct {
				FullName string `json:"full_name"`
			} `json:"repositories"`
		}
		r.json(t, &out)
		for _, x := range out.Repositories {
			names = append(names, x.FullName)
		}
		sort.Strings(names)
		if out.TotalCount != len(names) {
			t.Errorf("total_count %d, %d repositories", out.TotalCount, len(names))
		}
		return names, out.RepositorySelection
	}

	// The fixture: raxx-app selects TradeMasterAPI and MooseQuest, not
	// PrivateVault; moose-labs has all its repositories.
	for _, c := range []struct {
		repo      string
		status    int
		selection string
	}{
		{"raxx-app/TradeMasterAPI", 200, "selected"},
		{"raxx-app/PrivateVault", 404, ""},
		{"raxx-app/NoSuchRepo", 404, ""},
		{"moose-labs/website", 200, "all"},
		{"moose-labs/no-such-repo", 404, ""},
		{"nobody-here/x", 404, ""},
	} {
		if status, sel := installationOf(c.repo); status != c.status || sel != c.selection {
			t.Errorf("GET /repos/%s/installation: %d %q, want %d %q", c.repo, status, sel, c.status, c.selection)
		}
	}
	whole := e.mint(DefaultInstallationID, nil)
	if names, sel := reached(whole); strings.Join(names, ",") != "raxx-app/MooseQuest,raxx-app/TradeMasterAPI" || sel != "selected" {
		t.Errorf("an unnarrowed token of a selected installation reaches %v (%s)", names, sel)
	}
	expect(t, e.do("POST", "/app/installations/1001/access_tokens", jwtAuth, map[string]any{"repositories": []string{"PrivateVault"}}), 422, msgReposNotInInstall)
	expect(t, e.do("POST", "/app/installations/1001/access_tokens", jwtAuth, map[string]any{"repositories": []string{"NoSuchRepo"}}), 422, msgReposNotInInstall)
	moose := e.mint(DefaultSecondInstallationID, nil)
	if names, sel := reached(moose); strings.Join(names, ",") != "moose-labs/sandbox,moose-labs/website" || sel != "all" {
		t.Errorf("an unnarrowed token of an all installation reaches %v (%s)", names, sel)
	}
	mooseQuest := e.mint(DefaultInstallationID, map[string]any{"repositories": []string{"MooseQuest"}})

	// An owner selects PrivateVault and drops MooseQuest.
	e.kit.Clock.Advance(time.Minute)
	if err := e.srv.SetRepositorySelection(DefaultInstallationID, "selected", "TradeMasterAPI", "PrivateVault"); err != nil {
		t.Fatal(err)
	}
	if status, _ := installationOf("raxx-app/PrivateVault"); status != 200 {
		t.Errorf("PrivateVault once selected: %d", status)
	}
	if status, _ := installationOf("raxx-app/MooseQuest"); status != 404 {
		t.Errorf("MooseQuest once dropped: %d", status)
	}
	if names, _ := reached(whole); strings.Join(names, ",") != "raxx-app/PrivateVault,raxx-app/TradeMasterAPI" {
		t.Errorf("a token minted before the change reaches %v", names)
	}
	expect(t, e.do("GET", "/repos/raxx-app/MooseQuest", "token "+mooseQuest, nil), 404, "Not Found")
	expect(t, e.do("POST", "/app/installations/1001/access_tokens", jwtAuth, map[string]any{"repositories": []string{"MooseQuest"}}), 422, msgReposNotInInstall)
	r := e.do("GET", "/app/installations/1001", jwtAuth, nil)
	var in struct {
		RepositorySelection string `json:"repository_selection"`
		UpdatedAt           string `json:"updated_at"`
	}
	r.json(t, &in)
	if in.RepositorySelection != "selected" || in.UpdatedAt != testNow.Add(time.Minute).Format(time.RFC3339) {
		t.Errorf("installation after the change: %+v", in)
	}

	// All repositories: every one of raxx-app.
	if err := e.srv.SetRepositorySelection(DefaultInstallationID, "all"); err != nil {
		t.Fatal(err)
	}
	if names, sel := reached(e.mint(DefaultInstallationID, nil)); len(names) != 3 || sel != "all" {
		t.Errorf("an all installation reaches %v (%s)", names, sel)
	}
	if status, sel := installationOf("raxx-app/MooseQuest"); status != 200 || sel != "all" {
		t.Errorf("MooseQuest under all: %d %q", status, sel)
	}
	if status, _ := installationOf("raxx-app/NoSuchRepo"); status != 404 {
		t.Errorf("a repository that does not exist under all: %d", status)
	}

	// What the settings page refuses.
	for _, bad := range []struct {
		id        int64
		selection string
		repos     []string
		want      string
	}{
		{999, "all", nil, "no installation"},
		{DefaultInstallationID, "selected", nil, "at least one"},
		{DefaultInstallationID, "selected", []string{"NoSuchRepo"}, "does not exist"},
		{DefaultInstallationID, "some", nil, "not all or selected"},
	} {
		if err := e.srv.SetRepositorySelection(bad.id, bad.selection, bad.repos...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("SetRepositorySelection(%d, %q, %v) = %v, want %q", bad.id, bad.selection, bad.repos, err, bad.want)
		}
	}
}

// TestRepositorySelectionSurvivesRestart: a changed selection is part of
// the saved state.
func TestRepositorySelectionSurvivesRestart(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.srv.SetRepositorySelection(DefaultInstallationID, "selected", "PrivateVault"); err != nil {
		t.Fatal(err)
	}
	state, err := e.srv.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	fx := DefaultFixture()
	fx.App.PrivateKeyPEM = testKeyPEM(t)
	srv, err := New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.RestoreState(state); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	e2 := &env{t: t, srv: srv, kit: kit, ts: ts, client: ts.Client(), key: e.key}
	jwtAuth := "Bearer " + e2.jwt()
	expect(t, e2.do("GET", "/repos/raxx-app/PrivateVault/installation", jwtAuth, nil), 200, "")
	expect(t, e2.do("GET", "/repos/raxx-app/TradeMasterAPI/installation", jwtAuth, nil), 404, "Not Found")
}
