package vsim

import (
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

// models are two vendors shaped like Infisical Cloud (40 a minute per
// route, fixed windows) and GitHub (900 points a minute per route, writes
// costing 5, at most 100 in flight, and an hourly limit known only from
// headers).
func models() []pace.Model {
	points := func(method string) int {
		if method == http.MethodGet {
			return 1
		}
		return 5
	}
	return []pace.Model{
		{Vendor: "GitHub", Concurrency: 100, Limits: []pace.Limit{
			{Name: "requests an hour", Window: time.Hour, Scope: pace.PerVendor, Headers: true},
			{Name: "points per endpoint", Max: 900, Window: time.Minute, Kind: pace.Rolling, Scope: pace.PerRoute, Cost: points},
		}},
		{Vendor: "Infisical", Classes: map[string][]pace.Limit{
			"secretsLimit": {{Max: 40, Window: time.Minute, Kind: pace.Fixed, Scope: pace.PerRoute}},
			"identity":     {{Max: 30, Window: time.Minute, Kind: pace.Fixed, Scope: pace.PerClass}},
		}},
	}
}

func stat(vendor, class, route string, n int64) pace.Stat {
	return pace.Stat{Vendor: vendor, Class: class, Route: route, Counts: pace.Counts{Requests: n}}
}

func TestLowerBound(t *testing.T) {
	for _, c := range []struct {
		name    string
		stats   []pace.Stat
		latency time.Duration
		want    time.Duration
		binding string
	}{
		{"nothing", nil, 0, 0, ""},
		{"within the first window", []pace.Stat{stat("Infisical", "secretsLimit", "POST /s", 40)}, 0, 0, ""},
		{"one more than a window", []pace.Stat{stat("Infisical", "secretsLimit", "POST /s", 41)}, 0, time.Minute, "POST /s"},
		{"5001 secret writes: 126 windows",
			[]pace.Stat{stat("Infisical", "secretsLimit", "POST /s", 5001), stat("Infisical", "secretsLimit", "PATCH /s", 1000)},
			0, 125 * time.Minute, "POST /s"},
		{"routes of a per-class limit share it",
			[]pace.Stat{stat("Infisical", "identity", "POST /a", 31), stat("Infisical", "identity", "POST /b", 30)},
			0, 2 * time.Minute, "class identity"},
		{"GitHub writes cost 5 points: 1000 mints are 5000 points, 6 windows",
			[]pace.Stat{stat("GitHub", "writes", "POST /mint", 1000), stat("GitHub", "reads", "GET /mint", 1000)},
			0, 5 * time.Minute, "POST /mint"},
		{"the latency floor when no limit binds", spread(25, 400), 20 * time.Millisecond, 2 * time.Second, ""},
		{"an unknown vendor counts for nothing", []pace.Stat{stat("Elsewhere", "c", "GET /x", 1e6)}, 0, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := LowerBound(models(), c.stats, c.latency)
			if b.Minimum != c.want {
				t.Errorf("bound %s, want %s (buckets %+v)", b.Minimum, c.want, b.Buckets)
			}
			if c.binding != "" && (len(b.Buckets) == 0 || b.Buckets[0].Counts != c.binding) {
				t.Errorf("binding %+v, want %q first", b.Buckets, c.binding)
			}
		})
	}
}

// spread is n GitHub read routes of each requests.
func spread(n int, each int64) []pace.Stat {
	var out []pace.Stat
	for i := range n {
		out = append(out, stat("GitHub", "reads", fmt.Sprintf("GET /r%d", i), each))
	}
	return out
}

func TestMinimumTimeRefill(t *testing.T) {
	// Heroku's 4,500 an hour refilled gradually: 9,000 requests need an hour
	// after the first 4,500.
	if got := minimumTime(9000, 4500, time.Hour, pace.Refill.String()); got != time.Hour {
		t.Errorf("refill: %s, want 1h", got)
	}
}

func TestPerHandoff(t *testing.T) {
	one := []pace.Stat{stat("I", "s", "POST /s", 6), stat("I", "s", "GET /l", 2), stat("G", "w", "POST /m", 1)}
	two := []pace.Stat{stat("I", "s", "POST /s", 11), stat("I", "s", "GET /l", 2), stat("G", "w", "POST /m", 2)}
	per, fixed := PerHandoff(one, two, 1, 2)
	want := map[string]int64{"POST /s": 5, "POST /m": 1}
	if len(per) != len(want) {
		t.Fatalf("per handoff %+v, want %v", per, want)
	}
	for _, s := range per {
		if want[s.Route] != s.Requests {
			t.Errorf("per handoff %s: %d, want %d", s.Route, s.Requests, want[s.Route])
		}
	}
	wantFixed := map[string]int64{"POST /s": 1, "GET /l": 2}
	if len(fixed) != len(wantFixed) {
		t.Fatalf("fixed %+v, want %v", fixed, wantFixed)
	}
	for _, s := range fixed {
		if wantFixed[s.Route] != s.Requests {
			t.Errorf("fixed %s: %d, want %d", s.Route, s.Requests, wantFixed[s.Route])
		}
	}
}

func TestCeilingOf(t *testing.T) {
	in := CeilingInput{
		Models: models(),
		// A refresh writes 2 on PATCH and 3 on POST; a run writes 1 on
		// PATCH; the lease renews 90 times an hour on PATCH.
		Refresh:  []pace.Stat{stat("Infisical", "secretsLimit", "PATCH /s", 2), stat("Infisical", "secretsLimit", "POST /s", 3), stat("GitHub", "writes", "POST /mint", 1)},
		Create:   []pace.Stat{stat("Infisical", "secretsLimit", "POST /s", 5)},
		Revoke:   []pace.Stat{stat("Infisical", "secretsLimit", "PATCH /s", 24)},
		Run:      []pace.Stat{stat("Infisical", "secretsLimit", "PATCH /s", 1)},
		Upkeep:   []pace.Stat{stat("Infisical", "secretsLimit", "PATCH /s", 90)},
		Lifetime: time.Hour, Slot: 15 * time.Minute,
	}
	c := CeilingOf(in)
	// PATCH: (2400 − 4 − 90) / 2 = 1153; POST: 2400 / 3 = 800.
	if c.Handoffs != 800 || c.Binding != "Infisical POST /s (40/min)" {
		t.Errorf("ceiling %d bound by %q, want 800 by POST", c.Handoffs, c.Binding)
	}
	// With a daily replacement: POST 2400 / (3 + 5/24) = 748; PATCH
	// (2306) / (2 + 1) = 768.
	if c.WithReplacement != 748 {
		t.Errorf("with replacement %d, want 748", c.WithReplacement)
	}
	if len(c.Lines) != 3 || c.Lines[0].Counts != "POST /s" || math.Abs(c.Lines[0].PerHour-2400) > 1e-9 {
		t.Errorf("lines %+v", c.Lines)
	}
	if none := CeilingOf(CeilingInput{Models: models()}); none.Handoffs != -1 {
		t.Errorf("no lifetime: ceiling %d, want -1 (nothing to refresh)", none.Handoffs)
	}
}
