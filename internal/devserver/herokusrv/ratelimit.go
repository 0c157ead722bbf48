package herokusrv

import (
	"math"
	"sync"
	"time"
)

// DefaultRateLimitPerHour is Heroku's per-account limit: a pool of 4,500
// request tokens, one taken by each API call, refilled at 4,500 per hour
// (75 a minute) continuously up to the pool's size, not reset on the hour.
const DefaultRateLimitPerHour = 4500

// bucket is one account's pool of request tokens.
type bucket struct {
	Tokens float64   `json:"tokens"`
	At     time.Time `json:"at"` // when Tokens was last computed
}

// limiter holds every account's pool (and one per client address for
// requests without a valid credential). It has its own lock.
type limiter struct {
	mu       sync.Mutex
	perHour  int
	disabled bool
	buckets  map[string]*bucket
}

func newLimiter(set RateLimitSettings) *limiter {
	l := &limiter{buckets: map[string]*bucket{}}
	l.configure(set)
	return l
}

func (l *limiter) configure(set RateLimitSettings) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.perHour = set.PerHour
	if l.perHour == 0 {
		l.perHour = DefaultRateLimitPerHour
	}
	l.disabled = set.Disabled
}

// refill brings b up to now.
func (l *limiter) refill(b *bucket, now time.Time) {
	if now.After(b.At) {
		b.Tokens = math.Min(float64(l.perHour), b.Tokens+now.Sub(b.At).Hours()*float64(l.perHour))
	}
	b.At = now
}

// take spends one token of key's pool. It reports the tokens left (what
// RateLimit-Remaining says) and whether the request may proceed; a refused
// request takes nothing.
func (l *limiter) take(key string, now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.disabled {
		return l.perHour, true
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{Tokens: float64(l.perHour), At: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.Tokens < 1 {
		return 0, false
	}
	b.Tokens--
	return int(b.Tokens), true
}

// remaining reports key's tokens at now without spending one.
func (l *limiter) remaining(key string, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.disabled {
		return l.perHour
	}
	b := l.buckets[key]
	if b == nil {
		return l.perHour
	}
	c := *b
	l.refill(&c, now)
	return int(c.Tokens)
}

func (l *limiter) snapshot() map[string]bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]bucket, len(l.buckets))
	for k, v := range l.buckets {
		out[k] = *v
	}
	return out
}

func (l *limiter) restore(m map[string]bucket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buckets = make(map[string]*bucket, len(m))
	for k, v := range m {
		v := v
		l.buckets[k] = &v
	}
}
