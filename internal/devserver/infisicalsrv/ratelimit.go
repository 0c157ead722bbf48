package infisicalsrv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/contracttest/contracts"
)

// Infisical's rate limits, as Infisical Cloud applies them.
//
// The backend registers @fastify/rate-limit (10.x) only on Infisical Cloud
// (production mode with a licence-server key); a self-hosted server has no
// limiter at all and sends no x-ratelimit-* header. On Cloud every route
// with its own rateLimit config has its own counter per client IP, a 60 s
// window fixed at the route's first hit; the route's class (readLimit,
// writeLimit, secretsLimit, identityCreationLimit, ...) gives its maximum.
// Routes without a config of their own share the global limiter's single
// counter per client IP (600 a minute). The classes and the maxima come
// from the embedded contract: x-rate-limit-class on each operation and
// info.x-rate-limit-defaults.

// RateLimitProfile names the kind of Infisical server being played.
type RateLimitProfile string

const (
	// ProfileCloud is Infisical Cloud on its default plan: per client IP,
	// per route, the maximum of the route's class (the default profile).
	ProfileCloud RateLimitProfile = "cloud"
	// ProfileSelfHosted is a self-hosted Infisical: no limiter, no
	// x-ratelimit-* headers, never a 429 (as observed on a real server).
	ProfileSelfHosted RateLimitProfile = "self-hosted"
)

// ClassGlobal is the class of routes that have no rateLimit config of
// their own: they share the global limiter.
const ClassGlobal = "global"

// RateLimits configures the limiter. The zero value is Infisical Cloud's
// default plan.
type RateLimits struct {
	// Profile is ProfileCloud (the default when empty) or
	// ProfileSelfHosted.
	Profile RateLimitProfile `json:"profile,omitempty"`
	// Classes overrides the per-minute maximum of rate-limit classes, as a
	// higher Cloud plan or an instance's admin configuration does. Keys are
	// the contract's class names (readLimit, writeLimit, secretsLimit,
	// identityCreationLimit, ...) or ClassGlobal; values must be positive.
	Classes map[string]int `json:"classes,omitempty"`
}

// RouteRateLimit is how the limiter treats one route of the server.
type RouteRateLimit struct {
	// Route is the server's pattern, e.g. "POST /api/v4/secrets/batch".
	Route string
	// Class is the route's x-rate-limit-class in the contract, or
	// ClassGlobal for a route the contract gives no class.
	Class string
	// Limit is the route's maximum per 60 s window per client IP. For a
	// route that needs an access token it is the organization plan's value
	// (secretsLimit 40 on the default plan); for the public login routes,
	// the instance value.
	Limit int
}

// limitFacts are the rate-limit facts of the embedded contract.
type limitFacts struct {
	routeClass map[string]string // "METHOD /template" (params as {}) -> class
	instance   map[string]int    // instance-wide maxima per class
	plan       map[string]int    // the default plan's maxima, for requests with an org
	global     int
}

var paramRe = regexp.MustCompile(`\{[^}]*\}`)

// routeKey is a pattern or contract operation with its parameter names
// dropped, so "GET /a/{id}" and "GET /a/{folderIdOrName}" meet.
func routeKey(method, path string) string {
	return method + " " + paramRe.ReplaceAllString(path, "{}")
}

var loadLimitFacts = sync.OnceValues(func() (*limitFacts, error) {
	raw, err := contracts.Read(contracts.Infisical)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Info struct {
			Defaults struct {
				Instance map[string]int `json:"instance"`
				Global   struct {
					Max int `json:"max"`
				} `json:"global"`
				Plan map[string]any `json:"licensePlanDefault"`
			} `json:"x-rate-limit-defaults"`
		} `json:"info"`
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("infisicalsrv: contract: %w", err)
	}
	d := doc.Info.Defaults
	if len(d.Instance) == 0 || d.Global.Max <= 0 {
		return nil, fmt.Errorf("infisicalsrv: contract has no info.x-rate-limit-defaults")
	}
	f := &limitFacts{routeClass: map[string]string{}, instance: d.Instance, plan: map[string]int{}, global: d.Global.Max}
	for k, v := range d.Plan {
		if n, ok := v.(float64); ok {
			f.plan[k] = int(n)
		}
	}
	for path, item := range doc.Paths {
		for method, rawOp := range item {
			var op struct {
				OperationID string `json:"operationId"`
				Class       string `json:"x-rate-limit-class"`
			}
			if json.Unmarshal(rawOp, &op) != nil || op.OperationID == "" {
				continue // a path-level field such as "parameters"
			}
			if _, ok := f.instance[op.Class]; !ok {
				return nil, fmt.Errorf("infisicalsrv: contract: %s %s has unknown rate-limit class %q", method, path, op.Class)
			}
			f.routeClass[routeKey(strings.ToUpper(method), path)] = op.Class
		}
	}
	return f, nil
})

func mustLimitFacts() *limitFacts {
	f, err := loadLimitFacts()
	if err != nil {
		panic(err) // the contract is embedded: a broken one is a build defect
	}
	return f
}

// validate reports the first problem of a configuration.
func (rl RateLimits) validate() error {
	switch rl.Profile {
	case "", ProfileCloud, ProfileSelfHosted:
	default:
		return fmt.Errorf("rate limits: unknown profile %q (want %q or %q)", rl.Profile, ProfileCloud, ProfileSelfHosted)
	}
	f := mustLimitFacts()
	for class, n := range rl.Classes {
		if _, ok := f.instance[class]; !ok && class != ClassGlobal {
			return fmt.Errorf("rate limits: unknown class %q", class)
		}
		if n <= 0 {
			return fmt.Errorf("rate limits: class %s: maximum must be positive, got %d", class, n)
		}
	}
	return nil
}

// limitConfig is a validated RateLimits, immutable once stored.
type limitConfig struct {
	profile RateLimitProfile
	classes map[string]int
}

func newLimitConfig(rl RateLimits) *limitConfig {
	c := &limitConfig{profile: rl.Profile, classes: map[string]int{}}
	if c.profile == "" {
		c.profile = ProfileCloud
	}
	for k, v := range rl.Classes {
		c.classes[k] = v
	}
	return c
}

// limit is the maximum of class for a request made with an organization's
// token (withOrg) or without one, as inject-rate-limits.ts picks it.
func (c *limitConfig) limit(class string, withOrg bool) int {
	if n, ok := c.classes[class]; ok {
		return n
	}
	f := mustLimitFacts()
	if class == ClassGlobal {
		return f.global
	}
	if withOrg {
		if n, ok := f.plan[class]; ok {
			return n
		}
	}
	return f.instance[class]
}

// SetRateLimits replaces the limiter's configuration and starts every
// window afresh.
func (s *Server) SetRateLimits(rl RateLimits) error {
	if err := rl.validate(); err != nil {
		return err
	}
	s.limits.Store(newLimitConfig(rl))
	s.limiter.reset()
	return nil
}

// RateLimits returns the limiter's configuration (the profile is never
// empty).
func (s *Server) RateLimits() RateLimits {
	c := s.limits.Load()
	rl := RateLimits{Profile: c.profile}
	if len(c.classes) > 0 {
		rl.Classes = map[string]int{}
		for k, v := range c.classes {
			rl.Classes[k] = v
		}
	}
	return rl
}

// RouteRateLimits lists every route with its class and maximum, sorted by
// route; under ProfileSelfHosted no route is limited and it returns nil.
func (s *Server) RouteRateLimits() []RouteRateLimit {
	c := s.limits.Load()
	if c.profile == ProfileSelfHosted {
		return nil
	}
	out := make([]RouteRateLimit, 0, len(s.routeInfo))
	for pattern, ri := range s.routeInfo {
		out = append(out, RouteRateLimit{Route: pattern, Class: ri.class, Limit: c.limit(ri.class, ri.auth)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Route < out[j].Route })
	return out
}

// routeInfo is what the limiter knows of a registered route.
type routeInfo struct {
	class string
	auth  bool // the route needs an identity access token
}

// classOf is the contract's class of a route pattern, or ClassGlobal.
func classOf(pattern string) string {
	method, path, _ := strings.Cut(pattern, " ")
	if c, ok := mustLimitFacts().routeClass[routeKey(method, path)]; ok {
		return c
	}
	return ClassGlobal
}

// rateLimiter is @fastify/rate-limit's store: one fixed window per key that
// opens with the key's first request and lasts 60 s.
type rateLimiter struct {
	mu      sync.Mutex
	windows map[string]*rateWindow
}

type rateWindow struct {
	start time.Time
	count int
}

const rateWindowLen = 60 * time.Second

func (rl *rateLimiter) reset() {
	rl.mu.Lock()
	rl.windows = nil
	rl.mu.Unlock()
}

// take counts one request of key; it reports the remaining allowance, the
// seconds until the window resets (rounded up, as the plugin's ttlInSeconds)
// and whether the request is allowed.
func (rl *rateLimiter) take(key string, limit int, now time.Time) (int, int, bool) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.windows == nil {
		rl.windows = map[string]*rateWindow{}
	}
	w := rl.windows[key]
	if w == nil || now.Sub(w.start) >= rateWindowLen || now.Before(w.start) {
		if len(rl.windows) > 10000 {
			for k, old := range rl.windows {
				if now.Sub(old.start) >= rateWindowLen {
					delete(rl.windows, k)
				}
			}
		}
		w = &rateWindow{start: now}
		rl.windows[key] = w
	}
	w.count++
	reset := int((rateWindowLen - now.Sub(w.start) + time.Second - 1) / time.Second)
	if w.count > limit {
		return 0, reset, false
	}
	return limit - w.count, reset, true
}

// takeRateLimit runs the route's limiter for c: nothing under
// ProfileSelfHosted; otherwise the x-ratelimit-* headers on the answer, and
// the 429 once the window is spent.
func (s *Server) takeRateLimit(c *call, pattern string, ri routeInfo) *apiError {
	cfg := s.limits.Load()
	if cfg.profile == ProfileSelfHosted {
		return nil
	}
	limit := cfg.limit(ri.class, c.actor != nil)
	key := c.ip.String() + " " + pattern
	if ri.class == ClassGlobal {
		key = c.ip.String() + " " + ClassGlobal // one counter shared by every such route
	}
	remaining, reset, ok := s.limiter.take(key, limit, c.now)
	if !ok {
		return errRateLimit(reset, limit, true)
	}
	setRateHeaders(c.w.Header(), limit, remaining, reset)
	return nil
}

func setRateHeaders(h http.Header, limit, remaining, reset int) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.Itoa(reset))
}

// limitForRequest is the maximum that applies to r's route, for the
// headers of an injected 429; ok is false when the server has no limiter.
func (s *Server) limitForRequest(r *http.Request) (int, bool) {
	cfg := s.limits.Load()
	if cfg.profile == ProfileSelfHosted {
		return 0, false
	}
	ri, found := s.routeInfo[r.Pattern]
	if !found {
		ri = routeInfo{class: ClassGlobal}
	}
	return cfg.limit(ri.class, r.Header.Get("Authorization") != ""), true
}
