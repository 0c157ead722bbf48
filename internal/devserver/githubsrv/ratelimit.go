package githubsrv

import (
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

// limiter holds the primary (hourly) and secondary (per minute, comment
// writes) windows of every credential. It has its own lock, so that reads of
// the world can share Server.mu.
type limiter struct {
	mu        sync.Mutex
	primary   map[string]*window
	secondary map[string]*window
}

func newLimiter() *limiter {
	return &limiter{primary: map[string]*window{}, secondary: map[string]*window{}}
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
	return r
}

// use opens or rolls key's window and, when consume is set, counts one
// request in it. It reports the window after the request and whether the
// request fits (a request over the limit is not counted).
func use(m map[string]*window, key string, limit int, period time.Duration, now time.Time, consume bool) (window, bool) {
	w := m[key]
	if w == nil || now.Unix() >= w.Reset {
		w = &window{Reset: now.Add(period).Unix()}
		m[key] = w
	}
	w.Limit = limit
	if !consume {
		return *w, true
	}
	if w.Used >= w.Limit {
		return *w, false
	}
	w.Used++
	return *w, true
}

// primaryUse counts (or, with consume false, only reads) one request of a
// credential against its hourly limit.
func (l *limiter) primaryUse(key string, limit int, now time.Time, consume bool) (window, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return use(l.primary, key, limit, time.Hour, now, consume)
}

// secondaryUse counts one content-creating request of a credential against
// its per-minute limit.
func (l *limiter) secondaryUse(key string, limit int, now time.Time) (window, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return use(l.secondary, key, limit, time.Minute, now, true)
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

// snapshot copies the windows for MarshalState.
func (l *limiter) snapshot() (map[string]window, map[string]window) {
	l.mu.Lock()
	defer l.mu.Unlock()
	copyOut := func(m map[string]*window) map[string]window {
		out := make(map[string]window, len(m))
		for k, v := range m {
			out[k] = *v
		}
		return out
	}
	return copyOut(l.primary), copyOut(l.secondary)
}

// restore replaces the windows with those of a saved state.
func (l *limiter) restore(primary, secondary map[string]window) {
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
	l.primary, l.secondary = copyIn(primary), copyIn(secondary)
}

// setRateHeaders writes the x-ratelimit-* headers of a window.
func setRateHeaders(h http.Header, w window) {
	h["X-Ratelimit-Limit"] = []string{strconv.Itoa(w.Limit)}
	h["X-Ratelimit-Remaining"] = []string{strconv.Itoa(w.remaining())}
	h["X-Ratelimit-Reset"] = []string{strconv.FormatInt(w.Reset, 10)}
	h["X-Ratelimit-Used"] = []string{strconv.Itoa(w.Used)}
	h["X-Ratelimit-Resource"] = []string{"core"}
}
