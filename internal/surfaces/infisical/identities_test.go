package infisical_test

import (
	"testing"
	"time"

	inf "github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/state"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
)

var testNow = time.Date(2026, 6, 21, 10, 0, 0, 0, time.UTC)

func TestIdentitySlug(t *testing.T) {
	for name, want := range map[string]string{
		"infisical-handoff-a-b-20260621":   "a-b",
		"infisical-handoff-a-b-c-20260621": "a-b-c",
		"infisical-handoff-a-b-2026062x":   "",
		"infisical-handoff-20260621":       "",
		"other-handoff-a-b-20260621":       "",
	} {
		got, ok := infsurface.IdentitySlug(name)
		if got != want || ok != (want != "") {
			t.Errorf("IdentitySlug(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if got := infsurface.IdentityName("a-b", testNow); got != "infisical-handoff-a-b-20260621" {
		t.Errorf("IdentityName(a-b) = %q", got)
	}
}

// TestIdentitiesOf: the identities named for a slug, whatever their date,
// and not those of a slug it prefixes, as the live state holds them.
func TestIdentitiesOf(t *testing.T) {
	var list []inf.Identity
	for _, n := range []string{
		infsurface.IdentityName("a-b", testNow),
		infsurface.IdentityName("a-b-c", testNow),
		infsurface.IdentityName("a-b", testNow.AddDate(0, 0, -1)),
		"someone-elses-identity",
	} {
		list = append(list, inf.Identity{ID: n, Name: n})
	}
	live := &state.Live{Surfaces: map[string]state.SurfaceLive{infsurface.Name: infsurface.NewIdentities(list)}}
	l := infsurface.LiveOf(live)
	if l == nil {
		t.Fatal("LiveOf found no identities")
	}
	got := l.Of("a-b")
	if len(got) != 2 || got[0].Name != "infisical-handoff-a-b-20260620" || got[1].Name != "infisical-handoff-a-b-20260621" {
		t.Errorf("Of(a-b) = %v", got)
	}
	if _, ok := l.ByName["someone-elses-identity"]; ok {
		t.Error("an identity without the handoff prefix is part of the live state")
	}
	if !l.HasID("infisical-handoff-a-b-c-20260621") || l.HasID("someone-elses-identity") {
		t.Error("HasID does not tell the identities read")
	}
	if infsurface.LiveOf(&state.Live{}) != nil {
		t.Error("LiveOf of a state that did not read identities is not nil")
	}
}
