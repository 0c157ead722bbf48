package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Effect is a policy's effect.
type Effect string

// The two effects; a deny policy takes permissions away from the allow
// policies of the same token.
const (
	Allow Effect = "allow"
	Deny  Effect = "deny"
)

// Policy grants (or, with Deny, withholds) permission groups on resources.
// Resources are in Cloudflare's form: a resource key mapped to "*", or an
// account key mapped to a map of zone keys (see the helpers below).
type Policy struct {
	ID               string
	Effect           Effect
	PermissionGroups []PermissionGroup
	Resources        map[string]any
}

// ZoneResources is the resources of a policy on the given zones.
func ZoneResources(zoneIDs ...string) map[string]any {
	out := make(map[string]any, len(zoneIDs))
	for _, id := range zoneIDs {
		out[ScopeZone+"."+id] = "*"
	}
	return out
}

// AccountResources is the resources of a policy on the given accounts
// (for account-scoped groups).
func AccountResources(accountIDs ...string) map[string]any {
	out := make(map[string]any, len(accountIDs))
	for _, id := range accountIDs {
		out[ScopeAccount+"."+id] = "*"
	}
	return out
}

// UserResources is the resources of a policy on the user (for user-scoped
// groups such as API Tokens Write).
func UserResources(userID string) map[string]any {
	return map[string]any{ScopeUser + "." + userID: "*"}
}

// TokenRequest is a token to create.
type TokenRequest struct {
	// Name is at most 120 characters; handoff names tokens after the
	// handoff, which is how it finds them again.
	Name     string
	Policies []Policy
	// NotBefore and ExpiresOn bound the token's validity (unbounded when
	// zero). Cloudflare keeps whole seconds.
	NotBefore time.Time
	ExpiresOn time.Time
	// RequestIPIn and RequestIPNotIn are the token's IP allowlist and
	// denylist (CIDRs or addresses): condition.request.ip.
	RequestIPIn    []string
	RequestIPNotIn []string
}

// Token is a user API token as Cloudflare describes it. Value is set only by
// CreateToken: Cloudflare shows it once. Token prints without the value
// with every fmt verb (Value redacts itself anyway).
type Token struct {
	ID   string
	Name string
	// Status is active, disabled or expired.
	Status     string
	IssuedOn   time.Time
	ModifiedOn time.Time
	LastUsedOn time.Time
	NotBefore  time.Time
	ExpiresOn  time.Time
	Policies   []Policy
	// RequestIPIn and RequestIPNotIn are the token's condition.request.ip.
	RequestIPIn    []string
	RequestIPNotIn []string
	Value          Secret
}

// String describes the token by id, name, status and expiry, never by value.
func (t Token) String() string {
	exp := "never"
	if !t.ExpiresOn.IsZero() {
		exp = t.ExpiresOn.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("cloudflare.Token{%s %q %s, expires %s, value %s}", t.ID, t.Name, t.Status, exp, or(t.Value.String(), "none"))
}

// GoString is String.
func (t Token) GoString() string { return t.String() }

// Format prints String for every verb.
func (t Token) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// LogValue keeps the value out of structured logs.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Verification is GET /user/tokens/verify's answer about a token.
type Verification struct {
	ID        string
	Status    string
	NotBefore time.Time
	ExpiresOn time.Time
}

// Wire forms.

type tokenJSON struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	Status     string       `json:"status"`
	IssuedOn   *time.Time   `json:"issued_on"`
	ModifiedOn *time.Time   `json:"modified_on"`
	LastUsedOn *time.Time   `json:"last_used_on"`
	NotBefore  *time.Time   `json:"not_before"`
	ExpiresOn  *time.Time   `json:"expires_on"`
	Policies   []policyJSON `json:"policies"`
	Condition  *struct {
		RequestIP  *requestIPJSON `json:"request.ip"`
		RequestIP2 *requestIPJSON `json:"request_ip"`
	} `json:"condition"`
	Value string `json:"value"`
}

type policyJSON struct {
	ID               string            `json:"id,omitempty"`
	Effect           string            `json:"effect"`
	Resources        map[string]any    `json:"resources"`
	PermissionGroups []PermissionGroup `json:"permission_groups"`
}

type requestIPJSON struct {
	In    []string `json:"in,omitempty"`
	NotIn []string `json:"not_in,omitempty"`
}

type groupRef struct {
	ID string `json:"id"`
}

type createPolicyJSON struct {
	Effect           string         `json:"effect"`
	Resources        map[string]any `json:"resources"`
	PermissionGroups []groupRef     `json:"permission_groups"`
}

type createJSON struct {
	Name      string             `json:"name"`
	Policies  []createPolicyJSON `json:"policies"`
	NotBefore string             `json:"not_before,omitempty"`
	ExpiresOn string             `json:"expires_on,omitempty"`
	Condition *conditionJSON     `json:"condition,omitempty"`
}

type conditionJSON struct {
	RequestIP requestIPJSON `json:"request.ip"`
}

func (tj *tokenJSON) token() Token {
	t := Token{ID: tj.ID, Name: tj.Name, Status: tj.Status, Value: Secret(tj.Value)}
	for _, p := range []struct {
		dst *time.Time
		src *time.Time
	}{{&t.IssuedOn, tj.IssuedOn}, {&t.ModifiedOn, tj.ModifiedOn}, {&t.LastUsedOn, tj.LastUsedOn}, {&t.NotBefore, tj.NotBefore}, {&t.ExpiresOn, tj.ExpiresOn}} {
		if p.src != nil {
			*p.dst = p.src.UTC()
		}
	}
	for _, p := range tj.Policies {
		t.Policies = append(t.Policies, Policy{ID: p.ID, Effect: Effect(p.Effect), PermissionGroups: p.PermissionGroups, Resources: p.Resources})
	}
	if c := tj.Condition; c != nil {
		rip := c.RequestIP
		if rip == nil {
			rip = c.RequestIP2
		}
		if rip != nil {
			t.RequestIPIn, t.RequestIPNotIn = rip.In, rip.NotIn
		}
	}
	return t
}

var tokenIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

func checkTokenID(id string) error {
	if !tokenIDRe.MatchString(id) {
		return fmt.Errorf("cloudflare: %q is not a token id (32 lowercase hex digits)", id)
	}
	return nil
}

// body validates a request and builds its wire form. Checks mirror
// Cloudflare's, so that a bad spec fails before any request.
func (r TokenRequest) body() (*createJSON, error) {
	name := strings.TrimSpace(r.Name)
	switch {
	case name == "":
		return nil, errors.New("cloudflare: a token needs a name")
	case len([]rune(name)) > 120:
		return nil, fmt.Errorf("cloudflare: token name %q is longer than 120 characters", name)
	case len(r.Policies) == 0:
		return nil, fmt.Errorf("cloudflare: token %q has no policy", name)
	case !r.NotBefore.IsZero() && !r.ExpiresOn.IsZero() && !r.NotBefore.Before(r.ExpiresOn):
		return nil, fmt.Errorf("cloudflare: token %q: not_before must be before expires_on", name)
	}
	b := &createJSON{Name: name}
	for i, p := range r.Policies {
		eff := p.Effect
		if eff == "" {
			eff = Allow
		}
		if eff != Allow && eff != Deny {
			return nil, fmt.Errorf("cloudflare: token %q: policy %d: effect %q is not allow or deny", name, i, p.Effect)
		}
		if len(p.PermissionGroups) == 0 || len(p.Resources) == 0 {
			return nil, fmt.Errorf("cloudflare: token %q: policy %d needs permission groups and resources", name, i)
		}
		cp := createPolicyJSON{Effect: string(eff), Resources: p.Resources}
		for _, g := range p.PermissionGroups {
			if g.ID == "" {
				return nil, fmt.Errorf("cloudflare: token %q: policy %d: permission group %q has no id (resolve it first)", name, i, g.Name)
			}
			cp.PermissionGroups = append(cp.PermissionGroups, groupRef{ID: g.ID})
		}
		b.Policies = append(b.Policies, cp)
	}
	if !r.NotBefore.IsZero() {
		b.NotBefore = r.NotBefore.UTC().Format(time.RFC3339)
	}
	if !r.ExpiresOn.IsZero() {
		b.ExpiresOn = r.ExpiresOn.UTC().Format(time.RFC3339)
	}
	for _, list := range [][]string{r.RequestIPIn, r.RequestIPNotIn} {
		for _, s := range list {
			if _, err := netip.ParsePrefix(s); err != nil {
				if _, err := netip.ParseAddr(s); err != nil {
					return nil, fmt.Errorf("cloudflare: token %q: %q is not an IP address or CIDR", name, s)
				}
			}
		}
	}
	if len(r.RequestIPIn) > 0 || len(r.RequestIPNotIn) > 0 {
		b.Condition = &conditionJSON{RequestIP: requestIPJSON{In: r.RequestIPIn, NotIn: r.RequestIPNotIn}}
	}
	return b, nil
}

// CreateToken creates a token (POST /user/tokens; the client's token needs
// API Tokens Write) and returns it with its value, which Cloudflare shows
// this once. The request is not repeated on a server error: whether the
// token was created is then unknown, and the reconciler finds it by name.
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (Token, error) {
	body, err := req.body()
	if err != nil {
		return Token{}, err
	}
	var out tokenJSON
	if _, err := c.do(ctx, &call{op: fmt.Sprintf("create API token %q", body.Name), method: http.MethodPost, path: "/user/tokens", body: body}, &out); err != nil {
		return Token{}, err
	}
	if out.ID == "" || out.Value == "" {
		return Token{}, fmt.Errorf("cloudflare: create API token %q: the answer holds no id or value", body.Name)
	}
	return out.token(), nil
}

// Token reads a token's metadata (status, policies, validity); IsNotFound
// tells whether it no longer exists.
func (c *Client) Token(ctx context.Context, id string) (Token, error) {
	if err := checkTokenID(id); err != nil {
		return Token{}, err
	}
	var out tokenJSON
	if _, err := c.do(ctx, &call{op: "read API token", method: http.MethodGet, path: "/user/tokens/" + id, tokenID: id}, &out); err != nil {
		return Token{}, err
	}
	t := out.token()
	t.Value = ""
	return t, nil
}

// Tokens lists every token of the user (GET /user/tokens, 50 a page).
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	var all []Token
	for page := 1; ; page++ {
		var out []tokenJSON
		info, err := c.do(ctx, &call{op: "list API tokens", method: http.MethodGet, path: "/user/tokens",
			query: url.Values{"page": {strconv.Itoa(page)}, "per_page": {"50"}}}, &out)
		if err != nil {
			return nil, err
		}
		for i := range out {
			t := out[i].token()
			t.Value = ""
			all = append(all, t)
		}
		if info == nil || len(out) == 0 || page >= info.TotalPages {
			return all, nil
		}
	}
}

// DeleteToken revokes a token at once. A token that is already gone counts
// as revoked: the goal holds.
func (c *Client) DeleteToken(ctx context.Context, id string) error {
	if err := checkTokenID(id); err != nil {
		return err
	}
	// The contract documents a required JSON body on this DELETE.
	_, err := c.do(ctx, &call{op: "delete API token", method: http.MethodDelete, path: "/user/tokens/" + id,
		body: struct{}{}, tokenID: id}, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// VerifyToken asks Cloudflare whether a token works (GET /user/tokens/verify,
// authenticated with that token itself, whatever the client's). A token that
// does not work is an error matching IsInvalidToken.
func (c *Client) VerifyToken(ctx context.Context, value Secret) (Verification, error) {
	if err := checkToken(value); err != nil {
		return Verification{}, err
	}
	var out struct {
		ID        string     `json:"id"`
		Status    string     `json:"status"`
		NotBefore *time.Time `json:"not_before"`
		ExpiresOn *time.Time `json:"expires_on"`
	}
	if _, err := c.do(ctx, &call{op: "verify API token", method: http.MethodGet, path: "/user/tokens/verify", token: value}, &out); err != nil {
		return Verification{}, err
	}
	v := Verification{ID: out.ID, Status: out.Status}
	if out.NotBefore != nil {
		v.NotBefore = out.NotBefore.UTC()
	}
	if out.ExpiresOn != nil {
		v.ExpiresOn = out.ExpiresOn.UTC()
	}
	return v, nil
}

// Self verifies the client's own token (GET /user/tokens/verify) and
// returns what Cloudflare says of it: its id, by which a sweep of tokens
// named for handoffs leaves the provisioner's own token alone.
func (c *Client) Self(ctx context.Context) (Verification, error) {
	return c.VerifyToken(ctx, c.token)
}
