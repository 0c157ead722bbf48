package aws

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/surface"
)

// Desired is the grant of the spec's aws block: a session of its role with
// the compiled session policy, ending after the block's duration (sooner
// when the handoff ends sooner, but never under STS's 15 minutes). A
// refresh (t.Record set) mints the recorded grant again.
func (s *Surface) Desired(t surface.Target) *plan.Grant {
	b := Of(t.Spec)
	if t.Spec != nil && b == nil {
		return nil
	}
	var g Grant
	var compiled string
	switch r := Decode(t.Record); {
	case r != nil:
		g, compiled = r.Grant(), r.CompiledPolicy
	case b != nil:
		g = GrantOf(b)
		compiled, _ = Compile(g)
	default:
		return nil
	}
	return &plan.Grant{Attributes: attributes(g, compiled), ExpiresAt: t.Now.Add(sessionLength(g.Duration, t.Now, t.ExpiresAt))}
}

// Recorded is the grant of the recorded session.
func (s *Surface) Recorded(rec surface.Record, _ *manifest.Manifest) *plan.Grant {
	r := Decode(rec)
	if r == nil {
		return nil
	}
	return &plan.Grant{Attributes: attributes(r.Grant(), r.CompiledPolicy), ExpiresAt: r.ExpiresAt}
}

// attributes are the plan's attributes of a grant and its compiled policy.
func attributes(g Grant, compiled string) map[string]string {
	a := map[string]string{AttrRoleARN: g.RoleARN, AttrDuration: policy.FormatDuration(g.Duration)}
	if g.Region != "" {
		a[AttrRegion] = g.Region
	}
	for k, l := range map[string][]string{AttrSSMRead: g.SSMRead, AttrS3Read: g.S3Read, AttrSQSSend: g.SQSSend} {
		if len(l) > 0 {
			a[k] = strings.Join(l, ", ")
		}
	}
	if g.SessionPolicy != "" {
		a[AttrSessionPolicy] = g.SessionPolicy
	}
	if st := Statements(compiled); len(st) > 0 {
		a[AttrCompiledPolicy] = strings.Join(st, ", ")
	}
	return a
}

// Attrs: a new SSM path, S3 prefix, SQS queue or statement of the compiled
// policy is an escalation; so is any change of the role, the region or the
// raw session policy (described without its text), and a longer session.
func (s *Surface) Attrs() map[string]surface.AttrKind {
	return map[string]surface.AttrKind{
		AttrRoleARN:        {},
		AttrRegion:         {},
		AttrSSMRead:        {List: true, Noun: "SSM path"},
		AttrS3Read:         {List: true, Noun: "S3 prefix"},
		AttrSQSSend:        {List: true, Noun: "SQS queue"},
		AttrSessionPolicy:  {Opaque: true},
		AttrCompiledPolicy: {List: true, Noun: "session policy statement"},
		AttrDuration:       {Duration: true},
	}
}

// sessionLength is the length of a session minted at now for a block of
// duration d, in a handoff that ends at end (zero: unknown): d, cut to what
// is left of the handoff, to the second, but at least STS's minimum.
func sessionLength(d time.Duration, now, end time.Time) time.Duration {
	if d <= 0 || d > MaxSession {
		d = MaxSession
	}
	if !end.IsZero() {
		if left := end.Sub(now).Truncate(time.Second); left < d {
			d = left
		}
	}
	return max(d.Truncate(time.Second), MinSession)
}

// Resource names the session.
func (s *Surface) Resource(_ string, g *plan.Grant) string {
	if g != nil && g.Attributes[AttrRoleARN] != "" {
		return "STS session of " + g.Attributes[AttrRoleARN]
	}
	return "STS session"
}

// Secrets are the session's credentials and region.
func (s *Surface) Secrets(surface.Record) []string { return slices.Clone(secretNames) }

// SecretPrefixes: the surface's secrets start with AWS_.
func (s *Surface) SecretPrefixes() []string { return []string{"AWS_"} }

// Expiry is the session's, refreshed ahead of it within the refresh window.
func (s *Surface) Expiry(rec surface.Record) (time.Time, string, bool) {
	r := Decode(rec)
	if r == nil {
		return time.Time{}, "", false
	}
	return r.ExpiresAt, "session", true
}

var _ surface.Stamped = (*Surface)(nil)

// Stamps are the session's issue and expiry, for the dispatch gate.
func (s *Surface) Stamps(rec surface.Record) surface.Stamps {
	st := surface.Stamps{MintedField: "issued_at", ExpiresField: "expires_at"}
	if r := Decode(rec); r != nil {
		st.Minted, st.Expires = r.IssuedAt, r.ExpiresAt
	}
	return st
}

// Title names the surface's credential in messages.
func (s *Surface) Title() string { return "AWS session" }

// Session: the credentials and region, under the names the AWS SDKs read.
func (s *Surface) Session(surface.Record, string) surface.Session {
	env := make([]surface.EnvVar, len(secretNames))
	for i, n := range secretNames {
		env[i] = surface.EnvVar{Name: n, Secret: n}
	}
	return surface.Session{Env: env}
}

// DescribeRevoke says what revoking rec ended.
func (s *Surface) DescribeRevoke(rec surface.Record, replaced bool) string {
	r := Decode(rec)
	if r == nil {
		return ""
	}
	how := "denied"
	if replaced {
		how = "denied when the new one was minted"
	}
	return fmt.Sprintf("STS session %s of %s, issued %s (its sessions, source identity %s, %s by the role's %s policy)",
		r.SessionName, r.RoleARN, r.IssuedAt.UTC().Format(time.RFC3339), r.SourceIdentity, how, r.Revocations)
}
