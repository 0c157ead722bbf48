package herokusrv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// Server is the local Heroku Platform API (version 3). It is an
// http.Handler, safe for concurrent use; build it with New.
type Server struct {
	kit    *devkit.Kit
	router *devkit.Router
	lim    *limiter

	mu sync.RWMutex
	w  *world

	// patterns are the registered routes, for tests that hold them against
	// the contract's links.
	patterns []string
	notFound http.HandlerFunc
}

// New validates fx and returns a server on kit's clock, counters and faults
// (a nil kit gets a fresh one). API keys the fixture leaves empty are
// generated.
func New(kit *devkit.Kit, fx Fixture) (*Server, error) {
	if kit == nil {
		kit = devkit.NewKit()
	}
	if kit.Clock == nil || kit.Stats == nil || kit.Faults == nil {
		return nil, errors.New("herokusrv: the kit needs a clock, stats and faults (use devkit.NewKit)")
	}
	w, err := buildWorld(fx)
	if err != nil {
		return nil, err
	}
	s := &Server{kit: kit, w: w, lim: newLimiter(fx.RateLimit)}
	s.router = devkit.NewRouter(kit, s.injectedFailure)
	s.routes()
	s.notFound = s.wrap("unmatched", endpoint{public: true, h: func(*call) (int, any, *apiError) {
		return 0, nil, errNotFound(msgNoEndpoint)
	}})
	s.router.NotFound(s.notFound)
	return s, nil
}

// ServeHTTP answers one request as api.heroku.com would; /_dev/ paths reach
// the kit's control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Kit returns the clock, counters and faults the server runs on.
func (s *Server) Kit() *devkit.Kit { return s.kit }

// SetRateLimiting turns the per-account rate limit on or off (it is on
// unless the fixture disabled it).
func (s *Server) SetRateLimiting(on bool) {
	s.mu.Lock()
	s.w.rate.Disabled = !on
	set := s.w.rate
	s.mu.Unlock()
	s.lim.configure(set)
}

// endpoint is a route's behaviour.
type endpoint struct {
	cap    capability
	public bool // no credential needed (only the unmatched-route answer)
	write  bool // takes the state's write lock
	h      func(*call) (int, any, *apiError)
}

// call is one request being answered.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	now   time.Time
	reqID string
	cred  *credential
	body  any // decoded JSON body; nil when there was none
}

func (s *Server) handle(pattern string, ep endpoint) {
	s.patterns = append(s.patterns, pattern)
	s.router.Handle(pattern, s.wrap(pattern, ep))
}

// wrap runs what every answer goes through: Heroku's headers, the API
// version check, authentication, the account's rate limit, then the
// handler.
func (s *Server) wrap(pattern string, ep endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r, now: s.kit.Clock.Now(), reqID: uuid.NewString()}
		setCommonHeaders(w.Header(), c.reqID)
		if !ep.public {
			if aerr := checkVersion(r); aerr != nil {
				s.setRemaining(w, r, c.now, nil)
				c.fail(aerr)
				return
			}
		}
		if ep.write {
			s.mu.Lock()
			defer s.mu.Unlock()
		} else {
			s.mu.RLock()
			defer s.mu.RUnlock()
		}
		cred, aerr := s.w.authenticate(r, c.now)
		if aerr != nil && !ep.public {
			// A request without a valid credential still spends a token,
			// from its client address's pool.
			remaining, ok := s.lim.take(ipKey(r), c.now)
			w.Header().Set("RateLimit-Remaining", strconv.Itoa(remaining))
			if !ok {
				c.fail(errRateLimit())
				return
			}
			c.fail(aerr)
			return
		}
		c.cred = cred
		key := ipKey(r)
		if cred != nil {
			key = "account:" + cred.account.ID
		}
		remaining, ok := s.lim.take(key, c.now)
		w.Header().Set("RateLimit-Remaining", strconv.Itoa(remaining))
		if !ok {
			c.fail(errRateLimit())
			return
		}
		if !ep.public && !cred.allows(ep.cap) {
			c.fail(scopeError(ep.cap))
			return
		}
		if aerr := c.readBody(); aerr != nil {
			c.fail(aerr)
			return
		}
		status, v, aerr := ep.h(c)
		if aerr != nil {
			c.fail(aerr)
			return
		}
		c.respond(status, v)
	}
}

func setCommonHeaders(h http.Header, reqID string) {
	h.Set("Content-Type", "application/json")
	h.Set("Request-Id", reqID)
	h.Set("Vary", "Accept, Accept-Encoding, Authorization")
}

// checkVersion requires the version 3 media type, as Heroku does: an Accept
// header without it (or none) is 400 missing_version; another version is
// 406. Variants such as "version=3.sdk" are version 3.
func checkVersion(r *http.Request) *apiError {
	accept := r.Header.Values("Accept")
	sawVersion := false
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != "application/vnd.heroku+json" {
				continue
			}
			v, ok := params["version"]
			if !ok {
				continue
			}
			sawVersion = true
			if v == "3" || strings.HasPrefix(v, "3.") {
				return nil
			}
		}
	}
	if sawVersion {
		return errNotAcceptable()
	}
	return errMissingVersion()
}

// setRemaining writes RateLimit-Remaining for an answer that spends no
// token (the credential's pool when it has a valid one).
func (s *Server) setRemaining(w http.ResponseWriter, r *http.Request, now time.Time, cred *credential) {
	key := ipKey(r)
	if cred == nil {
		s.mu.RLock()
		cr, _ := s.w.authenticate(r, now)
		s.mu.RUnlock()
		cred = cr
	}
	if cred != nil {
		key = "account:" + cred.account.ID
	}
	w.Header().Set("RateLimit-Remaining", strconv.Itoa(s.lim.remaining(key, now)))
}

// ipKey names the pool of a request without a valid credential.
func ipKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host
}

// readBody decodes a JSON request body. Heroku answers a body it cannot
// parse with 400 bad_request.
func (c *call) readBody() *apiError {
	if c.r.Body == nil || c.r.Method == http.MethodGet || c.r.Method == http.MethodDelete || c.r.Method == http.MethodHead {
		return nil
	}
	b, err := io.ReadAll(c.r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBadRequest("Request body too large.")
		}
		return errBadRequest("Unable to read the request body.")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return errBadRequest("Unable to parse the request body as JSON.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errBadRequest("Unable to parse the request body as JSON.")
	}
	c.body = v
	return nil
}

// object returns the body as a JSON object ({} when there was none).
func (c *call) object() (map[string]any, *apiError) {
	if c.body == nil {
		return map[string]any{}, nil
	}
	m, ok := c.body.(map[string]any)
	if !ok {
		return nil, errInvalidParams("Request body must be a JSON object.")
	}
	return m, nil
}

// respond writes v with status. A GET answered 200 or 206 carries an ETag,
// and a matching If-None-Match gets 304 Not Modified with no body.
func (c *call) respond(status int, v any) {
	body, err := marshal(v)
	if err != nil {
		c.fail(errInternal())
		return
	}
	h := c.w.Header()
	if c.r.Method == http.MethodGet && (status == http.StatusOK || status == http.StatusPartialContent) {
		sum := sha256.Sum256(body)
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		h.Set("ETag", etag)
		if inm := c.r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
			h.Del("Content-Type")
			c.w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// fail writes e in Heroku's error shape.
func (c *call) fail(e *apiError) { writeError(c.w, e) }

func writeError(w http.ResponseWriter, e *apiError) {
	var v any = struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}{e.id, e.message}
	if e.legacyShape {
		v = struct {
			ID    string `json:"id"`
			Error string `json:"error"`
		}{e.id, e.message}
	}
	body, _ := marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// marshal encodes v without HTML escaping.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// injectedFailure is the devkit.FailFunc: Heroku's own answer for an
// injected error status, with the caller's RateLimit-Remaining.
func (s *Server) injectedFailure(w http.ResponseWriter, r *http.Request, status int) {
	now := s.kit.Clock.Now()
	setCommonHeaders(w.Header(), uuid.NewString())
	s.setRemaining(w, r, now, nil)
	if status == http.StatusTooManyRequests {
		w.Header().Set("RateLimit-Remaining", "0")
	}
	writeError(w, errorFor(status))
}
