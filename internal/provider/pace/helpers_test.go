package pace

import (
	"context"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// fakeServer enforces a limit of max requests per window per route, as the
// vendors do, on the test's clock, and answers 429 beyond it. It records
// every arrival.
type fakeServer struct {
	clock  Clock
	max    int
	window time.Duration
	kind   Kind
	// headers: send x-ratelimit-* on every answer (reset in seconds), and
	// Retry-After on a 429.
	headers bool
	// cost of a request (nil: 1)
	cost func(method string) int

	mu       sync.Mutex
	windows  map[string]*fixedWin
	arrivals map[string][]arrival
	refused  int
}

type fixedWin struct {
	end  time.Time
	used int
}

type arrival struct {
	at   time.Time
	cost int
}

func newFakeServer(clock Clock, max int, window time.Duration, kind Kind) *fakeServer {
	return &fakeServer{clock: clock, max: max, window: window, kind: kind, windows: map[string]*fixedWin{}, arrivals: map[string][]arrival{}}
}

func (s *fakeServer) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	route := req.Method + " " + req.URL.Path
	cost := 1
	if s.cost != nil {
		cost = s.cost(req.Method)
	}
	h := http.Header{}
	ok, remaining, reset := true, 0, time.Duration(0)
	switch s.kind {
	case Fixed:
		w := s.windows[route]
		if w == nil || !now.Before(w.end) {
			w = &fixedWin{end: now.Add(s.window)}
			s.windows[route] = w
		}
		ok = w.used+cost <= s.max
		if ok {
			w.used += cost
		}
		remaining, reset = s.max-w.used, w.end.Sub(now)
	case Rolling:
		sum := 0
		for _, a := range s.arrivals[route] {
			if a.at.After(now.Add(-s.window)) {
				sum += a.cost
			}
		}
		ok = sum+cost <= s.max
		remaining, reset = s.max-sum, s.window
	}
	if s.headers {
		h.Set("X-RateLimit-Limit", strconv.Itoa(s.max))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
		h.Set("X-RateLimit-Reset", strconv.Itoa(int((reset+time.Second-1)/time.Second)))
	}
	if !ok {
		s.refused++
		if s.headers {
			h.Set("Retry-After", h.Get("X-RateLimit-Reset"))
		}
		return answer(req, http.StatusTooManyRequests, h), nil
	}
	s.arrivals[route] = append(s.arrivals[route], arrival{now, cost})
	return answer(req, http.StatusOK, h), nil
}

func answer(req *http.Request, status int, h http.Header) *http.Response {
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(`{}`)), Request: req}
}

// maxInWindow is the most points that arrived on route within any span of
// window.
func (s *fakeServer) maxInWindow(route string, window time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	as := append([]arrival(nil), s.arrivals[route]...)
	sort.Slice(as, func(i, j int) bool { return as[i].at.Before(as[j].at) })
	best := 0
	for i := range as {
		sum := 0
		for j := i; j < len(as) && as[j].at.Before(as[i].at.Add(window)); j++ {
			sum += as[j].cost
		}
		best = max(best, sum)
	}
	return best
}

func (s *fakeServer) count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrivals[route])
}

// send acquires, sends through rt and repeats refusals, as httpx does.
func send(t testing.TB, p *Pacer, rt http.RoundTripper, ctx context.Context, method, url string) (refusals int, err error) {
	t.Helper()
	for range 20 {
		req, rerr := http.NewRequestWithContext(ctx, method, url, nil)
		if rerr != nil {
			t.Fatal(rerr)
		}
		tk, err := p.Acquire(ctx, req)
		if err != nil {
			return refusals, err
		}
		resp, err := rt.RoundTrip(req)
		v := tk.Done(resp, err)
		if err != nil {
			return refusals, err
		}
		resp.Body.Close()
		if !v.Limited {
			return refusals, nil
		}
		refusals++
		if !v.Paused {
			_ = p.clock.Sleep(ctx, time.Second)
		}
	}
	t.Fatalf("%s %s: refused 20 times", method, url)
	return refusals, nil
}

// stepClock moves only when every worker sleeps: then to the earliest wake.
// No worker can be late for its reserved time, so a concurrent run is as
// exact as a sequential one, whatever the scheduling.
type stepClock struct {
	mu       sync.Mutex
	cond     *sync.Cond
	now      time.Time
	active   int
	sleeping []*sleeper
}

type sleeper struct {
	wake time.Time
	done chan struct{}
}

func newStepClock(start time.Time, workers int) *stepClock {
	c := &stepClock{now: start, active: workers}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	return c.SleepUntil(ctx, c.Now().Add(d))
}

func (c *stepClock) SleepUntil(_ context.Context, t time.Time) error {
	c.mu.Lock()
	if !t.After(c.now) {
		c.mu.Unlock()
		return nil
	}
	s := &sleeper{wake: t, done: make(chan struct{})}
	c.sleeping = append(c.sleeping, s)
	c.cond.Broadcast()
	c.mu.Unlock()
	<-s.done
	return nil
}

// finished tells the clock a worker is done.
func (c *stepClock) finished() {
	c.mu.Lock()
	c.active--
	c.cond.Broadcast()
	c.mu.Unlock()
}

// drive advances time whenever all workers sleep, until all are done.
func (c *stepClock) drive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for c.active > 0 && len(c.sleeping) < c.active {
			c.cond.Wait()
		}
		if c.active == 0 {
			return
		}
		wake := c.sleeping[0].wake
		for _, s := range c.sleeping[1:] {
			if s.wake.Before(wake) {
				wake = s.wake
			}
		}
		c.now = wake
		kept := c.sleeping[:0]
		for _, s := range c.sleeping {
			if s.wake.After(wake) {
				kept = append(kept, s)
			} else {
				close(s.done)
			}
		}
		c.sleeping = kept
	}
}
