package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	_ "github.com/raxx-app/handoff/internal/surfaces" // installs the spec language and the surfaces
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
)

// The scripted run needs the built binary; it runs only when given one:
//
//	go test ./tools/benchrun -args -bin "$PWD/bin/handoff"
//	HANDOFF_BENCH_BIN=$PWD/bin/handoff go test ./tools/benchrun
var binFlag = flag.String("bin", "", "built handoff binary for TestScriptedRun (or $HANDOFF_BENCH_BIN)")

// TestGeneratedRepoIsValid loads and checks a generated repository the
// way handoff validate does, in process and with nothing remote.
func TestGeneratedRepoIsValid(t *testing.T) {
	dir := t.TempDir()
	const n = 25
	if err := writeRepo(dir, n); err != nil {
		t.Fatal(err)
	}
	repo, diags := spec.LoadDir(dir)
	diags = append(diags, policy.Check(repo)...)
	if len(diags) > 0 {
		t.Fatalf("diagnostics on the generated repository: %v", diags)
	}
	if len(repo.Handoffs) != n {
		t.Fatalf("%d handoffs, want %d", len(repo.Handoffs), n)
	}
	for _, h := range repo.Handoffs {
		if ghsurface.Of(h) == nil || infsurface.Of(h) == nil {
			t.Fatalf("%s: want github and infisical blocks, so that apply mints tokens and identities", h.Slug.Value)
		}
	}
	if repo.Config == nil {
		t.Fatal("no handoff.hcl config")
	}
}

func TestTofuConfig(t *testing.T) {
	src := tofuConfig(3)
	if got := strings.Count(src, `resource "terraform_data"`); got != 3 {
		t.Errorf("%d resources, want 3:\n%s", got, src)
	}
	if !strings.Contains(src, `"r00002"`) {
		t.Errorf("resource names not unique:\n%s", src)
	}
}

func testReport() report {
	return report{
		Machine:     machine{OS: "linux", Arch: "amd64", Cores: 2, CPU: "Test CPU", GoVersion: "go1.26.8", Date: "2026-06-21", Handoff: "handoff v1.0.0", Load: "0.15"},
		Parallelism: 16,
		Rows: []row{
			{N: 10, Latency: 0,
				Apply: measure{Wall: 55 * time.Millisecond, Requests: 150, MaxRSS: 26 << 20, Routes: map[string]int64{"POST /api/v1/identities": 10}},
				Plan:  measure{Wall: 25 * time.Millisecond, Requests: 4, MaxRSS: 23 << 20, Routes: map[string]int64{"GET /app/installations": 1, "GET /api/v4/secrets": 3}}},
			{N: 1000, Latency: 20 * time.Millisecond,
				Apply: measure{Wall: 19800 * time.Millisecond, Requests: 14010, MaxRSS: 125 << 20, Routes: map[string]int64{"POST /api/v1/identities": 1000}},
				Plan:  measure{Wall: 590 * time.Millisecond, Requests: 4, MaxRSS: 125 << 20, Routes: map[string]int64{"GET /app/installations": 1, "GET /api/v4/secrets": 3}},
				Tofu:  1475 * time.Millisecond},
		},
		Validation:  validation{N: 10000, Runs: 3, Wall: 1750 * time.Millisecond, MaxRSS: 149 << 20},
		TofuSkipped: tofuHow,
		GoBench:     "goos: linux\nBenchmarkX-2 \t 1\t 5 ns/op\nok  \tpkg\t1.0s\n",
	}
}

func TestRenderTable(t *testing.T) {
	var b bytes.Buffer
	renderTable(&b, testReport().Rows)
	want := `| N | latency | create-apply wall | requests | peak RSS | no-change plan wall | requests | peak RSS | tofu plan wall | ratio (tofu ÷ handoff) |
|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|
| 10 | 0 | 55 ms | 150 | 26 MiB | 25 ms | 4 | 23 MiB | — | — |
| 1000 | 20 ms | 19.8 s | 14010 | 125 MiB | 590 ms | 4 | 125 MiB | 1.48 s | 2.5× |
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
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

func TestRender(t *testing.T) {
	var b bytes.Buffer
	render(&b, testReport())
	doc := b.String()
	for _, want := range []string{
		"# Benchmarks\n",
		"linux/amd64, 2 cores (Test CPU), go1.26.8, 2026-06-21; binary `handoff v1.0.0`; load average 0.15 before the run",
		"| 1000 | 20 ms | 19.8 s | 14010 |",
		"skipped (the tofu columns show —): `tofu` is not on PATH",
		"`handoff validate DIR` of 10000 specs: 1.75 s wall (median of 3 runs), 149 MiB peak RSS",
		"about 14 requests per handoff",
		"14010 requests × 20 ms ÷ 16 = 17.5 s of waiting, 19.8 s measured",
		"the same 4 requests at every N",
		"<details><summary>raw output</summary>",
		"BenchmarkX-2",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %q:\n%s", want, doc)
		}
	}
	if strings.Count(doc, "```") != 2 {
		t.Errorf("unbalanced code fences:\n%s", doc)
	}

	rep := testReport()
	rep.Rows[1].Plan.Requests = 7
	b.Reset()
	render(&b, rep)
	if !strings.Contains(b.String(), "between 4 and 7 requests") {
		t.Errorf("a plan whose requests vary with N is not said to be bounded:\n%s", b.String())
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{fmtWall(0), "—"},
		{fmtWall(1499 * time.Microsecond), "1 ms"},
		{fmtWall(2346 * time.Millisecond), "2.35 s"},
		{fmtWall(65 * time.Second), "65.0 s"},
		{fmtRSS(0), "—"},
		{fmtRSS(97 << 20), "97 MiB"},
		{fmtLatency(0), "0"},
		{fmtLatency(20 * time.Millisecond), "20 ms"},
		{ratio(0, time.Second), "—"},
		{ratio(3*time.Second, time.Second), "3.0×"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
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
	o, err := parseFlags([]string{"-bin", bin, "-n", "3, 30", "-latency", "0,5ms"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Ns) != 2 || o.Ns[1] != 30 || len(o.Latencies) != 2 || o.Latencies[1] != 5*time.Millisecond || o.ValidateN != 10000 {
		t.Errorf("options = %+v", o)
	}
	for _, bad := range [][]string{{"-bin", bin, "-n", "0"}, {"-bin", bin, "-latency", "fast"}, {"-bin", bin, "extra"}} {
		if _, err := parseFlags(bad, &stderr); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFindTofu(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if p, skipped := findTofu("auto"); p != "" || !strings.Contains(skipped, "not on PATH") {
		t.Errorf("auto with no tofu: %q, %q", p, skipped)
	}
	if p, skipped := findTofu("off"); p != "" || skipped == "" {
		t.Errorf("off: %q, %q", p, skipped)
	}
}

// TestTofuPlanWithAFakeTofu runs the comparison's steps with a stand-in
// for tofu that records its arguments.
func TestTofuPlanWithAFakeTofu(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script stand-in")
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, "tofu")
	script := "#!/bin/sh\necho \"$1\" >> calls\n[ -f main.tf ] || exit 3\nexit 0\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	d, err := tofuPlan(context.Background(), fake, work, 4)
	if err != nil {
		t.Fatal(err)
	}
	if d <= 0 {
		t.Errorf("plan wall %v", d)
	}
	calls, _ := os.ReadFile(filepath.Join(work, "calls"))
	if string(calls) != "init\napply\nplan\n" {
		t.Errorf("tofu called with %q, want init, apply, plan", calls)
	}

	// A failing tofu fails the run with its output.
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho boom >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := tofuPlan(context.Background(), fake, filepath.Join(dir, "work2"), 1); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failing tofu: %v", err)
	}
}

// TestScriptedRun runs the whole scripted measurement, small, on the given
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
	o, err := parseFlags([]string{"-bin", bin, "-n", "3", "-latency", "0,5ms", "-validate", "20", "-tofu", "off"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	o.TmpDir = t.TempDir()
	o.Log = &stderr
	rep, err := measureAll(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rep.Rows))
	}
	for _, r := range rep.Rows {
		if r.Apply.Requests < 3 || r.Plan.Requests == 0 || r.Apply.Wall <= 0 || r.Plan.Wall <= 0 {
			t.Errorf("row %+v", r)
		}
		if runtime.GOOS == "linux" && (r.Apply.MaxRSS == 0 || r.Plan.MaxRSS == 0) {
			t.Errorf("no peak RSS: %+v", r)
		}
	}
	if rep.Validation.N != 20 || rep.Validation.Wall <= 0 {
		t.Errorf("validation %+v", rep.Validation)
	}
}
