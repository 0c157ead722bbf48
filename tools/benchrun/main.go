// Command benchrun is the scripted part of `make bench`: it runs the built
// handoff binary as child processes against the dev servers (started in
// this process) for N handoffs at several injected latencies, measures each
// command's wall time, the requests the servers received and the child's
// peak RSS, times `handoff validate` on a large repository, compares the
// no-change plan with OpenTofu's no-op plan when tofu is on PATH, and
// writes docs/benchmarks.md (with the go test -bench output it is given).
//
// It builds nothing: -bin is the binary to measure (make bench builds
// bin/handoff first).
//
//	go run ./tools/benchrun -bin bin/handoff -gobench FILE -out docs/benchmarks.md
package main

import (
	"bytes"
	"context"
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
	"github.com/raxx-app/handoff/internal/devserver/infisicalsrv"
)

// options are the command-line settings of a run.
type options struct {
	Bin       string
	Out       string
	GoBench   string
	BenchArgs string
	Ns        []int
	Latencies []time.Duration
	ValidateN int
	Tofu      string // "auto" (tofu on PATH), "off", or a path
	Load      string // load average before make bench started, if known
	TmpDir    string
	Log       io.Writer
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
	var ns, lats string
	fs.StringVar(&o.Bin, "bin", "", "path of the built handoff `binary` (required)")
	fs.StringVar(&o.Out, "out", "", "write the Markdown report to `FILE` (default stdout)")
	fs.StringVar(&o.GoBench, "gobench", "", "`FILE` holding the output of go test -bench, shown in the report")
	fs.StringVar(&o.BenchArgs, "gobench-flags", "", "extra go test `flags` the -gobench output was made with, shown in the report")
	fs.StringVar(&ns, "n", "10,100,1000", "comma-separated numbers of handoffs")
	fs.StringVar(&lats, "latency", "0,20ms", "comma-separated latencies added to every request by the dev servers")
	fs.IntVar(&o.ValidateN, "validate", 10000, "number of specs for the validate run (0 skips it)")
	fs.StringVar(&o.Tofu, "tofu", "auto", "OpenTofu comparison: auto (tofu on PATH), off, or the `path` of tofu")
	fs.StringVar(&o.Load, "load", "", "1-minute load average before the benchmarks started, shown in the report (default: now)")
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
	abs, err := filepath.Abs(o.Bin)
	if err != nil {
		return o, err
	}
	if st, err := os.Stat(abs); err != nil || st.IsDir() {
		return o, fmt.Errorf("-bin %s: not a file (run make build)", o.Bin)
	}
	o.Bin = abs
	if o.Ns, err = parseInts(ns); err != nil {
		return o, fmt.Errorf("-n: %w", err)
	}
	if o.Latencies, err = parseDurations(lats); err != nil {
		return o, fmt.Errorf("-latency: %w", err)
	}
	return o, nil
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
	rep := report{Parallelism: apply.DefaultParallelism, GoBenchFlags: o.BenchArgs}
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

	tofu, skipped := findTofu(o.Tofu)
	rep.TofuSkipped = skipped
	tofuWall := map[int]time.Duration{}
	for _, n := range o.Ns {
		if tofu != "" {
			d, err := tofuPlan(ctx, tofu, filepath.Join(tmp, fmt.Sprintf("tofu-%d", n)), n)
			if err != nil {
				return rep, err
			}
			tofuWall[n] = d
			fmt.Fprintf(o.Log, "benchrun: N=%d: tofu plan %s\n", n, fmtWall(d))
		}
		for _, lat := range o.Latencies {
			r, err := measureRow(ctx, o, filepath.Join(tmp, fmt.Sprintf("n%d-lat%s", n, lat)), n, lat)
			if err != nil {
				return rep, err
			}
			r.Tofu = tofuWall[n]
			rep.Rows = append(rep.Rows, r)
			fmt.Fprintf(o.Log, "benchrun: N=%d latency=%s: apply %s (%d requests, %s), plan %s (%d requests, %s)\n",
				n, lat, fmtWall(r.Apply.Wall), r.Apply.Requests, fmtRSS(r.Apply.MaxRSS),
				fmtWall(r.Plan.Wall), r.Plan.Requests, fmtRSS(r.Plan.MaxRSS))
		}
	}
	if o.ValidateN > 0 {
		v, err := measureValidate(ctx, o.Bin, filepath.Join(tmp, "validate"), o.ValidateN, 3)
		if err != nil {
			return rep, err
		}
		rep.Validation = v
		fmt.Fprintf(o.Log, "benchrun: validate %d specs: %s, %s\n", v.N, fmtWall(v.Wall), fmtRSS(v.MaxRSS))
	}
	return rep, nil
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

// devWorld is a fresh pair of dev servers and the environment that points a
// handoff child process at them.
type devWorld struct {
	s   *devserver.Servers
	env []string
}

func startDev(dir string, lat time.Duration) (*devWorld, error) {
	kit := devkit.NewKit()
	s, err := devserver.Start(devserver.Options{Kit: kit})
	if err != nil {
		return nil, err
	}
	// The dev rate limit is a fault to test against, not what is measured:
	// no limiter, as on a self-hosted Infisical.
	if err := s.Infisical.SetRateLimits(infisicalsrv.RateLimits{Profile: infisicalsrv.ProfileSelfHosted}); err != nil {
		s.Close()
		return nil, err
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
	return &devWorld{s: s, env: env}, nil
}

// command runs handoff with args against the dev servers, counting the
// requests they receive meanwhile.
func (w *devWorld) command(ctx context.Context, bin, dir string, args ...string) (result, measure, error) {
	w.s.Kit.Stats.Reset()
	r, err := runChild(ctx, dir, w.env, bin, append([]string{"-no-color"}, args...)...)
	m := measure{Wall: r.Wall, Requests: w.s.Kit.Stats.Total(), MaxRSS: r.MaxRSS, Routes: w.s.Kit.Stats.Snapshot()}
	return r, m, err
}

// measureRow runs the create-apply and the no-change plan of n handoffs
// with lat added to every request.
func measureRow(ctx context.Context, o options, root string, n int, lat time.Duration) (row, error) {
	r := row{N: n, Latency: lat}
	repo := filepath.Join(root, "gitops")
	if err := writeRepo(repo, n); err != nil {
		return r, err
	}
	w, err := startDev(root, lat)
	if err != nil {
		return r, fmt.Errorf("dev servers: %w", err)
	}
	defer w.s.Close()
	what := fmt.Sprintf("N=%d latency=%s", n, lat)

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

	res, m, err = w.command(ctx, o.Bin, repo, "plan", repo)
	if err != nil {
		return r, err
	}
	if res.Code != 0 || !strings.Contains(res.Stdout, "No changes.") {
		return r, failure(what+": handoff plan", res, `want exit 0 and "No changes."`)
	}
	r.Plan = m
	return r, nil
}

// measureValidate runs handoff validate runs times on a repository of n
// specs: the median wall time and the highest peak RSS.
func measureValidate(ctx context.Context, bin, dir string, n, runs int) (validation, error) {
	v := validation{N: n, Runs: runs}
	if err := writeRepo(dir, n); err != nil {
		return v, err
	}
	want := fmt.Sprintf("%d handoffs valid", n)
	var walls []time.Duration
	for range runs {
		res, err := runChild(ctx, dir, append(baseEnv(), "NO_COLOR=1"), bin, "-no-color", "validate", dir)
		if err != nil {
			return v, err
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

const tofuHow = "`tofu` is not on PATH. Install OpenTofu (https://opentofu.org/docs/intro/install/, " +
	"a single static binary), put `tofu` on PATH and run `make bench` again."

// findTofu resolves the -tofu setting to a path, or says why the
// comparison is skipped.
func findTofu(setting string) (path, skipped string) {
	switch setting {
	case "off":
		return "", "turned off with -tofu off."
	case "", "auto":
		p, err := exec.LookPath("tofu")
		if err != nil {
			return "", tofuHow
		}
		return p, ""
	default:
		return setting, ""
	}
}

// tofuPlan writes n terraform_data resources under dir, runs tofu init and
// tofu apply, and returns the wall time of the no-op tofu plan after them.
func tofuPlan(ctx context.Context, tofu, dir string, n int) (time.Duration, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(tofuConfig(n)), 0o644); err != nil {
		return 0, err
	}
	env := append(baseEnv(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	steps := [][]string{
		{"init", "-input=false", "-no-color"},
		{"apply", "-auto-approve", "-input=false", "-no-color"},
		{"plan", "-input=false", "-no-color", "-detailed-exitcode"},
	}
	var res result
	for _, args := range steps {
		var err error
		res, err = runChild(ctx, dir, env, tofu, args...)
		if err != nil {
			return 0, err
		}
		if res.Code != 0 {
			return 0, failure(fmt.Sprintf("N=%d: tofu %s", n, args[0]), res, "want exit 0 (plan: no changes)")
		}
	}
	return res.Wall, nil
}
