package vsim

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// The flags of the simulation make bench runs (tools/benchrun runs this
// package's test binary):
//
//	vsim.test -test.run '^TestSimulation$' -test.timeout 0 -vsim.out FILE ...
var (
	outFlag      = flag.String("vsim.out", "", "run TestSimulation and write its Output as JSON to `FILE`")
	latencyFlag  = flag.Duration("vsim.latency", 20*time.Millisecond, "latency the servers add to every request")
	createsFlag  = flag.String("vsim.creates", "10,1000", "comma-separated sizes of the create-applies at the default limits")
	examplesFlag = flag.String("vsim.examples", "", "`DIR` with handoff.hcl and specs/, one spec per surface")
	dayFlag      = flag.Int("vsim.day", 10000, "live handoffs the simulated day aims at (0 skips the day)")
	dayMaxFlag   = flag.Int("vsim.daymax", 0, "cap on the day's handoffs (0: none)")
	slotFlag     = flag.Duration("vsim.slot", 15*time.Minute, "interval between the day's scheduled applies")
	slotsFlag    = flag.Int("vsim.slots", 96, "scheduled applies in the day")
)

// TestSimulation runs the simulation make bench asks for and writes its
// output; without -vsim.out it is skipped.
func TestSimulation(t *testing.T) {
	if *outFlag == "" {
		t.Skip("make bench runs it: -vsim.out FILE")
	}
	var creates []int
	for _, f := range strings.Split(*createsFlag, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			t.Fatalf("-vsim.creates: %q is not a positive number", f)
		}
		creates = append(creates, n)
	}
	cfg := Config{Dir: t.TempDir(), Latency: *latencyFlag, Creates: creates, Examples: *examplesFlag,
		DayTarget: *dayFlag, DayMax: *dayMaxFlag, Slot: *slotFlag, Slots: *slotsFlag, Log: os.Stderr}
	var out Output
	synctest.Test(t, func(t *testing.T) {
		var err error
		if out, err = Simulate(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	})
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*outFlag, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSmallSimulation runs every scenario small: the engine converges at
// the default limits with nothing refused, the virtual time is never below
// the lower bound, the per-surface table has both example specs, and the
// day's accounting adds up.
func TestSmallSimulation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Dir: t.TempDir(), Latency: 20 * time.Millisecond, Creates: []int{3},
			Examples: "../../../internal/apply/testdata/repo", DayTarget: 4, Slot: 15 * time.Minute, Slots: 6}
		out, err := Simulate(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := out.Creates[0]
		if c.Created != 3 || c.Failed != 0 || c.Totals.Limited != 0 {
			t.Errorf("create: %d created, %d failed, %d refusals received: %v", c.Created, c.Failed, c.Totals.Limited, c.Errors)
		}
		if c.Virtual < c.Bound.Minimum || c.Virtual <= 0 {
			t.Errorf("create took %s of virtual time, below its lower bound %s", c.Virtual, c.Bound.Minimum)
		}
		if !strings.Contains(c.Limits, "Infisical Cloud") {
			t.Errorf("create limits %q, want the vendors' defaults", c.Limits)
		}
		examples, err := filepath.Glob(filepath.Join(cfg.Examples, "specs", "*.hcl"))
		if err != nil || len(examples) == 0 {
			t.Fatalf("example specs: %v, %v", examples, err)
		}
		if len(out.Surfaces) != len(examples) {
			t.Fatalf("%d example specs measured, want %d", len(out.Surfaces), len(examples))
		}
		cal := out.Calibration
		if cal.Lifetime != time.Hour || sumRequests(cal.Refresh) == 0 || sumRequests(cal.Create) <= sumRequests(cal.Refresh) {
			t.Errorf("calibration: lifetime %s, create %d, refresh %d requests", cal.Lifetime, sumRequests(cal.Create), sumRequests(cal.Refresh))
		}
		if out.Ceiling.Handoffs <= 0 || out.Ceiling.WithReplacement > out.Ceiling.Handoffs {
			t.Errorf("ceiling %+v", out.Ceiling)
		}
		d := out.Day
		if d == nil || d.Handoffs != 4 || len(d.Runs) != 6 || d.Setup.Limits != LimitsOff {
			t.Fatalf("day %+v", d)
		}
		// The handoffs' tokens expire an hour after the setup, a little
		// before the run of slot 4 (at 1:00): the runs of slots 1 to 3
		// refresh them, early or due, and the gate never refuses one.
		early := 0
		for _, run := range d.Runs[1:4] {
			early += run.Planned
		}
		if d.LeaseLost != 0 {
			t.Errorf("day: %d runs lost their lease", d.LeaseLost)
		}
		for _, n := range c.Notes {
			if strings.Contains(n, "lost the lock") || strings.Contains(n, "could not renew") {
				t.Errorf("create: %s", n)
			}
		}
		if early < 4 || d.Failed != 0 || d.RateLimited != 0 || d.Late != 0 || d.RefusedMinutes != 0 {
			t.Errorf("day: %d refreshed, %d by the runs of slots 1 to 3, %d failed, %d refused at some moment (%.1f min)",
				d.Refreshed, early, d.Failed, d.Late, d.RefusedMinutes)
		}
	})
}

// TestCreateAtScaleKeepsItsLease: a create of 150 handoffs at the vendors'
// default limits lasts about four minutes of vendor time, through several
// renewals of the apply lease while the handoffs' writes queue on the
// same Infisical routes: nothing is refused, nothing fails, the lease is
// never lost, and the run stays near its lower bound. (At this size the
// 5-minute lease alone keeps it; that its renewals go ahead of the queue
// is pace's TestUrgentRequestsGoAheadOfTheQueue.)
func TestCreateAtScaleKeepsItsLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Dir: t.TempDir(), Latency: 20 * time.Millisecond, Creates: []int{150}}
		out, err := Simulate(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := out.Creates[0]
		if c.Created != 150 || c.Failed != 0 || c.Totals.Limited != 0 || c.RateLimited != 0 {
			t.Errorf("create: %d created, %d failed, %d refusals: %v", c.Created, c.Failed, c.Totals.Limited, c.Errors)
		}
		for _, n := range c.Notes {
			t.Errorf("create: lease note %q", n)
		}
		if c.Virtual < c.Bound.Minimum || c.Virtual > c.Bound.Minimum*5/4 {
			t.Errorf("create took %s of vendor time, its lower bound %s", c.Virtual, c.Bound.Minimum)
		}
	})
}

// TestInterruptedCreateResumes (issue 13, resumable large applies): a
// create-apply of many handoffs at the default limits, interrupted part-way
// (its context ends, as on SIGINT), is finished by the next apply: every
// handoff once, nothing minted twice or left behind, then no changes.
func TestInterruptedCreateResumes(t *testing.T) {
	const n = 120
	synctest.Test(t, func(t *testing.T) {
		w, err := NewWorld(Options{Dir: t.TempDir(), Latency: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteRepo(w.Repo, n); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		first, err := w.Run(ctx, RunOptions{})
		cancel()
		if err != nil {
			t.Fatalf("interrupted run: %v", err)
		}
		if first.Done["create"] == 0 || first.Done["create"] >= n {
			t.Fatalf("the interrupted run created %d of %d: not part-way", first.Done["create"], n)
		}
		second, err := w.Run(context.Background(), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// The handoffs under way at the interrupt are finished from their
		// journals ("recover"); the others are created.
		if got := first.Done["create"] + second.Done["create"] + second.Done["recover"]; got != n || second.Failed != 0 {
			t.Errorf("created %d then %v, %d failed, of %d: %v", first.Done["create"], second.Done, second.Failed, n, second.Errors)
		}
		if live := len(w.Servers.GitHub.LiveTokens()); live != n {
			t.Errorf("%d live GitHub tokens for %d handoffs", live, n)
		}
		if ids := len(w.Servers.Infisical.Identities()); ids < n || ids > n+1 {
			t.Errorf("%d Infisical identities for %d handoffs (and the provisioner)", ids, n)
		}
		third, err := w.Run(context.Background(), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(third.Planned) != 0 {
			t.Errorf("after the resumed run the plan has %v", third.Planned)
		}
	})
}
