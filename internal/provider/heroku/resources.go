package heroku

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Account is the account a credential acts as.
type Account struct {
	ID    string
	Email string
	Name  string
}

// Account returns the credential's account (GET /account). It needs the
// global or identity scope.
func (c *Client) Account(ctx context.Context) (Account, error) {
	var w struct {
		ID    string  `json:"id"`
		Email string  `json:"email"`
		Name  *string `json:"name"`
	}
	if _, err := c.do(ctx, &call{op: "read account", method: http.MethodGet, path: "/account"}, &w); err != nil {
		return Account{}, err
	}
	a := Account{ID: w.ID, Email: w.Email}
	if w.Name != nil {
		a.Name = *w.Name
	}
	return a, nil
}

// App is an app as the credential sees it.
type App struct {
	ID   string
	Name string
	// Team is the owning team's name, empty for a personal app.
	Team string
	// OwnerEmail is the owner's email (for a team app, Heroku's
	// "<team>@herokumanager.com").
	OwnerEmail string
	Region     string
	WebURL     string
}

type wireApp struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Owner struct {
		Email string `json:"email"`
	} `json:"owner"`
	Team *struct {
		Name string `json:"name"`
	} `json:"team"`
	Region struct {
		Name string `json:"name"`
	} `json:"region"`
	WebURL *string `json:"web_url"`
}

func (w wireApp) app() App {
	a := App{ID: w.ID, Name: w.Name, OwnerEmail: w.Owner.Email, Region: w.Region.Name}
	if w.Team != nil {
		a.Team = w.Team.Name
	}
	if w.WebURL != nil {
		a.WebURL = *w.WebURL
	}
	return a
}

// pageSize is the Range max of every listing: Heroku's largest page, so a
// reach check spends as few of the account's 4,500 hourly requests as it
// can.
const pageSize = 1000

// maxPages bounds a listing against a server that never ends it.
const maxPages = 1000

// Apps returns every app the credential reaches (GET /apps, every page),
// sorted by name: the reach plan holds against the spec's app and the
// policy's allowlist.
func (c *Client) Apps(ctx context.Context) ([]App, error) {
	var out []App
	err := listAll(c, ctx, "list apps", "/apps", fmt.Sprintf("id ..; max=%d", pageSize), func(w wireApp) { out = append(out, w.app()) })
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// listAll reads every page of a list (GET path with Range rng, none when
// empty, then each Next-Range Heroku sends until it answers 200) and hands
// each item to add.
func listAll[T any](c *Client, ctx context.Context, op, path, rng string, add func(T)) error {
	seen := map[string]bool{}
	for range maxPages {
		var page []T
		h, err := c.do(ctx, &call{op: op, method: http.MethodGet, path: path, rng: rng}, &page)
		if err != nil {
			return err
		}
		for _, w := range page {
			add(w)
		}
		next := h.Get("Next-Range")
		if next == "" {
			return nil
		}
		if seen[next] {
			return fmt.Errorf("heroku: %s: the server repeated the range %q", op, next)
		}
		seen[next] = true
		rng = next
	}
	return fmt.Errorf("heroku: %s: more than %d pages", op, maxPages)
}

// App returns one app by name or id (GET /apps/{app}).
func (c *Client) App(ctx context.Context, nameOrID string) (App, error) {
	if err := checkIdent("app", nameOrID); err != nil {
		return App{}, err
	}
	var w wireApp
	if _, err := c.do(ctx, &call{op: "read app", method: http.MethodGet, path: "/apps/" + url.PathEscape(nameOrID), app: nameOrID}, &w); err != nil {
		return App{}, err
	}
	return w.app(), nil
}

// ConfigVars are an app's config vars. The values are secrets: ConfigVars
// prints its names only, with every fmt verb.
type ConfigVars map[string]string

// Names returns the config vars' names, sorted.
func (v ConfigVars) Names() []string {
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// String lists the names with redacted values.
func (v ConfigVars) String() string {
	parts := make([]string, 0, len(v))
	for _, k := range v.Names() {
		parts = append(parts, k+"=[redacted]")
	}
	return "heroku.ConfigVars{" + strings.Join(parts, " ") + "}"
}

// GoString is String.
func (v ConfigVars) GoString() string { return v.String() }

// Format prints String for every verb.
func (v ConfigVars) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(v.String())) }

// LogValue keeps the values out of structured logs.
func (v ConfigVars) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON writes the names with redacted values: config vars never
// reach JSON through this type (range over the map to use the values).
func (v ConfigVars) MarshalJSON() ([]byte, error) {
	out := make(map[string]string, len(v))
	for k := range v {
		out[k] = "[redacted]"
	}
	return json.Marshal(out)
}

// ConfigVars reads an app's config vars (GET /apps/{app}/config-vars). It
// needs the global, read-protected or write-protected scope and the deploy
// or manage permission on the app: the negative tests of a handoff use it
// to prove a token is refused.
func (c *Client) ConfigVars(ctx context.Context, app string) (ConfigVars, error) {
	if err := checkIdent("app", app); err != nil {
		return nil, err
	}
	var w map[string]*string
	if _, err := c.do(ctx, &call{op: "read config vars", method: http.MethodGet, path: "/apps/" + url.PathEscape(app) + "/config-vars", app: app}, &w); err != nil {
		return nil, err
	}
	out := ConfigVars{}
	for k, v := range w {
		if v != nil {
			out[k] = *v
		}
	}
	return out, nil
}

// SetConfigVars updates an app's config vars (PATCH
// /apps/{app}/config-vars): a nil value removes the var. It needs the
// global or write-protected scope and the deploy or manage permission on
// the app: the negative tests of a handoff use it to prove a token cannot
// write what it may only read. The answer (every config var of the app) is
// discarded.
func (c *Client) SetConfigVars(ctx context.Context, app string, vars map[string]*string) error {
	if err := checkIdent("app", app); err != nil {
		return err
	}
	if vars == nil {
		vars = map[string]*string{}
	}
	_, err := c.do(ctx, &call{op: "update config vars", method: http.MethodPatch, path: "/apps/" + url.PathEscape(app) + "/config-vars", body: vars, app: app}, nil)
	return err
}

// AuthorizationRequest describes an OAuth authorization to create.
type AuthorizationRequest struct {
	// Scope is the list of Heroku OAuth scopes: global, identity, read,
	// write, read-protected, write-protected.
	Scope []string
	// Description names the handoff, for the account's authorization list.
	Description string
	// ExpiresIn is the token's lifetime, whole seconds; zero means none
	// (handoff always sets one).
	ExpiresIn time.Duration
}

// Authorization is an OAuth authorization. Token is set only in the result
// of CreateAuthorization (Heroku shows it once); it redacts itself
// everywhere but Token.Reveal.
type Authorization struct {
	ID          string
	Scope       []string `json:"scope"`
	Description string
	Token       Secret `json:"-"`
	// TokenID is the id of the access token (not a secret).
	TokenID string
	// ExpiresIn is the token's remaining life as Heroku reported it; zero
	// when it does not expire.
	ExpiresIn time.Duration
	// ExpiresAt is ExpiresIn counted from when the answer arrived; zero
	// when it does not expire.
	ExpiresAt time.Time
	CreatedAt time.Time
	// UserEmail is the account the authorization acts as.
	UserEmail string
}

type wireAuthorization struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Scope       []string `json:"scope"`
	AccessToken *struct {
		ExpiresIn *int64 `json:"expires_in"`
		ID        string `json:"id"`
		Token     string `json:"token"`
	} `json:"access_token"`
	CreatedAt time.Time `json:"created_at"`
	User      struct {
		Email string `json:"email"`
	} `json:"user"`
}

func (c *Client) authorizationFrom(w *wireAuthorization) Authorization {
	a := Authorization{ID: w.ID, Scope: w.Scope, Description: w.Description, CreatedAt: w.CreatedAt, UserEmail: w.User.Email}
	if t := w.AccessToken; t != nil {
		a.TokenID = t.ID
		a.Token = NewSecret(t.Token)
		if t.ExpiresIn != nil {
			a.ExpiresIn = time.Duration(*t.ExpiresIn) * time.Second
			a.ExpiresAt = c.now().Add(a.ExpiresIn)
		}
	}
	w.AccessToken = nil // drop the only other copy of the token
	return a
}

// String describes the authorization without its token.
func (a Authorization) String() string {
	exp := "never"
	if !a.ExpiresAt.IsZero() {
		exp = a.ExpiresAt.UTC().Format(time.RFC3339)
	}
	tok := "none"
	if !a.Token.IsZero() {
		tok = a.Token.Fingerprint()
	}
	return fmt.Sprintf("heroku.Authorization{%s scope=%s token=%s expires=%s}", a.ID, strings.Join(a.Scope, ","), tok, exp)
}

// GoString is String.
func (a Authorization) GoString() string { return a.String() }

// Format prints String for every verb.
func (a Authorization) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.String())) }

// CreateAuthorization mints an OAuth authorization for the client's
// account (POST /oauth/authorizations); the credential must be global (the
// API key). The returned Token is the only copy: store it in the vault and
// nowhere else. A failed create is not retried (it may have happened).
func (c *Client) CreateAuthorization(ctx context.Context, r AuthorizationRequest) (Authorization, error) {
	if len(r.Scope) == 0 {
		return Authorization{}, fmt.Errorf("heroku: create OAuth authorization: no scope given")
	}
	if r.ExpiresIn < 0 || r.ExpiresIn%time.Second != 0 {
		return Authorization{}, fmt.Errorf("heroku: create OAuth authorization: expires_in %s is not a positive whole number of seconds", r.ExpiresIn)
	}
	body := map[string]any{"scope": r.Scope}
	if r.Description != "" {
		body["description"] = r.Description
	}
	if r.ExpiresIn > 0 {
		body["expires_in"] = int64(r.ExpiresIn / time.Second)
	}
	var w wireAuthorization
	if _, err := c.do(ctx, &call{op: "create OAuth authorization", method: http.MethodPost, path: "/oauth/authorizations", body: body}, &w); err != nil {
		return Authorization{}, err
	}
	a := c.authorizationFrom(&w)
	if a.Token.IsZero() {
		return Authorization{}, fmt.Errorf("heroku: create OAuth authorization %s: the answer holds no access token", a.ID)
	}
	return a, nil
}

// Authorization reads an OAuth authorization by id (its Token is empty:
// Heroku shows tokens only when they are made).
func (c *Client) Authorization(ctx context.Context, id string) (Authorization, error) {
	if err := checkIdent("authorization", id); err != nil {
		return Authorization{}, err
	}
	var w wireAuthorization
	if _, err := c.do(ctx, &call{op: "read OAuth authorization", method: http.MethodGet, path: "/oauth/authorizations/" + url.PathEscape(id)}, &w); err != nil {
		return Authorization{}, err
	}
	a := c.authorizationFrom(&w)
	a.Token = Secret{}
	return a, nil
}

// Authorizations lists the OAuth authorizations of the client's account
// (GET /oauth/authorizations, every page), oldest first (their Tokens are
// empty). The credential must be global (the API key): handoff lists them
// once per plan to find every authorization it made by its description,
// including one a crash left unrecorded.
func (c *Client) Authorizations(ctx context.Context) ([]Authorization, error) {
	var out []Authorization
	// Heroku's schema declares no range fields for this list: the first
	// page is Heroku's default (200), the next ones as Next-Range says.
	err := listAll(c, ctx, "list OAuth authorizations", "/oauth/authorizations", "", func(w wireAuthorization) {
		a := c.authorizationFrom(&w)
		a.Token = Secret{}
		out = append(out, a)
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// DeleteAuthorization revokes an OAuth authorization: its token is refused
// from then on. An authorization already gone counts as deleted.
func (c *Client) DeleteAuthorization(ctx context.Context, id string) error {
	if err := checkIdent("authorization", id); err != nil {
		return err
	}
	_, err := c.do(ctx, &call{op: "delete OAuth authorization", method: http.MethodDelete, path: "/oauth/authorizations/" + url.PathEscape(id)}, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// checkIdent refuses identifiers that would change the request's path.
func checkIdent(kind, s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/?#% \t\r\n") {
		return fmt.Errorf("heroku: %q is not an %s name or id", s, kind)
	}
	return nil
}
