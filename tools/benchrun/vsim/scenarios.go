package vsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surfaces"
)

// CreateResult is a create-apply of N handoffs.
type CreateResult struct {
	N       int           `json:"n"`
	Latency time.Duration `json:"latency"`
	// Limits is the limits profile the servers enforced.
	Limits string `json:"limits"`
	// Virtual is the run's time on the bubble's clock (what the vendors'
	// limits and the latency impose); CPU the process's user+system time
	// during it (client and servers); RealWall its time on the wall clock.
	Virtual  time.Duration `json:"virtual"`
	CPU      time.Duration `json:"cpu"`
	RealWall time.Duration `json:"real_wall"`
	// Created counts the handoffs that converged; Failed those that did
	// not, RateLimited those of them failed by a rate limit.
	Created     int      `json:"created"`
	Failed      int      `json:"failed"`
	RateLimited int      `json:"rate_limited"`
	Errors      []string `json:"errors,omitempty"`
	// Notes are apply's lines about its lease ("lock: …").
	Notes []string `json:"notes,omitempty"`
	// Stats are the pacer's counts per vendor, class and route; Totals
	// their sum (Limited: refusals received and waited out, not surfaced).
	Stats  []pace.Stat `json:"stats"`
	Totals pace.Counts `json:"totals"`
	// Bound is the lower bound of these requests under the limits; Ratio
	// Virtual over it.
	Bound Bound   `json:"bound"`
	Ratio float64 `json:"ratio"`
	// Announced are the budgets the servers announced in their headers.
	Announced []AnnouncedCount `json:"announced,omitempty"`
}

// Create runs the create-apply of n benchmark handoffs (WriteRepo) on a
// fresh world under dir.
func Create(ctx context.Context, dir string, n int, latency time.Duration, noLimits bool) (CreateResult, error) {
	res := CreateResult{N: n, Latency: latency}
	w, err := NewWorld(Options{Dir: dir, Latency: latency, NoLimits: noLimits})
	if err != nil {
		return res, err
	}
	res.Limits = w.Limits()
	if err := WriteRepo(w.Repo, n); err != nil {
		return res, err
	}
	cpu0, realStart := CPUTime(), realNow()
	r, err := w.Run(ctx, RunOptions{})
	res.CPU, res.RealWall = CPUTime()-cpu0, realNow().Sub(realStart)
	if err != nil {
		return res, err
	}
	res.Virtual = r.Virtual()
	res.Created, res.Failed, res.RateLimited, res.Errors, res.Notes = r.Done["create"], r.Failed, r.RateLimited, r.Errors, r.Notes
	res.Stats, res.Totals = r.Stats, r.Totals()
	res.Bound = LowerBound(r.Models, r.Stats, latency)
	res.Announced = w.Announced()
	if res.Bound.Minimum > 0 {
		res.Ratio = float64(res.Virtual) / float64(res.Bound.Minimum)
	}
	return res, nil
}

// Upkeep is what a run costs per hour of its length besides its handoffs
// and its fixed cost (the apply lease's renewals): the counts of a create
// of n handoffs less n × per and less fixed, per hour of its virtual time.
func Upkeep(c CreateResult, per, fixed []pace.Stat) []pace.Stat {
	if c.Virtual < time.Minute {
		return nil
	}
	type key struct{ vendor, class, route string }
	sub := map[key]int64{}
	for _, s := range per {
		sub[key{s.Vendor, s.Class, s.Route}] += s.Requests * int64(c.N)
	}
	for _, s := range fixed {
		sub[key{s.Vendor, s.Class, s.Route}] += s.Requests
	}
	hours := c.Virtual.Hours()
	var out []pace.Stat
	for _, s := range c.Stats {
		left := s.Requests - sub[key{s.Vendor, s.Class, s.Route}]
		if left <= 0 {
			continue
		}
		perHour := int64(math.Ceil(float64(left) / hours))
		out = append(out, pace.Stat{Vendor: s.Vendor, Class: s.Class, Route: s.Route, Counts: pace.Counts{Requests: perHour}})
	}
	return out
}

// SurfaceCost is the requests of one handoff of a spec, per phase.
type SurfaceCost struct {
	// Spec is the example spec's slug; Surfaces the blocks it uses.
	Spec     string   `json:"spec"`
	Surfaces []string `json:"surfaces"`
	// Create, Refresh and Revoke are one handoff's requests per vendor,
	// class and route (a run of two handoffs less a run of one); Refresh
	// is empty when nothing of the handoff expires before it does.
	Create  []pace.Stat `json:"create"`
	Refresh []pace.Stat `json:"refresh"`
	Revoke  []pace.Stat `json:"revoke"`
	// CreateRun is what a create run costs besides its handoffs.
	CreateRun []pace.Stat `json:"create_run"`
	// Lifetime is the life of the handoff's earliest-expiring credential
	// (GitHub's hour), 0 when none expires before the handoff.
	Lifetime time.Duration `json:"lifetime"`
	Limits   string        `json:"limits"`
	// Models are the pacer's models of the vendors (not in the JSON).
	Models []pace.Model `json:"-"`
}

// Lifecycle measures the create, refresh and revoke of a handoff of spec
// src (in a repository whose handoff.hcl is config): each phase with one
// handoff and with two, the difference being one handoff's requests.
func Lifecycle(ctx context.Context, dir, config, src string, latency time.Duration) (SurfaceCost, error) {
	var sc SurfaceCost
	h, diags := spec.ParseHandoffFile("spec.hcl", []byte(src))
	if diags.HasErrors() {
		return sc, fmt.Errorf("vsim: spec: %s", diags.Error())
	}
	slug := h.Slug.Value
	sc.Spec = slug
	for _, s := range surfaces.Default.Names() {
		if h.HasSurface(s) {
			sc.Surfaces = append(sc.Surfaces, s)
		}
	}
	clone := "k2-" + slug
	srcs := map[string]string{slug: src, clone: strings.Replace(src, fmt.Sprintf("%q", slug), fmt.Sprintf("%q", clone), 1)}
	type phases struct{ create, refresh, revoke []pace.Stat }
	var got [2]phases
	for i, k := range []int{1, 2} {
		w, err := NewWorld(Options{Dir: filepath.Join(dir, fmt.Sprintf("k%d", k)), Latency: latency})
		if err != nil {
			return sc, err
		}
		sc.Limits = w.Limits()
		slugs := []string{slug, clone}[:k]
		if err := writeSpecs(w.Repo, config, srcs, slugs); err != nil {
			return sc, err
		}
		what := fmt.Sprintf("%s (%d handoffs)", slug, k)
		r, err := w.Run(ctx, RunOptions{})
		if err := phaseErr(what, "create", r, err, k); err != nil {
			return sc, err
		}
		got[i].create, sc.Models = r.Stats, r.Models
		created := r.Finished[slug]
		// The state after the create: when its credentials expire.
		r, err = w.Run(ctx, RunOptions{})
		if err != nil {
			return sc, err
		}
		if at, ok := r.Expiries[slug]; ok {
			sc.Lifetime = at.Sub(created).Round(time.Minute)
			// Within the span where every run refreshes it (due), not
			// only the run of its share of the early refreshes.
			time.Sleep(time.Until(at.Add(-reconcile.DueWithin(reconcile.DefaultSchedule) / 2)))
			r, err = w.Run(ctx, RunOptions{})
			if err := phaseErr(what, "refresh", r, err, k); err != nil {
				return sc, err
			}
			got[i].refresh = r.Stats
		}
		for _, s := range slugs {
			if err := os.Remove(filepath.Join(w.Repo, "specs", s+".hcl")); err != nil {
				return sc, err
			}
		}
		r, err = w.Run(ctx, RunOptions{})
		if err := phaseErr(what, "revoke", r, err, k); err != nil {
			return sc, err
		}
		got[i].revoke = r.Stats
	}
	sc.Create, sc.CreateRun = PerHandoff(got[0].create, got[1].create, 1, 2)
	sc.Refresh, _ = PerHandoff(got[0].refresh, got[1].refresh, 1, 2)
	sc.Revoke, _ = PerHandoff(got[0].revoke, got[1].revoke, 1, 2)
	return sc, nil
}

func phaseErr(what, op string, r Run, err error, want int) error {
	if err != nil {
		return fmt.Errorf("vsim: %s: %s: %w", what, op, err)
	}
	if r.Failed > 0 || r.Done[op] != want {
		return fmt.Errorf("vsim: %s: %s: %d done, %d failed, want %d done: %s", what, op, r.Done[op], r.Failed, want,
			strings.Join(r.Errors, "; "))
	}
	return nil
}

func writeSpecs(repo, config string, srcs map[string]string, slugs []string) error {
	if err := os.MkdirAll(filepath.Join(repo, "specs"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(repo, "handoff.hcl"), []byte(config), 0o644); err != nil {
		return err
	}
	for _, s := range slugs {
		if err := os.WriteFile(filepath.Join(repo, "specs", s+".hcl"), []byte(srcs[s]), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ExampleSpecs reads the handoff.hcl of dir and the specs in dir/specs,
// sorted by file name.
func ExampleSpecs(dir string) (config string, specs []string, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "handoff.hcl"))
	if err != nil {
		return "", nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "specs", "*.hcl"))
	if err != nil {
		return "", nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		s, err := os.ReadFile(f)
		if err != nil {
			return "", nil, err
		}
		specs = append(specs, string(s))
	}
	return string(b), specs, nil
}

// DayOptions configure a simulated day.
type DayOptions struct {
	// Handoffs live all day.
	Handoffs int
	// Slot is the interval between scheduled runs (15 min), Slots how many
	// runs (96: a day).
	Slot  time.Duration
	Slots int
	// Latency is added to every request.
	Latency time.Duration
	// Log receives a line per run (nil: none).
	Log io.Writer
}

// DayRun is one scheduled run of the day. Times are since the day began.
type DayRun struct {
	Slot int `json:"slot"`
	// At is the run's scheduled time; Start and End when it ran (a run
	// starts late when the previous one overran); Skipped when a later
	// slot began before the previous run ended (one run waits, as a
	// GitHub Actions concurrency group keeps one pending).
	At      time.Duration `json:"at"`
	Start   time.Duration `json:"start"`
	End     time.Duration `json:"end"`
	Skipped bool          `json:"skipped,omitempty"`
	// Overran says the run ended after its slot did.
	Overran bool `json:"overran"`
	// Refreshes planned and done; Other operations done (creates,
	// revokes, repairs).
	Planned   int `json:"planned"`
	Refreshed int `json:"refreshed"`
	Other     int `json:"other"`
	// Failed handoffs, RateLimited those failed by a rate limit (surfaced
	// to the user).
	Failed      int      `json:"failed"`
	RateLimited int      `json:"rate_limited"`
	Errors      []string `json:"errors,omitempty"`
	// Totals of the pacer: requests, waits and refusals received (429s
	// waited out).
	Totals pace.Counts `json:"totals"`
	// Classes are the requests per vendor and class.
	Classes []pace.Stat `json:"classes"`
	// Late counts the handoffs the gate refused at some moment from this
	// run's start to the next one's because their short-lived credential
	// had expired before its refresh; LateMax is the longest such refusal
	// that ended in this run, RefusedMinutes their sum in handoff-minutes.
	Late           int           `json:"late"`
	LateMax        time.Duration `json:"late_max"`
	RefusedMinutes float64       `json:"refused_minutes"`
	CPU            time.Duration `json:"cpu"`
	RealWall       time.Duration `json:"real_wall"`
	// Note is apply's first line about its lease that is not routine
	// ("lock: …"); LeaseLost says the run lost its lease and stopped.
	Note      string `json:"note,omitempty"`
	LeaseLost bool   `json:"lease_lost,omitempty"`
}

// DayResult is a simulated day.
type DayResult struct {
	Handoffs int           `json:"handoffs"`
	Slot     time.Duration `json:"slot"`
	Slots    int           `json:"slots"`
	Latency  time.Duration `json:"latency"`
	// Setup is the create of the handoffs before the day, with the limits
	// off (so they are created together, and expire together).
	Setup  CreateResult `json:"setup"`
	Limits string       `json:"limits"`
	Runs   []DayRun     `json:"runs"`
	// Totals over the day.
	Totals         pace.Counts   `json:"totals"`
	Classes        []pace.Stat   `json:"classes"`
	Refreshed      int           `json:"refreshed"`
	Failed         int           `json:"failed"`
	RateLimited    int           `json:"rate_limited"`
	Overruns       int           `json:"overruns"`
	Skipped        int           `json:"skipped"`
	LeaseLost      int           `json:"lease_lost"`
	Late           int           `json:"late"`
	LateMax        time.Duration `json:"late_max"`
	RefusedMinutes float64       `json:"refused_minutes"`
	Virtual        time.Duration `json:"virtual"`
	CPU            time.Duration `json:"cpu"`
	RealWall       time.Duration `json:"real_wall"`
}

// Day creates the handoffs with the limits off (all at once, as a large
// first apply on a higher plan, or a migration, would), then runs an apply
// every slot at the vendors' default limits, and reports each run.
func Day(ctx context.Context, dir string, o DayOptions) (DayResult, error) {
	d := DayResult{Handoffs: o.Handoffs, Slot: o.Slot, Slots: o.Slots, Latency: o.Latency}
	cpu0, real0 := CPUTime(), realNow()
	w, err := NewWorld(Options{Dir: dir, Latency: o.Latency, NoLimits: true})
	if err != nil {
		return d, err
	}
	d.Setup.N, d.Setup.Latency, d.Setup.Limits = o.Handoffs, o.Latency, w.Limits()
	if err := WriteRepo(w.Repo, o.Handoffs); err != nil {
		return d, err
	}
	r, err := w.Run(ctx, RunOptions{})
	if err != nil {
		return d, err
	}
	d.Setup.Virtual, d.Setup.CPU, d.Setup.RealWall = r.Virtual(), CPUTime()-cpu0, realNow().Sub(real0)
	d.Setup.Created, d.Setup.Failed, d.Setup.Errors = r.Done["create"], r.Failed, r.Errors
	d.Setup.Stats, d.Setup.Totals = r.Stats, r.Totals()
	if r.Failed > 0 || r.Done["create"] != o.Handoffs {
		return d, fmt.Errorf("vsim: day setup: %d of %d created: %s", r.Done["create"], o.Handoffs, strings.Join(r.Errors, "; "))
	}
	if err := w.Reopen(false); err != nil {
		return d, err
	}
	d.Limits = w.Limits()

	type span struct {
		expiries map[string]time.Time
		fixed    map[string]time.Time
	}
	var spans []span
	day0 := time.Now()
	cpuDay, realDay := CPUTime(), realNow()
	prevEnd := day0
	for k := 0; k < o.Slots; k++ {
		at := day0.Add(time.Duration(k) * o.Slot)
		run := DayRun{Slot: k, At: at.Sub(day0)}
		if prevEnd.After(at.Add(o.Slot)) {
			run.Skipped = true
			d.Skipped++
			d.Runs = append(d.Runs, run)
			spans = append(spans, span{})
			continue
		}
		start := at
		if prevEnd.After(start) {
			start = prevEnd
		}
		time.Sleep(time.Until(start))
		c0, w0 := CPUTime(), realNow()
		r, err := w.Run(ctx, RunOptions{})
		if err != nil {
			return d, fmt.Errorf("vsim: day run %d: %w", k, err)
		}
		run.CPU, run.RealWall = CPUTime()-c0, realNow().Sub(w0)
		run.Start, run.End = r.Start.Sub(day0), r.End.Sub(day0)
		run.Overran = r.End.After(at.Add(o.Slot))
		run.Planned, run.Refreshed = r.Planned["refresh"], r.Done["refresh"]
		for op, n := range r.Done {
			if op != "refresh" {
				run.Other += n
			}
		}
		run.Failed, run.RateLimited, run.Errors = r.Failed, r.RateLimited, r.Errors
		run.Totals, run.Classes = r.Totals(), classTotals(r.Stats)
		if len(r.Notes) > 0 {
			run.Note = r.Notes[0]
		}
		for _, n := range r.Notes {
			if strings.Contains(n, "could not renew") || strings.Contains(n, "lost the lock") {
				run.LeaseLost = true
			}
		}
		prevEnd = r.End
		// A handoff whose run converged (a refresh, or the recovery of one
		// that stopped) holds a fresh token from then on.
		fixed := map[string]time.Time{}
		for slug, t := range r.Finished {
			if r.Ops[slug] != "revoke" {
				fixed[slug] = t
			}
		}
		spans = append(spans, span{expiries: r.Expiries, fixed: fixed})
		d.Runs = append(d.Runs, run)
		if o.Log != nil {
			fmt.Fprintf(o.Log, "vsim: day run %d at %s: %d/%d refreshed in %s, %d requests, %d waits, %d failed\n",
				k, fmtClock(run.At), run.Refreshed, run.Planned, (run.End - run.Start).Round(time.Second),
				run.Totals.Requests, run.Totals.Waits, run.Failed)
		}
	}
	dayEnd := day0.Add(time.Duration(o.Slots) * o.Slot)
	if prevEnd.After(dayEnd) {
		dayEnd = prevEnd
	}
	// The gate refuses a handoff from its credential's expiry until the run
	// that refreshes it ends; each run's state covers the span from its
	// start to the next run's.
	late := map[string]bool{}
	for i := range d.Runs {
		if d.Runs[i].Skipped {
			continue
		}
		from := day0.Add(d.Runs[i].Start)
		to := dayEnd
		for j := i + 1; j < len(d.Runs); j++ {
			if !d.Runs[j].Skipped {
				to = day0.Add(d.Runs[j].Start)
				break
			}
		}
		sp := spans[i]
		for slug, x := range sp.expiries {
			end := to
			if f, ok := sp.fixed[slug]; ok && f.Before(end) {
				end = f
			}
			begin := x
			if begin.Before(from) {
				begin = from
			}
			if !begin.Before(end) {
				continue
			}
			d.Runs[i].Late++
			late[slug] = true
			d.Runs[i].RefusedMinutes += end.Sub(begin).Minutes()
			if f, ok := sp.fixed[slug]; ok {
				d.Runs[i].LateMax = max(d.Runs[i].LateMax, f.Sub(x))
			}
		}
	}
	var all []pace.Stat
	for _, run := range d.Runs {
		all = append(all, run.Classes...)
		d.Totals.Requests += run.Totals.Requests
		d.Totals.Waits += run.Totals.Waits
		d.Totals.Waited += run.Totals.Waited
		d.Totals.Limited += run.Totals.Limited
		d.Refreshed += run.Refreshed
		d.Failed += run.Failed
		d.RateLimited += run.RateLimited
		d.RefusedMinutes += run.RefusedMinutes
		d.LateMax = max(d.LateMax, run.LateMax)
		if run.Overran {
			d.Overruns++
		}
		if run.LeaseLost {
			d.LeaseLost++
		}
	}
	d.Classes = classTotals(all)
	d.Late = len(late)
	d.Virtual = dayEnd.Sub(day0)
	d.CPU, d.RealWall = CPUTime()-cpuDay, realNow().Sub(realDay)
	return d, nil
}

// classTotals sums stats per vendor and class.
func classTotals(stats []pace.Stat) []pace.Stat {
	type key struct{ vendor, class string }
	acc := map[key]*pace.Stat{}
	var keys []key
	for _, s := range stats {
		k := key{s.Vendor, s.Class}
		c, ok := acc[k]
		if !ok {
			c = &pace.Stat{Vendor: s.Vendor, Class: s.Class}
			acc[k] = c
			keys = append(keys, k)
		}
		c.Requests += s.Requests
		c.Waits += s.Waits
		c.Waited += s.Waited
		c.Limited += s.Limited
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.vendor != b.vendor {
			return strings.Compare(a.vendor, b.vendor)
		}
		return strings.Compare(a.class, b.class)
	})
	out := make([]pace.Stat, 0, len(keys))
	for _, k := range keys {
		out = append(out, *acc[k])
	}
	return out
}

// fmtClock writes a time of the day as h:mm.
func fmtClock(d time.Duration) string {
	return fmt.Sprintf("%d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// errNoBubble is returned by Simulate when the clock is not a bubble's.
var errNoBubble = errors.New("vsim: not in a synctest bubble (time.Now is the wall clock): run it from the package's test binary")
