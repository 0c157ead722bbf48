package vsim

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

// Bucket is one count of one limit a vendor enforces, as the pacer's model
// describes it, with the requests (or points) some run put in it.
type Bucket struct {
	Vendor string `json:"vendor"`
	// Limit is the limit's rate in words ("40/min", "900 points/min").
	Limit string `json:"limit"`
	// Name says what the limit counts ("secretsLimit", "points per
	// endpoint").
	Name string `json:"name"`
	// Counts is what shares the count: a route ("POST
	// /api/v4/secrets/{secretName}"), a class, or "every request".
	Counts string `json:"counts"`
	Max    int    `json:"max"`
	// Window is the span Max applies to; Kind how it moves ("fixed
	// window").
	Window time.Duration `json:"window"`
	Kind   string        `json:"kind"`
	// Points are the requests of the run in this count, weighted by their
	// cost when the limit charges points.
	Points int64 `json:"points"`
	// Minimum is the least time Points take under this limit alone: with
	// fixed or rolling windows, (⌈Points/Max⌉ − 1) × Window (the first
	// window holds Max from the first request on, each later one Max more);
	// with a refilled bucket, (Points − Max) ÷ Max × Window.
	Minimum time.Duration `json:"minimum"`
}

// bucketKey identifies a count: a limit of a vendor (its class's, or the
// vendor-wide one at an index) over a scope.
type bucketKey struct {
	vendor, class string
	vendorWide    bool
	index         int
	scope         string
}

// Buckets puts the requests of stats in the counts of the limits the
// models know (those with a maximum: limits known only from the servers'
// headers are left out), sorted by Minimum, longest first.
func Buckets(models []pace.Model, stats []pace.Stat) []Bucket {
	byVendor := map[string]pace.Model{}
	for _, m := range models {
		byVendor[m.Vendor] = m
	}
	acc := map[bucketKey]*Bucket{}
	var order []bucketKey
	add := func(k bucketKey, lim pace.Limit, name, counts, method string, requests int64) {
		b, ok := acc[k]
		if !ok {
			b = &Bucket{Vendor: k.vendor, Limit: lim.Rate(lim.Max), Name: name, Counts: counts, Max: lim.Max,
				Window: lim.Window, Kind: lim.Kind.String()}
			acc[k] = b
			order = append(order, k)
		}
		cost := int64(1)
		if lim.Cost != nil {
			if c := lim.Cost(method); c > 0 {
				cost = int64(c)
			}
		}
		b.Points += requests * cost
	}
	for _, s := range stats {
		m, ok := byVendor[s.Vendor]
		if !ok || s.Requests == 0 {
			continue
		}
		method, _, _ := strings.Cut(s.Route, " ")
		place := func(lim pace.Limit, k bucketKey, name string) {
			if lim.Max <= 0 || lim.Window <= 0 {
				return
			}
			counts := "every request"
			switch lim.Scope {
			case pace.PerRoute:
				k.scope, counts = s.Route, s.Route
			case pace.PerClass:
				k.scope, counts = s.Class, "class "+s.Class
			}
			if lim.Name != "" {
				name = lim.Name
			}
			add(k, lim, name, counts, method, s.Requests)
		}
		for i, lim := range m.Classes[s.Class] {
			place(lim, bucketKey{vendor: s.Vendor, class: s.Class, index: i}, s.Class)
		}
		for i, lim := range m.Limits {
			place(lim, bucketKey{vendor: s.Vendor, vendorWide: true, index: i}, "requests")
		}
	}
	out := make([]Bucket, 0, len(order))
	for _, k := range order {
		b := acc[k]
		b.Minimum = minimumTime(b.Points, b.Max, b.Window, b.Kind)
		out = append(out, *b)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Minimum != out[j].Minimum {
			return out[i].Minimum > out[j].Minimum
		}
		if out[i].Vendor != out[j].Vendor {
			return out[i].Vendor < out[j].Vendor
		}
		return out[i].Counts < out[j].Counts
	})
	return out
}

// minimumTime is the least time points take under one limit of max per
// window.
func minimumTime(points int64, max int, window time.Duration, kind string) time.Duration {
	if max <= 0 || points <= int64(max) {
		return 0
	}
	if kind == pace.Refill.String() {
		return time.Duration(float64(points-int64(max)) / float64(max) * float64(window))
	}
	windows := (points + int64(max) - 1) / int64(max)
	return time.Duration(windows-1) * window
}

// Bound is the lower bound the vendors' limits put on a run.
type Bound struct {
	// Minimum is the longest of the buckets' minima and of the latency's
	// floor: no schedule of these requests takes less.
	Minimum time.Duration `json:"minimum"`
	// Buckets are the counts, longest minimum first (the first binds).
	Buckets []Bucket `json:"buckets"`
	// Latency is the floor the vendors' caps on requests in flight put on
	// the run: for each vendor, its requests × the latency ÷ its cap
	// (GitHub's 100); the longest.
	Latency time.Duration `json:"latency"`
	// LatencyVendor names the vendor of Latency.
	LatencyVendor string `json:"latency_vendor,omitempty"`
}

// LowerBound computes the lower bound of a run's requests (stats) under the
// models' limits, latency added to each request.
func LowerBound(models []pace.Model, stats []pace.Stat, latency time.Duration) Bound {
	b := Bound{Buckets: Buckets(models, stats)}
	if len(b.Buckets) > 0 {
		b.Minimum = b.Buckets[0].Minimum
	}
	perVendor := map[string]int64{}
	for _, s := range stats {
		perVendor[s.Vendor] += s.Requests
	}
	for _, m := range models {
		if m.Concurrency <= 0 || latency <= 0 {
			continue
		}
		d := time.Duration(perVendor[m.Vendor]) * latency / time.Duration(m.Concurrency)
		if d > b.Latency {
			b.Latency, b.LatencyVendor = d, m.Vendor
		}
	}
	b.Minimum = max(b.Minimum, b.Latency)
	return b
}

// PerHandoff is the requests one handoff adds to a run, per route: the
// counts of a run of k2 handoffs less those of a run of k1, divided by
// k2−k1. Fixed is what a run costs besides (the plan's reads, the lease).
func PerHandoff(run1, run2 []pace.Stat, k1, k2 int) (per, fixed []pace.Stat) {
	type key struct{ vendor, class, route string }
	a := map[key]int64{}
	b := map[key]int64{}
	var keys []key
	seen := map[key]bool{}
	for _, s := range run1 {
		k := key{s.Vendor, s.Class, s.Route}
		a[k] += s.Requests
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, s := range run2 {
		k := key{s.Vendor, s.Class, s.Route}
		b[k] += s.Requests
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		x, y := keys[i], keys[j]
		if x.vendor != y.vendor {
			return x.vendor < y.vendor
		}
		if x.class != y.class {
			return x.class < y.class
		}
		return x.route < y.route
	})
	d := int64(k2 - k1)
	for _, k := range keys {
		p := (b[k] - a[k]) / d
		if p < 0 {
			p = 0
		}
		f := a[k] - p*int64(k1)
		if f < 0 {
			f = 0
		}
		if p > 0 {
			per = append(per, pace.Stat{Vendor: k.vendor, Class: k.class, Route: k.route, Counts: pace.Counts{Requests: p}})
		}
		if f > 0 {
			fixed = append(fixed, pace.Stat{Vendor: k.vendor, Class: k.class, Route: k.route, Counts: pace.Counts{Requests: f}})
		}
	}
	return per, fixed
}

// Ceiling is the most live handoffs a schedule of applies can keep
// refreshed within the vendors' limits.
type Ceiling struct {
	// Handoffs is the ceiling when handoffs only refresh (the simulated
	// day): for each count, (allowed an hour − the runs' own use) ÷ (one
	// handoff's refreshes an hour × its requests per refresh), the least.
	Handoffs int `json:"handoffs"`
	// WithReplacement is the ceiling when each handoff is also replaced
	// once a day (the 24 h longest TTL: a create and a revoke a day).
	WithReplacement int `json:"with_replacement"`
	// Lifetime is the life of the credential that sets the refresh rate
	// (GitHub's hour), and Slot the schedule's interval.
	Lifetime time.Duration `json:"lifetime"`
	Slot     time.Duration `json:"slot"`
	// Binding is the count that sets Handoffs, and Lines every count with
	// its figures.
	Binding string        `json:"binding"`
	Lines   []CeilingLine `json:"lines"`
}

// CeilingLine is one count's share of the ceiling.
type CeilingLine struct {
	Vendor string `json:"vendor"`
	Counts string `json:"counts"`
	Limit  string `json:"limit"`
	// PerHour is what the limit allows an hour.
	PerHour float64 `json:"per_hour"`
	// Refresh, Create and Revoke are one handoff's requests (points) in
	// this count per operation; Run is a run's own (plan reads, lease),
	// Upkeep the lease's renewals an hour while a run lasts.
	Refresh float64 `json:"refresh"`
	Create  float64 `json:"create"`
	Revoke  float64 `json:"revoke"`
	Run     float64 `json:"run"`
	Upkeep  float64 `json:"upkeep"`
	// Handoffs is this count's ceiling (refresh only), WithReplacement
	// with a daily replacement; -1 when the count does not grow with the
	// handoffs.
	Handoffs        float64 `json:"handoffs"`
	WithReplacement float64 `json:"with_replacement"`
}

// CeilingInput are the measured request mixes a ceiling is computed from.
type CeilingInput struct {
	Models []pace.Model
	// Refresh, Create and Revoke are one handoff's requests per operation
	// (PerHandoff); Run a run's own, Upkeep the lease's per hour of
	// running.
	Refresh, Create, Revoke, Run, Upkeep []pace.Stat
	// Lifetime is the credential's life (each handoff refreshes once per
	// Lifetime); Slot the interval between scheduled runs.
	Lifetime, Slot time.Duration
}

// CeilingOf computes the ceiling. Every run is assumed to last its whole
// slot (renewing its lease all along), which is what runs near the ceiling
// do.
func CeilingOf(in CeilingInput) Ceiling {
	c := Ceiling{Lifetime: in.Lifetime, Slot: in.Slot, Handoffs: -1, WithReplacement: -1}
	if in.Lifetime <= 0 || in.Slot <= 0 {
		return c
	}
	type mix struct{ refresh, create, revoke, run, upkeep float64 }
	lines := map[string]*CeilingLine{}
	var order []string
	mixes := map[string]*mix{}
	collect := func(stats []pace.Stat, set func(*mix, float64)) {
		for _, b := range Buckets(in.Models, stats) {
			k := b.Vendor + "\x00" + b.Name + "\x00" + b.Counts
			if _, ok := lines[k]; !ok {
				perHour := float64(b.Max) * float64(time.Hour) / float64(b.Window)
				lines[k] = &CeilingLine{Vendor: b.Vendor, Counts: b.Counts, Limit: b.Limit, PerHour: perHour}
				mixes[k] = &mix{}
				order = append(order, k)
			}
			set(mixes[k], float64(b.Points))
		}
	}
	collect(in.Refresh, func(m *mix, p float64) { m.refresh = p })
	collect(in.Create, func(m *mix, p float64) { m.create = p })
	collect(in.Revoke, func(m *mix, p float64) { m.revoke = p })
	collect(in.Run, func(m *mix, p float64) { m.run = p })
	collect(in.Upkeep, func(m *mix, p float64) { m.upkeep = p })
	refreshesPerHour := float64(time.Hour) / float64(in.Lifetime)
	runsPerHour := float64(time.Hour) / float64(in.Slot)
	best, bestChurn := math.Inf(1), math.Inf(1)
	for _, k := range order {
		l, m := lines[k], mixes[k]
		l.Refresh, l.Create, l.Revoke, l.Run, l.Upkeep = m.refresh, m.create, m.revoke, m.run, m.upkeep
		left := l.PerHour - runsPerHour*m.run - m.upkeep
		l.Handoffs, l.WithReplacement = -1, -1
		if d := refreshesPerHour * m.refresh; d > 0 {
			l.Handoffs = math.Max(0, left/d)
			if l.Handoffs < best {
				best, c.Binding = l.Handoffs, fmt.Sprintf("%s %s (%s)", l.Vendor, l.Counts, l.Limit)
			}
		}
		if d := refreshesPerHour*m.refresh + (m.create+m.revoke)/24; d > 0 {
			l.WithReplacement = math.Max(0, left/d)
			bestChurn = math.Min(bestChurn, l.WithReplacement)
		}
		c.Lines = append(c.Lines, *l)
	}
	sort.SliceStable(c.Lines, func(i, j int) bool {
		a, b := c.Lines[i].Handoffs, c.Lines[j].Handoffs
		if a < 0 {
			a = math.Inf(1)
		}
		if b < 0 {
			b = math.Inf(1)
		}
		return a < b
	})
	if !math.IsInf(best, 1) {
		c.Handoffs = int(best)
	}
	if !math.IsInf(bestChurn, 1) {
		c.WithReplacement = int(bestChurn)
	}
	return c
}
