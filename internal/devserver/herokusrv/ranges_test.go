package herokusrv

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// manyApps is DefaultFixture plus n personal apps of the owner.
func manyApps(n int) Fixture {
	fx := DefaultFixture()
	for i := range n {
		fx.Apps = append(fx.Apps, FixtureApp{Name: fmt.Sprintf("bulk-app-%04d", i), Owner: DefaultOwnerEmail})
	}
	return fx
}

// TestRanges pages GET /apps as Heroku's clients do: follow Next-Range
// until a 200.
func TestRanges(t *testing.T) {
	e := newEnv(t, manyApps(1200))
	key := bearer(DefaultOwnerAPIKey)
	total := 1200 + 4 // the owner also reaches the three raxx apps and its personal one

	cases := []struct {
		name      string
		first     string
		wantPages []int
		order     func(a, b string) bool
		field     string
	}{
		{"default", "", []int{200, 200, 200, 200, 200, 200, 4}, func(a, b string) bool { return a < b }, "id"},
		{"max=1000", "id ..; max=1000", []int{1000, 204}, func(a, b string) bool { return a < b }, "id"},
		{"max above the cap", "name ..; max=5000", []int{1000, 204}, func(a, b string) bool { return a < b }, "name"},
		{"by name, descending", "name ..; max=500, order=desc", []int{500, 500, 204}, func(a, b string) bool { return a > b }, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := tc.first
			var sizes []int
			var keys []string
			for range 20 {
				r := e.do("GET", "/apps", key, nil, "Range", rng)
				var page []map[string]any
				r.json(t, &page)
				sizes = append(sizes, len(page))
				for _, a := range page {
					keys = append(keys, a[tc.field].(string))
				}
				if r.header.Get("Accept-Ranges") != "id, name, updated_at" || !strings.HasPrefix(r.header.Get("Content-Range"), tc.field+" ") {
					t.Fatalf("headers %v", r.header)
				}
				if r.status == http.StatusOK {
					if r.header.Get("Next-Range") != "" {
						t.Fatal("200 with Next-Range")
					}
					break
				}
				expect(t, r, http.StatusPartialContent, "")
				rng = r.header.Get("Next-Range")
				if !strings.HasPrefix(rng, tc.field+" ]") {
					t.Fatalf("Next-Range %q", rng)
				}
			}
			if !slices.Equal(sizes, tc.wantPages) {
				t.Errorf("pages %v, want %v", sizes, tc.wantPages)
			}
			if len(keys) != total {
				t.Errorf("%d apps, want %d", len(keys), total)
			}
			for i := 1; i < len(keys); i++ {
				if !tc.order(keys[i-1], keys[i]) {
					t.Fatalf("out of order at %d: %q then %q", i, keys[i-1], keys[i])
				}
			}
		})
	}

	// Bounds: inclusive and exclusive starts, an end.
	r := e.do("GET", "/apps", key, nil, "Range", "name bulk-app-0010..bulk-app-0012")
	expect(t, r, 200, "")
	if got := names(t, r); !slices.Equal(got, []string{"bulk-app-0010", "bulk-app-0011", "bulk-app-0012"}) {
		t.Errorf("inclusive: %v", got)
	}
	if cr := r.header.Get("Content-Range"); cr != "name bulk-app-0010..bulk-app-0012; max=200" {
		t.Errorf("Content-Range %q", cr)
	}
	r = e.do("GET", "/apps", key, nil, "Range", "name ]bulk-app-0010..bulk-app-0012; max=1")
	expect(t, r, 206, "")
	if got := names(t, r); !slices.Equal(got, []string{"bulk-app-0011"}) {
		t.Errorf("exclusive: %v", got)
	}
	if nr := r.header.Get("Next-Range"); nr != "name ]bulk-app-0011..bulk-app-0012; max=1" {
		t.Errorf("Next-Range %q keeps the end and max", nr)
	}

	for _, bad := range []string{"size ..", "name ..; max=0", "name ..; max=x", "name ..; order=sideways", "name ..; colour=red", "name 5"} {
		expect(t, e.do("GET", "/apps", key, nil, "Range", bad), http.StatusRequestedRangeNotSatisfiable, "requested_range_not_satisfiable")
	}
	// Lists without ranges in the contract page by id.
	expect(t, e.do("GET", "/oauth/authorizations", key, nil, "Range", "id ..; max=1"), 200, "")
	expect(t, e.do("GET", "/teams/raxx/members", key, nil, "Range", "email ..; max=1"), 206, "")
}

func names(t *testing.T, r resp) []string {
	t.Helper()
	var page []struct {
		Name string `json:"name"`
	}
	r.json(t, &page)
	var out []string
	for _, a := range page {
		out = append(out, a.Name)
	}
	return out
}
