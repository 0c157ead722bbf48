package pace

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const base = "https://vendor.test"

// perRoute is a model of one class whose routes each allow max per window.
func perRoute(max int, window time.Duration, kind Kind) Model {
	return Model{
		Vendor:  "Infisical",
		Default: "secretsLimit",
		Routes:  NewRoutes([]Route{{Method: "POST", Path: "/api/v4/secrets/batch", Class: "secretsLimit", Words: "secret writes"}}),
		Classes: map[string][]Limit{"secretsLimit": {{Max: max, Window: window, Kind: kind, Scope: PerRoute, Headers: true}}},
	}
}

// TestNeverOverTheLimit sends more requests than a window allows, one after
// the other, on a virtual clock: the server never refuses one, and every
// window holds at most the limit.
func TestNeverOverTheLimit(t *testing.T) {
	cases := []struct {
		name    string
		kind    Kind
		max     int
		window  time.Duration
		cost    func(string) int
		method  string
		n       int
		headers bool
		// wantSpan is when the last request goes out.
		wantSpan time.Duration
	}{
		{"fixed 40/min", Fixed, 40, time.Minute, nil, "POST", 100, false, 2 * (time.Minute + time.Second)},
		{"fixed 40/min with headers", Fixed, 40, time.Minute, nil, "POST", 100, true, 2 * (time.Minute + time.Second)},
		{"rolling 900 points/min, writes 5", Rolling, 900, time.Minute, writes5, "POST", 400, false, 2 * (time.Minute + time.Second)},
		{"rolling reads 1 point", Rolling, 900, time.Minute, writes5, "GET", 1000, false, time.Minute + time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewVirtualClock(t0)
			srv := newFakeServer(clock, tc.max, tc.window, tc.kind)
			srv.cost, srv.headers = tc.cost, tc.headers
			m := perRoute(tc.max, tc.window, tc.kind)
			m.Classes["secretsLimit"][0].Cost = tc.cost
			p := New(Config{Clock: clock})
			if err := p.Register(base, m); err != nil {
				t.Fatal(err)
			}
			for range tc.n {
				if n, err := send(t, p, srv, context.Background(), tc.method, base+"/api/v4/secrets/batch"); err != nil || n > 0 {
					t.Fatalf("refused %d times, err %v", n, err)
				}
			}
			route := tc.method + " /api/v4/secrets/batch"
			if got := srv.maxInWindow(route, tc.window); got > tc.max {
				t.Errorf("%d points in one window, limit %d", got, tc.max)
			}
			if got := clock.Now().Sub(t0); got != tc.wantSpan {
				t.Errorf("the last request went out after %s, want %s", got, tc.wantSpan)
			}
			st := p.Total("Infisical")
			if st.Requests != int64(tc.n) || st.Limited != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func writes5(method string) int {
	if method == "GET" || method == "HEAD" {
		return 1
	}
	return 5
}

// TestRefill: a bucket refilled gradually lets a burst of Max through, then
// one request per Window/Max.
func TestRefill(t *testing.T) {
	clock := NewVirtualClock(t0)
	p := New(Config{Clock: clock})
	m := Model{Vendor: "Heroku", Default: "api", Limits: []Limit{{Max: 10, Window: 10 * time.Second, Kind: Refill, Scope: PerVendor}}}
	if err := p.Register("https://api.heroku.test", m); err != nil {
		t.Fatal(err)
	}
	var at []time.Duration
	srv := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		at = append(at, clock.Now().Sub(t0))
		return answer(r, 200, http.Header{}), nil
	})
	for range 13 {
		if _, err := send(t, p, srv, context.Background(), "GET", "https://api.heroku.test/apps/x"); err != nil {
			t.Fatal(err)
		}
	}
	for i, d := range at {
		want := time.Duration(0)
		if i >= 10 {
			want = time.Duration(i-9) * time.Second
		}
		if d < want || d > want+time.Millisecond {
			t.Errorf("request %d at %s, want %s", i, d, want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAdoptsTheServersView: the server's headers are adopted when stricter
// than the model, the remaining count after the requests still in flight.
func TestAdoptsTheServersView(t *testing.T) {
	t.Run("lower limit", func(t *testing.T) {
		clock := NewVirtualClock(t0)
		srv := newFakeServer(clock, 10, time.Minute, Fixed)
		srv.headers = true
		p := New(Config{Clock: clock})
		_ = p.Register(base, perRoute(40, time.Minute, Fixed)) // the model says 40
		for range 25 {
			if n, err := send(t, p, srv, context.Background(), "POST", base+"/api/v4/secrets/batch"); err != nil || n > 0 {
				t.Fatalf("refused %d, err %v", n, err)
			}
		}
		if got := srv.maxInWindow("POST /api/v4/secrets/batch", time.Minute); got > 10 {
			t.Errorf("%d in a window, the server allows 10", got)
		}
	})
	t.Run("remaining and reset only", func(t *testing.T) {
		// A model that knows nothing (an unregistered server) still stops
		// at the server's count and resumes at its reset.
		clock := NewVirtualClock(t0)
		srv := newFakeServer(clock, 5, time.Minute, Fixed)
		srv.headers = true
		p := New(Config{Clock: clock})
		for range 12 {
			if n, err := send(t, p, srv, context.Background(), "POST", "https://unknown.test/api/v4/secrets/batch"); err != nil || n > 0 {
				t.Fatalf("refused %d, err %v", n, err)
			}
		}
	})
	t.Run("Heroku RateLimit-Remaining", func(t *testing.T) {
		clock := NewVirtualClock(t0)
		p := New(Config{Clock: clock})
		m := Model{Vendor: "Heroku", Default: "api", Headers: HeaderNames{Remaining: "RateLimit-Remaining"},
			Limits: []Limit{{Max: 4500, Window: time.Hour, Kind: Refill, Scope: PerVendor, Headers: true}}}
		_ = p.Register("https://api.heroku.test", m)
		left := 2
		var at []time.Time
		srv := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			at = append(at, clock.Now())
			h := http.Header{"Ratelimit-Remaining": {fmt.Sprint(left)}}
			left = max(left-1, 0)
			return answer(r, 200, h), nil
		})
		for range 4 {
			if _, err := send(t, p, srv, context.Background(), "GET", "https://api.heroku.test/account"); err != nil {
				t.Fatal(err)
			}
		}
		// After "0 left" the bucket refills at 4500/h: 0.8 s a request.
		if gap := at[3].Sub(at[2]); gap < 790*time.Millisecond || gap > 810*time.Millisecond {
			t.Errorf("gap after the server said 0 left: %s", gap)
		}
	})
}

// TestRefusalIsWaitedOut: a 429 that still arrives pauses what it names for
// the time it names; the repeat waits for it and says so.
func TestRefusalIsWaitedOut(t *testing.T) {
	cases := []struct {
		name      string
		header    http.Header
		status    int
		limited   func(int, http.Header, []byte) bool
		body      string
		pause     time.Duration
		wantWait  time.Duration
		wantWords string
	}{
		{"429 Retry-After", http.Header{"Retry-After": {"38"}}, 429, nil, "", 0, 38 * time.Second,
			"waiting 38 s for Infisical, as it asked"},
		{"429 with the route's count", http.Header{"Retry-After": {"38"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"38"}, "X-Ratelimit-Limit": {"40"}},
			429, nil, "", 0, 39 * time.Second, "waiting 39 s for Infisical's limit on secret writes, 40/min, as the server counts it"},
		{"GitHub secondary 403 without a wait", http.Header{}, 403, githubLimited, `{"message":"You have exceeded a secondary rate limit."}`, time.Minute, time.Minute,
			"waiting 1 min for Infisical, as it asked"},
		{"503 Retry-After", http.Header{"Retry-After": {"5"}}, 503, nil, "", 0, 5 * time.Second, "waiting 5 s for Infisical, as it asked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewVirtualClock(t0)
			var waits []Wait
			p := New(Config{Clock: clock, OnWait: func(w Wait) { waits = append(waits, w) }})
			// Rolling: the refused request's own count does not push the
			// repeat further than the pause.
			m := perRoute(40, time.Minute, Rolling)
			m.Limited, m.Pause = tc.limited, tc.pause
			_ = p.Register(base, m)
			calls := 0
			srv := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				calls++
				if calls == 1 {
					resp := answer(r, tc.status, tc.header)
					resp.Body = ioNop(tc.body)
					return resp, nil
				}
				return answer(r, 200, http.Header{}), nil
			})
			req, _ := http.NewRequest("POST", base+"/api/v4/secrets/batch", nil)
			tk, err := p.Acquire(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			resp, _ := srv.RoundTrip(req)
			v := tk.Done(resp, nil)
			if !v.Paused || (v.Limited == (tc.status == 503)) {
				t.Fatalf("verdict %+v", v)
			}
			if tc.body != "" {
				if b := readAll(resp); b != tc.body {
					t.Errorf("the body after the peek: %q", b)
				}
			}
			if _, err := send(t, p, srv, context.Background(), "POST", base+"/api/v4/secrets/batch"); err != nil {
				t.Fatal(err)
			}
			if got := clock.Now().Sub(t0); got != tc.wantWait {
				t.Errorf("repeated after %s, want %s", got, tc.wantWait)
			}
			if len(waits) != 1 || waits[0].String() != tc.wantWords {
				t.Errorf("waits %v, want %q", waits, tc.wantWords)
			}
			wantLimited := int64(1)
			if tc.status == 503 {
				wantLimited = 0
			}
			if st := p.Total(""); st.Requests != 2 || st.Waits != 1 || st.Waited != tc.wantWait || st.Limited != wantLimited {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func githubLimited(status int, h http.Header, body []byte) bool {
	return status == 429 || (status == 403 && strings.Contains(strings.ToLower(string(body)), "rate limit"))
}

// TestDeadline: a wait that would pass the deadline fails at once, naming
// the vendor, the limit and the wait; nothing is sent or reserved for it.
func TestDeadline(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*Config, *VirtualClock)
		ctx  func() (context.Context, context.CancelFunc)
		// late, when set, gives the pacer its deadline after the first
		// requests went out (apply -deadline learns it after login), and
		// lift takes it away again.
		late, lift func(*Pacer)
	}{
		{"context deadline", func(*Config, *VirtualClock) {}, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Second)
		}, nil, nil},
		{"Config.Deadline", func(c *Config, vc *VirtualClock) { c.Deadline = t0.Add(30 * time.Second) }, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, nil, nil},
		{"SetDeadline after the first requests", func(*Config, *VirtualClock) {}, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, func(p *Pacer) { p.SetDeadline(t0.Add(30 * time.Second)) }, func(p *Pacer) { p.SetDeadline(time.Time{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewVirtualClock(t0)
			cfg := Config{Clock: clock}
			tc.cfg(&cfg, clock)
			p := New(cfg)
			_ = p.Register(base, perRoute(40, time.Minute, Fixed))
			srv := newFakeServer(clock, 40, time.Minute, Fixed)
			for range 40 {
				if _, err := send(t, p, srv, context.Background(), "POST", base+"/api/v4/secrets/batch"); err != nil {
					t.Fatal(err)
				}
			}
			if tc.late != nil {
				tc.late(p)
			}
			clock.Advance(23 * time.Second)
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err := send(t, p, srv, ctx, "POST", base+"/api/v4/secrets/batch")
			var de *DeadlineError
			if !errors.As(err, &de) || !IsDeadline(err) {
				t.Fatalf("err = %v", err)
			}
			want := "Infisical's limit on secret writes (40/min) needs a 38 s wait before POST /api/v4/secrets/batch, past the deadline of this run"
			if !strings.HasPrefix(err.Error(), want) || de.Wait.Delay != 38*time.Second {
				t.Errorf("err = %v\nwant %s", err, want)
			}
			if srv.count("POST /api/v4/secrets/batch") != 40 || clock.Now() != t0.Add(23*time.Second) {
				t.Error("sent or waited after all")
			}
			// Nothing stays reserved: without the deadline it goes at +61 s.
			if tc.lift != nil {
				tc.lift(p)
			}
			unbounded := tc.name != "Config.Deadline"
			if _, err := send(t, p, srv, context.Background(), "POST", base+"/api/v4/secrets/batch"); err != nil && unbounded {
				t.Fatal(err)
			}
			if unbounded && clock.Now() != t0.Add(61*time.Second) {
				t.Errorf("sent at %s", clock.Now().Sub(t0))
			}
		})
	}
}

// TestAccountsAndRoutesAreApart: each route and each account has its own
// count; a route's wait holds back no other route.
func TestAccountsAndRoutesAreApart(t *testing.T) {
	clock := NewVirtualClock(t0)
	p := New(Config{Clock: clock})
	m := perRoute(2, time.Minute, Fixed)
	m.Routes = NewRoutes([]Route{{Method: "POST", Path: "/a", Class: "secretsLimit"}, {Method: "POST", Path: "/b", Class: "secretsLimit"}})
	_ = p.Register(base, m)
	srv := roundTripFunc(func(r *http.Request) (*http.Response, error) { return answer(r, 200, http.Header{}), nil })
	ctx := context.Background()
	for _, c := range []struct {
		ctx  context.Context
		path string
	}{{ctx, "/a"}, {ctx, "/a"}, {ctx, "/b"}, {ctx, "/b"}, {WithAccount(ctx, "other"), "/a"}, {WithAccount(ctx, "other"), "/a"}} {
		if _, err := send(t, p, srv, c.ctx, "POST", base+c.path); err != nil {
			t.Fatal(err)
		}
	}
	if clock.Now() != t0 {
		t.Errorf("waited %s", clock.Now().Sub(t0))
	}
	if _, err := send(t, p, srv, ctx, "POST", base+"/a"); err != nil || clock.Now() != t0.Add(61*time.Second) {
		t.Errorf("third on /a at %s, %v", clock.Now().Sub(t0), err)
	}
}

// TestConcurrencyCap: never more requests in flight than the cap.
func TestConcurrencyCap(t *testing.T) {
	p := New(Config{Clock: NewVirtualClock(t0)})
	_ = p.Register(base, Model{Vendor: "GitHub", Concurrency: 3})
	var inFlight, most atomic.Int32
	release := make(chan struct{})
	srv := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		inFlight.Add(-1)
		return answer(r, 200, http.Header{}), nil
	})
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := send(t, p, srv, context.Background(), "GET", base+"/x"); err != nil {
				t.Error(err)
			}
		}()
	}
	for range 10 {
		release <- struct{}{}
	}
	wg.Wait()
	if most.Load() > 3 {
		t.Errorf("%d in flight at once, cap 3", most.Load())
	}
	if st := p.Total("GitHub"); st.Requests != 10 {
		t.Errorf("stats %+v", st)
	}
}

// TestManyGoroutinesShareOnePacer: 16 goroutines share one route's 40/min.
// The server never refuses, the windows hold, and it is first come, first
// served: with at most 16 requests waiting at once, none waits longer than
// the next window (a request passed over again and again would).
func TestManyGoroutinesShareOnePacer(t *testing.T) {
	const workers, each = 16, 10
	clock := newStepClock(t0, workers)
	srv := newFakeServer(clock, 40, time.Minute, Fixed)
	var mu sync.Mutex
	var longest time.Duration
	p := New(Config{Clock: clock, OnWait: func(w Wait) {
		mu.Lock()
		longest = max(longest, w.Delay)
		mu.Unlock()
	}})
	_ = p.Register(base, perRoute(40, time.Minute, Fixed))
	var order []int
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer clock.finished()
			for range each {
				n, err := send(t, p, srv, context.Background(), "POST", base+"/api/v4/secrets/batch")
				if err != nil || n > 0 {
					t.Errorf("refused %d, %v", n, err)
				}
				mu.Lock()
				order = append(order, g)
				mu.Unlock()
			}
		}()
	}
	clock.drive()
	wg.Wait()
	if got := srv.maxInWindow("POST /api/v4/secrets/batch", time.Minute); got > 40 {
		t.Errorf("%d in one window", got)
	}
	if len(order) != workers*each {
		t.Fatalf("%d requests", len(order))
	}
	if longest > time.Minute+time.Second {
		t.Errorf("a request waited %s", longest)
	}
	if st := p.Total(""); st.Requests != workers*each || st.Limited != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestRaceOnAVirtualClock runs many goroutines on a clock that jumps ahead
// whenever one of them sleeps: requests that reach the server late take a
// new place; every one gets through.
func TestRaceOnAVirtualClock(t *testing.T) {
	clock := NewVirtualClock(t0)
	srv := newFakeServer(clock, 20, time.Minute, Fixed)
	srv.headers = true
	p := New(Config{Clock: clock})
	_ = p.Register(base, perRoute(20, time.Minute, Fixed))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				path := "/api/v4/secrets/batch"
				if i%3 == 0 {
					path = "/other/route"
				}
				if _, err := send(t, p, srv, context.Background(), "POST", base+path); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if n := srv.count("POST /api/v4/secrets/batch") + srv.count("POST /other/route"); n != 8*15 {
		t.Errorf("%d requests got through", n)
	}
	_ = p.Stats()
	_ = p.ClassStats()
}

func TestStats(t *testing.T) {
	clock := NewVirtualClock(t0)
	p := New(Config{Clock: clock})
	_ = p.Register(base, perRoute(1, time.Minute, Fixed))
	srv := roundTripFunc(func(r *http.Request) (*http.Response, error) { return answer(r, 200, http.Header{}), nil })
	for _, path := range []string{"/api/v4/secrets/batch", "/api/v4/secrets/batch", "/api/v9/things/42"} {
		if _, err := send(t, p, srv, context.Background(), "POST", base+path); err != nil {
			t.Fatal(err)
		}
	}
	got := p.Stats()
	want := []Stat{
		{Vendor: "Infisical", Class: "secretsLimit", Route: "POST /api/v4/secrets/batch", Counts: Counts{Requests: 2, Waits: 1, Waited: 61 * time.Second}},
		{Vendor: "Infisical", Class: "secretsLimit", Route: "POST /api/v9/things/{id}", Counts: Counts{Requests: 1}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Stats\n got %v\nwant %v", got, want)
	}
	if cs := p.ClassStats(); len(cs) != 1 || cs[0].Requests != 3 || cs[0].Route != "" {
		t.Errorf("ClassStats %v", cs)
	}
}

func TestRoutes(t *testing.T) {
	rt := NewRoutes([]Route{
		{Method: "POST", Path: "/api/v4/secrets/{secretName}", Class: "s"},
		{Method: "POST", Path: "/api/v4/secrets/batch", Class: "b"},
		{Method: "GET", Path: "/repos/{owner}/{repo}/issues/{issue_number}/comments", Class: "r"},
	})
	cases := []struct {
		method, path, want string
		ok                 bool
	}{
		{"POST", "/api/v4/secrets/batch", "POST /api/v4/secrets/batch", true},
		{"post", "/api/v4/secrets/API_KEY", "POST /api/v4/secrets/{secretName}", true},
		{"POST", "/api/v4/secrets/", "", false},
		{"GET", "/repos/raxx/app/issues/42/comments", "GET /repos/{owner}/{repo}/issues/{issue_number}/comments", true},
		{"GET", "/api/v4/secrets/batch", "", false},
	}
	for _, tc := range cases {
		r, ok := rt.Match(tc.method, tc.path)
		if ok != tc.ok || (ok && r.String() != tc.want) {
			t.Errorf("%s %s: %v %v", tc.method, tc.path, r, ok)
		}
	}
	if rt.Len() != 3 {
		t.Errorf("Len %d", rt.Len())
	}
}

func TestWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0 s", 250 * time.Millisecond: "250 ms", 38 * time.Second: "38 s", 37*time.Second + time.Millisecond: "38 s",
		125 * time.Second: "2 min 5 s", time.Hour + 3*time.Minute + 4*time.Second: "1 h 3 min", time.Hour: "1 h",
	} {
		if got := Words(d); got != want {
			t.Errorf("Words(%s) = %q, want %q", d, got, want)
		}
	}
	l := Limit{Window: 5 * time.Minute}
	if got := l.Rate(1200); got != "1200/5 min" {
		t.Errorf("Rate = %q", got)
	}
	if got := (Limit{Window: time.Minute, Cost: writes5}).Rate(900); got != "900 points/min" {
		t.Errorf("Rate = %q", got)
	}
}

func ioNop(s string) *nopBody { return &nopBody{strings.NewReader(s)} }

type nopBody struct{ *strings.Reader }

func (nopBody) Close() error { return nil }

func readAll(resp *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
