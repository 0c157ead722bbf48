package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
	"github.com/raxx-app/handoff/tools/benchrun/vsim"
)

// The scripted run needs the built binary; it runs only when given one:
//
//	go test ./tools/benchrun -args -bin "$PWD/bin/handoff"
//	HANDOFF_BENCH_BIN=$PWD/bin/handoff go test ./tools/benchrun
var binFlag = flag.String("bin", "", "built handoff binary for TestScriptedRun (or $HANDOFF_BENCH_BIN)")

const defaults = "Infisical Cloud's per route (secrets 40/min, reads 60, writes 200, identity creation 30); GitHub's primary and secondary"

func stat(vendor, class, route string, n int64) pace.Stat {
	return pace.Stat{Vendor: vendor, Class: class, Route: route, Counts: pace.Counts{Requests: n}}
}

// testSim is a simulation's output as the report shows it.
func testSim() *vsim.Output {
	bucket := vsim.Bucket{Vendor: "Infisical", Limit: "40/min", Name: "secretsLimit", Counts: "POST /api/v4/secrets/{secretName}",
		Max: 40, Window: time.Minute, Kind: "fixed window", Points: 5001, Minimum: 125 * time.Minute}
	create := vsim.CreateResult{N: 1000, Latency: 20 * time.Millisecond, Limits: defaults, Virtual: 127*time.Minute + 13*time.Second,
		CPU: 3 * time.Second, RealWall: 14 * time.Second, Created: 1000,
		Stats:  []pace.Stat{stat("Infisical", "secretsLimit", "POST /api/v4/secrets/{secretName}", 5001)},
		Totals: pace.Counts{Requests: 14010, Waits: 2000, Waited: 3 * time.Hour},
		Bound:  vsim.Bound{Minimum: 125 * time.Minute, Buckets: []vsim.Bucket{bucket}},
		Ratio:  1.0176}
	small := create
	small.N, small.Virtual, small.Bound.Minimum, small.Ratio, small.Totals.Requests = 10, 61*time.Second, time.Minute, 1.0167, 152
	refresh := []pace.Stat{stat("GitHub", "writes", "POST /app/installations/{installation_id}/access_tokens", 1),
		stat("Infisical", "secretsLimit", "PATCH /api/v4/secrets/{secretName}", 3)}
	return &vsim.Output{
		Latency: 20 * time.Millisecond, Limits: defaults,
		Calibration: vsim.SurfaceCost{Spec: "bench-00000-20260621", Surfaces: []string{"github", "infisical"}, Lifetime: time.Hour, Refresh: refresh},
		Creates:     []vsim.CreateResult{small, create},
		Surfaces: []vsim.SurfaceCost{
			{Spec: "iap-notif-handler-20260621", Surfaces: []string{"github", "infisical"}, Lifetime: time.Hour,
				Create: []pace.Stat{stat("Infisical", "secretsLimit", "POST /api/v4/secrets/{secretName}", 5)}, Refresh: refresh,
				Revoke: []pace.Stat{stat("Infisical", "secretsLimit", "DELETE /api/v4/secrets/{secretName}", 4)}},
			{Spec: "founders-checkout-20260621", Surfaces: []string{"infisical", "stripe"},
				Create: []pace.Stat{stat("Infisical", "secretsLimit", "POST /api/v4/secrets/{secretName}", 4)}},
		},
		Ceiling: vsim.Ceiling{Handoffs: 770, WithReplacement: 727, Lifetime: time.Hour, Slot: 15 * time.Minute,
			Binding: "Infisical PATCH /api/v4/secrets/{secretName} (40/min)",
			Lines: []vsim.CeilingLine{{Vendor: "Infisical", Counts: "PATCH /api/v4/secrets/{secretName}", Limit: "40/min", PerHour: 2400,
				Refresh: 3, Create: 1, Revoke: 1, Upkeep: 89, Handoffs: 770.3, WithReplacement: 749.5}}},
		DayTarget: 10000, DayFraction: 0.9,
		Day: &vsim.DayResult{Handoffs: 693, Slot: 15 * time.Minute, Slots: 3, Latency: 20 * time.Millisecond,
			Setup:  vsim.CreateResult{N: 693, Limits: vsim.LimitsOff, Virtual: 20 * time.Second},
			Limits: defaults,
			Runs: []vsim.DayRun{
				{Slot: 0, Totals: pace.Counts{Requests: 4}},
				{Slot: 1, At: 15 * time.Minute, Start: 15 * time.Minute, End: 35 * time.Minute, Overran: true, Planned: 693, Refreshed: 650,
					Failed: 43, Errors: []string{"bench-00001-20260621: write the manifest: context canceled"}, Note: "lock: the lease has lapsed",
					Late: 693, LateMax: 19 * time.Minute, RefusedMinutes: 5000},
				{Slot: 2, At: 30 * time.Minute, Skipped: true},
			},
			Overruns: 1, Skipped: 1, Refreshed: 650, Failed: 43, Late: 693, LateMax: 19 * time.Minute, RefusedMinutes: 5000},
		Announced: []vsim.AnnouncedCount{{Announced: vsim.Announced{Vendor: "GitHub", Resource: "core", Limit: 5000}, Answers: 1002}},
	}
}

func testReport() report {
	return report{
		Machine:     machine{OS: "linux", Arch: "amd64", Cores: 2, CPU: "Test CPU", GoVersion: "go1.26.8", Date: "2026-06-21", Handoff: "handoff v1.0.0", Load: "0.15"},
		Parallelism: 16,
		PlanRuns:    3,
		Sim:         testSim(),
		SimChild:    measure{Wall: 5 * time.Minute, CPU: 4 * time.Minute, MaxRSS: 300 << 20},
		Rows: []row{
			{N: 10, Latency: 0, Limits: vsim.LimitsOff,
				Apply: measure{Wall: 55 * time.Millisecond, CPU: 40 * time.Millisecond, Requests: 150, MaxRSS: 26 << 20, Routes: map[string]int64{"POST /api/v1/identities": 10}},
				Plan:  measure{Wall: 25 * time.Millisecond, CPU: 20 * time.Millisecond, Requests: 4, MaxRSS: 23 << 20, Routes: map[string]int64{"GET /app/installations": 1, "GET /api/v4/secrets": 3}}},
			{N: 1000, Latency: 20 * time.Millisecond, Limits: vsim.LimitsOff,
				Apply: measure{Wall: 19800 * time.Millisecond, Requests: 14010, MaxRSS: 125 << 20, Routes: map[string]int64{"POST /api/v1/identities": 1000}},
				Plan:  measure{Wall: 590 * time.Millisecond, Requests: 4, MaxRSS: 125 << 20, Routes: map[string]int64{"GET /app/installations": 1, "GET /api/v4/secrets": 3}}},
			{N: 10, Latency: 20 * time.Millisecond, Limits: defaults,
				Apply: measure{Wall: 62 * time.Second, Requests: 152}, Plan: measure{Wall: 90 * time.Millisecond, Requests: 4}},
		},
		IaC: iac{Name: "terraform", Path: "/usr/local/bin/terraform", Version: "Terraform v1.11.4"},
		Plans: []planCompare{
			{N: 1000, Handoff: measure{CPU: 1600 * time.Millisecond, Wall: 900 * time.Millisecond, MaxRSS: 160 << 20, Requests: 4},
				Tool: measure{CPU: 3 * time.Second, Wall: 2 * time.Second, MaxRSS: 145 << 20}},
		},
		Validation: validation{N: 10000, Runs: 3, Wall: 1750 * time.Millisecond, MaxRSS: 149 << 20},
		GoBench:    "goos: linux\nBenchmarkX-2 \t 1\t 5 ns/op\nok  \tpkg\t1.0s\n",
		Took:       9 * time.Minute, Elapsed: 11 * time.Minute, LoadAfter: "1.20",
		Note: "a partial run",
	}
}

func TestRender(t *testing.T) {
	var b bytes.Buffer
	render(&b, testReport())
	doc := b.String()
	for _, want := range []string{
		"# Benchmarks\n",
		"linux/amd64, 2 cores (Test CPU), go1.26.8, 2026-06-21; binary `handoff v1.0.0`",
		"Load average 0.15 before the run, 1.20 after it",
		"`make bench` took 11 min (tools/benchrun 9 min of it)",
		"**Note:** a partial run",
		// The summary, against the targets.
		"| 1. create 1,000 handoffs, vendor defaults, 20 ms latency (virtual time) |",
		"0 failed, 0 by a rate limit; 2 h 07 min 13 s = 1.018 × the bound (2 h 05 min) | **yes** |",
		"ceiling 770 (refresh only) → 693 live; 1 of 3 runs overran, 1 skipped; 43 failed (0 by a rate limit); 693 handoffs refused",
		"0.53× CPU (1.60 s vs 3.00 s), 160 MiB vs 145 MiB; 4 requests at every N | **no** |",
		// Figure 1: the method, the bound, the binding count.
		"`testing/synctest` bubble",
		"| 1,000 | vendor defaults | 2 h 07 min 13 s | 2 h 05 min | 1.018 | Infisical `POST /api/v4/secrets/{secretName}` 40/min |",
		"(⌈*n*/*max*⌉ − 1) × *W*",
		"| Infisical | secretsLimit 40/min (fixed window) | `POST /api/v4/secrets/{secretName}` | 5,001 | 126 | 2 h 05 min |",
		`GitHub "core" 5,000 (on 1,002 answers)`,
		"took 62.0 s of wall time; the simulation says 1 min 01 s",
		// Figure 2.
		"Ceiling: **770 live handoffs** (refresh only), 727 with a daily replacement",
		"| Infisical | `PATCH /api/v4/secrets/{secretName}` | 40/min | 2,400 | 3 | 1 | 1 | 0 | 89 | 770 | 749 |",
		"created before the\nday with the limits **off**",
		"| 1 | 0:15:00 | 0:15:00 | 20 min | **yes** | 650 (693) | 0 | 43 (0) |",
		"| 2 | 0:30:00 | skipped: the previous run was still going |",
		"Apply's own words in slots 1: `lock: the lease has lapsed`.",
		"A failure in slots 1: `bench-00001-20260621: write the manifest: context canceled`.",
		// Figure 3.
		"`terraform plan` (Terraform v1.11.4, at `/usr/local/bin/terraform`)",
		"| 1,000 | 1.60 s | 900 ms | 160 MiB | 4 | 3.00 s | 2.00 s | 145 MiB | 0.53× | 1.10 |",
		// Figure 4: rows per vendor and class, columns per example spec.
		"| vendor | class | `iap-notif-handler-20260621` (github, infisical) | `founders-checkout-20260621` (infisical, stripe) |",
		"| Infisical | secretsLimit | 5 / 3 / 4 | 4 / — / 0 |",
		// The real-time rows say their limits.
		"| 10 | 0 | **off** | 55 ms | 40 ms | 150 | 26 MiB | 25 ms | 20 ms | 4 | 23 MiB |",
		"| 10 | 20 ms | vendor defaults | 62.0 s |",
		"14,010 requests × 20 ms ÷ 16 = 17.5 s of waiting, 19.8 s measured",
		"`handoff validate DIR` of 10,000 specs: 1.75 s wall (median of 3 runs), 149 MiB peak RSS",
		"<details><summary>raw output</summary>",
		"BenchmarkX-2",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %q", want)
		}
	}
	if strings.Count(doc, "```") != 2 {
		t.Errorf("unbalanced code fences")
	}
	if strings.Count(doc, "<details>") != strings.Count(doc, "</details>") {
		t.Errorf("unbalanced details")
	}
	if t.Failed() {
		t.Logf("document:\n%s", doc)
	}
}

// TestRenderWithoutSimulationOrTerraform: every section says why it has
// no figures.
func TestRenderWithoutSimulationOrTerraform(t *testing.T) {
	rep := testReport()
	rep.Sim, rep.SimSkipped = nil, "no -vsim binary was given."
	rep.IaC, rep.Plans = iac{Skipped: iacHow}, nil
	var b bytes.Buffer
	render(&b, rep)
	doc := b.String()
	for _, want := range []string{
		"| 1. create 1,000 handoffs at the vendors' default limits | … | not measured: no -vsim binary was given. |",
		"not compared: neither `terraform` nor `tofu` is on PATH",
		"## 2. A simulated day of scheduled applies\n\nNot measured: no -vsim binary was given.",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %q:\n%s", want, doc)
		}
	}
}

func TestRefusedValidation(t *testing.T) {
	stderr := "/tmp/x/specs:1:1: error: Specs too large in all\n  handoff reads at most 32 MiB of parsed specs; the rest were not loaded.\n\nhandoff validate: 1 error, 0 warnings\n"
	if got, want := refusal(stderr), "Specs too large in all: handoff reads at most 32 MiB of parsed specs; the rest were not loaded."; got != want {
		t.Errorf("refusal %q, want %q", got, want)
	}
	rep := testReport()
	rep.Validation.Refused = "Specs too large in all: handoff reads at most 32 MiB"
	var b bytes.Buffer
	render(&b, rep)
	if !strings.Contains(b.String(), "of 10,000 specs was **refused** (exit 1, 1.75 s, 149 MiB peak RSS): Specs too large in all") {
		t.Errorf("a refused validation is not said so")
	}

	// A failed Go benchmark is said so.
	rep.GoBenchStatus = 1
	b.Reset()
	render(&b, rep)
	if !strings.Contains(b.String(), "**go test -bench exited with status 1**") {
		t.Errorf("a failed go test -bench is not said so")
	}

	// A day the engine could not run says why.
	rep.Sim.Day, rep.Sim.DayHandoffs, rep.Sim.DayError = nil, 9000, "vsim: loading: Specs too large in all"
	b.Reset()
	render(&b, rep)
	for _, want := range []string{"ceiling 770 → 9,000 live: the day could not run: vsim: loading: Specs too large in all | **no** |",
		"**The day** of 9,000 live handoffs could not run: `vsim: loading: Specs too large in all`."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("document lacks %q", want)
		}
	}
}

func TestRenderRoutes(t *testing.T) {
	var b bytes.Buffer
	renderRoutes(&b, testReport().Rows)
	want := "| route | create-apply N=1000 | no-change plan N=10 | no-change plan N=1000 |\n" +
		"|---|--:|--:|--:|\n" +
		"| `GET /api/v4/secrets` | 0 | 3 | 3 |\n" +
		"| `GET /app/installations` | 0 | 1 | 1 |\n" +
		"| `POST /api/v1/identities` | 1000 | 0 | 0 |\n"
	if b.String() != want {
		t.Errorf("routes:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{fmtWall(0), "—"},
		{fmtWall(1499 * time.Microsecond), "1 ms"},
		{fmtWall(2346 * time.Millisecond), "2.35 s"},
		{fmtWall(65 * time.Second), "65.0 s"},
		{fmtLong(41500 * time.Millisecond), "41.5 s"},
		{fmtLong(12*time.Minute + 14*time.Second), "12 min 14 s"},
		{fmtLong(12*time.Minute + 4*time.Second), "12 min 04 s"},
		{fmtLong(time.Hour), "1 h"},
		{fmtLong(time.Hour + 5*time.Second), "1 h 00 min 05 s"},
		{fmtLong(15 * time.Minute), "15 min"},
		{fmtLong(2*time.Hour + 7*time.Minute + 13*time.Second), "2 h 07 min 13 s"},
		{fmtInt(14010), "14,010"},
		{fmtInt(int64(-1234567)), "-1,234,567"},
		{fmtInt(999), "999"},
		{fmtRSS(0), "—"},
		{fmtRSS(97 << 20), "97 MiB"},
		{fmtLatency(0), "0"},
		{fmtLatency(20 * time.Millisecond), "20 ms"},
		{ratio(0, time.Second), "—"},
		{ratio(3*time.Second, time.Second), "3.00×"},
		{clock(25*time.Hour + 61*time.Second), "25:01:01"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestMedian(t *testing.T) {
	m := median([]measure{{CPU: 3, MaxRSS: 1}, {CPU: 1, MaxRSS: 9}, {CPU: 2, Wall: 7, MaxRSS: 2}})
	if m.CPU != 2 || m.Wall != 7 || m.MaxRSS != 9 {
		t.Errorf("median %+v: want the run of median CPU with the highest RSS", m)
	}
}

func TestBenchLines(t *testing.T) {
	raw := "PASS\nok  \tgithub.com/x/nobench\t0.02s\n?   \tgithub.com/x/notest\t[no test files]\n" +
		"goos: linux\ngoarch: amd64\npkg: github.com/x/a\ncpu: AMD EPYC\n" +
		"BenchmarkA-2 \t 10\t 5 ns/op\nPASS\nok  \tgithub.com/x/a\t1.2s\n"
	want := "goos: linux\ngoarch: amd64\npkg: github.com/x/a\ncpu: AMD EPYC\nBenchmarkA-2 \t 10\t 5 ns/op\nok  \tgithub.com/x/a\t1.2s\n"
	if got := benchLines(raw); got != want {
		t.Errorf("benchLines:\n%q\nwant\n%q", got, want)
	}
	if got := benchCPU(raw); got != "AMD EPYC" {
		t.Errorf("benchCPU = %q", got)
	}
}

func TestParseFlags(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := parseFlags(nil, &stderr); err == nil || !strings.Contains(err.Error(), "-bin is required") {
		t.Errorf("no -bin: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "handoff")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	o, err := parseFlags([]string{"-bin", bin, "-n", "3, 30", "-latency", "0,5ms", "-limited-n", ""}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Ns) != 2 || o.Ns[1] != 30 || len(o.Latencies) != 2 || o.Latencies[1] != 5*time.Millisecond || o.ValidateN != 10000 ||
		len(o.LimitedNs) != 0 || o.PlanRuns != 3 || o.Vsim != "" || o.Terraform != "auto" {
		t.Errorf("options = %+v", o)
	}
	for _, bad := range [][]string{{"-bin", bin, "-n", "0"}, {"-bin", bin, "-latency", "fast"}, {"-bin", bin, "extra"},
		{"-bin", bin, "-vsim", "/nonexistent/vsim.test"}, {"-bin", bin, "-plan-runs", "0"}} {
		if _, err := parseFlags(bad, &stderr); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFindTerraform(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script stand-ins")
	}
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	if got := findTerraform("auto"); got.Path != "" || !strings.Contains(got.Skipped, "neither `terraform` nor `tofu`") {
		t.Errorf("auto with neither: %+v", got)
	}
	if got := findTerraform("off"); got.Path != "" || got.Skipped == "" {
		t.Errorf("off: %+v", got)
	}
	for _, name := range []string{"tofu", "terraform"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		// tofu alone is found; with both, terraform is preferred.
		if got := findTerraform("auto"); got.Name != name || got.Path != filepath.Join(dir, name) {
			t.Errorf("auto with %s: %+v", name, got)
		}
	}
	if got := findTerraform("/opt/bin/tofu"); got.Name != "tofu" {
		t.Errorf("a path to tofu: %+v", got)
	}
}

// TestIaCPlanWithAFakeTerraform runs the comparison's steps with a
// stand-in that records its arguments.
func TestIaCPlanWithAFakeTerraform(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script stand-in")
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "terraform")
	script := "#!/bin/sh\necho \"$1 $TF_CLI_CONFIG_FILE\" >> calls\n[ -f main.tf ] || exit 3\nexit 0\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	m, err := iacPlan(context.Background(), iac{Name: "terraform", Path: fake}, work, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.Wall <= 0 {
		t.Errorf("plan %+v", m)
	}
	calls, _ := os.ReadFile(filepath.Join(work, "calls"))
	rc := filepath.Join(work, "terraformrc")
	want := "init " + rc + "\napply " + rc + "\nplan " + rc + "\nplan " + rc + "\nplan " + rc + "\n"
	if string(calls) != want {
		t.Errorf("terraform called with %q, want %q", calls, want)
	}

	// A failing terraform fails the run with its output.
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho boom >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := iacPlan(context.Background(), iac{Name: "terraform", Path: fake}, filepath.Join(dir, "work2"), 1, 1); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failing terraform: %v", err)
	}
}

// TestRunSimulationWithAFakeBinary: benchrun passes the simulation its
// settings and reads the output it writes.
func TestRunSimulationWithAFakeBinary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script stand-in")
	}
	dir := t.TempDir()
	want := testSim()
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	canned := filepath.Join(dir, "canned.json")
	if err := os.WriteFile(canned, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(dir, "vsim.test")
	script := "#!/bin/sh\necho \"$@\" > " + filepath.Join(dir, "args") + "\necho 'vsim: a progress line' >&2\n" +
		"while [ $# -gt 0 ]; do if [ \"$1\" = -vsim.out ]; then cp " + canned + " \"$2\"; fi; shift; done\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	o := options{Vsim: fake, Log: &log, VsimArgs: vsimArgs{Latency: 20 * time.Millisecond, Creates: "10,1000", Examples: "/x", Day: 10000, Slots: 96, Slot: 15 * time.Minute}}
	got, _, err := runSimulation(context.Background(), o, filepath.Join(dir, "work"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Ceiling.Handoffs != 770 || got.Day == nil || len(got.Day.Runs) != 3 || got.Creates[1].Ratio != want.Creates[1].Ratio {
		t.Errorf("output not read back: %+v", got)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	for _, a := range []string{"-test.run ^TestSimulation$", "-vsim.creates 10,1000", "-vsim.day 10000", "-vsim.slot 15m0s", "-vsim.examples /x"} {
		if !strings.Contains(string(args), a) {
			t.Errorf("simulation run without %q: %s", a, args)
		}
	}
	if !strings.Contains(log.String(), "benchrun: vsim: a progress line") {
		t.Errorf("progress not passed on: %q", log.String())
	}

	// A simulation that fails fails the run with its output.
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'vsim: day: boom' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runSimulation(context.Background(), o, filepath.Join(dir, "work2")); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failing simulation: %v", err)
	}
}

// TestScriptedRun runs the real-time measurement, small, on the given
// binary; without one it is skipped (go test ./... builds no binary).
func TestScriptedRun(t *testing.T) {
	bin := *binFlag
	if bin == "" {
		bin = os.Getenv("HANDOFF_BENCH_BIN")
	}
	if bin == "" {
		t.Skip("needs the built binary: -args -bin PATH or HANDOFF_BENCH_BIN")
	}
	var stderr bytes.Buffer
	o, err := parseFlags([]string{"-bin", bin, "-n", "3", "-latency", "0,5ms", "-limited-n", "", "-plan-runs", "2",
		"-validate", "20", "-terraform", "off"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	o.TmpDir = t.TempDir()
	o.Log = &stderr
	rep, err := measureAll(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 || len(rep.Plans) != 1 {
		t.Fatalf("%d rows, %d plan comparisons, want 2 and 1", len(rep.Rows), len(rep.Plans))
	}
	for _, r := range rep.Rows {
		if r.Apply.Requests < 3 || r.Plan.Requests == 0 || r.Apply.Wall <= 0 || r.Plan.Wall <= 0 || r.Limits != vsim.LimitsOff {
			t.Errorf("row %+v", r)
		}
		if runtime.GOOS == "linux" && (r.Apply.MaxRSS == 0 || r.Plan.MaxRSS == 0 || r.Apply.CPU == 0) {
			t.Errorf("no peak RSS or CPU: %+v", r)
		}
	}
	if rep.Validation.N != 20 || rep.Validation.Wall <= 0 {
		t.Errorf("validation %+v", rep.Validation)
	}
}

// TestChildThroughTheSpawner: a child's exit status, output, CPU and
// peak RSS come back through the spawner, and its peak RSS is its own, not
// that of this (large) process.
func TestChildThroughTheSpawner(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ru_maxrss as Linux reports it")
	}
	ballast := make([]byte, 96<<20)
	// One byte a page makes every page resident; a write to each byte
	// took seconds under -race.
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	r, err := runChild(context.Background(), t.TempDir(), []string{"PATH=/usr/bin:/bin"}, "/bin/sh", "-c", "echo out; echo err >&2; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != 3 || r.Stdout != "out\n" || r.Stderr != "err\n" || r.Wall <= 0 {
		t.Errorf("child %+v", r)
	}
	if r.MaxRSS <= 0 || r.MaxRSS >= 64<<20 {
		t.Errorf("a shell's peak RSS is %s: the parent's %d MiB leaked into it", fmtRSS(r.MaxRSS), len(ballast)>>20)
	}
	runtime.KeepAlive(ballast)

	if _, err := runChild(context.Background(), "", nil, "/nonexistent/handoff"); err == nil || !strings.Contains(err.Error(), "/nonexistent/handoff") {
		t.Errorf("a child that cannot start: %v", err)
	}
	_, err = runChildFor(context.Background(), 50*time.Millisecond, "", []string{"PATH=/usr/bin:/bin"}, "/bin/sh", "-c", "sleep 30")
	if err == nil || !strings.Contains(err.Error(), "killed after") {
		t.Errorf("a hung child: %v", err)
	}
}

// TestDayNotesOnce: the same failure of other handoffs, and the same words
// of apply at other times, are shown once with the slots they came from.
func TestDayNotesOnce(t *testing.T) {
	runs := []vsim.DayRun{
		{Slot: 4, Errors: []string{"bench-00033-20260621: write the manifest of bench-00033-20260621: context canceled",
			"bench-00034-20260621: write the manifest of bench-00034-20260621: context canceled"},
			Note: "lock: apply: lost the lock (lease until 2000-01-01T06:51:44Z)"},
		{Slot: 9, Errors: []string{"bench-00077-20260621: write the manifest of bench-00077-20260621: context canceled"},
			Note: "lock: apply: lost the lock (lease until 2000-01-01T08:06:44Z)"},
	}
	var b bytes.Buffer
	renderDayNotes(&b, runs)
	want := "A failure in slots 4, 9: `bench-00033-20260621: write the manifest of bench-00033-20260621: context canceled`.\n\n" +
		"Apply's own words in slots 4, 9: `lock: apply: lost the lock (lease until 2000-01-01T06:51:44Z)`.\n\n"
	if b.String() != want {
		t.Errorf("notes:\n%s\nwant:\n%s", b.String(), want)
	}
}
