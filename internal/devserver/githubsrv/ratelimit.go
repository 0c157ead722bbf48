package githubsrv

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// window is one rate-limit window of a credential: GitHub's
// x-ratelimit-limit, -used and -reset (epoch seconds). A window opens at a
// credential's first request and closes Period later, by the server clock.
type window struct {
	Limit int   `json:"limit"`
	Used  int   `json:"used"`
	Reset int64 `json:"reset"`
}

func (w window) remaining() int {
	if w.Used >= w.Limit {
		return 0
	}
	return w.Limit - w.Used
}

// limiter holds every rate-limit window of every credential, and the
// requests each has in flight. It has its own lock, so that reads of the
// world can share Server.mu.
type limiter struct {
	mu          sync.Mutex
	primary     map[string]*window // per credential, an hour
	secondary   map[string]*window // content creation per credential, a minute
	contentHour map[string]*window // content creation per credential, an hour
	points      map[string]*window // per credential and endpoint, a minute
	inflight    map[string]int     // per credential
}

func newLimiter() *limiter {
	return &limiter{primary: map[string]*window{}, secondary: map[string]*window{}, contentHour: map[string]*window{},
		points: map[string]*window{}, inflight: map[string]int{}}
}

// resolveLimits fills GitHub's defaults in and turns "unlimited" (negative)
// into a limit no test reaches.
func resolveLimits(r RateLimits) RateLimits {
	fill := func(v *int, def int) {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			*v = math.MaxInt32
		}
	}
	fill(&r.InstallationPerHour, DefaultInstallationPerHour)
	fill(&r.AppPerHour, DefaultAppPerHour)
	fill(&r.ActionsPerHour, DefaultActionsPerHour)
	fill(&r.UnauthenticatedPerHour, DefaultUnauthenticatedPerHour)
	fill(&r.SecondaryLimitPerMinute, DefaultSecondaryLimitPerMinute)
	fill(&r.ContentCreationPerHour, DefaultContentCreationPerHour)
	fill(&r.EndpointPointsPerMinute, DefaultEndpointPointsPerMinute)
	fill(&r.ConcurrentRequests, DefaultConcurrentRequests)
	return r
}

// use opens or rolls key's window and, when cost is positive, counts cost
// in it. It reports the window after the request and whether the request
// fits (a request over the limit is not counted).
func use(m map[string]*window, key string, limit int, period time.Duration, now time.Time, cost int) (window, bool) {
	w := m[key]
	if w == nil || now.Unix() >= w.Reset {
		w = &window{Reset: now.Add(period).Unix()}
		m[key] = w
	}
	w.Limit = limit
	if cost <= 0 {
		return *w, true
	}
	if w.Used+cost > w.Limit {
		return *w, false
	}
	w.Used += cost
	return *w, true
}

// primaryUse counts (or, with consume false, only reads) one request of a
// credential against its hourly limit.
func (l *limiter) primaryUse(key string, limit int, now time.Time, consume bool) (window, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cost := 0
	if consume {
		cost = 1
	}
	return use(l.primary, key, limit, time.Hour, now, cost)
}

// contentUse counts one content-generating request of a credential against
// its per-minute and per-hour limits; a request refused by either is
// counted in neither. It returns the window that refused it.
func (l *limiter) contentUse(key string, perMinute, perHour int, now time.Time) (window, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	minute, _ := use(l.secondary, key, perMinute, time.Minute, now, 0)
	if minute.Used+1 > minute.Limit {
		return minute, false
	}
	hour, _ := use(l.contentHour, key, perHour, time.Hour, now, 0)
	if hour.Used+1 > hour.Limit {
		return hour, false
	}
	use(l.contentHour, key, perHour, time.Hour, now, 1)
	return use(l.secondary, key, perMinute, time.Minute, now, 1)
}

// pointsUse spends cost points of a credential on an endpoint in the
// endpoint's per-minute window.
func (l *limiter) pointsUse(key string, limit, cost int, now time.Time) (window, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return use(l.points, key, limit, time.Minute, now, cost)
}

// acquire takes one of a credential's concurrent-request slots; it reports
// false when all are taken. Every true must be followed by release.
func (l *limiter) acquire(key string, limit int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight[key] >= limit {
		return false
	}
	l.inflight[key]++
	return true
}

func (l *limiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight[key]--; l.inflight[key] <= 0 {
		delete(l.inflight, key)
	}
}

// pointCost is what a request costs against the per-endpoint limit.
func pointCost(method string) int {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return 1
	}
	return 5
}

// refund gives back the request last counted in key's hourly window (for a
// 304, which GitHub does not count) and returns the window.
func (l *limiter) refund(key string) window {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.primary[key]
	if w == nil {
		return window{}
	}
	if w.Used > 0 {
		w.Used--
	}
	return *w
}

// windowSet is every window of the limiter, as MarshalState saves it.
type windowSet struct {
	Primary, Secondary, ContentHour, Points map[string]window
}

// snapshot copies the windows for MarshalState.
func (l *limiter) snapshot() windowSet {
	l.mu.Lock()
	defer l.mu.Unlock()
	copyOut := func(m map[string]*window) map[string]window {
		out := make(map[string]window, len(m))
		for k, v := range m {
			out[k] = *v
		}
		return out
	}
	return windowSet{copyOut(l.primary), copyOut(l.secondary), copyOut(l.contentHour), copyOut(l.points)}
}

// restore replaces the windows with those of a saved state (requests in
// flight are the process's own and stay).
func (l *limiter) restore(ws windowSet) {
	l.mu.Lock()
	defer l.mu.Unlock()
	copyIn := func(m map[string]window) map[string]*window {
		out := make(map[string]*window, len(m))
		for k, v := range m {
			v := v
			out[k] = &v
		}
		return out
	}
	l.primary, l.secondary, l.contentHour, l.points = copyIn(ws.Primary), copyIn(ws.Secondary), copyIn(ws.ContentHour), copyIn(ws.Points)
}

// setRateHeaders writes the x-ratelimit-* headers of a window.
func setRateHeaders(h http.Header, w window) {
	h["X-Ratelimit-Limit"] = []string{strconv.Itoa(w.Limit)}
	h["X-Ratelimit-Remaining"] = []string{strconv.Itoa(w.remaining())}
	h["X-Ratelimit-Reset"] = []string{strconv.FormatInt(w.Reset, 10)}
	h["X-Ratelimit-Used"] = []string{strconv.Itoa(w.Used)}
	h["X-Ratelimit-Resource"] = []string{"core"}
}

// secondaryError is GitHub's answer to a secondary limit: status (403 or
// 429), the message with the request id, and Retry-After when wait is
// positive (at least one second); zero leaves Retry-After out.
func (c *call) secondaryError(status int, wait int64) *apiError {
	e := &apiError{status: status, message: fmt.Sprintf(msgSecondaryLimit, c.reqID), doc: docSecondaryLimits}
	if wait != 0 {
		e.header = map[string]string{"Retry-After": strconv.FormatInt(max(wait, 1), 10)}
	}
	return e
}
