package devkit

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault describes one injected failure. The zero value of every selector means
// "any": a Fault with only Status set fails every request.
type Fault struct {
	// Route selects requests: a glob over "METHOD /path" in which '*' matches
	// any run of characters, '/' included. It is matched against the registered
	// route pattern ("POST /app/installations/{installation_id}/access_tokens")
	// and against the concrete request ("POST /app/installations/7/access_tokens");
	// either match selects the request. Empty selects every request.
	Route string `json:"route,omitempty"`
	// Status is answered instead of running the handler, with the vendor's own
	// error body. Zero with Drop false and Delay set only delays.
	Status int `json:"status,omitempty"`
	// RetryAfter, when positive, is sent as a Retry-After header (seconds).
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// Drop closes the connection without an answer, as a crashed proxy would.
	Drop bool `json:"drop,omitempty"`
	// Delay is extra latency for the selected requests, e.g. to push a client
	// past its deadline.
	Delay time.Duration `json:"delay,omitempty"`
	// Rate, in (0,1], fires the fault on that fraction of selected requests;
	// zero fires on all of them.
	Rate float64 `json:"rate,omitempty"`
	// Nth fires only on the Nth selected request (1-based); zero disables it.
	Nth int `json:"nth,omitempty"`
	// Count caps how many times the fault fires; zero is unlimited.
	Count int `json:"count,omitempty"`
}

// Faults is the set of active faults plus the latency added to every request.
// It is safe for concurrent use.
type Faults struct {
	mu      sync.Mutex
	latency time.Duration
	jitter  time.Duration
	nextID  int
	rules   []*faultRule
}

type faultRule struct {
	id    int
	fault Fault
	seen  int // selected requests so far
	fired int
}

// FaultInfo is an active fault with its id and how often it has fired.
type FaultInfo struct {
	ID    int   `json:"id"`
	Fault Fault `json:"fault"`
	Fired int   `json:"fired"`
}

// SetLatency adds d plus a uniform random jitter in [0, jitter) before every
// request is handled.
func (f *Faults) SetLatency(d, jitter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency, f.jitter = d, jitter
}

// Latency reports the configured base latency and jitter.
func (f *Faults) Latency() (time.Duration, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latency, f.jitter
}

// Add activates a fault and returns its id for Remove.
func (f *Faults) Add(fault Fault) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.rules = append(f.rules, &faultRule{id: f.nextID, fault: fault})
	return f.nextID
}

// Remove deactivates the fault with the given id.
func (f *Faults) Remove(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if r.id == id {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
			return
		}
	}
}

// Clear removes every fault and the latency.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
	f.latency, f.jitter = 0, 0
}

// List returns the active faults.
func (f *Faults) List() []FaultInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FaultInfo, 0, len(f.rules))
	for _, r := range f.rules {
		out = append(out, FaultInfo{ID: r.id, Fault: r.fault, Fired: r.fired})
	}
	return out
}

// decide returns the delay to apply and the fault that fires for a request,
// if any. Every matching rule sees the request (so Nth counts stay true), but
// only the first that fires is returned.
func (f *Faults) decide(pattern, method, path string) (time.Duration, *Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delay := f.latency
	if f.jitter > 0 {
		delay += rand.N(f.jitter)
	}
	var fired *Fault
	concrete := method + " " + path
	for _, r := range f.rules {
		if r.fault.Route != "" && !globMatch(r.fault.Route, pattern) && !globMatch(r.fault.Route, concrete) {
			continue
		}
		r.seen++
		if fired != nil {
			continue
		}
		if r.fault.Count > 0 && r.fired >= r.fault.Count {
			continue
		}
		if r.fault.Nth > 0 && r.seen != r.fault.Nth {
			continue
		}
		if r.fault.Rate > 0 && r.fault.Rate < 1 && rand.Float64() >= r.fault.Rate {
			continue
		}
		r.fired++
		fault := r.fault
		fired = &fault
	}
	if fired != nil {
		delay += fired.Delay
	}
	return delay, fired
}

// globMatch reports whether s matches pattern, where '*' matches any run of
// characters (including '/') and every other character matches itself.
func globMatch(pattern, s string) bool {
	star := strings.IndexByte(pattern, '*')
	if star < 0 {
		return pattern == s
	}
	if !strings.HasPrefix(s, pattern[:star]) {
		return false
	}
	s, pattern = s[star:], pattern[star+1:]
	if pattern == "" {
		return true
	}
	// Try every position for the rest of the pattern.
	for i := 0; i <= len(s); i++ {
		if globMatch(pattern, s[i:]) {
			return true
		}
	}
	return false
}

// ParseFault reads the command-line form of a fault:
//
//	ROUTE=ACTION[,key=value...]
//
// ACTION is an HTTP status (500, 429, …), "drop" or "delay". Keys: nth, rate,
// count, retry-after (a duration), delay (a duration). Examples:
//
//	POST /app/installations/*/access_tokens=503,nth=2
//	*=429,rate=0.1,retry-after=2s
//	GET /api/v4/secrets=drop,count=1
//	*=delay,delay=3s
func ParseFault(s string) (Fault, error) {
	// A route holds no '=', options after the action do: split at the first.
	first := strings.Index(s, "=")
	if first < 0 {
		return Fault{}, fmt.Errorf("fault %q: want ROUTE=ACTION[,key=value...]", s)
	}
	route, rest := strings.TrimSpace(s[:first]), s[first+1:]
	if route == "*" {
		route = ""
	}
	parts := strings.Split(rest, ",")
	f := Fault{Route: route}
	switch action := strings.TrimSpace(parts[0]); action {
	case "drop":
		f.Drop = true
	case "delay":
	default:
		status, err := strconv.Atoi(action)
		if err != nil || status < 400 || status > 599 {
			return Fault{}, fmt.Errorf("fault %q: action %q is not drop, delay or an HTTP error status (400-599)", s, action)
		}
		f.Status = status
	}
	for _, opt := range parts[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(opt), "=")
		if !ok {
			return Fault{}, fmt.Errorf("fault %q: option %q is not key=value", s, opt)
		}
		var err error
		switch k {
		case "nth":
			f.Nth, err = strconv.Atoi(v)
		case "count":
			f.Count, err = strconv.Atoi(v)
		case "rate":
			f.Rate, err = strconv.ParseFloat(v, 64)
			if err == nil && (f.Rate <= 0 || f.Rate > 1) {
				err = fmt.Errorf("rate must be in (0,1]")
			}
		case "retry-after":
			f.RetryAfter, err = time.ParseDuration(v)
		case "delay":
			f.Delay, err = time.ParseDuration(v)
		default:
			err = fmt.Errorf("unknown option (want nth, rate, count, retry-after or delay)")
		}
		if err != nil {
			return Fault{}, fmt.Errorf("fault %q: option %q: %v", s, k, err)
		}
	}
	if !f.Drop && f.Status == 0 && f.Delay == 0 {
		return Fault{}, fmt.Errorf("fault %q: delay needs a delay=DURATION option", s)
	}
	return f, nil
}

// abortConnection ends the request without an answer: the server closes the
// connection (HTTP/1) or resets the stream (HTTP/2), and logs nothing.
func abortConnection() { panic(http.ErrAbortHandler) }
