package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/vault"
)

var (
	_ surface.Surface         = (*Surface)(nil)
	_ surface.RevokedVerifier = (*Surface)(nil)
)

// Verify compares the recorded session with the spec (its role, its
// compiled policy, its length: wider than the spec is a scope violation),
// with the vault (the session's key is the one recorded) and with the
// role's revocation policy (a live handoff's session is not denied; a
// revoked or killed one's is, as VerifyRevoked says). It writes nothing
// and names no secret.
func (s *Surface) Verify(ctx context.Context, req *surface.Request, rec surface.Record) []surface.Violation {
	r := Decode(rec)
	if r == nil {
		return []surface.Violation{{Surface: Name, Message: "no session recorded"}}
	}
	if revoked(req) {
		return s.VerifyRevoked(ctx, req, rec)
	}
	v := &surface.Violations{Surface: Name}
	if b := Of(req.Spec); b != nil {
		compareGrant(v, GrantOf(b), r)
	}
	if sum, _ := sessionPolicyProblem(r.CompiledPolicy); strings.HasPrefix(sum, "Blanket") {
		v.Add(true, "the session's policy holds a blanket grant (*, service:* or NotAction)")
	}
	expired := !req.Now.Before(r.ExpiresAt)
	if expired {
		v.Add(false, "the session expired at %s: run handoff apply to mint a new one", r.ExpiresAt.UTC().Format(time.RFC3339))
	}
	s.verifyVault(ctx, v, req, r)
	if expired {
		return v.List
	}
	c, err := s.client()
	if err != nil {
		v.Add(false, "cannot verify the session with AWS: %v", err)
		return v.List
	}
	entries, err := c.DenyEntries(ctx, r.RoleARN, r.revocations())
	if err != nil {
		v.Add(false, "cannot read the %s policy of role %s: %v", r.revocations(), r.RoleARN, err)
		return v.List
	}
	if e, ok := entryOf(entries, r.SourceIdentity); ok && e.Since.After(r.IssuedAt) {
		v.Add(false, "the role's %s policy denies this session (sessions of %s issued before %s): it is replaced at its next refresh, before %s",
			r.revocations(), r.SourceIdentity, e.Since.Format(time.RFC3339), r.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return v.List
}

// VerifyRevoked checks that the session rec records, once its handoff or
// its aws surface is revoked, is denied by the role's revocation policy
// until it expires: an entry for its source identity dated after the
// session's issue. A revoked session that still works is a scope
// violation. `handoff verify` asks it for revoked handoffs and killed
// surfaces (surface.RevokedVerifier).
func (s *Surface) VerifyRevoked(ctx context.Context, req *surface.Request, rec surface.Record) []surface.Violation {
	r := Decode(rec)
	if r == nil || !req.Now.Before(r.ExpiresAt) {
		return nil // nothing recorded, or expired: nothing can be live
	}
	v := &surface.Violations{Surface: Name}
	c, err := s.client()
	if err != nil {
		v.Add(false, "cannot verify the revocation with AWS: %v", err)
		return v.List
	}
	entries, err := c.DenyEntries(ctx, r.RoleARN, r.revocations())
	if err != nil {
		v.Add(false, "cannot read the %s policy of role %s: %v", r.revocations(), r.RoleARN, err)
		return v.List
	}
	if e, ok := entryOf(entries, r.SourceIdentity); !ok || !e.Since.After(r.IssuedAt) {
		v.Add(true, "handoff %s is revoked, but the %s policy of role %s does not deny its session issued %s, which lives until %s: run handoff revoke -surface aws %s again",
			req.Slug, r.revocations(), r.RoleARN, r.IssuedAt.Format(time.RFC3339), r.ExpiresAt.UTC().Format(time.RFC3339), req.Slug)
	}
	return v.List
}

// revoked reports whether the live state shows req's handoff revoked, or
// its aws surface killed.
func revoked(req *surface.Request) bool {
	if req.Live == nil {
		return false
	}
	lh := req.Live.Handoffs[req.Slug]
	if lh == nil || lh.Manifest == nil {
		return false
	}
	m := lh.Manifest
	return m.Status == manifest.Revoked || m.Killed()[Name]
}

func (r *Record) revocations() string {
	if r.Revocations == "" {
		return RevocationPolicy
	}
	return r.Revocations
}

func entryOf(entries []awsprov.DenyEntry, sourceIdentity string) (awsprov.DenyEntry, bool) {
	for _, e := range entries {
		if e.SourceIdentity == sourceIdentity {
			return e, true
		}
	}
	return awsprov.DenyEntry{}, false
}

// verifyVault checks the folder: every secret there, and the access key
// id the one recorded (by fingerprint).
func (s *Surface) verifyVault(ctx context.Context, v *surface.Violations, req *surface.Request, r *Record) {
	if req.Live != nil {
		if lh := req.Live.Handoffs[req.Slug]; lh != nil {
			for _, n := range secretNames {
				if _, ok := lh.Secrets[n]; !ok {
					v.Add(false, "%s is missing from %s", n, req.Folder)
				}
			}
		}
	}
	if req.Vault == nil {
		return
	}
	sec, err := req.Vault.GetSecret(ctx, req.Environment, req.Folder, SecretAccessKeyID)
	switch {
	case vault.IsNotFound(err):
		if req.Live == nil {
			v.Add(false, "%s is missing from %s", SecretAccessKeyID, req.Folder)
		}
	case err != nil:
		v.Add(false, "cannot read %s: %v", SecretAccessKeyID, err)
	default:
		fp := manifest.Fingerprint(strings.TrimSpace(sec.Value))
		sec.Value = ""
		if fp != r.KeyFingerprint {
			v.Add(false, "the session in the vault (%s) is not the one the manifest records (%s)", fp, r.KeyFingerprint)
		}
	}
}

// compareGrant compares the recorded session with the spec's grant g:
// another role, a statement the spec does not allow, a deny it has that
// the session lacks, or a longer session are scope violations; a
// narrower policy is drift.
func compareGrant(v *surface.Violations, g Grant, r *Record) {
	if g.RoleARN != r.RoleARN {
		v.Add(true, "the session is of role %s, the spec asks for %s", r.RoleARN, g.RoleARN)
	}
	if got, limit := r.ExpiresAt.Sub(r.IssuedAt), max(g.Duration, MinSession); got > limit {
		v.Add(true, "the session lasts %s, the spec allows %s", got, limit)
	}
	want, err := Compile(g)
	if err != nil {
		v.Add(false, "the spec's grant does not compile: %v", err)
		return
	}
	have, hd := perms(r.CompiledPolicy)
	spec, sd := perms(want)
	if have == nil {
		v.Add(true, "the session's recorded policy cannot be read")
		return
	}
	for _, p := range sortedPerms(have) {
		if p.effect == string(awsprov.Allow) && !spec[p] {
			v.Add(true, "the session's policy allows %s, which the spec does not", p)
		}
	}
	for _, p := range sortedPerms(spec) {
		if p.effect == string(awsprov.Deny) && !have[p] {
			v.Add(true, "the spec denies %s, the session's policy does not", p)
		}
	}
	narrower := false
	for p := range spec {
		if p.effect == string(awsprov.Allow) && !have[p] {
			narrower = true
		}
	}
	for p := range have {
		if p.effect == string(awsprov.Deny) && !spec[p] {
			narrower = true
		}
	}
	if narrower || hd != sd {
		v.Add(false, "the session's policy is narrower than the spec's (handoff was upgraded?): the next refresh mints the recorded grant again; a replace mints the spec's")
	}
}

// perm is one action on one resource under a condition, as a statement
// grants or denies it.
type perm struct{ effect, action, resource, condition string }

func (p perm) String() string {
	s := p.action + " on " + p.resource
	if p.condition != "" {
		s += " when " + p.condition
	}
	return s
}

// perms expands a compiled policy into its perms (nil when it does not
// parse); the second value counts the statements it could not expand.
func perms(compiled string) (map[perm]bool, int) {
	doc, err := awsprov.ParseDocument([]byte(compiled))
	if err != nil {
		return nil, 0
	}
	out := map[perm]bool{}
	odd := 0
	for _, st := range doc.Statement {
		actions, resources := []string(st.Action), []string(st.Resource)
		if len(st.NotAction) > 0 {
			actions = []string{"every action but " + strings.Join(sortedCopy(st.NotAction), "|")}
			odd++
		}
		if len(st.NotResource) > 0 {
			resources = []string{"every resource but " + strings.Join(sortedCopy(st.NotResource), "|")}
			odd++
		}
		cond := ""
		if len(st.Condition) > 0 {
			b, _ := json.Marshal(st.Condition)
			cond = string(b)
		}
		for _, a := range actions {
			for _, r := range resources {
				out[perm{effect: string(st.Effect), action: strings.ToLower(a), resource: r, condition: cond}] = true
			}
		}
	}
	return out, odd
}

func sortedCopy(v awsprov.Value) []string {
	out := slices.Clone([]string(v))
	sort.Strings(out)
	return out
}

func sortedPerms(m map[perm]bool) []perm {
	out := make([]perm, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}
