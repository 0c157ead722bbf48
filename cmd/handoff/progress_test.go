package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// fakeRun is a plan of n changed handoffs of steps steps each, a clock the
// test moves, and request counters it sets.
type fakeRun struct {
	p      *plan.Plan
	now    time.Time
	counts pace.Counts
	mu     sync.Mutex
}

func newFakeRun(n, steps int) *fakeRun {
	r := &fakeRun{p: &plan.Plan{}, now: time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC), counts: pace.Counts{Requests: 7}}
	for i := range n {
		op := &plan.Operation{Kind: plan.OpCreate}
		for s := range steps {
			op.Steps = append(op.Steps, fmt.Sprintf("step %d", s))
		}
		r.p.Handoffs = append(r.p.Handoffs, plan.Handoff{Slug: fmt.Sprintf("task-%02d", i), Action: plan.Create, Operation: op})
	}
	return r
}

func (r *fakeRun) clock() time.Time        { r.mu.Lock(); defer r.mu.Unlock(); return r.now }
func (r *fakeRun) advance(d time.Duration) { r.mu.Lock(); r.now = r.now.Add(d); r.mu.Unlock() }
func (r *fakeRun) total() pace.Counts      { r.mu.Lock(); defer r.mu.Unlock(); return r.counts }
func (r *fakeRun) sent(n int64, waits int64) {
	r.mu.Lock()
	r.counts.Requests += n
	r.counts.Waits += waits
	r.mu.Unlock()
}
func (r *fakeRun) progress(tty bool) (*progress, *bytes.Buffer) {
	var out bytes.Buffer
	return newProgress(&out, tty, r.p, r.total, r.clock), &out
}

// screen is what a terminal shows at the end: every redraw of the line
// replaced by the next.
func screen(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if j := strings.LastIndex(l, "\r\x1b[K"); j >= 0 {
			lines[i] = l[:strings.Index(l, "\r\x1b[K")] + l[j+len("\r\x1b[K"):]
		}
	}
	return strings.Join(lines, "\n")
}

// TestProgressOnATerminal (issue 12, item 22): one line, redrawn below
// apply's own step lines (kept as they are), says handoffs done of the
// total, steps, requests, a wait for a vendor's limit, elapsed and left;
// it ends as one summary line.
func TestProgressOnATerminal(t *testing.T) {
	r := newFakeRun(3, 2)
	g, out := r.progress(true)
	g.redraw()
	fmt.Fprintf(g, "step 1/2: create identity (task-00)\n")
	r.advance(10 * time.Second)
	r.sent(5, 1)
	g.waiting(pace.Wait{Vendor: "Infisical", Class: "secret writes", Limit: "40/min", Delay: 38 * time.Second})
	got := screen(out.String())
	for _, want := range []string{
		"step 1/2: create identity (task-00)\n",
		"applying: 0/3 handoffs, 1/6 steps, 5 requests, 1 wait for rate limits (0 s in all), waiting 38 s for Infisical's limit on secret writes, 40/min; 10 s elapsed, about 50 s left",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the terminal lacks %q:\n%q", want, got)
		}
	}
	fmt.Fprintf(g, "step 2/2: write INFISICAL_CLIENT_SECRET (task-00)\n")
	g.handoffDone(apply.HandoffReport{Slug: "task-00"})
	g.handoffDone(apply.HandoffReport{Slug: "task-01", Err: fmt.Errorf("boom")})
	r.advance(50 * time.Second)
	g.tick()
	if got := screen(out.String()); !strings.Contains(got, "applying: 2/3 handoffs (1 failed), 2/6 steps") || strings.Contains(got[strings.LastIndex(got, "\n"):], "waiting") {
		t.Errorf("after the wait:\n%q", got)
	}
	g.stop()
	got = screen(out.String())
	if !strings.HasSuffix(got, "applied: 2/3 handoffs (1 failed), 2/6 steps, 5 requests, 1 wait for rate limits (0 s in all); 1 min\n") {
		t.Errorf("the last line:\n%q", got)
	}
	// Step lines are whole lines, never mixed with the progress line.
	for _, l := range strings.Split(got, "\n") {
		if strings.Contains(l, "step ") && strings.Contains(l, "applying") {
			t.Errorf("a step line mixed with the progress line: %q", l)
		}
	}
}

// TestProgressHidesStepsOfLongRunsOnATerminal: from progressLineThreshold
// handoffs, the line alone.
func TestProgressHidesStepsOfLongRunsOnATerminal(t *testing.T) {
	r := newFakeRun(progressLineThreshold, 1)
	g, out := r.progress(true)
	fmt.Fprintf(g, "step 1/1: create identity (task-00)\nlock: released\n")
	g.stop()
	if got := out.String(); strings.Contains(got, "step 1/1") || !strings.Contains(got, "lock: released") || !strings.Contains(got, "1/20 steps") {
		t.Errorf("output:\n%q", got)
	}
}

// TestProgressInCILogs: no terminal: the step lines as they are; a summary
// line every summaryEvery, at once for a wait that long, and a last one;
// none for a short run.
func TestProgressInCILogs(t *testing.T) {
	short := newFakeRun(2, 1)
	g, out := short.progress(false)
	fmt.Fprintf(g, "step 1/1: a (task-00)\nstep 1/1: b (task-01)\n")
	short.advance(5 * time.Second)
	g.tick()
	g.stop()
	if got := out.String(); got != "step 1/1: a (task-00)\nstep 1/1: b (task-01)\n" {
		t.Errorf("a short run's output is not its steps alone:\n%q", got)
	}

	r := newFakeRun(16, 14)
	g, out = r.progress(false)
	fmt.Fprintf(g, "step 1/14: create identity (task-00)\n")
	r.advance(29 * time.Second)
	g.tick()
	if strings.Contains(out.String(), "applying") {
		t.Fatalf("a summary before the interval:\n%s", out.String())
	}
	r.advance(time.Second)
	r.sent(40, 0)
	g.tick()
	want := "applying: 0/16 handoffs, 1/224 steps, 40 requests; 30 s elapsed, about 1 h 51 min left\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("the summary after 30 s:\n%q\nwant %q", out.String(), want)
	}
	if strings.Contains(out.String(), "\r") || strings.Contains(out.String(), "\x1b") {
		t.Errorf("terminal sequences in CI logs:\n%q", out.String())
	}
	n := strings.Count(out.String(), "applying:")
	g.waiting(pace.Wait{Vendor: "Infisical", Class: "identity creations", Limit: "30/min", Delay: time.Minute})
	if strings.Count(out.String(), "applying:") != n+1 || !strings.Contains(out.String(), "waiting 1 min for Infisical's limit on identity creations, 30/min") {
		t.Errorf("a long wait is not said at once:\n%s", out.String())
	}
	g.stop()
	if !strings.Contains(out.String(), "\napplied: 0/16 handoffs, 1/224 steps, 40 requests; 30 s\n") {
		t.Errorf("no last summary:\n%s", out.String())
	}
}

// TestProgressKeepsLinesWhole: 16 handoffs writing steps at once, with
// redraws between: every line apply wrote comes out whole.
func TestProgressKeepsLinesWhole(t *testing.T) {
	r := newFakeRun(16, 14)
	g, out := r.progress(true)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := 1; s <= 14; s++ {
				fmt.Fprintf(g, "step %d/14: write SECRET_%d (task-%02d)\n", s, s, i)
				g.tick()
			}
			g.handoffDone(apply.HandoffReport{Slug: fmt.Sprintf("task-%02d", i)})
		}()
	}
	wg.Wait()
	g.stop()
	lines := strings.Split(screen(out.String()), "\n")
	steps := 0
	for _, l := range lines {
		switch {
		case l == "" || strings.HasPrefix(l, "applied: "):
		case regexp.MustCompile(`^step \d+/14: write SECRET_\d+ \(task-\d\d\)$`).MatchString(l):
			steps++
		default:
			t.Errorf("a broken line: %q", l)
		}
	}
	if steps != 16*14 {
		t.Errorf("%d step lines, want %d", steps, 16*14)
	}
	if !strings.Contains(out.String(), "applied: 16/16 handoffs, 224/224 steps") {
		t.Errorf("last line: %q", out.String()[strings.LastIndex(strings.TrimSuffix(out.String(), "\n"), "\n"):])
	}
}
