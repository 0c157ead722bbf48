package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	cf "github.com/raxx-app/handoff/internal/provider/cloudflare"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/vault"
)

// Step names.
const (
	StepMint           = "create API token"
	StepRevoke         = "delete API token"
	StepRevokeLeftover = "delete leftover API token"
)

// Surface mints Cloudflare API tokens with the provisioner's client.
type Surface struct {
	// Client returns the provisioner's Cloudflare client; nil when none is
	// configured (parsing, policy and planning need none).
	Client func() (*cf.Client, error)
}

// New returns the surface; client may be nil.
func New(client func() (*cf.Client, error)) *Surface { return &Surface{Client: client} }

// Name is "cloudflare".
func (s *Surface) Name() string { return Name }

func (s *Surface) client() (*cf.Client, error) {
	if s.Client == nil {
		return nil, fmt.Errorf("cloudflare: no Cloudflare client is configured: set %s to the provisioner token", cf.EnvAPIToken)
	}
	return s.Client()
}

// Steps: a create mints; a refresh deletes the recorded token and every
// other token named for the handoff, then mints; a revoke deletes the
// recorded token and every other token named for the handoff. Without a
// request (every step an operation may make), one leftover is listed.
// Nothing is Untraceable: a token is found again by its name.
func (s *Surface) Steps(op surface.Op, req *surface.Request, rec surface.Record) []surface.Step {
	r := Decode(rec)
	if op == surface.OpRefresh && r == nil && req != nil {
		op = surface.OpCreate // Refresh mints as Create does
	}
	var names []string
	revokes := func() {
		if (r == nil && req == nil) || (r != nil && r.TokenID != "") {
			names = append(names, StepRevoke)
		}
		n := 1
		if req != nil {
			n = len(s.strays(req, r))
		}
		for range n {
			names = append(names, StepRevokeLeftover)
		}
	}
	switch op {
	case surface.OpCreate:
		names = []string{StepMint}
	case surface.OpRefresh:
		revokes()
		names = append(names, StepMint)
	case surface.OpRevoke:
		revokes()
	}
	out := make([]surface.Step, len(names))
	for i, n := range names {
		out[i] = surface.Step{Name: n}
	}
	return out
}

// strays are the live tokens named for the handoff other than r's.
func (s *Surface) strays(req *surface.Request, r *Record) []cf.Token {
	keep := ""
	if r != nil {
		keep = r.TokenID
	}
	var out []cf.Token
	for _, t := range LiveOf(req.Live).Named(req.Slug) {
		if t.ID != keep {
			out = append(out, t)
		}
	}
	return out
}

// grant is what a token is minted with, resolved to Cloudflare's ids.
type grant struct {
	zones, zoneIDs   []string
	groups           []cf.PermissionGroup
	requestIP        []string
	ttl              string
	ttlValue         time.Duration
	expires, handoff time.Time
}

func (g *grant) groupNames() []string {
	out := make([]string, len(g.groups))
	for i, x := range g.groups {
		out[i] = x.Name
	}
	return out
}

func (g *grant) groupIDs() []string {
	out := make([]string, len(g.groups))
	for i, x := range g.groups {
		out[i] = x.ID
	}
	return out
}

// specGrant resolves the spec's block with the live state read under
// apply's lock (one listing per plan); without it, with one GET
// /zones?name= per distinct zone name and the catalogue.
func (s *Surface) specGrant(ctx context.Context, c *cf.Client, req *surface.Request, b *Block) (*grant, error) {
	g := &grant{zones: b.Zones.Strings(), requestIP: b.RequestIP.Strings()}
	if b.TTL.Valid() {
		g.ttl, g.ttlValue = b.TTL.Raw, b.TTL.Value
	}
	live := LiveOf(req.Live)
	var byName map[string]cf.Zone
	if live == nil {
		var names []string
		for _, z := range g.zones {
			if !isZoneID(z) && !slices.Contains(names, NormalizeZone(z)) {
				names = append(names, NormalizeZone(z))
			}
		}
		if len(names) > 0 {
			var err error
			if byName, err = c.ZonesByName(ctx, names); err != nil {
				return nil, fmt.Errorf("cloudflare: handoff %s: %w", req.Slug, err)
			}
		}
	}
	for _, z := range g.zones {
		switch {
		case live != nil:
			lz, ok := live.Zone(z)
			if !ok {
				return nil, fmt.Errorf("cloudflare: handoff %s: zone %q does not exist or the provisioner token cannot see it (Zone Read): the plan should have refused it", req.Slug, z)
			}
			g.zoneIDs = append(g.zoneIDs, lz.ID)
		case isZoneID(z):
			g.zoneIDs = append(g.zoneIDs, NormalizeZone(z))
		default:
			g.zoneIDs = append(g.zoneIDs, byName[NormalizeZone(z)].ID)
		}
	}
	var catalogue cf.PermissionGroups
	if live != nil {
		catalogue = live.Groups
	} else {
		var err error
		if catalogue, err = c.PermissionGroups(ctx); err != nil {
			return nil, fmt.Errorf("cloudflare: handoff %s: %w", req.Slug, err)
		}
	}
	var problems []string
	for _, name := range b.PermissionGroups.Strings() {
		pg, problem := zoneGroup(catalogue, name)
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		g.groups = append(g.groups, pg)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("cloudflare: handoff %s: %s", req.Slug, strings.Join(problems, " "))
	}
	return g, nil
}

// recordGrant is the grant r records, for a refresh without a spec.
func recordGrant(r *Record) (*grant, error) {
	if len(r.ZoneIDs) == 0 || len(r.PermissionGroupIDs) != len(r.PermissionGroups) || len(r.PermissionGroupIDs) == 0 {
		return nil, fmt.Errorf("cloudflare: the record of token %s names no zone or permission group ids to mint again", r.TokenName)
	}
	g := &grant{zones: slices.Clone(r.Zones), zoneIDs: slices.Clone(r.ZoneIDs), requestIP: slices.Clone(r.RequestIP), ttl: r.TTL}
	for i, id := range r.PermissionGroupIDs {
		if _, bad := ForbiddenGroup(r.PermissionGroups[i]); bad {
			return nil, fmt.Errorf("cloudflare: the record of token %s holds the forbidden permission group %q: not minted again", r.TokenName, r.PermissionGroups[i])
		}
		g.groups = append(g.groups, cf.PermissionGroup{ID: id, Name: r.PermissionGroups[i], Scopes: []string{cf.ScopeZone}})
	}
	if r.TTL != "" {
		d, err := time.ParseDuration(r.TTL)
		if err != nil {
			return nil, fmt.Errorf("cloudflare: the record of token %s has the ttl %q", r.TokenName, r.TTL)
		}
		g.ttlValue = d
	}
	return g, nil
}

func isZoneID(z string) bool {
	z = NormalizeZone(z)
	if len(z) != 32 {
		return false
	}
	return strings.Trim(z, "0123456789abcdef") == ""
}

// Create mints the token the spec asks for, valid until the handoff's
// expiry at most (sooner when the block's ttl ends first).
func (s *Surface) Create(ctx context.Context, req *surface.Request) (surface.Result, error) {
	b := Of(req.Spec)
	if b == nil {
		return surface.Result{}, fmt.Errorf("cloudflare: handoff %s has no cloudflare block", req.Slug)
	}
	c, err := s.client()
	if err != nil {
		return surface.Result{}, err
	}
	g, err := s.specGrant(ctx, c, req, b)
	if err != nil {
		return surface.Result{}, err
	}
	return s.mint(ctx, req, c, g, "")
}

// Refresh deletes the recorded token and every other token named for the
// handoff (already gone is fine), then mints a new one with the spec's
// grant (the recorded one when the request has no spec).
func (s *Surface) Refresh(ctx context.Context, req *surface.Request, rec surface.Record) (surface.Result, error) {
	r := Decode(rec)
	if r == nil {
		return s.Create(ctx, req)
	}
	c, err := s.client()
	if err != nil {
		return surface.Result{}, err
	}
	var g *grant
	if b := Of(req.Spec); b != nil {
		g, err = s.specGrant(ctx, c, req, b)
	} else {
		g, err = recordGrant(r)
	}
	if err != nil {
		return surface.Result{}, err
	}
	if err := s.revoke(ctx, c, req, r); err != nil {
		return surface.Result{}, err
	}
	return s.mint(ctx, req, c, g, r.TokenFingerprint)
}

// Revoke deletes the recorded token, then every other token named for the
// handoff that the live state shows. Deletion is immediate; a token
// already gone is success.
func (s *Surface) Revoke(ctx context.Context, req *surface.Request, rec surface.Record) error {
	r := Decode(rec)
	if (r == nil || r.TokenID == "") && len(s.strays(req, r)) == 0 {
		return nil
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	return s.revoke(ctx, c, req, r)
}

func (s *Surface) revoke(ctx context.Context, c *cf.Client, req *surface.Request, r *Record) error {
	if l := LiveOf(req.Live); l != nil && r != nil && r.TokenID != "" && r.TokenID == l.SelfID {
		return fmt.Errorf("cloudflare: handoff %s records the provisioner's own token %s: refusing to delete it; fix the manifest", req.Slug, r.TokenID)
	}
	if r != nil && r.TokenID != "" {
		if err := req.Begin(ctx, StepRevoke, map[string]string{"token_id": r.TokenID, "token_name": r.TokenName}); err != nil {
			return err
		}
		if err := c.DeleteToken(ctx, r.TokenID); err != nil {
			return fmt.Errorf("cloudflare: delete API token %s (%s) of handoff %s: %w", r.TokenName, r.TokenID, req.Slug, err)
		}
	}
	for _, t := range s.strays(req, r) {
		if err := req.Begin(ctx, StepRevokeLeftover, map[string]string{"token_id": t.ID, "token_name": t.Name}); err != nil {
			return err
		}
		if err := c.DeleteToken(ctx, t.ID); err != nil {
			return fmt.Errorf("cloudflare: delete leftover API token %s (%s) of handoff %s: %w", t.Name, t.ID, req.Slug, err)
		}
	}
	return nil
}

// mint creates the handoff's token with g, and checks what Cloudflare
// granted against what was asked before returning it.
func (s *Surface) mint(ctx context.Context, req *surface.Request, c *cf.Client, g *grant, prevFingerprint string) (surface.Result, error) {
	g.handoff = req.ExpiresAt
	g.expires = tokenExpiry(req.Now, req.ExpiresAt, g.ttlValue)
	if !g.expires.After(req.Now) || (!req.ExpiresAt.IsZero() && !req.Now.Before(req.ExpiresAt)) {
		return surface.Result{}, fmt.Errorf("cloudflare: handoff %s expired at %s: no token is minted for it", req.Slug, fmtTime(req.ExpiresAt))
	}
	name := TokenName(req.Slug)
	ids := map[string]string{
		"token_name": name,
		"zones":      strings.Join(g.zones, ", "),
		"secret":     SecretName,
		"expires_by": fmtTime(g.expires),
	}
	if prevFingerprint != "" {
		ids["prev_fingerprint"] = prevFingerprint
	}
	if err := req.Begin(ctx, StepMint, ids); err != nil {
		return surface.Result{}, err
	}
	tok, err := c.CreateToken(ctx, cf.TokenRequest{
		Name:        name,
		Policies:    []cf.Policy{{Effect: cf.Allow, PermissionGroups: g.groups, Resources: cf.ZoneResources(g.zoneIDs...)}},
		ExpiresOn:   g.expires,
		RequestIPIn: g.requestIP,
	})
	if err != nil {
		res := surface.Result{}
		if mayExist(err) {
			// Cloudflare may have created it: what is named for the
			// handoff now is this run's (the rest was deleted first).
			res.Compensate = func(ctx context.Context) error { return sweep(ctx, c, name) }
		}
		return res, fmt.Errorf("cloudflare: mint the token of handoff %s: %w", req.Slug, err)
	}
	value := tok.Value.Reveal()
	id := tok.ID
	tok.Value = ""
	undo := func(ctx context.Context) error { return c.DeleteToken(ctx, id) }
	res := surface.Result{Compensate: undo}
	// Least privilege is checked on what Cloudflare granted, not on what
	// was asked: a token wider than the spec is deleted at once.
	if err := checkNarrowed(tok, g); err != nil {
		if uerr := undo(ctx); uerr != nil {
			return res, fmt.Errorf("cloudflare: handoff %s: %v; deleting it failed too: %w", req.Slug, err, uerr)
		}
		return surface.Result{}, fmt.Errorf("cloudflare: handoff %s: %w (the token was deleted)", req.Slug, err)
	}
	fp := manifest.Fingerprint(value)
	rec := &Record{
		TokenID:            id,
		TokenName:          name,
		Zones:              slices.Clone(g.zones),
		ZoneIDs:            slices.Clone(g.zoneIDs),
		PermissionGroups:   g.groupNames(),
		PermissionGroupIDs: g.groupIDs(),
		RequestIP:          slices.Clone(g.requestIP),
		TTL:                g.ttl,
		Secret:             SecretName,
		TokenExpiresAt:     g.expires,
		HandoffExpiresAt:   req.ExpiresAt.UTC(),
		TokenFingerprint:   fp,
		MintedAt:           req.Now.UTC(),
	}
	if len(rec.RequestIP) == 0 {
		rec.RequestIP = nil
	}
	res.Secrets = map[string]string{SecretName: value}
	res.Record = rec
	res.Fingerprint = fp
	res.Detail = fmt.Sprintf("API token %s (%s) for %s with %s, usable from %s, expires %s",
		name, id, strings.Join(g.zones, ", "), strings.Join(rec.PermissionGroups, ", "), requestIPAttr(g.requestIP), fmtTime(g.expires))
	return res, nil
}

// mayExist reports whether a failed creation may still have created the
// token: anything but Cloudflare's refusal (a 4xx) of the request.
func mayExist(err error) bool {
	var ae *httpx.APIError
	return !errors.As(err, &ae) || ae.Status >= 500
}

// sweep deletes every token named name.
func sweep(ctx context.Context, c *cf.Client, name string) error {
	list, err := c.Tokens(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range list {
		if t.Name == name {
			errs = append(errs, c.DeleteToken(ctx, t.ID))
		}
	}
	return errors.Join(errs...)
}

// checkNarrowed refuses a token that holds more than g: a permission group
// or a resource beyond it, no expiry or a later one, or a wider IP
// allowlist.
func checkNarrowed(t cf.Token, g *grant) error {
	if w := wider(t, g.groupIDs(), g.zoneIDs, g.requestIP, g.expires); len(w) > 0 {
		return fmt.Errorf("the token Cloudflare minted is wider than the spec: %s", strings.Join(w, "; "))
	}
	return nil
}

// wider lists what live token t can do beyond groups (ids) on zones (ids),
// from requestIP (empty: any address), until expires.
func wider(t cf.Token, groups, zones, requestIP []string, expires time.Time) []string {
	var out []string
	for _, p := range t.Policies {
		if p.Effect == cf.Deny {
			continue // a deny policy only takes away
		}
		for _, pg := range p.PermissionGroups {
			if !slices.Contains(groups, pg.ID) {
				out = append(out, fmt.Sprintf("it holds the permission group %s", groupWords(pg)))
			}
		}
		keys := make([]string, 0, len(p.Resources))
		for k := range p.Resources {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			id, isZone := strings.CutPrefix(k, cf.ScopeZone+".")
			if !isZone || p.Resources[k] != "*" || !slices.Contains(zones, id) {
				out = append(out, fmt.Sprintf("it reaches %s", k))
			}
		}
	}
	switch {
	case t.ExpiresOn.IsZero():
		out = append(out, "it never expires")
	case t.ExpiresOn.After(expires.Add(time.Second)):
		out = append(out, fmt.Sprintf("it expires at %s, after %s", fmtTime(t.ExpiresOn), fmtTime(expires)))
	}
	if len(requestIP) > 0 {
		if len(t.RequestIPIn) == 0 {
			out = append(out, fmt.Sprintf("it is usable from any address, not only from %s", strings.Join(requestIP, ", ")))
		}
		for _, ip := range t.RequestIPIn {
			if !coveredBy(ip, requestIP) {
				out = append(out, fmt.Sprintf("it is usable from %s, beyond %s", ip, strings.Join(requestIP, ", ")))
			}
		}
	}
	return out
}

func groupWords(g cf.PermissionGroup) string {
	if g.Name != "" {
		return fmt.Sprintf("%q (%s)", g.Name, g.ID)
	}
	return g.ID
}

// coveredBy reports whether the CIDR (or address) c lies within one of
// list.
func coveredBy(c string, list []string) bool {
	p, err := netip.ParsePrefix(c)
	if err != nil {
		a, aerr := netip.ParseAddr(c)
		if aerr != nil {
			return false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	for _, l := range list {
		lp, err := netip.ParsePrefix(l)
		if err == nil && lp.Bits() <= p.Bits() && lp.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// Verify compares the manifest's token with the spec, with what Cloudflare
// says of it (GET /user/tokens/{id}: its policies against the spec resolved
// with the live state, else against the record; wider is a scope
// violation) and with the token in the vault (GET /user/tokens/verify,
// with the token itself).
func (s *Surface) Verify(ctx context.Context, req *surface.Request, rec surface.Record) []surface.Violation {
	v := &surface.Violations{Surface: Name}
	add := v.Add
	r := Decode(rec)
	if r == nil {
		add(false, "no token recorded")
		return v.List
	}
	if b := Of(req.Spec); b != nil {
		verifySpec(v, r, b)
	}
	for _, g := range r.PermissionGroups {
		if _, bad := ForbiddenGroup(g); bad {
			add(true, "the token holds the forbidden permission group %q", g)
		}
	}
	if !req.ExpiresAt.IsZero() && r.TokenExpiresAt.After(req.ExpiresAt.Add(time.Second)) {
		add(true, "the token expires at %s, after the handoff (%s)", fmtTime(r.TokenExpiresAt), fmtTime(req.ExpiresAt))
	}
	expired := !req.Now.Before(r.TokenExpiresAt)
	if expired {
		add(false, "the token expired at %s: run handoff apply to mint a new one", fmtTime(r.TokenExpiresAt))
	}
	for _, t := range s.strays(req, r) {
		add(true, "API token %s (%s) is named for the handoff but not recorded by its manifest", t.Name, t.ID)
	}
	c, err := s.client()
	if err != nil {
		add(false, "cannot verify the token with Cloudflare: %v", err)
		return v.List
	}
	t, err := c.Token(ctx, r.TokenID)
	switch {
	case cf.IsNotFound(err):
		add(false, "API token %s (%s) no longer exists: run handoff apply", r.TokenName, r.TokenID)
		return v.List
	case err != nil:
		add(false, "cannot read API token %s: %v", r.TokenID, err)
	default:
		if t.Status == "disabled" {
			add(false, "API token %s (%s) was disabled in Cloudflare", r.TokenName, r.TokenID)
		}
		groups, zones, ips, against := r.PermissionGroupIDs, r.ZoneIDs, r.RequestIP, "the manifest records"
		if g, z, ok := specIDs(req); ok {
			// The spec is the authority, resolved against the live account:
			// a record changed by hand vouches for nothing.
			groups, zones, ips, against = g, z, Of(req.Spec).RequestIP.Strings(), "the spec allows"
		}
		for _, w := range wider(t, groups, zones, ips, r.TokenExpiresAt) {
			add(true, "API token %s (%s) is wider than %s: %s", r.TokenName, r.TokenID, against, w)
		}
	}
	if req.Vault == nil {
		return v.List
	}
	sec, err := req.Vault.GetSecret(ctx, req.Environment, req.Folder, r.secretName())
	if err != nil {
		if vault.IsNotFound(err) {
			add(false, "%s is missing from %s", r.secretName(), req.Folder)
		} else {
			add(false, "cannot read %s: %v", r.secretName(), err)
		}
		return v.List
	}
	value := strings.TrimSpace(sec.Value)
	sec.Value = ""
	if fp := manifest.Fingerprint(value); fp != r.TokenFingerprint {
		add(false, "the token in the vault (%s) is not the one the manifest records (%s)", fp, r.TokenFingerprint)
	}
	if expired || value == "" {
		return v.List
	}
	ver, err := c.VerifyToken(ctx, cf.Secret(value))
	switch {
	case err != nil && len(r.RequestIP) > 0:
		add(false, "the token in the vault is refused by Cloudflare (%v); it is usable only from %s, which may not include this machine", err, strings.Join(r.RequestIP, ", "))
	case err != nil:
		add(false, "the token in the vault is refused by Cloudflare (%v): run handoff apply", err)
	case ver.ID != r.TokenID:
		add(true, "the token in the vault is Cloudflare token %s, not the recorded %s (%s)", ver.ID, r.TokenName, r.TokenID)
	case ver.Status != "active":
		add(false, "the token in the vault is %s", ver.Status)
	}
	return v.List
}

// specIDs resolves the spec's permission groups and zones to Cloudflare's
// ids with the live state; ok is false without a spec, without the live
// state, or when one does not resolve (the plan reports it).
func specIDs(req *surface.Request) (groups, zones []string, ok bool) {
	b, live := Of(req.Spec), LiveOf(req.Live)
	if b == nil || live == nil {
		return nil, nil, false
	}
	for _, name := range b.PermissionGroups.Strings() {
		g, problem := zoneGroup(live.Groups, name)
		if problem != "" {
			return nil, nil, false
		}
		groups = append(groups, g.ID)
	}
	for _, name := range b.Zones.Strings() {
		z, found := live.Zone(name)
		if !found {
			return nil, nil, false
		}
		zones = append(zones, z.ID)
	}
	return groups, zones, true
}

// verifySpec reports what the recorded token holds beyond the spec.
func verifySpec(v *surface.Violations, r *Record, b *Block) {
	zones := map[string]bool{}
	for _, z := range b.Zones.Strings() {
		zones[NormalizeZone(z)] = true
	}
	for _, z := range r.Zones {
		if !zones[NormalizeZone(z)] {
			v.Add(true, "the token reaches zone %s, which the spec does not list", z)
		}
	}
	groups := b.PermissionGroups.Strings()
	for _, g := range r.PermissionGroups {
		if !slices.Contains(groups, g) {
			v.Add(true, "the token holds the permission group %q, which the spec does not list", g)
		}
	}
	if want := b.RequestIP.Strings(); len(want) > 0 {
		if len(r.RequestIP) == 0 {
			v.Add(true, "the token is usable from any address, the spec allows only %s", strings.Join(want, ", "))
		}
		for _, ip := range r.RequestIP {
			if !coveredBy(ip, want) {
				v.Add(true, "the token is usable from %s, beyond the spec's %s", ip, strings.Join(want, ", "))
			}
		}
	}
}

// Session: the token, as CLOUDFLARE_API_TOKEN.
func (s *Surface) Session(rec surface.Record, _ string) surface.Session {
	return surface.Session{Env: []surface.EnvVar{{Name: SecretName, Secret: Decode(rec).secretName()}}}
}

// DescribeRevoke says what revoking rec ended.
func (s *Surface) DescribeRevoke(rec surface.Record, _ bool) string {
	r := Decode(rec)
	if r == nil {
		return ""
	}
	return fmt.Sprintf("API token %s (%s, %s) for %s: deleted, with any other token named for the handoff",
		r.TokenName, r.TokenID, r.TokenFingerprint, strings.Join(r.Zones, ", "))
}

var (
	_ surface.SessionContributor = (*Surface)(nil)
	_ surface.RevokeDescriber    = (*Surface)(nil)
)
