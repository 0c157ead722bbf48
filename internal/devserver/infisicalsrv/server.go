package infisicalsrv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// Server is the local Infisical API. It is an http.Handler, safe for
// concurrent use; build it with New.
type Server struct {
	kit    *devkit.Kit
	router *devkit.Router

	mu sync.RWMutex
	st *state

	auditMu  sync.Mutex
	audit    *ring[*auditLog]
	auditCap int

	accessMu  sync.Mutex
	accessLog *ring[AccessRecord]

	limits        atomic.Pointer[limitConfig]
	limiter       rateLimiter
	routeInfo     map[string]routeInfo // by pattern; written only by New
	permCacheTTL  atomic.Int64         // nanoseconds; 0 = off
	noIPAllowlist bool

	permMu    sync.Mutex
	permCache map[permKey]permEntry
}

// New builds a server holding fx. kit supplies the clock, counters and
// faults (a nil kit gets a fresh one). Client ids and secrets the fixture
// leaves empty are generated.
func New(kit *devkit.Kit, fx Fixture) (*Server, error) {
	if kit == nil {
		kit = devkit.NewKit()
	}
	if err := fx.validate(); err != nil {
		return nil, err
	}
	s := &Server{kit: kit, permCache: map[permKey]permEntry{}, accessLog: newRing[AccessRecord](accessLogCap), routeInfo: map[string]routeInfo{}}
	s.applySettings(fx.Settings)
	s.audit = newRing[*auditLog](s.auditCap)
	st, err := s.buildState(fx)
	if err != nil {
		return nil, err
	}
	s.st = st
	s.router = devkit.NewRouter(kit, s.fail)
	s.routes()
	s.router.NotFound(s.notFound)
	return s, nil
}

func (s *Server) applySettings(set Settings) {
	s.limits.Store(newLimitConfig(set.RateLimits))
	s.permCacheTTL.Store(int64(time.Duration(set.PermissionCacheSeconds) * time.Second))
	s.noIPAllowlist = set.NoIPAllowlisting
	s.auditCap = set.AuditLogCapacity
	if s.auditCap <= 0 {
		s.auditCap = defaultAuditCapacity
	}
}

// ServeHTTP serves the Infisical API (and devkit's /_dev/ endpoints).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Fastify runs with ignoreTrailingSlash.
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") && !strings.HasPrefix(p, "/_dev/") {
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimRight(p, "/")
		if r2.URL.Path == "" {
			r2.URL.Path = "/"
		}
		r2.URL.RawPath = ""
		r = r2
	}
	s.router.ServeHTTP(w, r)
}

// SetPermissionCache turns Infisical's permission cache on for d (off when
// d is 0). With it on, a permission change takes up to d to show.
func (s *Server) SetPermissionCache(d time.Duration) {
	s.permCacheTTL.Store(int64(d))
	s.permMu.Lock()
	s.permCache = map[permKey]permEntry{}
	s.permMu.Unlock()
}

// routeOpts describe what the wrapper does before a handler runs.
type routeOpts struct {
	auth bool // an identity access token is required
	// optionalBody routes take an absent body as {} (the contract marks their
	// body as not required).
	optionalBody bool
}

// call is one request in flight.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	reqID string
	now   time.Time
	ip    netip.Addr
	actor *actor
	body  any // decoded JSON; undefined when there was none
	query map[string]any
}

type handlerFunc func(c *call) (any, *apiError)

func (s *Server) handle(pattern string, o routeOpts, h handlerFunc) {
	ri := routeInfo{class: classOf(pattern), auth: o.auth}
	s.routeInfo[pattern] = ri
	s.router.Handle(pattern, func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r, reqID: newReqID(), now: s.kit.Clock.Now(), ip: clientIP(r), body: undefined}
		status, resp, apiErr := s.run(c, pattern, ri, o, h)
		if c.actor != nil {
			s.recordAccess(c, pattern, status)
		}
		if apiErr != nil {
			writeAPIError(w, c.reqID, apiErr)
			return
		}
		writeJSON(w, status, resp)
	})
}

// run walks Fastify's lifecycle: onRequest (authentication, then the
// global limiter for routes without a class), parsing, preValidation (the
// route's own limiter), validation and the handler.
func (s *Server) run(c *call, pattern string, ri routeInfo, o routeOpts, h handlerFunc) (int, any, *apiError) {
	if o.auth {
		a, err := s.authenticate(c)
		if err != nil {
			return err.status, nil, err
		}
		c.actor = a
	}
	if ri.class == ClassGlobal {
		if err := s.takeRateLimit(c, pattern, ri); err != nil {
			return err.status, nil, err
		}
	}
	if err := c.readBody(o.optionalBody); err != nil {
		return err.status, nil, err
	}
	if ri.class != ClassGlobal {
		if err := s.takeRateLimit(c, pattern, ri); err != nil {
			return err.status, nil, err
		}
	}
	c.query = queryMap(c.r.URL.Query())
	resp, err := h(c)
	if err != nil {
		return err.status, nil, err
	}
	return http.StatusOK, resp, nil
}

// readBody parses the body as Fastify's content-type parsers do. Their
// failures (invalid JSON, too large, unsupported media type) reach
// Infisical's error handler as unknown errors: 500 "Something went wrong".
func (c *call) readBody(optional bool) *apiError {
	r := c.r
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Body == nil {
		if optional {
			c.body = map[string]any{}
		}
		return nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return errInternal()
	}
	if len(b) == 0 {
		if optional {
			c.body = map[string]any{}
		}
		return nil
	}
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		v, err := decodeJSONValue(b)
		if err != nil {
			return errInternal()
		}
		c.body = v
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(b))
		if err != nil {
			return errInternal()
		}
		c.body = queryMap(vals)
	default:
		return errInternal()
	}
	return nil
}

// validateBody checks the body against sch; a failure is the 422 answer.
func (c *call) validateBody(sch *schema) (map[string]any, *apiError) {
	if issues := sch.check(c.body); len(issues) > 0 {
		return nil, errValidation(issues)
	}
	m := bodyMap(c.body)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func (c *call) validateQuery(sch *schema) (map[string]any, *apiError) {
	if issues := sch.check(c.query); len(issues) > 0 {
		return nil, errValidation(issues)
	}
	return c.query, nil
}

func (c *call) userAgent() string { return c.r.Header.Get("User-Agent") }

// clientIP is Fastify's req.ip with trustProxy: the first X-Forwarded-For
// entry when present, else the peer address. Loopback stays loopback.
func clientIP(r *http.Request) netip.Addr {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		first := strings.TrimSpace(strings.Split(xff, ",")[0])
		if a, err := netip.ParseAddr(first); err == nil {
			return a.Unmap()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap()
	}
	return netip.IPv4Unspecified()
}

// Identifiers.

func newUUID() string { return uuid.NewString() }

const reqIDAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// newReqID is Fastify's genReqId in Infisical: "req-" and 14 alphanumerics.
func newReqID() string {
	b := make([]byte, 4+14)
	copy(b, "req-")
	for i := 4; i < len(b); i++ {
		b[i] = reqIDAlphabet[mrand.IntN(len(reqIDAlphabet))]
	}
	return string(b)
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("infisicalsrv: crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// AccessRecord is one request made with an identity access token, whatever
// its outcome (the audit log, like Infisical's, holds only successes).
type AccessRecord struct {
	Time         time.Time `json:"time"`
	IdentityID   string    `json:"identityId"`
	IdentityName string    `json:"identityName"`
	Method       string    `json:"method"`
	Route        string    `json:"route"`
	Path         string    `json:"path"`
	Status       int       `json:"status"`
	IP           string    `json:"ip"`
}

const accessLogCap = 10000

func (s *Server) recordAccess(c *call, pattern string, status int) {
	rec := AccessRecord{
		Time: c.now, IdentityID: c.actor.identityID, IdentityName: c.actor.identityName,
		Method: c.r.Method, Route: pattern, Path: c.r.URL.Path, Status: status, IP: c.ip.String(),
	}
	s.accessMu.Lock()
	s.accessLog.push(rec)
	s.accessMu.Unlock()
}
