package awssrv

import (
	"sync"
	"time"
)

// Request rates per account, as token buckets refilled every second on the
// kit's clock (IAM and STS throttle with token buckets, per the AWS
// Security Blog "How to monitor and query IAM resources at scale – Part 2").
//
//   - SSM: 40 transactions per second shared by GetParameter, GetParameters
//     and GetParametersByPath: Parameter Store's documented default
//     throughput (higher throughput is an opt-in setting).
//   - STS: 600 requests per second per account. AWS documents no default
//     STS request rate that we could find; this value is our choice, not
//     AWS's, and only its order of magnitude (far above IAM's) is meant.
//   - IAM: 20 requests per second per account for the role and inline
//     policy calls served here. Not published by AWS either; chosen low
//     because IAM's control plane throttles far sooner than STS, so that
//     tests meet throttling on the calls handoff repeats (revocations).
//
// A throttled request is answered as AWS does: Throttling "Rate exceeded"
// with status 400 from STS and IAM, ThrottlingException from SSM.
var serviceRates = map[string]rate{
	"ssm": {perSecond: 40, burst: 40},
	"sts": {perSecond: 600, burst: 600},
	"iam": {perSecond: 20, burst: 20},
}

type rate struct {
	perSecond float64
	burst     float64
}

type bucket struct {
	tokens float64
	last   time.Time
}

// limiter holds one token bucket per account and service.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

func (l *limiter) reset() {
	l.mu.Lock()
	l.buckets = nil
	l.mu.Unlock()
}

// take spends one token of key at now; false means throttled.
func (l *limiter) take(key string, r rate, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: r.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens += elapsed.Seconds() * r.perSecond
		if b.tokens > r.burst {
			b.tokens = r.burst
		}
		b.last = now
	} else if elapsed < 0 {
		// The clock was set back: start the bucket afresh.
		b.tokens, b.last = r.burst, now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// throttle takes the account's rate limit for c's service.
func (s *Server) throttle(c *call) *apiError {
	if !s.throttleOn.Load() {
		return nil
	}
	r, ok := serviceRates[c.service]
	if !ok {
		return nil
	}
	s.mu.RLock()
	acct := s.st.AccountID
	s.mu.RUnlock()
	if !s.limiter.take(acct+"/"+c.service, r, c.now) {
		return errThrottling()
	}
	return nil
}
