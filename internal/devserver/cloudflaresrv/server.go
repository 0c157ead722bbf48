package cloudflaresrv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// BasePath is where Cloudflare serves API v4: a client's base URL is the
// server's URL followed by BasePath.
const BasePath = "/client/v4"

// Server is the local Cloudflare API. It is an http.Handler, safe for
// concurrent use; build it with New.
type Server struct {
	kit    *devkit.Kit
	router *devkit.Router
	lim    *limiter
	paths  []routePath

	mu sync.RWMutex
	st *state
	// usageMu guards the usage fields of tokens (Uses, LastUsedOn), which
	// requests update while holding mu for reading only.
	usageMu sync.Mutex

	rateLimit  atomic.Int64
	rateWindow atomic.Int64 // nanoseconds
	tokenQuota atomic.Int64
}

// New validates fx and returns a server on kit's clock, counters and faults
// (a nil kit gets a fresh one). Token ids and values the fixture leaves
// empty are generated.
func New(kit *devkit.Kit, fx Fixture) (*Server, error) {
	if kit == nil {
		kit = devkit.NewKit()
	}
	if kit.Clock == nil || kit.Stats == nil || kit.Faults == nil {
		return nil, fmt.Errorf("cloudflaresrv: the kit needs a clock, stats and faults (use devkit.NewKit)")
	}
	if err := fx.validate(); err != nil {
		return nil, err
	}
	st, err := buildState(fx, kit.Clock.Now())
	if err != nil {
		return nil, err
	}
	s := &Server{kit: kit, st: st, lim: newLimiter()}
	s.SetRateLimit(fx.Settings.RateLimit, time.Duration(fx.Settings.RateLimitWindowSeconds)*time.Second)
	s.SetTokenQuota(fx.Settings.TokenQuota)
	s.router = devkit.NewRouter(kit, s.injectedFailure)
	s.routes()
	s.router.NotFound(s.unmatched)
	return s, nil
}

// ServeHTTP serves the API under BasePath (and devkit's /_dev/ endpoints).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Kit returns the clock, counters and faults the server runs on.
func (s *Server) Kit() *devkit.Kit { return s.kit }

// SetRateLimit sets the per-user limit: n requests per window. n = 0
// restores Cloudflare's 1,200, window = 0 its five minutes; n < 0 turns the
// limit off (benchmarks). It also forgets the current windows.
func (s *Server) SetRateLimit(n int, window time.Duration) {
	if n == 0 {
		n = DefaultRateLimit
	}
	if window <= 0 {
		window = DefaultRateLimitWindow
	}
	s.rateLimit.Store(int64(n))
	s.rateWindow.Store(int64(window))
	s.lim.reset()
}

// SetTokenQuota sets how many user API tokens the user may hold: 0 restores
// Cloudflare's 50, a negative n removes the quota.
func (s *Server) SetTokenQuota(n int) {
	if n == 0 {
		n = DefaultTokenQuota
	}
	s.tokenQuota.Store(int64(n))
}

// need is the permission a token route requires on the user.
type need int

const (
	needNone        need = iota
	needTokensRead       // API Tokens Read or Write
	needTokensWrite      // API Tokens Write
)

// route describes what the wrapper does before a handler runs.
type route struct {
	need   need
	verify bool   // refusals are verify's (401 Invalid API Token)
	idName string // a path value that must be a 32-hex identifier
	body   bool   // the route reads a JSON body
}

// call is one request in flight.
type call struct {
	s    *Server
	w    http.ResponseWriter
	r    *http.Request
	now  time.Time
	ip   netip.Addr
	tok  *token
	body any // decoded JSON body; nil when there was none
}

// reply is a successful answer.
type reply struct {
	result   any
	info     *resultInfo
	messages []cfMessage
}

// resultInfo is the pagination block of list answers.
type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

type handlerFunc func(c *call) (*reply, *apiError)

// routePath is a registered route, for telling 405 from 400 on a miss.
type routePath struct {
	method   string
	segments []string
}

func (s *Server) handle(method, path string, rt route, h handlerFunc) {
	full := BasePath + path
	s.paths = append(s.paths, routePath{method: method, segments: strings.Split(full, "/")})
	s.router.Handle(method+" "+full, func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r, now: s.kit.Clock.Now(), ip: peerIP(r)}
		setCommonHeaders(w.Header())
		rep, aerr := s.run(c, rt, h)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		writeReply(w, rep)
	})
}

// run goes through what Cloudflare's API gateway does before a service
// answers: routing (identifier format), authentication, the user's rate
// limit, the token's permission on the user's tokens, the body.
func (s *Server) run(c *call, rt route, h handlerFunc) (*reply, *apiError) {
	if rt.idName != "" && !hexID32.MatchString(c.r.PathValue(rt.idName)) {
		return nil, errBadIdentifier(strings.TrimPrefix(c.r.URL.Path, BasePath))
	}
	if aerr := s.authenticate(c, rt.verify); aerr != nil {
		return nil, aerr
	}
	if aerr := s.takeRateLimit(c); aerr != nil {
		return nil, aerr
	}
	switch rt.need {
	case needTokensRead:
		if !s.holdsOnUser(c.tok, GroupAPITokensRead, GroupAPITokensWrite) {
			return nil, errUnauthorizedTokens()
		}
	case needTokensWrite:
		if !s.holdsOnUser(c.tok, GroupAPITokensWrite) {
			return nil, errUnauthorizedTokens()
		}
	}
	if rt.body {
		if aerr := c.readBody(); aerr != nil {
			return nil, aerr
		}
	}
	return h(c)
}

func (s *Server) holdsOnUser(t *token, names ...string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.holds(t, userTarget(s.st.User.ID), names...)
}

// authenticate finds the request's token and checks that it works now and
// from this address. Chosen: this server holds no Global API Keys, so
// X-Auth-Key credentials are always unknown. Chosen: verify refuses a token
// that does not work (expired, disabled, not yet valid) with 401 rather than
// answering 200 with status "expired" or "disabled", as answers quoted
// publicly for such tokens show "Invalid API Token".
func (s *Server) authenticate(c *call, verify bool) *apiError {
	h := c.r.Header.Get("Authorization")
	if h == "" {
		if c.r.Header.Get("X-Auth-Key") != "" || c.r.Header.Get("X-Auth-Email") != "" {
			if verify {
				// Observed: verify accepts tokens only.
				return newError(http.StatusBadRequest, codeTokenValidation, `Missing "Authorization" header`)
			}
			return errUnknownAPIKey()
		}
		return errMissingAuth()
	}
	scheme, value, ok := strings.Cut(h, " ")
	value = strings.TrimSpace(value)
	if !ok || !strings.EqualFold(scheme, "Bearer") || !tokenValueR.MatchString(value) {
		return errBadAuthHeader()
	}
	fpr := fingerprint(value)
	s.mu.RLock()
	t := s.st.tokenByFpr[fpr]
	usable := t != nil && t.usable(c.now)
	allowed := usable && t.allowsIP(c.ip)
	s.mu.RUnlock()
	switch {
	case !usable && verify:
		return errVerifyInvalid()
	case !usable:
		return errInvalidToken()
	case !allowed && verify:
		return errVerifyInvalid()
	case !allowed:
		return errLocation(c.ip.String())
	}
	c.tok = t
	now := c.now
	s.usageMu.Lock()
	t.Uses++
	t.LastUsedOn = &now
	s.usageMu.Unlock()
	return nil
}

// takeRateLimit counts the request against its user's limit.
func (s *Server) takeRateLimit(c *call) *apiError {
	limit := int(s.rateLimit.Load())
	if limit < 0 {
		return nil
	}
	window := time.Duration(s.rateWindow.Load())
	res := s.lim.take(s.userID(), limit, window, c.now)
	setRateHeaders(c.w.Header(), res)
	if !res.ok {
		return errRateLimited(limit, window)
	}
	return nil
}

func (s *Server) userID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.User.ID
}

// readBody decodes the JSON body, if any. Cloudflare reads JSON whatever the
// Content-Type says.
func (c *call) readBody() *apiError {
	if c.r.Body == nil {
		return nil
	}
	b, err := io.ReadAll(c.r.Body)
	if err != nil {
		return errMalformedJSON()
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return errMalformedJSON()
	}
	if _, err := dec.Token(); err != io.EOF {
		return errMalformedJSON()
	}
	c.body = v
	return nil
}

// bodyObject returns the body as an object (an absent body is empty).
func (c *call) bodyObject() (map[string]any, *apiError) {
	if c.body == nil {
		return map[string]any{}, nil
	}
	m, ok := c.body.(map[string]any)
	if !ok {
		return nil, errMalformedJSON()
	}
	return m, nil
}

// peerIP is the address the connection comes from.
func peerIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap()
	}
	return netip.IPv4Unspecified()
}

// Answers.

type envelope struct {
	Result     any         `json:"result"`
	Success    bool        `json:"success"`
	Errors     []cfMessage `json:"errors"`
	Messages   []cfMessage `json:"messages"`
	ResultInfo *resultInfo `json:"result_info,omitempty"`
}

func setCommonHeaders(h http.Header) {
	h.Set("Content-Type", "application/json")
	h.Set("Cf-Ray", newRayID())
}

// newRayID is shaped like Cloudflare's cf-ray: 16 hex digits and a
// location ("DEV" here).
func newRayID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "-DEV"
}

func writeReply(w http.ResponseWriter, rep *reply) {
	env := envelope{Result: rep.result, Success: true, Errors: []cfMessage{}, Messages: rep.messages, ResultInfo: rep.info}
	if env.Messages == nil {
		env.Messages = []cfMessage{}
	}
	writeJSON(w, http.StatusOK, env)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, envelope{Success: false, Errors: e.errs, Messages: []cfMessage{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"result":null,"success":false,"errors":[{"code":5000,"message":"Internal Server Error"}],"messages":[]}`)
	}
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// injectedFailure is the devkit.FailFunc: an injected status answered in
// Cloudflare's envelope.
func (s *Server) injectedFailure(w http.ResponseWriter, r *http.Request, status int) {
	setCommonHeaders(w.Header())
	writeError(w, errInjected(status))
}

// unmatched answers a request no route takes: 405 when the path exists
// with another method, else Cloudflare's "No route for that URI".
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	setCommonHeaders(w.Header())
	segs := strings.Split(r.URL.Path, "/")
	for _, p := range s.paths {
		if p.method != r.Method && segmentsMatch(p.segments, segs) {
			writeError(w, errMethodNotAllowed(r.Method))
			return
		}
	}
	writeError(w, errNoRoute())
}

func segmentsMatch(pattern, segs []string) bool {
	if len(pattern) != len(segs) {
		return false
	}
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if p != segs[i] {
			return false
		}
	}
	return true
}

// routes registers every emulated operation. The first nine are the
// contract's (shared/contracts/cloudflare.openapi.json); the zone and DNS
// routes below them are outside it (see the package documentation).
func (s *Server) routes() {
	s.handle("GET", "/user/tokens", route{need: needTokensRead}, s.listTokens)
	s.handle("POST", "/user/tokens", route{need: needTokensWrite, body: true}, s.createToken)
	s.handle("GET", "/user/tokens/verify", route{verify: true}, s.verifyToken)
	s.handle("GET", "/user/tokens/permission_groups", route{need: needTokensRead}, s.listPermissionGroups)
	s.handle("GET", "/user/tokens/{token_id}", route{need: needTokensRead, idName: "token_id"}, s.getToken)
	s.handle("PUT", "/user/tokens/{token_id}", route{need: needTokensWrite, idName: "token_id", body: true}, s.updateToken)
	s.handle("DELETE", "/user/tokens/{token_id}", route{need: needTokensWrite, idName: "token_id"}, s.deleteToken)
	s.handle("PUT", "/user/tokens/{token_id}/value", route{need: needTokensWrite, idName: "token_id", body: true}, s.rollToken)
	s.handle("GET", "/zones", route{}, s.listZones)

	s.handle("GET", "/zones/{zone_id}", route{idName: "zone_id"}, s.getZone)
	s.handle("GET", "/zones/{zone_id}/dns_records", route{idName: "zone_id"}, s.listDNSRecords)
	s.handle("POST", "/zones/{zone_id}/dns_records", route{idName: "zone_id", body: true}, s.createDNSRecord)
}

// Time in answers: tokens carry whole seconds, zones and records
// microseconds, as Cloudflare writes them.
func tokenTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
func zoneTime(t time.Time) string  { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
