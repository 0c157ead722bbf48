package cloudflaresrv

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rlWindow is a user's rate-limit window. Cloudflare documents the limit
// (1,200 requests per five minutes per user) and the block ("all API calls
// for the next five minutes will be blocked"), not how the window moves.
// Chosen: a fixed window that opens with the user's first request; once a
// request goes over the limit, every request of the user is refused for a
// whole window from that moment. Requests whose token does not authenticate
// are nobody's and are not counted (Cloudflare's separate per-IP limit of
// 200 requests per second is not emulated).
type rlWindow struct {
	Start        time.Time `json:"start"`
	Count        int       `json:"count"`
	BlockedUntil time.Time `json:"blocked_until,omitzero"`
}

// limiter holds the windows of every user. It has its own lock, so that it
// does not contend with the state's.
type limiter struct {
	mu      sync.Mutex
	windows map[string]*rlWindow
}

func newLimiter() *limiter { return &limiter{windows: map[string]*rlWindow{}} }

// rlResult is what a request learned from the limiter.
type rlResult struct {
	ok        bool
	limit     int
	window    time.Duration
	remaining int
	reset     time.Duration // until the window (or the block) ends
}

// take counts one request of key at now.
func (l *limiter) take(key string, limit int, window time.Duration, now time.Time) rlResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	res := rlResult{limit: limit, window: window}
	w := l.windows[key]
	if w != nil && now.Before(w.BlockedUntil) {
		res.reset = w.BlockedUntil.Sub(now)
		return res
	}
	if w == nil || !now.Before(w.Start.Add(window)) || now.Before(w.Start) {
		w = &rlWindow{Start: now}
		l.windows[key] = w
	}
	w.Count++
	if w.Count > limit {
		w.BlockedUntil = now.Add(window)
		res.reset = window
		return res
	}
	res.ok = true
	res.remaining = limit - w.Count
	res.reset = w.Start.Add(window).Sub(now)
	return res
}

func (l *limiter) reset() {
	l.mu.Lock()
	l.windows = map[string]*rlWindow{}
	l.mu.Unlock()
}

func (l *limiter) snapshot() map[string]rlWindow {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]rlWindow, len(l.windows))
	for k, w := range l.windows {
		out[k] = *w
	}
	return out
}

func (l *limiter) restore(m map[string]rlWindow) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.windows = make(map[string]*rlWindow, len(m))
	for k, w := range m {
		l.windows[k] = &w
	}
}

func (l *limiter) used(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.windows[key]; w != nil {
		return w.Count
	}
	return 0
}

// ceilSeconds rounds d up to whole seconds, as retry-after is.
func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// setRateHeaders writes Cloudflare's rate-limit headers (the IETF draft's
// structured form): Ratelimit on every answer, Ratelimit-Policy with the
// quota and window, and retry-after only on a refusal.
func setRateHeaders(h http.Header, r rlResult) {
	h.Set("Ratelimit", `"default";r=`+strconv.Itoa(r.remaining)+`;t=`+strconv.Itoa(ceilSeconds(r.reset)))
	h.Set("Ratelimit-Policy", `"default";q=`+strconv.Itoa(r.limit)+`;w=`+strconv.Itoa(ceilSeconds(r.window)))
	if !r.ok {
		h.Set("Retry-After", strconv.Itoa(ceilSeconds(r.reset)))
	}
}
