package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// progressLineThreshold is the number of changed handoffs from which apply
// on a terminal shows only the progress line, not every step.
const progressLineThreshold = 20

// summaryEvery is how often a long apply that does not write to a
// terminal (CI logs) prints a summary line.
const summaryEvery = 30 * time.Second

// progress says how far a long apply is, over the step lines of package
// apply (which it passes on unchanged): handoffs done of the total, steps,
// requests sent, waits for the vendors' rate limits (from the workspace's
// pacer), time elapsed and an estimate of the time left.
//
// On a terminal it redraws one line below the steps (and, from
// progressLineThreshold changed handoffs, in place of them). Elsewhere (CI
// logs) it prints a summary line every summaryEvery and when a wait of
// that long starts, and a last one at the end when it printed any: a short
// run's output is the steps alone.
//
// Every method is safe for concurrent use: apply's workers report through
// it.
type progress struct {
	mu    sync.Mutex
	out   io.Writer
	tty   bool
	quiet bool // a terminal, and too many handoffs to show the steps
	now   func() time.Time
	// counts returns the pacer's counters for every vendor.
	counts func() pace.Counts
	base   pace.Counts
	start  time.Time
	every  time.Duration

	total, done, failed int
	steps, stepsDone    int
	wait                pace.Wait
	waitEnd             time.Time
	nextSummary         time.Time
	summaries           int
	drawn               bool
	partial             []byte
	stopTicker          chan struct{}
	tickerDone          chan struct{}
}

// newProgress reports on the changed handoffs of p. counts may be nil (no
// request counts); now is the wall clock in production.
func newProgress(out io.Writer, tty bool, p *plan.Plan, counts func() pace.Counts, now func() time.Time) *progress {
	g := &progress{out: out, tty: tty, now: now, counts: counts, every: summaryEvery}
	for _, h := range p.Handoffs {
		if !h.Action.IsChange() {
			continue
		}
		g.total++
		if h.Operation != nil {
			g.steps += len(h.Operation.Steps)
		}
	}
	g.quiet = tty && g.total >= progressLineThreshold
	if counts != nil {
		g.base = counts()
	}
	g.start = now()
	g.nextSummary = g.start.Add(g.every)
	return g
}

// startProgress wires a progress report into an apply of p: the steps go
// through it to stderr, the ends of handoffs and the waits of the
// workspace's pacer are told to it, and a ticker redraws the line (or
// checks whether a summary is due) every second. stop ends it.
func (e *env) startProgress(deps *apply.Deps, p *plan.Plan, pacer *pace.Pacer, onWait *func(pace.Wait)) *progress {
	var counts func() pace.Counts
	if pacer != nil {
		counts = func() pace.Counts { return pacer.Total("") }
	}
	g := newProgress(e.stderr, e.stderrIsTerminal(), p, counts, time.Now)
	deps.Progress = g
	deps.Done = g.handoffDone
	*onWait = g.waiting
	g.stopTicker, g.tickerDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(g.tickerDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-g.stopTicker:
				return
			case <-t.C:
				g.tick()
			}
		}
	}()
	g.mu.Lock()
	g.redraw()
	g.mu.Unlock()
	return g
}

// Write takes apply's output: whole lines, passed on (unless quiet), the
// step lines counted.
func (g *progress) Write(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.partial = append(g.partial, b...)
	for {
		i := bytes.IndexByte(g.partial, '\n')
		if i < 0 {
			break
		}
		line := string(g.partial[:i+1])
		g.partial = g.partial[i+1:]
		if strings.HasPrefix(line, "step ") {
			g.stepsDone++
		}
		if g.quiet && strings.HasPrefix(line, "step ") {
			continue
		}
		g.clear()
		io.WriteString(g.out, line)
	}
	g.redraw()
	g.summaryIfDue(false)
	return len(b), nil
}

// handoffDone counts a handoff's run that ended.
func (g *progress) handoffDone(r apply.HandoffReport) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.done++
	if r.Err != nil {
		g.failed++
	}
	g.redraw()
}

// waiting is told of a wait for a vendor's rate limit as it starts.
func (g *progress) waiting(w pace.Wait) {
	g.mu.Lock()
	defer g.mu.Unlock()
	end := g.now().Add(w.Delay)
	if end.After(g.waitEnd) {
		g.wait, g.waitEnd = w, end
	}
	g.redraw()
	// A wait as long as the interval is said at once in CI logs.
	g.summaryIfDue(w.Delay >= g.every)
}

// tick redraws the line (the clock moved) or prints a summary when due.
func (g *progress) tick() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.redraw()
	g.summaryIfDue(false)
}

// stop ends the report: the line is replaced by a last summary on a
// terminal; elsewhere a last summary follows the others, if any.
func (g *progress) stop() {
	if g.stopTicker != nil {
		close(g.stopTicker)
		<-g.tickerDone
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.partial) > 0 {
		g.clear()
		io.WriteString(g.out, string(g.partial)+"\n")
		g.partial = nil
	}
	switch {
	case g.tty && g.total > 1:
		g.clear()
		fmt.Fprintln(g.out, g.status(true))
	case !g.tty && g.summaries > 0:
		fmt.Fprintln(g.out, g.status(true))
	}
}

// clear erases the progress line, if drawn.
func (g *progress) clear() {
	if g.drawn {
		io.WriteString(g.out, "\r\033[K")
		g.drawn = false
	}
}

// redraw writes the progress line again on a terminal (for more than one
// handoff).
func (g *progress) redraw() {
	if !g.tty || g.total < 2 {
		return
	}
	io.WriteString(g.out, "\r\033[K"+g.status(false))
	g.drawn = true
}

// summaryIfDue prints the summary line in CI logs when the interval has
// passed, or now.
func (g *progress) summaryIfDue(now bool) {
	if g.tty {
		return
	}
	t := g.now()
	if !now && t.Before(g.nextSummary) {
		return
	}
	g.nextSummary = t.Add(g.every)
	g.summaries++
	fmt.Fprintln(g.out, g.status(false))
}

// status is the progress in one line: "applying: 5/16 handoffs (1
// failed), 61/224 steps, 340 requests, waiting 38 s for Infisical's limit
// on secret writes, 40/min; 2 min 10 s elapsed, about 4 min left". final
// says the run is over.
func (g *progress) status(final bool) string {
	now := g.now()
	elapsed := now.Sub(g.start)
	var b strings.Builder
	if final {
		b.WriteString("applied: ")
	} else {
		b.WriteString("applying: ")
	}
	fmt.Fprintf(&b, "%d/%d handoffs", g.done, g.total)
	if g.failed > 0 {
		fmt.Fprintf(&b, " (%d failed)", g.failed)
	}
	if g.steps > 0 {
		fmt.Fprintf(&b, ", %d/%d steps", min(g.stepsDone, g.steps), g.steps)
	}
	if g.counts != nil {
		c := g.counts()
		fmt.Fprintf(&b, ", %s", plural(int(c.Requests-g.base.Requests), "request"))
		if waits := c.Waits - g.base.Waits; waits > 0 {
			fmt.Fprintf(&b, ", %s for rate limits (%s in all)", plural(int(waits), "wait"), pace.Words(c.Waited-g.base.Waited))
		}
	}
	if !final && now.Before(g.waitEnd) {
		w := g.wait
		w.Delay = g.waitEnd.Sub(now)
		b.WriteString(", " + w.String())
	}
	b.WriteString("; " + pace.Words(elapsed))
	if final {
		return b.String()
	}
	b.WriteString(" elapsed")
	if left, ok := g.left(elapsed); ok {
		b.WriteString(", about " + pace.Words(left) + " left")
	}
	return b.String()
}

// left estimates the time left from the pace of the steps so far (of the
// handoffs when the plan lists no steps).
func (g *progress) left(elapsed time.Duration) (time.Duration, bool) {
	done, total := g.stepsDone, g.steps
	if total == 0 {
		done, total = g.done, g.total
	}
	if done == 0 || done >= total || elapsed < time.Second {
		return 0, false
	}
	return time.Duration(float64(elapsed) / float64(done) * float64(total-done)), true
}
