package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// machine describes where the figures were measured.
type machine struct {
	OS, Arch  string
	Cores     int
	CPU       string // from the go test header or /proc/cpuinfo; may be empty
	GoVersion string
	Date      string // UTC, YYYY-MM-DD
	Handoff   string // `handoff --version` of the measured binary
	// Load is the 1-minute load average before the run (Linux), or empty:
	// other work on the machine shows in the wall times.
	Load string
}

// measure is one child process run of handoff against the dev servers.
type measure struct {
	Wall     time.Duration
	Requests int64
	MaxRSS   int64            // bytes, 0 if unknown
	Routes   map[string]int64 // requests per route
}

// row is one line of the table: N handoffs at one injected latency.
type row struct {
	N       int
	Latency time.Duration
	Apply   measure
	Plan    measure
	// Tofu is the wall time of `tofu plan` on N terraform_data resources;
	// zero when tofu was not run.
	Tofu time.Duration
}

// validation is `handoff validate` on a repository of N specs.
type validation struct {
	N      int
	Runs   int
	Wall   time.Duration // median of Runs
	MaxRSS int64         // highest of Runs
}

// report is everything docs/benchmarks.md shows.
type report struct {
	Machine     machine
	Parallelism int
	Rows        []row
	Validation  validation
	// TofuSkipped, when set, is why the OpenTofu comparison was not run.
	TofuSkipped string
	// GoBench is the raw output of go test -bench, or empty.
	GoBench      string
	GoBenchFlags string
}

const dash = "—"

func fmtWall(d time.Duration) string {
	switch {
	case d <= 0:
		return dash
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}

func fmtRSS(b int64) string {
	if b <= 0 {
		return dash
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func fmtLatency(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

// ratio is how many times longer tofu's no-op plan took than handoff's
// no-change plan.
func ratio(tofu, handoff time.Duration) string {
	if tofu <= 0 || handoff <= 0 {
		return dash
	}
	return fmt.Sprintf("%.1f×", tofu.Seconds()/handoff.Seconds())
}

// renderTable writes the table of the scripted runs.
func renderTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| N | latency | create-apply wall | requests | peak RSS | no-change plan wall | requests | peak RSS | tofu plan wall | ratio (tofu ÷ handoff) |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %d | %s | %s | %d | %s | %s | %d | %s | %s | %s |\n",
			r.N, fmtLatency(r.Latency),
			fmtWall(r.Apply.Wall), r.Apply.Requests, fmtRSS(r.Apply.MaxRSS),
			fmtWall(r.Plan.Wall), r.Plan.Requests, fmtRSS(r.Plan.MaxRSS),
			fmtWall(r.Tofu), ratio(r.Tofu, r.Plan.Wall))
	}
}

// renderRoutes writes the requests per route of the create-apply at the
// largest N and of the no-change plan at every N, each at the first latency
// measured for that N.
func renderRoutes(w io.Writer, rows []row) {
	var first []row
	seen := map[int]bool{}
	for _, r := range rows {
		if !seen[r.N] {
			seen[r.N] = true
			first = append(first, r)
		}
	}
	if len(first) == 0 {
		return
	}
	largest := first[0]
	for _, r := range first {
		if r.N > largest.N {
			largest = r
		}
	}
	routes := map[string]bool{}
	for k := range largest.Apply.Routes {
		routes[k] = true
	}
	for _, r := range first {
		for k := range r.Plan.Routes {
			routes[k] = true
		}
	}
	if len(routes) == 0 {
		return
	}
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Fprintf(w, "| route | create-apply N=%d |", largest.N)
	for _, r := range first {
		fmt.Fprintf(w, " no-change plan N=%d |", r.N)
	}
	fmt.Fprint(w, "\n|---|--:|")
	for range first {
		fmt.Fprint(w, "--:|")
	}
	fmt.Fprintln(w)
	for _, k := range keys {
		fmt.Fprintf(w, "| `%s` | %d |", k, largest.Apply.Routes[k])
		for _, r := range first {
			fmt.Fprintf(w, " %d |", r.Plan.Routes[k])
		}
		fmt.Fprintln(w)
	}
}

// explain says in a few sentences what the figures mean, from the figures
// themselves: requests per handoff of the create-apply, whether the
// no-change plan's requests depend on N.
func explain(rep report) string {
	if len(rep.Rows) == 0 {
		return ""
	}
	var b strings.Builder
	big := rep.Rows[0]
	minPlan, maxPlan := big.Plan.Requests, big.Plan.Requests
	var slow row // the largest N at the highest latency
	for _, r := range rep.Rows {
		if r.N > big.N {
			big = r
		}
		if r.N > slow.N || (r.N == slow.N && r.Latency > slow.Latency) {
			slow = r
		}
		minPlan = min(minPlan, r.Plan.Requests)
		maxPlan = max(maxPlan, r.Plan.Requests)
	}
	perHandoff := float64(big.Apply.Requests) / float64(big.N)
	fmt.Fprintf(&b, "The create-apply costs about %.0f requests per handoff (an installation token; an Infisical identity with ", perHandoff)
	fmt.Fprintf(&b, "its universal auth, client secret, project membership and privilege; the vault folder with its secrets, ")
	fmt.Fprintf(&b, "manifest and journal), with %d handoffs applied at a time, so its requests grow linearly with N", rep.Parallelism)
	if slow.Latency > 0 && rep.Parallelism > 0 {
		floor := time.Duration(float64(slow.Apply.Requests) * float64(slow.Latency) / float64(rep.Parallelism))
		fmt.Fprintf(&b, " and, with latency, so does its wall time: at N=%d and %s, %d requests × %s ÷ %d = %s of waiting, %s measured",
			slow.N, fmtLatency(slow.Latency), slow.Apply.Requests, fmtLatency(slow.Latency), rep.Parallelism, fmtWall(floor), fmtWall(slow.Apply.Wall))
	}
	b.WriteString(".\n")
	if minPlan == maxPlan {
		fmt.Fprintf(&b, "The no-change plan makes the same %d requests at every N", minPlan)
	} else {
		fmt.Fprintf(&b, "The no-change plan makes between %d and %d requests, whatever N", minPlan, maxPlan)
	}
	b.WriteString(": the state is read in a bounded number of requests (one ")
	b.WriteString("recursive listing of the handoff root in the vault, folders, secrets and manifests at once; the ")
	b.WriteString("identities; the App installations; plus the provisioner's login), so latency adds a few round trips, ")
	b.WriteString("not N of them, and what grows with N is local work (decoding manifests, parsing specs, diffing) in CPU ")
	b.WriteString("time and peak RSS.\n")
	b.WriteString("Validation touches nothing remote: it is CPU-bound parsing and policy checks.")
	return b.String()
}

// render writes docs/benchmarks.md.
func render(w io.Writer, rep report) {
	m := rep.Machine
	fmt.Fprintln(w, "# Benchmarks")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "<!-- Generated by `make bench` (scripts/bench.sh, tools/benchrun). Do not edit: run it again. -->")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Measured on %s/%s, %d cores", m.OS, m.Arch, m.Cores)
	if m.CPU != "" {
		fmt.Fprintf(w, " (%s)", m.CPU)
	}
	fmt.Fprintf(w, ", %s, %s", m.GoVersion, m.Date)
	if m.Handoff != "" {
		fmt.Fprintf(w, "; binary `%s`", m.Handoff)
	}
	if m.Load != "" {
		fmt.Fprintf(w, "; load average %s before the run (other work on the machine shows in the wall times)", m.Load)
	}
	fmt.Fprintln(w, ".")
	fmt.Fprintln(w)

	fmt.Fprintln(w, "## The CLI on the dev servers")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each row starts fresh local GitHub and Infisical servers (`internal/devserver`, in the benchmark's")
	fmt.Fprintln(w, "process, on the same cores, dev rate limit off) that add the given latency to every request, writes N")
	fmt.Fprintln(w, "valid specs (GitHub token, own Infisical identity, App Store keys, MCP lists, like")
	fmt.Fprintln(w, "`specs/iap-notif-handler-20260621.hcl`) and runs the built binary as a child process:")
	fmt.Fprintln(w, "`handoff apply -auto-approve DIR` (creates everything), then `handoff plan DIR` (no change). Wall time")
	fmt.Fprintln(w, "is from process start to exit; requests are those the dev servers received during the command; peak")
	fmt.Fprintln(w, "RSS is the child's `ru_maxrss`. Each figure is one run.")
	fmt.Fprintln(w)
	renderTable(w, rep.Rows)
	fmt.Fprintln(w)
	if rep.TofuSkipped != "" {
		fmt.Fprintf(w, "The OpenTofu comparison was skipped (the tofu columns show —): %s\n", rep.TofuSkipped)
	} else {
		fmt.Fprintln(w, "tofu: `tofu plan` (no-op, after `tofu init` and `tofu apply -auto-approve`) of N `terraform_data`")
		fmt.Fprintln(w, "resources in a local state, with no remote API; it does not depend on the injected latency and is")
		fmt.Fprintln(w, "measured once per N. The ratio is tofu's wall time over handoff's no-change plan.")
	}
	fmt.Fprintln(w)
	v := rep.Validation
	if v.N > 0 {
		fmt.Fprintf(w, "Validation: `handoff validate DIR` of %d specs: %s wall (median of %d runs), %s peak RSS; nothing remote.\n",
			v.N, fmtWall(v.Wall), v.Runs, fmtRSS(v.MaxRSS))
		fmt.Fprintln(w)
	}
	if text := explain(rep); text != "" {
		fmt.Fprintln(w, text)
		fmt.Fprintln(w)
	}
	if len(rep.Rows) > 0 {
		fmt.Fprintln(w, "Requests per route (at the first latency of each N):")
		fmt.Fprintln(w)
		renderRoutes(w, rep.Rows)
		fmt.Fprintln(w)
	}
	if rep.GoBench != "" {
		fmt.Fprintln(w, "## Go benchmarks")
		fmt.Fprintln(w)
		fmt.Fprintf(w, "`go test -run '^$' -bench . -benchmem -count 1%s ./...`:\n", rep.GoBenchFlags)
		fmt.Fprintln(w)
		fmt.Fprintln(w, "<details><summary>raw output</summary>")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "```")
		fmt.Fprintln(w, strings.TrimRight(rep.GoBench, "\n"))
		fmt.Fprintln(w, "```")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "</details>")
	}
}

// benchLines keeps the lines of go test -bench output worth showing: the
// headers, the results and the ok line of each package that has
// benchmarks, not the PASS/ok lines of the packages without any.
func benchLines(raw string) string {
	var b strings.Builder
	benched := false
	for _, line := range strings.Split(raw, "\n") {
		switch {
		case strings.HasPrefix(line, "Benchmark"):
			benched = true
			b.WriteString(line + "\n")
		case strings.HasPrefix(line, "ok "), strings.HasPrefix(line, "ok\t"):
			if benched {
				b.WriteString(line + "\n")
			}
			benched = false
		case strings.HasPrefix(line, "goos:"), strings.HasPrefix(line, "goarch:"),
			strings.HasPrefix(line, "pkg:"), strings.HasPrefix(line, "cpu:"),
			strings.HasPrefix(line, "FAIL"), strings.HasPrefix(line, "--- "):
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// benchCPU is the cpu: line of go test -bench output, if any.
func benchCPU(raw string) string {
	for _, line := range strings.Split(raw, "\n") {
		if cpu, ok := strings.CutPrefix(line, "cpu: "); ok {
			return strings.TrimSpace(cpu)
		}
	}
	return ""
}
