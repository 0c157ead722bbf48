// Command benchrun is the scripted part of `make bench`. It measures what
// issue 13 asks and writes docs/benchmarks.md:
//
//  1. the simulation in virtual time (package vsim, whose test binary it
//     runs as a child, -vsim): creates of N handoffs at the vendors'
//     default limits against their lower bound, the requests of a handoff
//     of each surface, the ceiling of live handoffs a 15-minute schedule
//     can keep refreshed, and a simulated day of scheduled applies;
//  2. the built binary (-bin) as child processes against the dev servers,
//     started in this process, in real time: the create-apply and the
//     no-change plan of N handoffs at several latencies, each row with the
//     limits profile it ran under;
//  3. the no-change plan against `terraform plan` (or OpenTofu's) over N
//     applied terraform_data resources, in the same run: CPU time, wall
//     time and peak memory of both;
//  4. `handoff validate` on a large repository;
//
// and shows the go test -bench output it is given (-gobench).
//
// It builds nothing: make bench builds bin/handoff and the simulation's
// test binary first.
//
//	go run ./tools/benchrun -bin bin/handoff -vsim bin/vsim.test -gobench FILE -out docs/benchmarks.md
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/devserver"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/tools/benchrun/vsim"
)

// options are the command-line settings of a run.
type options struct {
	Bin       string
	Out       string
	GoBench   string
	BenchArgs string
	// GoBenchStatus is go test -bench's exit status (not 0: a benchmark
	// failed).
	GoBenchStatus int
	Ns            []int
	Latencies     []time.Duration
	// LimitedNs are the sizes run in real time at the vendors' default
	// limits too (at the largest latency): a check of the simulation.
	LimitedNs []int
	// PlanRuns is how many times each no-change plan (and terraform's) is
	// run at latency 0: the medians are shown.
	PlanRuns  int
	ValidateN int
	// Terraform: "auto" (terraform on PATH, else tofu), "off", or a path.
	Terraform string
	// Vsim is the simulation's test binary; empty skips the simulation.
	Vsim     string
	VsimArgs vsimArgs
	// VsimJSON is a simulation's output to show instead of running one.
	VsimJSON string
	// Note is a line shown at the top of the report (a partial run).
	Note string
	Load string // load average before make bench started, if known
	// Started is when make bench started (Unix seconds), to say how long
	// it took; zero when unknown.
	Started int64
	TmpDir  string
	Log     io.Writer
}

// vsimArgs are the simulation's settings.
type vsimArgs struct {
	Latency  time.Duration
	Creates  string
	Examples string
	Day      int
	DayMax   int
	Slots    int
	Slot     time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchrun: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	o.Log = stderr
	rep, err := measureAll(ctx, o)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	render(&buf, rep)
	if o.Out == "" || o.Out == "-" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.Out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "benchrun: wrote %s\n", o.Out)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var ns, lats, limited string
	fs.StringVar(&o.Bin, "bin", "", "path of the built handoff `binary` (required)")
	fs.StringVar(&o.Out, "out", "", "write the Markdown report to `FILE` (default stdout)")
	fs.StringVar(&o.GoBench, "gobench", "", "`FILE` holding the output of go test -bench, shown in the report")
	fs.StringVar(&o.BenchArgs, "gobench-flags", "", "extra go test `flags` the -gobench output was made with, shown in the report")
	fs.IntVar(&o.GoBenchStatus, "gobench-status", 0, "exit `status` of the go test -bench run, shown in the report when not 0")
	fs.StringVar(&ns, "n", "10,100,1000", "comma-separated numbers of handoffs of the real-time runs")
	fs.StringVar(&lats, "latency", "0,20ms", "comma-separated latencies added to every request by the dev servers")
	fs.StringVar(&limited, "limited-n", "10", "comma-separated numbers of handoffs run in real time at the vendors' default limits too (empty: none)")
	fs.IntVar(&o.PlanRuns, "plan-runs", 3, "runs of each no-change plan and terraform plan at latency 0 (medians shown)")
	fs.IntVar(&o.ValidateN, "validate", 10000, "number of specs for the validate run (0 skips it)")
	fs.StringVar(&o.Terraform, "terraform", "auto", "comparison: auto (terraform on PATH, else tofu), off, or the `path` of terraform or tofu")
	fs.StringVar(&o.Vsim, "vsim", "", "the simulation's test `binary` (go test -c ./tools/benchrun/vsim); empty skips it")
	fs.StringVar(&o.VsimJSON, "vsim-json", "", "show the simulation output in `FILE` (written by -vsim.out) instead of running it")
	fs.StringVar(&o.Note, "note", "", "a `line` shown at the top of the report, such as why a run is partial")
	fs.DurationVar(&o.VsimArgs.Latency, "vsim-latency", 20*time.Millisecond, "latency of the simulation's requests")
	fs.StringVar(&o.VsimArgs.Creates, "vsim-creates", "10,1000", "sizes of the simulation's create-applies at the default limits")
	fs.StringVar(&o.VsimArgs.Examples, "vsim-examples", "internal/apply/testdata/repo", "`DIR` of handoff.hcl and specs/ with one spec per surface")
	fs.IntVar(&o.VsimArgs.Day, "vsim-day", 10000, "live handoffs the simulated day aims at (0 skips the day)")
	fs.IntVar(&o.VsimArgs.DayMax, "vsim-daymax", 0, "cap on the simulated day's handoffs (0: none)")
	fs.IntVar(&o.VsimArgs.Slots, "vsim-slots", 96, "scheduled applies in the simulated day")
	fs.DurationVar(&o.VsimArgs.Slot, "vsim-slot", 15*time.Minute, "interval between the simulated day's applies")
	fs.StringVar(&o.Load, "load", "", "1-minute load average before the benchmarks started, shown in the report (default: now)")
	fs.Int64Var(&o.Started, "started", 0, "Unix `seconds` at which make bench started, to report its duration")
	fs.StringVar(&o.TmpDir, "tmp", "", "parent `directory` of the generated repositories (default the system's)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.Bin == "" {
		return o, errors.New("-bin is required (make bench builds bin/handoff)")
	}
	var err error
	if o.Bin, err = existingFile("-bin", o.Bin); err != nil {
		return o, err
	}
	if o.Vsim != "" {
		if o.Vsim, err = existingFile("-vsim", o.Vsim); err != nil {
			return o, err
		}
		if o.VsimArgs.Examples != "" {
			if o.VsimArgs.Examples, err = filepath.Abs(o.VsimArgs.Examples); err != nil {
				return o, err
			}
		}
	}
	if o.Ns, err = parseInts(ns); err != nil {
		return o, fmt.Errorf("-n: %w", err)
	}
	if strings.TrimSpace(limited) != "" {
		if o.LimitedNs, err = parseInts(limited); err != nil {
			return o, fmt.Errorf("-limited-n: %w", err)
		}
	}
	if o.Latencies, err = parseDurations(lats); err != nil {
		return o, fmt.Errorf("-latency: %w", err)
	}
	if o.PlanRuns < 1 {
		return o, errors.New("-plan-runs: want 1 or more")
	}
	return o, nil
}

func existingFile(flagName, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if st, err := os.Stat(abs); err != nil || st.IsDir() {
		return "", fmt.Errorf("%s %s: not a file (make bench builds it)", flagName, path)
	}
	return abs, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseDurations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "0" {
			out = append(out, 0)
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%q is not a duration", f)
		}
		out = append(out, d)
	}
	return out, nil
}

// measureAll runs every measurement and gathers the report.
func measureAll(ctx context.Context, o options) (report, error) {
	began := time.Now()
	rep := report{Parallelism: apply.DefaultParallelism, GoBenchFlags: o.BenchArgs, GoBenchStatus: o.GoBenchStatus, PlanRuns: o.PlanRuns}
	if o.GoBench != "" {
		raw, err := os.ReadFile(o.GoBench)
		if err != nil {
			return rep, err
		}
		rep.GoBench = benchLines(string(raw))
		rep.Machine.CPU = benchCPU(string(raw))
	}
	rep.Machine = machineInfo(ctx, o.Bin, rep.Machine.CPU, o.Load)

	tmp, err := os.MkdirTemp(o.TmpDir, "handoff-bench-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(tmp)

	rep.Note = o.Note
	switch {
	case o.VsimJSON != "":
		sim, err := readSimulation(o.VsimJSON)
		if err != nil {
			return rep, fmt.Errorf("-vsim-json: %w", err)
		}
		rep.Sim, rep.SimChild = &sim, measure{Wall: sim.RealWall, CPU: sim.CPU}
		rep.SimFromFile = filepath.Base(o.VsimJSON)
	case o.Vsim != "":
		sim, child, err := runSimulation(ctx, o, filepath.Join(tmp, "vsim"))
		if err != nil {
			return rep, err
		}
		rep.Sim, rep.SimChild = &sim, child
	default:
		rep.SimSkipped = "no -vsim binary was given (make bench builds it with go test -c ./tools/benchrun/vsim)."
	}

	iac := findTerraform(o.Terraform)
	if iac.Path != "" {
		iac.Version = iacVersion(ctx, iac.Path)
	}
	rep.IaC = iac
	for _, n := range o.Ns {
		var cmp *planCompare
		for _, lat := range o.Latencies {
			runs := 1
			if lat == 0 {
				runs = o.PlanRuns
			}
			r, err := measureRow(ctx, o, filepath.Join(tmp, fmt.Sprintf("n%d-lat%s", n, lat)), n, lat, true, runs)
			if err != nil {
				return rep, err
			}
			rep.Rows = append(rep.Rows, r)
			logRow(o.Log, r)
			if lat == 0 && cmp == nil {
				cmp = &planCompare{N: n, Handoff: r.Plan}
			}
		}
		if cmp != nil && iac.Path != "" {
			m, err := iacPlan(ctx, iac, filepath.Join(tmp, fmt.Sprintf("%s-%d", iac.Name, n)), n, o.PlanRuns)
			if err != nil {
				return rep, err
			}
			cmp.Tool = m
			fmt.Fprintf(o.Log, "benchrun: N=%d: %s plan %s CPU, %s wall, %s\n", n, iac.Name, fmtWall(m.CPU), fmtWall(m.Wall), fmtRSS(m.MaxRSS))
		}
		if cmp != nil {
			rep.Plans = append(rep.Plans, *cmp)
		}
	}
	if len(o.LimitedNs) > 0 && len(o.Latencies) > 0 {
		lat := slices.Max(o.Latencies)
		for _, n := range o.LimitedNs {
			r, err := measureRow(ctx, o, filepath.Join(tmp, fmt.Sprintf("limited-n%d", n)), n, lat, false, 1)
			if err != nil {
				return rep, err
			}
			rep.Rows = append(rep.Rows, r)
			logRow(o.Log, r)
		}
	}
	if o.ValidateN > 0 {
		v, err := measureValidate(ctx, o.Bin, filepath.Join(tmp, "validate"), o.ValidateN, 3)
		if err != nil {
			return rep, err
		}
		rep.Validation = v
		if v.Refused != "" {
			fmt.Fprintf(o.Log, "benchrun: validate %d specs: refused: %s\n", v.N, v.Refused)
		} else {
			fmt.Fprintf(o.Log, "benchrun: validate %d specs: %s, %s\n", v.N, fmtWall(v.Wall), fmtRSS(v.MaxRSS))
		}
	}
	rep.Took = time.Since(began)
	if o.Started > 0 {
		rep.Elapsed = time.Since(time.Unix(o.Started, 0))
	}
	rep.LoadAfter = loadAverage()
	return rep, nil
}

func logRow(w io.Writer, r row) {
	fmt.Fprintf(w, "benchrun: N=%d latency=%s limits %s: apply %s (%d requests, %s CPU, %s), plan %s (%d requests, %s CPU, %s)\n",
		r.N, r.Latency, r.Limits, fmtWall(r.Apply.Wall), r.Apply.Requests, fmtWall(r.Apply.CPU), fmtRSS(r.Apply.MaxRSS),
		fmtWall(r.Plan.Wall), r.Plan.Requests, fmtWall(r.Plan.CPU), fmtRSS(r.Plan.MaxRSS))
}

// simTimeout bounds the simulation's child process.
const simTimeout = 45 * time.Minute

// runSimulation runs the simulation's test binary and reads its output.
func runSimulation(ctx context.Context, o options, dir string) (vsim.Output, measure, error) {
	var out vsim.Output
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return out, measure{}, err
	}
	file := filepath.Join(dir, "vsim.json")
	a := o.VsimArgs
	args := []string{"-test.run", "^TestSimulation$", "-test.timeout", "0", "-test.count", "1",
		"-vsim.out", file, "-vsim.latency", a.Latency.String(), "-vsim.creates", a.Creates,
		"-vsim.examples", a.Examples, "-vsim.day", strconv.Itoa(a.Day), "-vsim.daymax", strconv.Itoa(a.DayMax),
		"-vsim.slots", strconv.Itoa(a.Slots), "-vsim.slot", a.Slot.String()}
	fmt.Fprintf(o.Log, "benchrun: simulation: %s %s\n", filepath.Base(o.Vsim), strings.Join(args, " "))
	env := append(baseEnv(), "TMPDIR="+dir)
	res, err := runChildFor(ctx, simTimeout, dir, env, o.Vsim, args...)
	m := measure{Wall: res.Wall, CPU: res.CPU, MaxRSS: res.MaxRSS}
	if err != nil {
		return out, m, err
	}
	if res.Code != 0 {
		return out, m, failure("the simulation ("+filepath.Base(o.Vsim)+")", res, "want exit 0")
	}
	for _, line := range strings.Split(strings.TrimSpace(res.Stderr), "\n") {
		if strings.HasPrefix(line, "vsim: ") {
			fmt.Fprintf(o.Log, "benchrun: %s\n", line)
		}
	}
	if out, err = readSimulation(file); err != nil {
		return out, m, fmt.Errorf("the simulation's output: %w", err)
	}
	return out, m, nil
}

// readSimulation reads a simulation's output (its -vsim.out file).
func readSimulation(file string) (vsim.Output, error) {
	var out vsim.Output
	b, err := os.ReadFile(file)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

func machineInfo(ctx context.Context, bin, cpu, load string) machine {
	m := machine{Load: load, OS: runtime.GOOS, Arch: runtime.GOARCH, Cores: runtime.NumCPU(), CPU: cpu,
		GoVersion: runtime.Version(), Date: time.Now().UTC().Format("2006-01-02")}
	if m.CPU == "" {
		m.CPU = cpuModel()
	}
	if m.Load == "" {
		m.Load = loadAverage()
	}
	if r, err := runChild(ctx, "", baseEnv(), bin, "--version"); err == nil && r.Code == 0 {
		m.Handoff = strings.TrimSpace(strings.SplitN(r.Stdout, "\n", 2)[0])
	}
	return m
}

// loadAverage is the 1-minute load average of /proc/loadavg (Linux), or
// empty.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

// cpuModel is the model name of /proc/cpuinfo (Linux), or empty.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// devWorld is a fresh set of dev servers and the environment that points
// a handoff child process at them.
type devWorld struct {
	s      *devserver.Servers
	env    []string
	limits string
}

// startDev starts the dev servers with lat added to every request, with
// their rate limits off (noLimits) or at the vendors' defaults.
func startDev(dir string, lat time.Duration, noLimits bool) (*devWorld, error) {
	kit := devkit.NewKit()
	s, err := devserver.Start(devserver.Options{Kit: kit})
	if err != nil {
		return nil, err
	}
	if noLimits {
		// The tool, not the vendors' limits, is measured: the row says so.
		s.NoRateLimits()
	}
	keyFile := filepath.Join(dir, "app.pem")
	if err := s.WriteKeyFile(keyFile); err != nil {
		s.Close()
		return nil, err
	}
	env := baseEnv()
	for k, v := range s.Env(keyFile) {
		env = append(env, k+"="+v)
	}
	env = append(env, "NO_COLOR=1")
	kit.Faults.SetLatency(lat, 0)
	limits := s.LimitsSummary()
	return &devWorld{s: s, env: env, limits: limits}, nil
}

// command runs handoff with args against the dev servers, counting the
// requests they receive meanwhile.
func (w *devWorld) command(ctx context.Context, bin, dir string, args ...string) (result, measure, error) {
	w.s.Kit.Stats.Reset()
	r, err := runChild(ctx, dir, w.env, bin, append([]string{"-no-color"}, args...)...)
	m := measure{Wall: r.Wall, CPU: r.CPU, Requests: w.s.Kit.Stats.Total(), MaxRSS: r.MaxRSS, Routes: w.s.Kit.Stats.Snapshot()}
	return r, m, err
}

// measureRow runs the create-apply and the no-change plan (planRuns times:
// the median CPU time is kept) of n handoffs with lat added to every
// request, the servers' limits off or at the vendors' defaults.
func measureRow(ctx context.Context, o options, root string, n int, lat time.Duration, noLimits bool, planRuns int) (row, error) {
	r := row{N: n, Latency: lat}
	repo := filepath.Join(root, "gitops")
	if err := vsim.WriteRepo(repo, n); err != nil {
		return r, err
	}
	w, err := startDev(root, lat, noLimits)
	if err != nil {
		return r, fmt.Errorf("dev servers: %w", err)
	}
	defer w.s.Close()
	r.Limits = w.limits
	what := fmt.Sprintf("N=%d latency=%s limits %s", n, lat, w.limits)

	res, m, err := w.command(ctx, o.Bin, repo, "apply", "-auto-approve", repo)
	if err != nil {
		return r, err
	}
	if want := fmt.Sprintf("Apply complete: %d created", n); res.Code != 0 || !strings.Contains(res.Stdout, want) {
		return r, failure(what+": handoff apply -auto-approve", res, "want exit 0 and "+strconv.Quote(want))
	}
	if got := len(w.s.GitHub.LiveTokens()); got != n {
		return r, failure(what+": handoff apply -auto-approve", res, fmt.Sprintf("%d live GitHub tokens on the dev server, want %d", got, n))
	}
	r.Apply = m

	var plans []measure
	for range planRuns {
		res, m, err = w.command(ctx, o.Bin, repo, "plan", repo)
		if err != nil {
			return r, err
		}
		if res.Code != 0 || !strings.Contains(res.Stdout, "No changes.") {
			return r, failure(what+": handoff plan", res, `want exit 0 and "No changes."`)
		}
		plans = append(plans, m)
	}
	r.Plan = median(plans)
	r.PlanRuns = planRuns
	return r, nil
}

// median is the run of median CPU time among ms, with the highest peak
// RSS of them all.
func median(ms []measure) measure {
	s := slices.Clone(ms)
	slices.SortFunc(s, func(a, b measure) int { return cmp.Compare(a.CPU, b.CPU) })
	m := s[len(s)/2]
	for _, x := range s {
		m.MaxRSS = max(m.MaxRSS, x.MaxRSS)
	}
	return m
}

// measureValidate runs handoff validate runs times on a repository of n
// specs: the median wall time and the highest peak RSS.
func measureValidate(ctx context.Context, bin, dir string, n, runs int) (validation, error) {
	v := validation{N: n, Runs: runs}
	if err := vsim.WriteRepo(dir, n); err != nil {
		return v, err
	}
	want := fmt.Sprintf("%d handoffs valid", n)
	var walls []time.Duration
	for range runs {
		res, err := runChild(ctx, dir, append(baseEnv(), "NO_COLOR=1"), bin, "-no-color", "validate", dir)
		if err != nil {
			return v, err
		}
		if res.Code == 1 && strings.Contains(res.Stderr, "error:") {
			// The tool refuses the repository (one of its bounds): that
			// is a figure too.
			v.Refused = strings.ReplaceAll(refusal(res.Stderr), dir+string(filepath.Separator), "")
			v.Wall, v.MaxRSS = res.Wall, res.MaxRSS
			return v, nil
		}
		if res.Code != 0 || !strings.Contains(res.Stderr, want) {
			return v, failure(fmt.Sprintf("handoff validate (%d specs)", n), res, "want exit 0 and "+strconv.Quote(want))
		}
		walls = append(walls, res.Wall)
		v.MaxRSS = max(v.MaxRSS, res.MaxRSS)
	}
	slices.Sort(walls)
	v.Wall = walls[len(walls)/2]
	return v, nil
}

// refusal is the first error of a handoff command's diagnostics on
// stderr, with the line that explains it, without the temporary paths.
func refusal(stderr string) string {
	lines := strings.Split(stderr, "\n")
	for i, l := range lines {
		if _, msg, ok := strings.Cut(l, "error: "); ok {
			out := msg
			if i+1 < len(lines) {
				out += ": " + strings.TrimSpace(lines[i+1])
			}
			return out
		}
	}
	return strings.TrimSpace(stderr)
}

// iac is the infrastructure tool handoff's plan is compared with.
type iac struct {
	// Name is "terraform" or "tofu"; Path its binary; Version the first
	// line of its version.
	Name, Path, Version string
	// Skipped says why no comparison was made.
	Skipped string
}

const iacHow = "neither `terraform` nor `tofu` is on PATH. Install terraform " +
	"(https://developer.hashicorp.com/terraform/install) or OpenTofu (https://opentofu.org/docs/intro/install/), " +
	"each a single static binary, put it on PATH and run `make bench` again."

// findTerraform resolves the -terraform setting: terraform on PATH when
// there is one (preferred), else tofu, else the reason there is none.
func findTerraform(setting string) iac {
	switch setting {
	case "off":
		return iac{Skipped: "turned off with -terraform off."}
	case "", "auto":
		for _, name := range []string{"terraform", "tofu"} {
			if p, err := exec.LookPath(name); err == nil {
				return iac{Name: name, Path: p}
			}
		}
		return iac{Skipped: iacHow}
	default:
		name := "terraform"
		if strings.Contains(filepath.Base(setting), "tofu") {
			name = "tofu"
		}
		return iac{Name: name, Path: setting}
	}
}

// iacVersion is the first line of `terraform version` (or tofu's).
func iacVersion(ctx context.Context, path string) string {
	r, err := runChild(ctx, "", iacEnv(""), path, "version")
	if err != nil || r.Code != 0 {
		return ""
	}
	return strings.TrimSpace(strings.SplitN(r.Stdout, "\n", 2)[0])
}

// iacEnv is the environment of terraform and tofu: no checkpoint calls, no
// user configuration (cliConfig is an empty file, or empty for none).
func iacEnv(cliConfig string) []string {
	env := append(baseEnv(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	if cliConfig != "" {
		env = append(env, "TF_CLI_CONFIG_FILE="+cliConfig)
	}
	return env
}

// iacPlan writes n terraform_data resources under dir, runs init and
// apply, then the no-op plan runs times, and returns the plan of median
// CPU time (with the highest peak RSS).
func iacPlan(ctx context.Context, tool iac, dir string, n, runs int) (measure, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return measure{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(vsim.TerraformConfig(n)), 0o644); err != nil {
		return measure{}, err
	}
	cliConfig := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(cliConfig, nil, 0o644); err != nil {
		return measure{}, err
	}
	env := iacEnv(cliConfig)
	steps := [][]string{
		{"init", "-input=false", "-no-color"},
		{"apply", "-auto-approve", "-input=false", "-no-color"},
	}
	for range runs {
		steps = append(steps, []string{"plan", "-input=false", "-no-color", "-detailed-exitcode"})
	}
	var plans []measure
	for _, args := range steps {
		res, err := runChild(ctx, dir, env, tool.Path, args...)
		if err != nil {
			return measure{}, err
		}
		if res.Code != 0 {
			return measure{}, failure(fmt.Sprintf("N=%d: %s %s", n, tool.Name, args[0]), res, "want exit 0 (plan: no changes)")
		}
		if args[0] == "plan" {
			plans = append(plans, measure{Wall: res.Wall, CPU: res.CPU, MaxRSS: res.MaxRSS})
		}
	}
	return median(plans), nil
}
