package heroku

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	hk "github.com/raxx-app/handoff/internal/provider/heroku"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/vault"
)

// Step names.
const (
	StepCreate      = "create OAuth authorization"
	StepRevoke      = "revoke OAuth authorization"
	StepRevokeStray = "revoke leftover OAuth authorization"
)

// expirySlack is how far past the handoff's expiry a token's recorded
// expiry may be before verify calls it a scope violation: Heroku counts
// expires_in from when it answers, a moment after the request's Now.
const expirySlack = time.Minute

// Surface mints OAuth authorizations of the dedicated handoff account with
// its API key.
type Surface struct {
	// Client returns the handoff account's client (its API key); nil when
	// none is configured (parsing, policy and planning need none).
	Client func() (*hk.Client, error)
}

// New returns the surface; client may be nil.
func New(client func() (*hk.Client, error)) *Surface { return &Surface{Client: client} }

// Name is "heroku".
func (s *Surface) Name() string { return Name }

func (s *Surface) client() (*hk.Client, error) {
	if s.Client == nil {
		return nil, fmt.Errorf("heroku: no Heroku client is configured: export %s with the API key of the dedicated handoff account", hk.EnvAPIKey)
	}
	return s.Client()
}

// Steps of each operation. A create mints; a refresh revokes the recorded
// authorization and every other one described for the handoff, then
// mints; a revoke revokes the same. No step is Untraceable: an
// authorization is found again by its description.
func (s *Surface) Steps(op surface.Op, req *surface.Request, rec surface.Record) []surface.Step {
	r := Decode(rec)
	recorded := r != nil && r.AuthorizationID != ""
	strays := 1
	if req != nil {
		strays = len(strayAuths(req, r))
	}
	var names []string
	revoke := func() {
		if recorded || req == nil {
			names = append(names, StepRevoke)
		}
		for range strays {
			names = append(names, StepRevokeStray)
		}
	}
	switch op {
	case surface.OpCreate:
		names = []string{StepCreate}
	case surface.OpRefresh:
		revoke()
		names = append(names, StepCreate)
	case surface.OpRevoke:
		revoke()
	}
	out := make([]surface.Step, len(names))
	for i, n := range names {
		out[i] = surface.Step{Name: n}
	}
	return out
}

// strayAuths are the authorizations the live state shows described for
// the handoff, other than the one r records.
func strayAuths(req *surface.Request, r *Record) []hk.Authorization {
	var out []hk.Authorization
	for _, a := range LiveOf(req.Live).Of(req.Slug) {
		if r == nil || a.ID != r.AuthorizationID {
			out = append(out, a)
		}
	}
	return out
}

// grant is what a mint asks for: the spec's, else (the spec deleted) what
// r records.
type grant struct {
	app   string
	scope []string
	ttl   time.Duration
}

func grantOf(req *surface.Request, r *Record) (grant, error) {
	if b := Of(req.Spec); b != nil {
		g := grant{app: b.App.Value, scope: b.Scopes()}
		if b.TTL.Valid() {
			g.ttl = b.TTL.Value
		}
		return g, nil
	}
	if r != nil && r.App != "" && len(r.Scope) > 0 {
		g := grant{app: r.App, scope: slices.Clone(r.Scope)}
		if d, err := time.ParseDuration(r.TTL); err == nil {
			g.ttl = d
		}
		return g, nil
	}
	return grant{}, fmt.Errorf("heroku: handoff %s has no heroku block", req.Slug)
}

// life is how long a token minted at req.Now may live: until the handoff
// expires, or the block's ttl if shorter, in whole seconds. early says the
// ttl ends it before the handoff.
func life(req *surface.Request, g grant) (d time.Duration, early bool, err error) {
	d = req.ExpiresAt.Sub(req.Now)
	if req.ExpiresAt.IsZero() {
		d = g.ttl
	}
	if g.ttl > 0 && g.ttl < d {
		d, early = g.ttl, true
	}
	d = d.Truncate(time.Second)
	if d < time.Second {
		return 0, false, fmt.Errorf("heroku: handoff %s expires at %s: no token is minted for it", req.Slug, req.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return d, early, nil
}

// Create mints an authorization of the handoff account with the spec's
// scopes (and nothing else: never global), described "handoff <slug>",
// expiring with the handoff or the block's ttl.
func (s *Surface) Create(ctx context.Context, req *surface.Request) (surface.Result, error) {
	g, err := grantOf(req, nil)
	if err != nil {
		return surface.Result{}, err
	}
	return s.mint(ctx, req, g)
}

func (s *Surface) mint(ctx context.Context, req *surface.Request, g grant) (surface.Result, error) {
	if slices.Contains(g.scope, ScopeGlobal) || len(g.scope) == 0 {
		return surface.Result{}, fmt.Errorf("heroku: handoff %s: scope %v: policy allows neither global nor no scope", req.Slug, g.scope)
	}
	ttl, early, err := life(req, g)
	if err != nil {
		return surface.Result{}, err
	}
	c, err := s.client()
	if err != nil {
		return surface.Result{}, err
	}
	desc := Description(req.Slug)
	ids := map[string]string{"description": desc, "app": g.app, "scope": strings.Join(g.scope, ",")}
	if err := req.Begin(ctx, StepCreate, ids); err != nil {
		return surface.Result{}, err
	}
	a, err := c.CreateAuthorization(ctx, hk.AuthorizationRequest{Scope: g.scope, Description: desc, ExpiresIn: ttl})
	if err != nil {
		return surface.Result{}, fmt.Errorf("heroku: create the OAuth authorization of handoff %s: %w", req.Slug, err)
	}
	id := a.ID
	undo := func(ctx context.Context) error { return c.DeleteAuthorization(ctx, id) }
	res := surface.Result{Compensate: undo}
	// Least privilege is checked on what Heroku granted, not on what was
	// asked: an authorization wider or longer than asked is revoked at once.
	if err := checkGranted(a, g.scope, ttl); err != nil {
		if uerr := undo(ctx); uerr != nil {
			return res, fmt.Errorf("heroku: handoff %s: %v; revoking it failed too: %w", req.Slug, err, uerr)
		}
		return surface.Result{}, fmt.Errorf("heroku: handoff %s: %w (the authorization was revoked)", req.Slug, err)
	}
	token := a.Token
	a.Token = hk.Secret{}
	rec := &Record{
		AuthorizationID:  a.ID,
		Description:      desc,
		App:              g.app,
		Scope:            slices.Clone(g.scope),
		Account:          a.UserEmail,
		Secret:           SecretName,
		TokenID:          a.TokenID,
		TokenFingerprint: token.Fingerprint(),
		ExpiresAt:        req.Now.Add(a.ExpiresIn).UTC(),
		RefreshEarly:     early,
		MintedAt:         req.Now.UTC(),
	}
	if g.ttl > 0 {
		rec.TTL = fmtDur(g.ttl)
	}
	if l := LiveOf(req.Live); l != nil {
		rec.Reach = slices.Clone(l.Reach)
	}
	res.Secrets = map[string]string{SecretName: token.Reveal()}
	res.Record = rec
	res.Fingerprint = rec.TokenFingerprint
	reach := "reach not read"
	if len(rec.Reach) > 0 {
		reach = "reaches " + strings.Join(rec.Reach, ", ")
	}
	res.Detail = fmt.Sprintf("OAuth authorization %s (%q) of %s for app %s, scope %s, expires %s; %s",
		rec.AuthorizationID, desc, orUnknown(rec.Account), rec.App, strings.Join(rec.Scope, ", "), rec.ExpiresAt.Format(time.RFC3339), reach)
	return res, nil
}

// checkGranted refuses an authorization whose scope is not exactly the
// one asked for, or whose token never expires or outlives ttl.
func checkGranted(a hk.Authorization, scope []string, ttl time.Duration) error {
	for _, got := range a.Scope {
		if !slices.Contains(scope, got) {
			return fmt.Errorf("the authorization Heroku minted holds scope %q, beyond the spec's %s", got, strings.Join(scope, ", "))
		}
	}
	switch {
	case a.ExpiresIn <= 0:
		return errors.New("the token Heroku minted never expires")
	case a.ExpiresIn > ttl:
		return fmt.Errorf("the token Heroku minted lasts %s, longer than the %s asked", a.ExpiresIn, ttl)
	}
	return nil
}

// Refresh revokes the recorded authorization and every other one described
// for the handoff (gone is fine), then mints a new one with the spec's
// grant (the recorded one when the spec is gone).
func (s *Surface) Refresh(ctx context.Context, req *surface.Request, rec surface.Record) (surface.Result, error) {
	r := Decode(rec)
	g, err := grantOf(req, r)
	if err != nil {
		return surface.Result{}, err
	}
	if err := s.revokeAll(ctx, req, r); err != nil {
		return surface.Result{}, err
	}
	return s.mint(ctx, req, g)
}

// Revoke deletes the recorded authorization and every other one described
// for the handoff. Already gone is success.
func (s *Surface) Revoke(ctx context.Context, req *surface.Request, rec surface.Record) error {
	return s.revokeAll(ctx, req, Decode(rec))
}

func (s *Surface) revokeAll(ctx context.Context, req *surface.Request, r *Record) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	strays := strayAuths(req, r)
	if LiveOf(req.Live) == nil {
		// Outside apply (no live state): one listing finds what the
		// description names.
		all, err := c.Authorizations(ctx)
		if err != nil {
			return fmt.Errorf("heroku: list the OAuth authorizations to revoke those of handoff %s: %w", req.Slug, err)
		}
		for _, a := range all {
			if a.Description == Description(req.Slug) && (r == nil || a.ID != r.AuthorizationID) {
				strays = append(strays, a)
			}
		}
	}
	if r != nil && r.AuthorizationID != "" {
		if err := req.Begin(ctx, StepRevoke, map[string]string{"authorization_id": r.AuthorizationID, "description": r.Description}); err != nil {
			return err
		}
		if err := c.DeleteAuthorization(ctx, r.AuthorizationID); err != nil {
			return fmt.Errorf("heroku: revoke OAuth authorization %s of handoff %s: %w", r.AuthorizationID, req.Slug, err)
		}
	}
	for _, a := range strays {
		if err := req.Begin(ctx, StepRevokeStray, map[string]string{"authorization_id": a.ID, "description": a.Description}); err != nil {
			return err
		}
		if err := c.DeleteAuthorization(ctx, a.ID); err != nil {
			return fmt.Errorf("heroku: revoke leftover OAuth authorization %s of handoff %s: %w", a.ID, req.Slug, err)
		}
	}
	return nil
}

// Verify compares the recorded authorization with the spec, with the token
// in the vault, with the authorization Heroku holds (present, scope,
// expiry) and with the account's reach, recomputed now. What can do more
// than recorded (a wider scope, a longer life, a new app in reach, another
// authorization described for the handoff) is a scope violation.
func (s *Surface) Verify(ctx context.Context, req *surface.Request, rec surface.Record) []surface.Violation {
	v := &surface.Violations{Surface: Name}
	add := v.Add
	r := Decode(rec)
	if r == nil {
		add(false, "no OAuth authorization recorded")
		return v.List
	}
	if b := Of(req.Spec); b != nil {
		if b.App.Value != r.App {
			add(true, "the token was minted for app %s, the spec asks for %s", r.App, b.App.Value)
		}
		for _, sc := range r.Scope {
			if !slices.Contains(b.Scopes(), sc) {
				add(true, "the token holds scope %s, the spec asks for %s", sc, strings.Join(b.Scopes(), ", "))
			}
		}
	}
	if slices.Contains(r.Scope, ScopeGlobal) {
		add(true, "the token holds the forbidden scope global")
	}
	if !req.ExpiresAt.IsZero() && r.ExpiresAt.After(req.ExpiresAt.Add(expirySlack)) {
		add(true, "the token lasts until %s, past the handoff's expiry %s", r.ExpiresAt.Format(time.RFC3339), req.ExpiresAt.UTC().Format(time.RFC3339))
	}
	expired := !req.Now.Before(r.ExpiresAt)
	if expired {
		add(false, "the token expired at %s: run handoff apply to mint a new one", r.ExpiresAt.Format(time.RFC3339))
	}
	for _, a := range strayAuths(req, r) {
		add(true, "OAuth authorization %s (%q) is described for the handoff but not recorded by its manifest", a.ID, a.Description)
	}
	s.verifyVault(ctx, v, req, r)
	c, err := s.client()
	if err != nil {
		add(false, "cannot verify the token with Heroku: %v", err)
		return v.List
	}
	a, err := c.Authorization(ctx, r.AuthorizationID)
	switch {
	case hk.IsNotFound(err):
		add(false, "OAuth authorization %s no longer exists (revoked out of band): run handoff apply", r.AuthorizationID)
	case err != nil:
		add(false, "cannot read OAuth authorization %s: %v", r.AuthorizationID, err)
	default:
		for _, sc := range a.Scope {
			if !slices.Contains(r.Scope, sc) {
				add(true, "OAuth authorization %s holds scope %s, the manifest records %s", a.ID, sc, strings.Join(r.Scope, ", "))
			}
		}
		switch {
		case a.ExpiresIn <= 0 && !expired:
			add(true, "OAuth authorization %s never expires; the manifest records %s", a.ID, r.ExpiresAt.Format(time.RFC3339))
		case a.ExpiresIn > 0 && req.Now.Add(a.ExpiresIn).After(r.ExpiresAt.Add(expirySlack)):
			add(true, "OAuth authorization %s lasts until %s, past the recorded %s", a.ID, req.Now.Add(a.ExpiresIn).UTC().Format(time.RFC3339), r.ExpiresAt.Format(time.RFC3339))
		}
	}
	reach, err := s.reachNow(ctx, c, req)
	if err != nil {
		add(false, "cannot read the handoff account's reach: %v", err)
		return v.List
	}
	var wider []string
	for _, app := range reach {
		if !slices.Contains(r.Reach, app) && app != r.App {
			wider = append(wider, app)
		}
	}
	if len(wider) > 0 {
		add(true, "the token now reaches %s, which the manifest does not record (it recorded %s): take the handoff account's access to them away, or revoke the handoff",
			strings.Join(wider, ", "), orNothing(r.Reach))
	}
	if !slices.Contains(reach, r.App) {
		add(false, "the handoff account no longer reaches app %s", r.App)
	}
	return v.List
}

// reachNow is the account's reach: the live state's when it was read for
// this run, else one listing.
func (s *Surface) reachNow(ctx context.Context, c *hk.Client, req *surface.Request) ([]string, error) {
	if l := LiveOf(req.Live); l != nil {
		return l.Reach, nil
	}
	apps, err := c.Apps(ctx)
	if err != nil {
		return nil, err
	}
	return NewLive(apps, nil).Reach, nil
}

// verifyVault checks that the folder holds the recorded token.
func (s *Surface) verifyVault(ctx context.Context, v *surface.Violations, req *surface.Request, r *Record) {
	if req.Vault == nil {
		return
	}
	name := r.secretName()
	sec, err := req.Vault.GetSecret(ctx, req.Environment, req.Folder, name)
	if err != nil {
		if vault.IsNotFound(err) {
			v.Add(false, "%s is missing from %s", name, req.Folder)
		} else {
			v.Add(false, "cannot read %s: %v", name, err)
		}
		return
	}
	fp := manifest.Fingerprint(strings.TrimSpace(sec.Value))
	sec.Value = ""
	if fp != r.TokenFingerprint {
		v.Add(false, "the token in the vault (%s) is not the one the manifest records (%s)", fp, r.TokenFingerprint)
	}
}

// Session: the token as HEROKU_API_KEY (what Heroku's CLI and libraries
// read) and the app's name as HEROKU_APP.
func (s *Surface) Session(rec surface.Record, _ string) surface.Session {
	r := Decode(rec)
	out := surface.Session{Env: []surface.EnvVar{{Name: hk.EnvAPIKey, Secret: r.secretName()}}}
	if r != nil && r.App != "" {
		out.Env = append(out.Env, surface.EnvVar{Name: EnvApp, Value: r.App})
	}
	return out
}

// DescribeRevoke says what revoking rec ended.
func (s *Surface) DescribeRevoke(rec surface.Record, _ bool) string {
	r := Decode(rec)
	if r == nil {
		return ""
	}
	return fmt.Sprintf("OAuth authorization %s (%q, token %s) on %s, and any other described for the handoff", r.AuthorizationID, r.Description, r.TokenFingerprint, r.App)
}

func orUnknown(s string) string {
	if s == "" {
		return "the handoff account"
	}
	return s
}
