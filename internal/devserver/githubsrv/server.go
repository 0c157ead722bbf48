package githubsrv

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// GHESPrefix is the path prefix under which GitHub Enterprise Server serves
// its REST API; the server answers there as well as at the root.
const GHESPrefix = "/api/v3"

// Server is the local GitHub REST API. It is safe for concurrent use.
type Server struct {
	kit    *devkit.Kit
	router *devkit.Router
	lim    *limiter

	// notFound answers what no route matches.
	notFound http.HandlerFunc

	mu sync.RWMutex
	w  *world

	reqPrefix [3]uint32
	reqSeq    atomic.Uint64
}

// New validates fx and returns a server on kit's clock, counters and faults
// (a nil kit gets a fresh one). When fx.App.PrivateKeyPEM is empty it
// generates the App's RSA key, and it generates the Actions tokens left
// empty.
func New(kit *devkit.Kit, fx Fixture) (*Server, error) {
	if kit == nil {
		kit = devkit.NewKit()
	}
	if kit.Clock == nil || kit.Stats == nil || kit.Faults == nil {
		return nil, fmt.Errorf("githubsrv: the kit needs a clock, stats and faults (use devkit.NewKit)")
	}
	w, err := buildWorld(fx)
	if err != nil {
		return nil, err
	}
	s := &Server{kit: kit, w: w, lim: newLimiter()}
	var seed [12]byte
	_, _ = rand.Read(seed[:])
	s.reqPrefix = [3]uint32{
		binary.BigEndian.Uint32(seed[0:4]) & 0xFFFF,
		binary.BigEndian.Uint32(seed[4:8]) & 0xFFFFFF,
		binary.BigEndian.Uint32(seed[8:12]) & 0xFFFFFFF,
	}
	s.router = devkit.NewRouter(kit, s.injectedFailure, GHESPrefix)
	s.routes()
	s.notFound = s.wrap(endpoint{doc: docREST, route: "unmatched", h: func(c *call) { c.fail(errNotFound()) }})
	s.router.NotFound(s.notFound)
	return s, nil
}

// ServeHTTP answers one request, as api.github.com would, or under
// GHESPrefix as a GitHub Enterprise Server would; /_dev/ paths reach the
// kit's control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// GitHub dates its answers on its own clock; ours is the kit's (net/http
	// would write the machine's time), so that a client reading a reset or
	// a Retry-After against Date stays on the emulated time.
	w.Header().Set("Date", s.kit.Clock.Now().UTC().Format(http.TimeFormat))
	// net/http's mux would redirect a path such as //app/../meta to its
	// clean form with an HTML page; GitHub has no such route.
	if p := r.URL.Path; !strings.HasPrefix(p, "/_dev/") && !isClean(p) {
		s.kit.Stats.Record("unmatched")
		s.notFound(w, r)
		return
	}
	s.router.ServeHTTP(w, r)
}

// isClean reports whether p is a rooted path with no empty, "." or ".."
// segment (a trailing slash is allowed).
func isClean(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
		return false
	}
	c := path.Clean(p)
	return c == p || c+"/" == p
}

// Kit returns the clock, counters and faults the server runs on.
func (s *Server) Kit() *devkit.Kit { return s.kit }

// endpoint is a route's behaviour: its documentation link (GitHub's
// documentation_url), who may call it, and the handler.
type endpoint struct {
	doc  string
	auth authPolicy
	// jwtRefusal is the 403 message a valid App JWT gets on an endpoint that
	// wants an installation token.
	jwtRefusal string
	// free endpoints do not count against the primary rate limit (GET
	// /rate_limit, DELETE /installation/token).
	free bool
	// route names the endpoint for its secondary (points) limit: the
	// pattern it is registered with, without the GHES prefix.
	route string
	h     func(*call)
}

// handle registers an endpoint on the router.
func (s *Server) handle(pattern string, ep endpoint) {
	ep.route = pattern
	s.router.Handle(pattern, s.wrap(ep))
}

// wrap runs what every GitHub answer goes through: common headers,
// authentication, the primary rate limit, the secondary limits on
// concurrency and on points per endpoint, then the handler.
func (s *Server) wrap(ep endpoint) http.HandlerFunc {
	if ep.jwtRefusal == "" {
		ep.jwtRefusal = msgNotAccessible
	}
	return func(w http.ResponseWriter, r *http.Request) {
		c := s.newCall(w, r, &ep)
		cred, aerr := s.authenticate(r, ep.auth, c.now)
		if aerr != nil {
			// GitHub counts a failed authentication against the client's
			// address; it does not refuse it for that.
			anon := s.anonymous(r)
			win, _ := s.lim.primaryUse(anon.rateKey, anon.limit, c.now, true)
			setRateHeaders(w.Header(), win)
			c.fail(aerr)
			return
		}
		c.cred = cred
		win, ok := s.lim.primaryUse(cred.rateKey, cred.limit, c.now, !ep.free)
		setRateHeaders(w.Header(), win)
		if !ok {
			c.fail(&apiError{status: http.StatusForbidden, message: cred.limitMsg, doc: docRateLimit})
			return
		}
		s.mu.RLock()
		lim := s.w.limits
		s.mu.RUnlock()
		if !s.lim.acquire(cred.rateKey, lim.ConcurrentRequests) {
			c.fail(c.secondaryError(http.StatusForbidden, 0))
			return
		}
		defer s.lim.release(cred.rateKey)
		if pw, ok := s.lim.pointsUse(cred.rateKey+" "+ep.route, lim.EndpointPointsPerMinute, pointCost(r.Method), c.now); !ok {
			c.fail(c.secondaryError(http.StatusForbidden, pw.Reset-c.now.Unix()))
			return
		}
		if !cred.expiresAt.IsZero() {
			w.Header().Set("Github-Authentication-Token-Expiration", cred.expiresAt.UTC().Format("2006-01-02 15:04:05 UTC"))
		}
		if ep.auth == authToken && cred.kind == appJWT {
			c.fail(newError(http.StatusForbidden, ep.jwtRefusal))
			return
		}
		ep.h(c)
	}
}

// call is one request being answered.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	ep    *endpoint
	cred  *credential
	now   time.Time
	reqID string
	// api is the base of API URLs in answers (scheme, host and, for a
	// request under GHESPrefix, the prefix); web the base of html URLs.
	api string
	web string
}

func (s *Server) newCall(w http.ResponseWriter, r *http.Request, ep *endpoint) *call {
	c := &call{s: s, w: w, r: r, ep: ep, now: s.kit.Clock.Now(), reqID: s.requestID()}
	setCommonHeaders(w.Header(), c.reqID)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := scheme + "://" + r.Host
	c.api = host
	if strings.HasPrefix(r.URL.Path, GHESPrefix+"/") {
		c.api += GHESPrefix
	}
	s.mu.RLock()
	c.web = s.w.web
	s.mu.RUnlock()
	if c.web == "" {
		c.web = host
	}
	return c
}

func setCommonHeaders(h http.Header, reqID string) {
	h["Content-Type"] = []string{"application/json; charset=utf-8"}
	h["X-Github-Request-Id"] = []string{reqID}
	h["X-Github-Media-Type"] = []string{"github.v3; format=json"}
	h["X-Github-Api-Version-Selected"] = []string{"2022-11-28"}
}

// requestID returns an id shaped like GitHub's X-GitHub-Request-Id
// ("C0DE:1A2B3C:4D5E6F7:8A9B0C1:65F0A1B2").
func (s *Server) requestID() string {
	n := s.reqSeq.Add(1)
	return fmt.Sprintf("%04X:%06X:%07X:%07X:%08X", s.reqPrefix[0], s.reqPrefix[1], s.reqPrefix[2], n&0xFFFFFFF, uint32(s.kit.Clock.Now().Unix()))
}

// json writes v with status.
func (c *call) json(status int, v any) {
	body, err := marshal(v)
	if err != nil {
		c.fail(newError(http.StatusInternalServerError, "Server Error"))
		return
	}
	c.write(status, body)
}

func (c *call) write(status int, body []byte) {
	c.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

// marshal encodes v as GitHub does, without escaping HTML characters.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ok answers 200 with v and GitHub's caching headers, or 304 Not Modified
// when the client's If-None-Match names the same entity tag; like GitHub, a
// 304 is not counted against the rate limit.
func (c *call) ok(v any) {
	body, err := marshal(v)
	if err != nil {
		c.fail(newError(http.StatusInternalServerError, "Server Error"))
		return
	}
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	h := c.w.Header()
	h.Set("Etag", etag)
	h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	if inm := c.r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		if !c.ep.free {
			setRateHeaders(h, c.s.lim.refund(c.cred.rateKey))
		}
		c.w.WriteHeader(http.StatusNotModified)
		return
	}
	c.write(http.StatusOK, body)
}

// etagMatches compares If-None-Match with an entity tag, weakly.
func etagMatches(header, etag string) bool {
	weak := func(t string) string { return strings.TrimPrefix(strings.TrimSpace(t), "W/") }
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == "*" || weak(t) == weak(etag) {
			return true
		}
	}
	return false
}

// noContent answers 204.
func (c *call) noContent() { c.w.WriteHeader(http.StatusNoContent) }

// fail writes e in GitHub's error shape.
func (c *call) fail(e *apiError) { writeError(c.w, e, c.ep.doc) }

// injectedFailure is the devkit.FailFunc: the answer to a fault injected
// with a status, shaped like GitHub's own answer with that status and
// carrying the caller's rate-limit headers.
func (s *Server) injectedFailure(w http.ResponseWriter, r *http.Request, status int) {
	now := s.kit.Clock.Now()
	reqID := s.requestID()
	setCommonHeaders(w.Header(), reqID)
	key, limit := s.peekCredential(r)
	win, _ := s.lim.primaryUse(key, limit, now, false)
	setRateHeaders(w.Header(), win)
	e := &apiError{status: status, message: injectedMessage(status, reqID)}
	switch status {
	case http.StatusForbidden, http.StatusTooManyRequests:
		e.doc = docSecondaryLimits
	case http.StatusGone:
		e.doc = docIssuesDisabled
	}
	writeError(w, e, docREST)
}

// peekCredential names the rate-limit window of a request without verifying
// its credential, for answers that must not depend on it.
func (s *Server) peekCredential(r *http.Request) (string, int) {
	_, value, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	value = strings.TrimSpace(value)
	s.mu.RLock()
	defer s.mu.RUnlock()
	w := s.w
	if value != "" {
		if strings.Count(value, ".") == 2 {
			return "app:" + strconv.FormatInt(w.app.ID, 10), w.limits.AppPerHour
		}
		fpr := fingerprint(value)
		if t := w.tokenByFpr[fpr]; t != nil {
			return "installation:" + strconv.FormatInt(t.InstallationID, 10), w.limits.InstallationPerHour
		}
		if a := w.actionsByHash[fpr]; a != nil {
			return "actions:" + lower(a.Repository), w.limits.ActionsPerHour
		}
	}
	return "ip:" + clientIP(r), w.limits.UnauthenticatedPerHour
}
