package aws

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
	"github.com/raxx-app/handoff/internal/surface"
)

// Step names.
const (
	// StepAssume mints the session (sts:AssumeRole). It is traceable: the
	// session's source identity is the slug, and every later create,
	// refresh or revocation of the slug denies what it made.
	StepAssume = "assume role"
	// StepDenyEarlier denies, on the role, the handoff's sessions issued
	// before the one just minted: the one it replaces, and any a stopped
	// run left.
	StepDenyEarlier = "revoke earlier sessions"
	// StepRevoke denies, on a role, every session of the handoff issued
	// until now.
	StepRevoke = "revoke sessions"
)

// Surface mints STS sessions with the provisioner's AWS client.
type Surface struct {
	// Client returns the provisioner's client; nil when AWS is not
	// configured (parsing, policy and planning need none).
	Client func() (*awsprov.Client, error)

	// read are the roles read with a client (readRole): each once a run.
	readMu sync.Mutex
	read   map[*awsprov.Client]map[string]bool
}

// New returns the surface; client may be nil.
func New(client func() (*awsprov.Client, error)) *Surface { return &Surface{Client: client} }

// Name is "aws".
func (s *Surface) Name() string { return Name }

func (s *Surface) client() (*awsprov.Client, error) {
	if s.Client == nil {
		return nil, errors.New("aws: no AWS client is configured: give the provisioner AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or web identity)")
	}
	return s.Client()
}

// Steps: a create and a refresh assume the role, then deny the handoff's
// earlier sessions; a revocation denies its sessions on each role the
// record and the spec name (none when neither names one).
func (s *Surface) Steps(op surface.Op, req *surface.Request, rec surface.Record) []surface.Step {
	switch op {
	case surface.OpCreate, surface.OpRefresh:
		return []surface.Step{{Name: StepAssume}, {Name: StepDenyEarlier}}
	case surface.OpRevoke:
		if req == nil {
			return []surface.Step{{Name: StepRevoke}}
		}
		var out []surface.Step
		for range revokeRoles(req, Decode(rec)) {
			out = append(out, surface.Step{Name: StepRevoke})
		}
		return out
	}
	return nil
}

// revokeRoles are the roles a revocation of req's handoff denies sessions
// on: the recorded session's, then the spec's when it differs (a create
// that stopped before its record was written used it).
func revokeRoles(req *surface.Request, r *Record) []string {
	var out []string
	if r != nil {
		out = append(out, r.RoleARN)
	}
	if b := Of(req.Spec); b != nil {
		if _, _, ok := roleParts(b.RoleARN.Value); ok && !slices.Contains(out, b.RoleARN.Value) {
			out = append(out, b.RoleARN.Value)
		}
	}
	return out
}

// Create mints a session of the spec's role narrowed by the compiled
// session policy, then denies the handoff's earlier sessions.
func (s *Surface) Create(ctx context.Context, req *surface.Request) (surface.Result, error) {
	b := Of(req.Spec)
	if b == nil {
		return surface.Result{}, fmt.Errorf("aws: handoff %s has no aws block", req.Slug)
	}
	g := GrantOf(b)
	compiled, err := Compile(g)
	if err != nil {
		return surface.Result{}, fmt.Errorf("aws: handoff %s: %v (run handoff validate)", req.Slug, err)
	}
	return s.mint(ctx, req, g, compiled)
}

// Refresh mints the grant rec records again (the same compiled policy),
// then denies the handoff's earlier sessions, the one it replaces among
// them.
func (s *Surface) Refresh(ctx context.Context, req *surface.Request, rec surface.Record) (surface.Result, error) {
	r := Decode(rec)
	if r == nil || r.CompiledPolicy == "" {
		return s.Create(ctx, req)
	}
	return s.mint(ctx, req, r.Grant(), r.CompiledPolicy)
}

// nameRE is what STS accepts as a RoleSessionName and a SourceIdentity.
var nameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// sessionTags are the session tags of a handoff's sessions.
func sessionTags(slug string) map[string]string { return map[string]string{"handoff": slug} }

// mint assumes the role for req's handoff with grant g (compiled into
// compiled) and denies the handoff's sessions issued before the new one.
//
// The order closes every window: the new session's issue time is read
// from AWS's answer (its expiry less its length, on AWS's clock), and the
// deny is dated to it, so it ends the replaced session and any session a
// stopped run minted and lost, and never the new one, whatever the skew
// between this machine's clock and AWS's. A run stopped between the two
// steps leaves two live sessions of the slug; the next create, refresh or
// revocation of the slug denies them (they are found by their source
// identity).
func (s *Surface) mint(ctx context.Context, req *surface.Request, g Grant, compiled string) (surface.Result, error) {
	slug := req.Slug
	if !req.ExpiresAt.IsZero() && !req.Now.Before(req.ExpiresAt) {
		return surface.Result{}, fmt.Errorf("aws: handoff %s expired at %s: no session is minted for it", slug, req.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if !nameRE.MatchString(slug) {
		return surface.Result{}, fmt.Errorf("aws: handoff %q: STS takes a session name and source identity of 2 to 64 of [A-Za-z0-9_+=,.@-]", slug)
	}
	c, err := s.client()
	if err != nil {
		return surface.Result{}, err
	}
	d := sessionLength(g.Duration, req.Now, req.ExpiresAt)
	region := g.Region
	if region == "" {
		region = c.Region()
	}
	ids := map[string]string{"role_arn": g.RoleARN, "source_identity": slug, "session_name": slug,
		"duration": d.String(), "expires_by": req.Now.Add(d).UTC().Format(time.RFC3339)}
	if err := req.Begin(ctx, StepAssume, ids); err != nil {
		return surface.Result{}, err
	}
	cr, err := c.AssumeRole(ctx, awsprov.AssumeInput{RoleARN: g.RoleARN, SessionName: slug, SourceIdentity: slug,
		Tags: sessionTags(slug), SessionPolicy: []byte(compiled), Duration: d})
	if err != nil {
		return surface.Result{}, fmt.Errorf("handoff %s: %w", slug, err)
	}
	issued := cr.Expiration.Add(-d).UTC().Truncate(time.Second)
	undo := func(ctx context.Context) error {
		_, err := s.deny(ctx, c, g.RoleARN, slug, issued.Add(time.Second))
		return err
	}
	res := surface.Result{Compensate: undo}
	if err := req.Begin(ctx, StepDenyEarlier, map[string]string{"role_arn": g.RoleARN, "source_identity": slug,
		"issued_before": issued.Format(time.RFC3339), "policy": RevocationPolicy}); err != nil {
		return res, err
	}
	since, err := s.deny(ctx, c, g.RoleARN, slug, issued)
	if err != nil {
		return res, fmt.Errorf("handoff %s: revoke its earlier sessions: %w", slug, err)
	}
	if since.After(issued) {
		// Already dead: nothing to compensate.
		return surface.Result{}, fmt.Errorf("aws: handoff %s: the %s policy of role %s denies its sessions issued before %s, and AWS issued this one at %s: it cannot be used (a revocation dated ahead of AWS's clock); rerun handoff apply after %s",
			slug, RevocationPolicy, g.RoleARN, since.Format(time.RFC3339), issued.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	fp := manifest.Fingerprint(cr.AccessKeyID)
	rec := &Record{RoleARN: g.RoleARN, Region: g.Region, SSMRead: g.SSMRead, S3Read: g.S3Read, SQSSend: g.SQSSend,
		SessionPolicy: g.SessionPolicy, Duration: g.Duration.String(), CompiledPolicy: compiled,
		SessionName: slug, SourceIdentity: slug, AssumedRoleARN: cr.AssumedRoleARN, SessionRegion: region,
		IssuedAt: issued, ExpiresAt: cr.Expiration.UTC(), KeyFingerprint: fp, PackedPolicySize: cr.PackedPolicySize,
		Revocations: RevocationPolicy}
	res.Secrets = map[string]string{
		SecretAccessKeyID:     cr.AccessKeyID,
		SecretSecretAccessKey: cr.SecretAccessKey,
		SecretSessionToken:    cr.SessionToken,
		SecretRegion:          region,
	}
	res.Record = rec
	res.Fingerprint = fp
	res.Detail = fmt.Sprintf("STS session %s of %s (%s; %s), expires %s", slug, g.RoleARN, summary(g), region, rec.ExpiresAt.Format(time.RFC3339))
	return res, nil
}

// summary says in a phrase what a grant allows.
func summary(g Grant) string {
	var parts []string
	if len(g.SSMRead) > 0 {
		parts = append(parts, "SSM read "+strings.Join(g.SSMRead, ", "))
	}
	if len(g.S3Read) > 0 {
		parts = append(parts, "S3 read "+strings.Join(g.S3Read, ", "))
	}
	if len(g.SQSSend) > 0 {
		parts = append(parts, "SQS send "+strings.Join(g.SQSSend, ", "))
	}
	if g.SessionPolicy != "" {
		parts = append(parts, "a session policy of its own")
	}
	return strings.Join(parts, "; ")
}

// Revoke denies, on each role rec and the spec name, every session of the
// handoff issued until now (and always the recorded one, even when it was
// issued in this very second). A role that no longer exists ends its
// sessions by itself: that is success.
func (s *Surface) Revoke(ctx context.Context, req *surface.Request, rec surface.Record) error {
	r := Decode(rec)
	roles := revokeRoles(req, r)
	if len(roles) == 0 {
		return nil
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	before := now.UTC().Truncate(time.Second)
	if r != nil && !r.IssuedAt.Before(before) {
		before = r.IssuedAt.UTC().Truncate(time.Second).Add(time.Second)
	}
	for _, role := range roles {
		ids := map[string]string{"role_arn": role, "source_identity": req.Slug, "issued_before": before.Format(time.RFC3339), "policy": RevocationPolicy}
		if err := req.Begin(ctx, StepRevoke, ids); err != nil {
			return err
		}
		if _, err := s.deny(ctx, c, role, req.Slug, before); err != nil && !errors.Is(err, awsprov.ErrNotFound) {
			return fmt.Errorf("handoff %s: %w", req.Slug, err)
		}
	}
	return nil
}

// deny adds (or moves forward) the handoff's entry in the role's
// revocation policy, then reads the policy back: the entry must be there,
// dated before or later. It returns the entry's date. Another writer that
// rewrote the policy in between (a second repository sharing the role)
// makes it write once more, then fail.
func (s *Surface) deny(ctx context.Context, c *awsprov.Client, role, slug string, before time.Time) (time.Time, error) {
	// IAM has no conditional write: the client serializes, per role, the
	// read-modify-write of its revocation policy within this process
	// (apply revokes and mints many handoffs at once). Across processes,
	// apply's lock serializes the runs of one repository (see doc.go).
	unlock, err := c.LockRole(ctx, role)
	if err != nil {
		return time.Time{}, err
	}
	defer unlock()
	want := before.UTC()
	if t := want.Truncate(time.Second); !t.Equal(want) {
		want = t.Add(time.Second)
	}
	for range 2 {
		if err := c.DenySessions(ctx, role, RevocationPolicy, slug, before); err != nil {
			return time.Time{}, err
		}
		entries, err := c.DenyEntries(ctx, role, RevocationPolicy)
		if err != nil {
			return time.Time{}, err
		}
		for _, e := range entries {
			if e.SourceIdentity == slug && !e.Since.Before(want) {
				return e.Since, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("aws: revoke sessions of %s on role %s: the entry was gone when read back, twice: another writer rewrote the role's %s policy at the same time (two repositories sharing one role?); rerun, and give each repository roles of its own",
		slug, role, RevocationPolicy)
}
