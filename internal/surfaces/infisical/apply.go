package infisical

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	inf "github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/surface"
)

// MetadataSlugKey is the metadata key that names the handoff on its
// identity (H5), beside the identity's name, the client secret's
// description ("handoff <slug>") and the privilege's slug
// (infisical.PrivilegeSlug: "handoff-<slug>", shortened with a hash past
// Infisical's 60 characters).
const MetadataSlugKey = "handoff-slug"

// AccessTokenTTL is the life of the identity's access tokens (and their
// maximum life: no renewal).
const AccessTokenTTL = 15 * time.Minute

// Roles of the identity: it holds nothing but its privilege.
const (
	OrgRole     = "no-access"
	ProjectRole = "no-access"
)

// Step names.
const (
	StepCreateIdentity     = "create identity"
	StepAttachUA           = "attach universal auth (15-minute tokens)"
	StepCreateClientSecret = "create client secret"
	StepAddMembership      = "add project membership (no-access)"
	StepGrantPrivilege     = "grant temporary read privilege"
	StepUpdatePrivilege    = "update privilege read paths in place"
	StepDeleteStray        = "delete leftover identity"
	StepRevokeClientSecret = "revoke client secret"
	StepDeletePrivilege    = "delete privilege"
	StepRemoveMembership   = "remove project membership"
	StepDeleteIdentity     = "delete identity"
)

// Surface manages handoff identities with the provisioner's client.
type Surface struct {
	// Client returns the provisioner's Infisical client; nil when none is
	// configured (parsing, policy and planning need none).
	Client func() (*inf.Client, error)
}

// The identity's privilege changes in place when a surface it reads by
// reference is killed or its kill lifted.
var _ surface.Regranter = (*Surface)(nil)

// New returns the surface; client may be nil.
func New(client func() (*inf.Client, error)) *Surface { return &Surface{Client: client} }

// Name is "infisical".
func (s *Surface) Name() string { return Name }

func (s *Surface) client() (*inf.Client, error) {
	if s.Client == nil {
		return nil, fmt.Errorf("infisical: no Infisical client is configured")
	}
	return s.Client()
}

// Steps of each operation. For a request, a refresh and a revoke list the
// deletion of each leftover identity named for the handoff, and a revoke
// the steps for what the record names.
func (s *Surface) Steps(op surface.Op, req *surface.Request, rec surface.Record) []surface.Step {
	var names []string
	r := Decode(rec)
	keep := ""
	if r != nil {
		keep = r.IdentityID
	}
	strays := 1
	if req != nil {
		strays = len(s.strays(req, keep))
	}
	stray := func() {
		for range strays {
			names = append(names, StepDeleteStray)
		}
	}
	switch op {
	case surface.OpCreate:
		names = []string{StepCreateIdentity, StepAttachUA, StepCreateClientSecret, StepAddMembership, StepGrantPrivilege}
	case surface.OpRefresh:
		if r == nil && req != nil {
			return s.Steps(surface.OpCreate, req, nil)
		}
		stray()
		names = append(names, StepRevokeClientSecret, StepCreateClientSecret)
	case surface.OpRegrant:
		names = []string{StepUpdatePrivilege}
	case surface.OpRevoke:
		if r != nil || req == nil {
			if r == nil || r.ClientSecretID != "" {
				names = append(names, StepRevokeClientSecret)
			}
			if r == nil || r.PrivilegeID != "" {
				names = append(names, StepDeletePrivilege)
			}
			names = append(names, StepRemoveMembership, StepDeleteIdentity)
		}
		stray()
	}
	out := make([]surface.Step, len(names))
	for i, n := range names {
		out[i] = surface.Step{Name: n}
	}
	return out
}

// strays are the identities named for the handoff other than keep's.
func (s *Surface) strays(req *surface.Request, keep string) []inf.Identity {
	l := LiveOf(req.Live)
	if l == nil {
		return nil
	}
	var out []inf.Identity
	for _, id := range l.Of(req.Slug) {
		if id.ID != keep {
			out = append(out, id)
		}
	}
	return out
}

// ReadEnvironment is the environment of the spec's read paths: the spec's,
// else the folder's.
func ReadEnvironment(req *surface.Request) string {
	if in := Of(req.Spec); in != nil && in.Environment.Valid() && in.Environment.Value != "" {
		return in.Environment.Value
	}
	return req.Environment
}

// ownFolder is the read path of the handoff's own folder.
func ownFolder(req *surface.Request) string { return path.Join(req.Folder) + "/**" }

// ReadPaths are the paths the identity may read: its own folder, then the
// spec's read paths less req.Withhold.
func ReadPaths(req *surface.Request) []string {
	return append([]string{ownFolder(req)}, specReads(req)...)
}

// specReads are the spec's read paths less req.Withhold.
func specReads(req *surface.Request) []string {
	in := Of(req.Spec)
	if in == nil {
		return nil
	}
	return without(in.Read.Strings(), req.Withhold)
}

// Rules are the privilege's rules: read of the own folder (in the folder's
// environment) and of the spec's read paths less req.Withhold (in theirs).
func Rules(req *surface.Request) []inf.Rule {
	return rules(req, ReadEnvironment(req), specReads(req))
}

func rules(req *surface.Request, readEnv string, reads []string) []inf.Rule {
	out := inf.ReadRules(req.Environment, req.Folder, nil)
	if len(reads) > 0 {
		out = append(out, inf.ReadRules(readEnv, "", reads)...)
	}
	return out
}

// grant is the read paths (own folder first) and the rules the privilege
// recorded by r should hold now: the spec's less req.Withhold, or, with
// req.Spec nil, r's own read paths less req.Withhold (only ever narrower).
func grant(req *surface.Request, r *Record) ([]string, []inf.Rule) {
	if req.Spec != nil {
		return ReadPaths(req), Rules(req)
	}
	own := ownFolder(req)
	var reads []string
	for _, p := range without(r.ReadPaths, req.Withhold) {
		if p != own {
			reads = append(reads, p)
		}
	}
	env := r.Environment
	if env == "" {
		env = req.Environment
	}
	return append([]string{own}, reads...), rules(req, env, reads)
}

func without(paths, withheld []string) []string {
	var out []string
	for _, p := range paths {
		if !slices.Contains(withheld, p) {
			out = append(out, p)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// life is how long what is minted at req.Now may live: until the handoff
// expires, in whole seconds.
func life(req *surface.Request) (time.Duration, error) {
	d := req.ExpiresAt.Sub(req.Now).Truncate(time.Second)
	if d < time.Second {
		return 0, fmt.Errorf("infisical: handoff %s expires at %s: nothing can be minted for it", req.Slug, req.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return d, nil
}

// Create makes the identity and its grants.
func (s *Surface) Create(ctx context.Context, req *surface.Request) (surface.Result, error) {
	ttl, err := life(req)
	if err != nil {
		return surface.Result{}, err
	}
	c, err := s.client()
	if err != nil {
		return surface.Result{}, err
	}
	name := ""
	if req.Planned != nil {
		name = req.Planned.Attributes[AttrIdentity]
	}
	if name == "" {
		name = IdentityName(req.Slug, req.Now)
	}
	if err := req.Begin(ctx, StepCreateIdentity, map[string]string{"identity_name": name}); err != nil {
		return surface.Result{}, err
	}
	id, err := c.CreateIdentityWithMetadata(ctx, name, OrgRole, map[string]string{MetadataSlugKey: req.Slug})
	if err != nil {
		return surface.Result{}, fmt.Errorf("infisical: create identity %s for handoff %s: %w", name, req.Slug, err)
	}
	res := surface.Result{Compensate: func(ctx context.Context) error { return c.DeleteIdentity(ctx, id.ID) }}
	fail := func(what string, err error) (surface.Result, error) {
		return res, fmt.Errorf("infisical: %s for identity %s (handoff %s): %w", what, name, req.Slug, err)
	}
	ids := map[string]string{"identity_id": id.ID, "identity_name": name}

	if err := req.Begin(ctx, StepAttachUA, ids); err != nil {
		return res, err
	}
	ua, err := c.AttachUniversalAuth(ctx, id.ID, inf.UAConfig{AccessTokenTTL: AccessTokenTTL, AccessTokenMaxTTL: AccessTokenTTL})
	if err != nil {
		return fail("attach universal auth", err)
	}
	if err := req.Begin(ctx, StepCreateClientSecret, ids); err != nil {
		return res, err
	}
	cs, err := c.CreateClientSecret(ctx, id.ID, "handoff "+req.Slug, ttl, 0)
	if err != nil {
		return fail("create client secret", err)
	}
	secret := cs.Value
	cs.Value = ""
	if err := req.Begin(ctx, StepAddMembership, ids); err != nil {
		return res, err
	}
	membership, err := c.AddProjectMembership(ctx, id.ID, ProjectRole)
	if err != nil {
		return fail("add project membership", err)
	}
	if err := req.Begin(ctx, StepGrantPrivilege, ids); err != nil {
		return res, err
	}
	priv, err := c.CreatePrivilege(ctx, id.ID, inf.PrivilegeSlug(req.Slug), Rules(req), &inf.Temporary{Start: req.Now, Range: ttl})
	if err != nil {
		return fail("grant privilege", err)
	}

	exp := req.Now.Add(ttl).UTC()
	rec := &Record{
		IdentityID:            id.ID,
		IdentityName:          name,
		UniversalAuthID:       ua.ID,
		ClientSecretID:        cs.ID,
		MembershipID:          membership,
		PrivilegeID:           priv.ID,
		Environment:           ReadEnvironment(req),
		ReadPaths:             ReadPaths(req),
		ClientSecretExpiresAt: exp,
		ClientIDSecret:        SecretClientID,
		ClientSecretSecret:    SecretClientSecret,
	}
	res.Secrets = map[string]string{SecretClientID: ua.ClientID, SecretClientSecret: secret}
	res.Record = rec
	res.Fingerprint = manifest.Fingerprint(secret)
	res.Detail = fmt.Sprintf("identity %s (%s), org role %s, project role %s, 15-minute tokens, client secret %s and privilege %s until %s: read %s",
		name, id.ID, OrgRole, ProjectRole, cs.ID, priv.ID, exp.Format(time.RFC3339), strings.Join(rec.ReadPaths, ", "))
	return res, nil
}

// Refresh keeps the identity and rotates its client secret: leftover
// identities of the handoff (another name or id than rec's, from a crashed
// run) are deleted, every live client secret of the identity is revoked,
// and a new one valid until the handoff's expiry is created.
func (s *Surface) Refresh(ctx context.Context, req *surface.Request, rec surface.Record) (surface.Result, error) {
	r := Decode(rec)
	if r == nil {
		return s.Create(ctx, req)
	}
	c, err := s.client()
	if err != nil {
		return surface.Result{}, err
	}
	ttl, err := life(req)
	if err != nil {
		return surface.Result{}, err
	}
	if err := s.deleteStray(ctx, c, req, r.IdentityID); err != nil {
		return surface.Result{}, err
	}
	ids := map[string]string{"identity_id": r.IdentityID, "identity_name": r.IdentityName}
	live, err := c.ListClientSecrets(ctx, r.IdentityID)
	if err != nil {
		return surface.Result{}, fmt.Errorf("infisical: list the client secrets of %s (handoff %s): %w", r.IdentityName, req.Slug, err)
	}
	for _, cs := range live {
		if cs.Revoked {
			continue
		}
		if err := req.Begin(ctx, StepRevokeClientSecret, ids); err != nil {
			return surface.Result{}, err
		}
		if err := c.RevokeClientSecret(ctx, r.IdentityID, cs.ID); err != nil {
			return surface.Result{}, fmt.Errorf("infisical: revoke client secret %s of %s (handoff %s): %w", cs.ID, r.IdentityName, req.Slug, err)
		}
	}
	ua, err := c.GetUniversalAuth(ctx, r.IdentityID)
	if err != nil {
		return surface.Result{}, fmt.Errorf("infisical: read the universal auth of %s (handoff %s): %w", r.IdentityName, req.Slug, err)
	}
	if err := req.Begin(ctx, StepCreateClientSecret, ids); err != nil {
		return surface.Result{}, err
	}
	cs, err := c.CreateClientSecret(ctx, r.IdentityID, "handoff "+req.Slug, ttl, 0)
	if err != nil {
		return surface.Result{}, fmt.Errorf("infisical: create client secret for %s (handoff %s): %w", r.IdentityName, req.Slug, err)
	}
	secret := cs.Value
	cs.Value = ""
	csID := cs.ID
	res := surface.Result{
		Compensate: func(ctx context.Context) error { return c.RevokeClientSecret(ctx, r.IdentityID, csID) },
	}
	n := *r
	n.ClientSecretID = cs.ID
	n.ClientSecretExpiresAt = req.Now.Add(ttl).UTC()
	n.ClientIDSecret, n.ClientSecretSecret = SecretClientID, SecretClientSecret
	res.Secrets = map[string]string{SecretClientID: ua.ClientID, SecretClientSecret: secret}
	res.Record = &n
	res.Fingerprint = manifest.Fingerprint(secret)
	res.Detail = fmt.Sprintf("identity %s (%s): new client secret %s until %s", n.IdentityName, n.IdentityID, cs.ID, n.ClientSecretExpiresAt.Format(time.RFC3339))
	return res, nil
}

// NeedsRegrant reports whether the read paths rec records differ from
// those the privilege should hold now (see Regrant).
func (s *Surface) NeedsRegrant(req *surface.Request, rec surface.Record) bool {
	r := Decode(rec)
	if r == nil || r.IdentityID == "" {
		return false
	}
	paths, _ := grant(req, r)
	return !sameSet(paths, r.ReadPaths)
}

// Regrant sets the rules of the identity's privilege, in place, to its own
// folder and the spec's read paths less req.Withhold (with req.Spec nil:
// the recorded read paths less req.Withhold). The privilege keeps its id,
// slug and temporary window (clamped to the handoff's expiry); the
// identity and its client secret are untouched. A privilege deleted out of
// band is found again by its slug, else granted anew until the handoff's
// expiry. Running it again is harmless.
func (s *Surface) Regrant(ctx context.Context, req *surface.Request, rec surface.Record) (surface.Result, error) {
	r := Decode(rec)
	if r == nil || r.IdentityID == "" {
		return surface.Result{}, fmt.Errorf("infisical: handoff %s records no identity whose privilege could change", req.Slug)
	}
	c, err := s.client()
	if err != nil {
		return surface.Result{}, err
	}
	paths, rules := grant(req, r)
	ids := map[string]string{"identity_id": r.IdentityID, "identity_name": r.IdentityName, "privilege_id": r.PrivilegeID}
	fail := func(what string, err error) (surface.Result, error) {
		return surface.Result{}, fmt.Errorf("infisical: %s of %s (handoff %s): %w", what, r.IdentityName, req.Slug, err)
	}
	cur, err := s.findPrivilege(ctx, c, req, r)
	if err != nil {
		return fail("find the privilege", err)
	}
	n := *r
	n.ReadPaths = paths
	var priv inf.Privilege
	if cur == nil {
		ttl, err := life(req)
		if err != nil {
			return surface.Result{}, err
		}
		if err := req.Begin(ctx, StepGrantPrivilege, ids); err != nil {
			return surface.Result{}, err
		}
		if priv, err = c.CreatePrivilege(ctx, r.IdentityID, inf.PrivilegeSlug(req.Slug), rules, &inf.Temporary{Start: req.Now, Range: ttl}); err != nil {
			return fail("grant privilege", err)
		}
	} else {
		window := &inf.Temporary{Start: cur.Start, Range: cur.End.Sub(cur.Start)}
		if !cur.Temporary || cur.Start.IsZero() || window.Range < time.Second || (!req.ExpiresAt.IsZero() && cur.End.After(req.ExpiresAt)) {
			ttl, err := life(req)
			if err != nil {
				return surface.Result{}, err
			}
			window = &inf.Temporary{Start: req.Now, Range: ttl}
		}
		ids["privilege_id"] = cur.ID
		if err := req.Begin(ctx, StepUpdatePrivilege, ids); err != nil {
			return surface.Result{}, err
		}
		if priv, err = c.UpdatePrivilege(ctx, cur.ID, cur.Slug, rules, window); err != nil {
			return fail("update privilege "+cur.ID, err)
		}
	}
	n.PrivilegeID = priv.ID
	var parts []string
	if gone := without(r.ReadPaths, paths); len(gone) > 0 {
		parts = append(parts, "read of "+strings.Join(gone, ", ")+" withheld (killed surfaces' keys)")
	}
	if back := without(paths, r.ReadPaths); len(back) > 0 {
		parts = append(parts, "read of "+strings.Join(back, ", ")+" granted again")
	}
	if len(parts) == 0 {
		parts = append(parts, "rules set again")
	}
	return surface.Result{
		Record:   &n,
		Narrower: len(without(r.ReadPaths, paths)) > 0,
		Detail: fmt.Sprintf("privilege %s of identity %s (%s) updated in place: %s; it reads %s; identity and client secret kept",
			priv.ID, n.IdentityName, n.IdentityID, strings.Join(parts, "; "), strings.Join(paths, ", ")),
	}, nil
}

// findPrivilege returns the identity's privilege r records, else the one
// named by the handoff's privilege slug, else nil.
func (s *Surface) findPrivilege(ctx context.Context, c *inf.Client, req *surface.Request, r *Record) (*inf.Privilege, error) {
	if r.PrivilegeID != "" {
		p, err := c.GetPrivilege(ctx, r.PrivilegeID)
		if err == nil {
			return &p, nil
		}
		if !inf.IsNotFound(err) {
			return nil, err
		}
	}
	list, err := c.ListPrivileges(ctx, r.IdentityID)
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		if p.Slug == inf.PrivilegeSlug(req.Slug) {
			full, err := c.GetPrivilege(ctx, p.ID)
			if err != nil {
				return nil, err
			}
			return &full, nil
		}
	}
	return nil, nil
}

// Revoke revokes the recorded client secret, deletes the privilege, the
// membership and the identity, then deletes any other identity named for
// the handoff. Each step first, so that a failure to delete the identity
// (delete protection) leaves nothing that can log in or read.
func (s *Surface) Revoke(ctx context.Context, req *surface.Request, rec surface.Record) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	keep := ""
	if r := Decode(rec); r != nil && r.IdentityID != "" {
		ids := map[string]string{"identity_id": r.IdentityID, "identity_name": r.IdentityName}
		if r.ClientSecretID != "" {
			if err := req.Begin(ctx, StepRevokeClientSecret, ids); err != nil {
				return err
			}
			if err := c.RevokeClientSecret(ctx, r.IdentityID, r.ClientSecretID); err != nil {
				return fmt.Errorf("infisical: revoke client secret %s of %s (handoff %s): %w", r.ClientSecretID, r.IdentityName, req.Slug, err)
			}
		}
		if r.PrivilegeID != "" {
			if err := req.Begin(ctx, StepDeletePrivilege, ids); err != nil {
				return err
			}
			if err := c.DeletePrivilege(ctx, r.PrivilegeID); err != nil {
				return fmt.Errorf("infisical: delete privilege %s of %s (handoff %s): %w", r.PrivilegeID, r.IdentityName, req.Slug, err)
			}
		}
		if err := req.Begin(ctx, StepRemoveMembership, ids); err != nil {
			return err
		}
		if err := c.RemoveProjectMembership(ctx, r.IdentityID); err != nil {
			return fmt.Errorf("infisical: remove %s from the project (handoff %s): %w", r.IdentityName, req.Slug, err)
		}
		if err := req.Begin(ctx, StepDeleteIdentity, ids); err != nil {
			return err
		}
		if err := c.DeleteIdentity(ctx, r.IdentityID); err != nil {
			return fmt.Errorf("infisical: delete identity %s (%s) of handoff %s: %w", r.IdentityName, r.IdentityID, req.Slug, err)
		}
		keep = r.IdentityID
	}
	return s.deleteStray(ctx, c, req, keep)
}

// deleteStray deletes the identities named for the handoff other than the
// one with id keep (already handled, or the one to keep).
func (s *Surface) deleteStray(ctx context.Context, c *inf.Client, req *surface.Request, keep string) error {
	for _, id := range s.strays(req, keep) {
		if err := req.Begin(ctx, StepDeleteStray, map[string]string{"identity_id": id.ID, "identity_name": id.Name}); err != nil {
			return err
		}
		if err := c.DeleteIdentity(ctx, id.ID); err != nil {
			return fmt.Errorf("infisical: delete leftover identity %s (%s) of handoff %s: %w", id.Name, id.ID, req.Slug, err)
		}
	}
	return nil
}

// Verify checks the identity against the manifest and the spec: it exists
// with organization role no-access, holds exactly the recorded privilege,
// temporary and ending by the handoff's expiry, with no rule beyond its
// own folder and the spec's read paths, and no live client secret other
// than the recorded one.
func (s *Surface) Verify(ctx context.Context, req *surface.Request, rec surface.Record) []surface.Violation {
	v := &surface.Violations{Surface: Name}
	add := v.Add
	r := Decode(rec)
	if r == nil {
		add(false, "no identity recorded")
		return v.List
	}
	s.verifyStrays(v, req, r)
	c, err := s.client()
	if err != nil {
		add(false, "cannot verify the identity: %v", err)
		return v.List
	}
	id, err := c.GetIdentity(ctx, r.IdentityID)
	if err != nil {
		if inf.IsNotFound(err) {
			add(false, "identity %s (%s) no longer exists: run handoff apply", r.IdentityName, r.IdentityID)
		} else {
			add(false, "cannot read identity %s: %v", r.IdentityName, err)
		}
		return v.List
	}
	if id.OrgRole != "" && id.OrgRole != OrgRole {
		add(true, "identity %s has organization role %s, not %s", r.IdentityName, id.OrgRole, OrgRole)
	}
	privs, err := c.ListPrivileges(ctx, r.IdentityID)
	if err != nil {
		add(false, "cannot list the privileges of %s: %v", r.IdentityName, err)
		return v.List
	}
	allowed := map[string]bool{}
	if req.Spec != nil {
		for _, rule := range Rules(req) {
			allowed[rule.String()] = true
		}
	}
	withheld := map[string]bool{}
	for _, rule := range inf.ReadRules(ReadEnvironment(req), "", req.Withhold) {
		withheld[rule.String()] = true
	}
	for _, p := range privs {
		if p.ID != r.PrivilegeID {
			add(true, "identity %s holds privilege %s (%s), which the manifest does not record", r.IdentityName, p.Slug, p.ID)
			continue
		}
		full, err := c.GetPrivilege(ctx, p.ID)
		if err != nil {
			add(false, "cannot read privilege %s: %v", p.ID, err)
			continue
		}
		if !full.Temporary {
			add(true, "privilege %s of %s is permanent, not temporary", p.ID, r.IdentityName)
		} else if !req.ExpiresAt.IsZero() && full.End.After(req.ExpiresAt.Add(time.Minute)) {
			add(true, "privilege %s of %s lasts until %s, past the handoff's expiry %s", p.ID, r.IdentityName,
				full.End.UTC().Format(time.RFC3339), req.ExpiresAt.UTC().Format(time.RFC3339))
		}
		if req.Spec == nil {
			continue
		}
		var wider []string
		for _, rule := range full.Rules {
			if !allowed[rule.String()] {
				wider = append(wider, rule.String())
			}
		}
		sort.Strings(wider)
		for _, w := range wider {
			if withheld[w] {
				add(true, "privilege %s of %s grants %q, which the kill of a surface read by reference withholds", p.ID, r.IdentityName, w)
				continue
			}
			add(true, "privilege %s of %s grants %q, beyond its folder and the spec's read paths", p.ID, r.IdentityName, w)
		}
	}
	if r.PrivilegeID != "" && !hasPrivilege(privs, r.PrivilegeID) {
		add(false, "privilege %s of %s no longer exists: the handoff cannot read its folder", r.PrivilegeID, r.IdentityName)
	}
	secrets, err := c.ListClientSecrets(ctx, r.IdentityID)
	if err != nil {
		add(false, "cannot list the client secrets of %s: %v", r.IdentityName, err)
		return v.List
	}
	for _, cs := range secrets {
		if cs.Revoked || (!cs.ExpiresAt.IsZero() && !req.Now.Before(cs.ExpiresAt)) {
			continue
		}
		if cs.ID != r.ClientSecretID {
			add(true, "identity %s has a live client secret %s that the manifest does not record", r.IdentityName, cs.ID)
		}
		if cs.ExpiresAt.IsZero() {
			add(true, "client secret %s of %s never expires", cs.ID, r.IdentityName)
		}
	}
	return v.List
}

func hasPrivilege(ps []inf.Privilege, id string) bool {
	for _, p := range ps {
		if p.ID == id {
			return true
		}
	}
	return false
}

// verifyStrays reports identities named for the handoff that the record
// does not name: something minted it that no manifest can revoke.
func (s *Surface) verifyStrays(v *surface.Violations, req *surface.Request, r *Record) {
	l := LiveOf(req.Live)
	if l == nil {
		return
	}
	for _, id := range l.Of(req.Slug) {
		if id.ID != r.IdentityID {
			v.Add(true, "identity %s (%s) is named for the handoff but not recorded by its manifest", id.Name, id.ID)
		}
	}
}

// Session: the identity's client id and secret, under their own names, and
// the read paths beyond the folder with their environment.
func (s *Surface) Session(rec surface.Record, folder string) surface.Session {
	r := Decode(rec)
	id, secret := r.secretNames()
	out := surface.Session{Env: []surface.EnvVar{{Name: SecretClientID, Secret: id}, {Name: SecretClientSecret, Secret: secret}}}
	if r == nil {
		return out
	}
	out.ReadEnvironment = r.Environment
	for _, p := range r.ReadPaths {
		if p != folder && !strings.HasPrefix(p, folder+"/") {
			out.Read = append(out.Read, p)
		}
	}
	return out
}

// DescribeRevoke says what revoking rec ended.
func (s *Surface) DescribeRevoke(rec surface.Record, _ bool) string {
	r := Decode(rec)
	if r == nil {
		return ""
	}
	return fmt.Sprintf("identity %s (%s): client secret, privilege, membership, identity, and any other identity named for the handoff", r.IdentityName, r.IdentityID)
}
