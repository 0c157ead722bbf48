package githubsrv

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWT rules of GitHub: at most ten minutes between `iat` and `exp`, and up
// to a minute of clock drift on `iat`.
const (
	MaxJWTLifetime = 10 * time.Minute
	JWTClockSkew   = 60 * time.Second
)

// credKind is who a request authenticated as.
type credKind int

const (
	anonymous    credKind = iota // no Authorization header
	appJWT                       // the App, with a JWT
	installation                 // an installation access token
	actionsToken                 // a workflow's GITHUB_TOKEN
)

// credential is the authenticated caller of one request. It holds copies, so
// it stays valid when the world is replaced by RestoreState mid-request.
type credential struct {
	kind credKind
	// inst and token are set for installation tokens.
	inst  *Installation
	token installationToken
	// actions is set for Actions tokens.
	actions *ActionsToken
	// fpr is the token's fingerprint (tokens only).
	fpr string
	// perms are the token's permissions (nil for anonymous and the App).
	perms map[string]string
	// rateKey names the credential's rate-limit windows; limit is its
	// hourly limit and limitMsg what GitHub says when it is exhausted.
	rateKey  string
	limit    int
	limitMsg string
	// expiresAt is sent as GitHub-Authentication-Token-Expiration.
	expiresAt time.Time
}

// authPolicy is what an endpoint accepts.
type authPolicy int

const (
	authOptional authPolicy = iota // anyone; a bad credential is still 401
	authJWT                        // the App's JWT only
	authToken                      // an installation or Actions token only
)

// authenticate reads the Authorization header. It returns the caller, or the
// 401 GitHub gives for a bad credential or for none where one is required.
// A valid JWT on an endpoint that wants a token is returned as a credential;
// the endpoint decides how to refuse it.
func (s *Server) authenticate(r *http.Request, policy authPolicy, now time.Time) (*credential, *apiError) {
	header := strings.TrimSpace(r.Header.Get("Authorization"))
	if header == "" {
		switch policy {
		case authJWT:
			return nil, errJWT(msgJWTUndecodable)
		case authToken:
			return nil, &apiError{status: http.StatusUnauthorized, message: msgRequiresAuth}
		}
		return s.anonymous(r), nil
	}
	scheme, value, _ := strings.Cut(header, " ")
	value = strings.TrimSpace(value)
	scheme = strings.ToLower(scheme)
	if scheme != "bearer" && scheme != "token" || value == "" {
		if policy == authJWT {
			return nil, errJWT(msgJWTUndecodable)
		}
		return nil, errBadCredentials()
	}
	if scheme == "bearer" && strings.Count(value, ".") == 2 {
		s.mu.RLock()
		w := s.w
		s.mu.RUnlock()
		if e := verifyJWT(w, value, now); e != nil {
			return nil, e
		}
		return &credential{
			kind:     appJWT,
			rateKey:  "app:" + strconv.FormatInt(w.app.ID, 10),
			limit:    w.limits.AppPerHour,
			limitMsg: fmt.Sprintf("API rate limit exceeded for app ID %d.", w.app.ID),
		}, nil
	}
	if policy == authJWT {
		return nil, errJWT(msgJWTUndecodable)
	}
	return s.tokenCredential(value, now)
}

// anonymous is the credential of a request with no Authorization header,
// rate limited per client address.
func (s *Server) anonymous(r *http.Request) *credential {
	ip := clientIP(r)
	s.mu.RLock()
	limit := s.w.limits.UnauthenticatedPerHour
	s.mu.RUnlock()
	return &credential{
		kind:     anonymous,
		rateKey:  "ip:" + ip,
		limit:    limit,
		limitMsg: "API rate limit exceeded for " + ip + ". (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
	}
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// tokenCredential looks a token up by its fingerprint. Unknown, expired and
// revoked tokens all get "Bad credentials", as on GitHub.
func (s *Server) tokenCredential(tok string, now time.Time) (*credential, *apiError) {
	fpr := fingerprint(tok)
	s.mu.RLock()
	defer s.mu.RUnlock()
	w := s.w
	if t := w.tokenByFpr[fpr]; t != nil {
		inst := w.installByID[t.InstallationID]
		if !t.live(now) || inst == nil {
			return nil, errBadCredentials()
		}
		return &credential{
			kind:      installation,
			fpr:       fpr,
			inst:      inst,
			token:     *t,
			perms:     t.Permissions,
			rateKey:   "installation:" + strconv.FormatInt(inst.ID, 10),
			limit:     w.limits.InstallationPerHour,
			limitMsg:  fmt.Sprintf("API rate limit exceeded for installation ID %d.", inst.ID),
			expiresAt: t.ExpiresAt,
		}, nil
	}
	if a := w.actionsByHash[fpr]; a != nil {
		if expired(a.ExpiresAt, now) || a.RevokedAt != nil {
			return nil, errBadCredentials()
		}
		c := &credential{
			kind:     actionsToken,
			fpr:      fpr,
			actions:  a,
			perms:    a.Permissions,
			rateKey:  "actions:" + lower(a.Repository),
			limit:    w.limits.ActionsPerHour,
			limitMsg: fmt.Sprintf("API rate limit exceeded for installation ID %d.", a.InstallationID),
		}
		if a.ExpiresAt != nil {
			c.expiresAt = *a.ExpiresAt
		}
		return c, nil
	}
	return nil, errBadCredentials()
}

// covers reports whether the credential's token was granted repository r.
func (c *credential) covers(w *world, r *Repository) bool {
	switch c.kind {
	case installation:
		if !w.covers(c.inst, r) {
			return false
		}
		if c.token.RepositoryIDs == nil {
			return true
		}
		for _, id := range c.token.RepositoryIDs {
			if id == r.ID {
				return true
			}
		}
		return false
	case actionsToken:
		return strings.EqualFold(c.actions.Repository, r.Owner+"/"+r.Name)
	}
	return false
}

// publicReadPerms are what any caller may do on a public repository it was
// not granted.
var publicReadPerms = map[string]string{"contents": "read", "issues": "read", "metadata": "read", "pull_requests": "read"}

// repoPerms returns the caller's permissions on r, or nil when r is invisible
// to it (GitHub then answers 404, never 403, so as not to reveal that a
// private repository exists).
func (c *credential) repoPerms(w *world, r *Repository) map[string]string {
	if c.covers(w, r) {
		return c.perms
	}
	if !r.Private {
		return publicReadPerms
	}
	return nil
}

// verifyJWT checks an App JWT as GitHub does: RS256 only, `iss` the App id or
// client id, a valid signature, `exp` numeric and in the future, `iat` an
// integer not more than JWTClockSkew in the future, and at most
// MaxJWTLifetime between `iat` and `exp` and between now and `exp`.
func verifyJWT(w *world, raw string, now time.Time) *apiError {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}), jwt.WithJSONNumber(), jwt.WithoutClaimsValidation())
	claims := jwt.MapClaims{}
	var issuerErr *apiError
	_, err := parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		if e := checkIssuer(w, claims["iss"]); e != nil {
			issuerErr = e
			return nil, errors.New(e.message)
		}
		return &w.key.PublicKey, nil
	})
	if issuerErr != nil {
		return issuerErr
	}
	if err != nil {
		return errJWT(msgJWTUndecodable)
	}
	exp, ok := claimNumber(claims["exp"])
	if !ok || exp <= float64(now.Unix()) {
		return errJWT(msgJWTExp)
	}
	iat, ok := claimNumber(claims["iat"])
	if !ok || iat != math.Trunc(iat) || iat > float64(now.Add(JWTClockSkew).Unix()) {
		return errJWT(msgJWTIat)
	}
	if exp-iat > MaxJWTLifetime.Seconds() || exp > float64(now.Add(MaxJWTLifetime).Unix()) {
		return errJWT(msgJWTExpTooFar)
	}
	return nil
}

// checkIssuer accepts the App id (a number or a numeric string) or the App's
// client id.
func checkIssuer(w *world, iss any) *apiError {
	var s string
	switch v := iss.(type) {
	case nil:
		return errJWT(msgJWTIssMissing)
	case json.Number:
		s = v.String()
	case string:
		if v == w.app.ClientID && v != "" {
			return nil
		}
		s = v
	default:
		return errJWT(msgJWTIssNotInteger)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errJWT(msgJWTIssNotInteger)
	}
	if id != w.app.ID {
		return newError(http.StatusNotFound, msgIntegrationAbsent)
	}
	return nil
}

// claimNumber reads a numeric claim.
func claimNumber(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}
