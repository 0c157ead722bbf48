package infisical_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	inf "github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/state"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
)

var testNow = time.Date(2026, 6, 21, 10, 0, 0, 0, time.UTC)

// TestIdentityName: one date in a name, whether the slug carries it or
// not.
func TestIdentityName(t *testing.T) {
	dec5 := time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		slug string
		day  time.Time
		want string
	}{
		{"x-20261205", dec5, "infisical-handoff_x-20261205"},
		{"x-20261205", dec5.AddDate(0, 0, 3), "infisical-handoff_x-20261205"}, // the slug's date, not the day's
		{"x", dec5, "infisical-handoff_x_20261205"},
		{"a-b", testNow, "infisical-handoff_a-b_20260621"},
		{"build-12345678", testNow, "infisical-handoff_build-12345678_20260621"}, // not a date
		{"x-20261305", testNow, "infisical-handoff_x-20261305_20260621"},         // month 13: not a date
		{"iap-notif-handler-20260621", testNow, "infisical-handoff_iap-notif-handler-20260621"},
	} {
		got := infsurface.IdentityName(tt.slug, tt.day)
		if got != tt.want {
			t.Errorf("IdentityName(%q, %s) = %q, want %q", tt.slug, tt.day.Format("2006-01-02"), got, tt.want)
		}
		if n := strings.Count(got, "2026"); n != 1 && !strings.Contains(tt.slug, "1305") {
			t.Errorf("IdentityName(%q) = %q holds %d dates, want one", tt.slug, got, n)
		}
		if sl, ok := infsurface.IdentitySlug(got); !ok || sl != tt.slug {
			t.Errorf("IdentitySlug(%q) = %q, %v; want %q", got, sl, ok, tt.slug)
		}
	}
	// The longest slug's name fits Infisical's column.
	long := strings.Repeat("a", 63)
	if n := len(infsurface.IdentityName(long, testNow)); n > infsurface.MaxIdentityName {
		t.Errorf("the name of a 63-character slug has %d characters, more than %d", n, infsurface.MaxIdentityName)
	}
}

func TestIdentitySlug(t *testing.T) {
	for name, want := range map[string]string{
		// This version's names.
		"infisical-handoff_a-b_20260621":   "a-b",
		"infisical-handoff_a-b-20260621":   "a-b-20260621",
		"infisical-handoff_a-b-c":          "a-b-c",
		"infisical-handoff_a-b_2026062x":   "",
		"infisical-handoff_a-b_20261399":   "",
		"infisical-handoff__20260621":      "",
		"infisical-handoff_-a_20260621":    "",
		"infisical-handoff_A-b":            "",
		"infisical-handoff_":               "",
		"infisical-handoff_a b":            "",
		"infisical-handoffs_a-b":           "",
		"infisical-handoff_a-b_20260621_x": "",
		"infisical-handoff_a_b_20260621":   "",
		// The earlier form: found by the same slug.
		"infisical-handoff-a-b-20260621":        "a-b",
		"infisical-handoff-a-b-c-20260621":      "a-b-c",
		"infisical-handoff-x-20261205-20261205": "x-20261205",
		"infisical-handoff-a-b-2026062x":        "",
		"infisical-handoff-20260621":            "",
		"other-handoff-a-b-20260621":            "",
	} {
		got, ok := infsurface.IdentitySlug(name)
		if got != want || ok != (want != "") {
			t.Errorf("IdentitySlug(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

// TestIdentityNamesNeverCollide: for every pair of slugs (with and without
// dates, prefixes of each other) and days, two different slugs never share
// a name, in this version's form or against the earlier form; and every
// name is found by its own slug only.
func TestIdentityNamesNeverCollide(t *testing.T) {
	slugs := []string{"x", "x-20261205", "x-20261206", "x-2026", "x-20261205-20261205", "x-y", "y-20261205", "x--20261205"}
	days := []time.Time{time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}
	owner := map[string]string{}
	legacy := func(slug string, day time.Time) string {
		return "infisical-handoff-" + slug + "-" + day.Format("20060102")
	}
	for _, slug := range slugs {
		for _, day := range days {
			for _, name := range []string{infsurface.IdentityName(slug, day), legacy(slug, day)} {
				if prev, ok := owner[name]; ok && prev != slug {
					t.Errorf("%q is the name of both %q and %q", name, prev, slug)
				}
				owner[name] = slug
				if got, ok := infsurface.IdentitySlug(name); !ok || got != slug {
					t.Errorf("IdentitySlug(%q) = %q, %v; want %q", name, got, ok, slug)
				}
			}
		}
	}
}

// TestIdentitiesOf: the identities named for a slug, whatever their date
// and whichever the form of their name, two with one name included, and
// not those of another slug (one it prefixes, or its dated sibling).
func TestIdentitiesOf(t *testing.T) {
	dec5 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	var list []inf.Identity
	add := func(id, name string) { list = append(list, inf.Identity{ID: id, Name: name}) }
	add("1", infsurface.IdentityName("a-b", testNow))
	add("2", infsurface.IdentityName("a-b-c", testNow))
	add("3", infsurface.IdentityName("a-b", testNow.AddDate(0, 0, -1)))
	add("4", "infisical-handoff-a-b-20260619") // named by an earlier version
	add("5", infsurface.IdentityName("x", dec5))
	add("6", infsurface.IdentityName("x-20261205", dec5))
	add("7", "infisical-handoff-x-20261205") // an earlier version's identity of "x"
	add("8", infsurface.IdentityName("x-20261205", dec5.AddDate(0, 0, 1)))
	add("9", "someone-elses-identity")
	live := &state.Live{Surfaces: map[string]state.SurfaceLive{infsurface.Name: infsurface.NewIdentities(list)}}
	l := infsurface.LiveOf(live)
	if l == nil {
		t.Fatal("LiveOf found no identities")
	}
	ids := func(slug string) string {
		var out []string
		for _, id := range l.Of(slug) {
			out = append(out, id.ID)
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	for slug, want := range map[string]string{"a-b": "1,3,4", "a-b-c": "2", "x": "5,7", "x-20261205": "6,8", "x-2026": ""} {
		if got := ids(slug); got != want {
			t.Errorf("Of(%s) = [%s], want [%s]", slug, got, want)
		}
	}
	if _, ok := l.ByName["someone-elses-identity"]; ok {
		t.Error("an identity without the handoff prefix is part of the live state")
	}
	if !l.HasID("8") || !l.HasID("2") || l.HasID("9") {
		t.Error("HasID does not tell the identities read (two with one name included)")
	}
	if n := len(l.Problems()); n != 1 {
		t.Errorf("%d problems, want 1 (two identities named %s): %v", n, fmt.Sprint(infsurface.IdentityName("x-20261205", dec5)), l.Problems())
	}
	if infsurface.LiveOf(&state.Live{}) != nil {
		t.Error("LiveOf of a state that did not read identities is not nil")
	}
}
