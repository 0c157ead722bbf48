package apply_test

import (
	"context"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
)

// editSpec replaces old by new in the source of slug's spec and puts the
// parsed result in the world's repository, as a merged pull request would.
func (w *world) editSpec(slug, old, new string) *spec.Handoff {
	w.t.Helper()
	for i, h := range w.repo.Handoffs {
		if h.Slug.Value != slug {
			continue
		}
		src := string(w.repo.Sources[h.Filename])
		if !strings.Contains(src, old) {
			w.t.Fatalf("spec %s has no %q", slug, old)
		}
		n, diags := spec.ParseHandoffFile(h.Filename, []byte(strings.Replace(src, old, new, 1)))
		if diags.HasErrors() {
			w.t.Fatal(diags)
		}
		w.repo.Handoffs[i] = n
		return n
	}
	w.t.Fatalf("no spec %s", slug)
	return nil
}

// kill runs `handoff revoke -surface` on slug.
func (w *world) kill(slug string, surfaces ...string) {
	w.t.Helper()
	w.execMu.Lock()
	w.executed = nil
	w.execMu.Unlock()
	rep, err := apply.Revoke(context.Background(), slug, apply.RevokeOptions{Reason: "drill", By: "sec", Surfaces: surfaces}, w.deps())
	w.record(rep, err)
	if err != nil {
		w.t.Fatal(err)
	}
	// The kill is planned too (reconcile.PlanKill): the run announces the
	// steps its plan lists.
	w.execMu.Lock()
	got := w.executed[slug]
	w.execMu.Unlock()
	if want := rep.Handoffs[0].Planned; !slices.Equal(got, want) {
		w.t.Errorf("revoke %s executed other steps than its plan lists:\nexecuted %q\nplanned  %q", slug, got, want)
	}
}

// assertBoundedBy checks, through the dev servers, that nothing live of
// slug's identity outlives expires (H3): its client secrets and its
// privileges end by then, and so does what the manifest records.
func (w *world) assertBoundedBy(slug string, expires time.Time) {
	w.t.Helper()
	m := w.manifest(slug)
	if m.ExpiresAt.After(expires) {
		w.t.Errorf("the manifest expires at %s, after %s", m.ExpiresAt, expires)
	}
	inf := infRec(m)
	if inf == nil {
		return
	}
	limit := expires.Add(time.Second)
	for _, cs := range w.srv.Infisical.ClientSecrets(inf.IdentityID) {
		if cs.Revoked {
			continue
		}
		if cs.ExpiresAt == nil || cs.ExpiresAt.After(limit) {
			w.t.Errorf("client secret %s of %s expires at %v, after %s", cs.ID, inf.IdentityName, cs.ExpiresAt, expires)
		}
	}
	for _, p := range w.srv.Infisical.Privileges(inf.IdentityID) {
		if p.Active && (!p.Temporary || p.EndsAt == nil || p.EndsAt.After(limit)) {
			w.t.Errorf("privilege %s of %s ends at %v, after %s", p.ID, inf.IdentityName, p.EndsAt, expires)
		}
	}
	if !inf.ClientSecretExpiresAt.IsZero() && inf.ClientSecretExpiresAt.After(limit) {
		w.t.Errorf("the manifest records a client secret until %s, after %s", inf.ClientSecretExpiresAt, expires)
	}
}

// TestRefreshAndRepairKeepTTLAndSpec (H3): no refresh, repair or in-place
// change moves the manifest's expires_at or its spec digest, and nothing
// it mints outlives that expiry; only a replace of the whole handoff with a
// changed spec starts a new TTL under the new digest. A changed spec under
// a kill is not applied at all: nothing is minted, the manifest keeps what
// it was applied with, and the gate refuses it until untombstone.
func TestRefreshAndRepairKeepTTLAndSpec(t *testing.T) {
	ctx := context.Background()
	const narrower = `issues = "read"`
	tests := []struct {
		name string
		// op changes the world after the first apply, at t0 + 55 minutes,
		// and applies.
		op func(w *world)
		// wantPlan is the handoff's action in the plan op applies.
		wantPlan plan.Action
		// replaced: the manifest takes the new spec and a new TTL.
		replaced bool
		// frozen: the spec changed under a kill; nothing is minted.
		frozen bool
	}{
		{
			name:     "refresh after 55 minutes",
			op:       func(w *world) { w.mustApply() },
			wantPlan: plan.Refresh,
		},
		{
			name: "secret missing from the folder",
			op: func(w *world) {
				if err := w.inf.DeleteSecret(ctx, env, path.Join(root, iapSlug), "INFISICAL_CLIENT_SECRET"); err != nil {
					t.Fatal(err)
				}
				w.mustApply()
			},
			wantPlan: plan.Refresh,
		},
		{
			name: "identity deleted out of band",
			op: func(w *world) {
				if err := w.inf.DeleteIdentity(ctx, infRec(w.manifest(iapSlug)).IdentityID); err != nil {
					t.Fatal(err)
				}
				w.mustApply()
			},
			wantPlan: plan.Replace, // of the infisical surface only
		},
		{
			name: "by-reference kill narrowing, then untombstone widening",
			op: func(w *world) {
				w.kill(iapSlug, "apple_iap") // narrows the privilege in place
				if m := w.manifest(iapSlug); slices.Contains(infRec(m).ReadPaths, "/MooseQuest/queue/staging/APPLE_IAP_*") {
					t.Fatalf("the kill did not narrow: %v", infRec(m).ReadPaths)
				}
				if _, err := apply.Untombstone(ctx, iapSlug, w.deps()); err != nil {
					t.Fatal(err)
				}
				w.mustApply() // widens it back in place, and refreshes the token
			},
			wantPlan: plan.Refresh,
		},
		{
			name: "spec changed: replace",
			op: func(w *world) {
				w.editSpec(iapSlug, `issues = "write"`, narrower)
				w.mustApply()
			},
			wantPlan: plan.Replace,
			replaced: true,
		},
		{
			name: "spec changed under a kill, token due, secret missing",
			op: func(w *world) {
				w.kill(iapSlug, "apple_iap")
				w.editSpec(iapSlug, `issues = "write"`, narrower)
				if err := w.inf.DeleteSecret(ctx, env, path.Join(root, iapSlug), "INFISICAL_CLIENT_SECRET"); err != nil {
					t.Fatal(err)
				}
				w.mustApply()
			},
			wantPlan: plan.NoOp,
			frozen:   true,
		},
		{
			name: "spec changed under a kill, then untombstone: replace",
			op: func(w *world) {
				w.kill(iapSlug, "github")
				w.editSpec(iapSlug, `issues = "write"`, narrower)
				if _, err := apply.Untombstone(ctx, iapSlug, w.deps()); err != nil {
					t.Fatal(err)
				}
				w.mustApply()
			},
			wantPlan: plan.Replace,
			replaced: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
			w.mustApply()
			before := w.manifest(iapSlug)
			w.advance(55 * time.Minute)

			tokens := len(w.srv.GitHub.Tokens())
			tc.op(w)
			planned := findHandoff(w.lastPlan, iapSlug)

			after := w.manifest(iapSlug)
			if planned.Action != tc.wantPlan {
				t.Errorf("plan: %s (%s), want %s", planned.Action, planned.Reason, tc.wantPlan)
			}
			newDigest := w.repo.Handoffs[0].Digest()
			switch {
			case tc.replaced:
				if after.SpecDigest != newDigest || !after.ExpiresAt.Equal(w.now().Add(24*time.Hour)) {
					t.Errorf("a replace records the new spec and starts a new TTL: digest %s (spec %s), expires %s", after.SpecDigest, newDigest, after.ExpiresAt)
				}
				if ghRec(after).Permissions["issues"] != "read" {
					t.Errorf("the replace did not mint the new grant: %v", ghRec(after).Permissions)
				}
			default:
				if !after.ExpiresAt.Equal(before.ExpiresAt) {
					t.Errorf("expires_at moved from %s to %s without a replace", before.ExpiresAt, after.ExpiresAt)
				}
				if after.SpecDigest != before.SpecDigest || after.SpecFile != before.SpecFile || after.Card != before.Card {
					t.Errorf("spec digest moved from %s to %s without a replace", before.SpecDigest, after.SpecDigest)
				}
			}
			if tc.frozen {
				if n := len(w.srv.GitHub.Tokens()); n != tokens {
					t.Errorf("a handoff whose spec changed under a kill had %d tokens minted", n-tokens)
				}
				if ghRec(after).Permissions["issues"] != "write" || ghRec(after).TokenFingerprint != ghRec(before).TokenFingerprint {
					t.Errorf("github record changed: %s", asJSON(ghRec(after)))
				}
				if infRec(after).ClientSecretID != infRec(before).ClientSecretID {
					t.Errorf("a client secret was minted for a handoff whose spec changed under a kill")
				}
				if r := w.gateRefusal(iapSlug); !strings.Contains(r, "spec changed") {
					t.Errorf("gate on a handoff whose changed spec was not applied: %q", r)
				}
				if !strings.Contains(planned.Reason, "untombstone") || !strings.Contains(planned.Reason, "nothing is minted") {
					t.Errorf("plan reason does not say what happens: %s", planned.Reason)
				}
				// Two hours on, the token is dead and still nothing is minted.
				w.advance(2 * time.Hour)
				w.assertNoChanges()
				if n := len(w.srv.GitHub.Tokens()); n != tokens {
					t.Errorf("later applies minted %d tokens", n-tokens)
				}
			} else if r := w.gateRefusal(iapSlug); r != "" {
				t.Errorf("gate after %s: %s", tc.name, r)
			}
			if tc.replaced {
				w.assertBoundedBy(iapSlug, after.ExpiresAt)
			} else {
				w.assertBoundedBy(iapSlug, before.ExpiresAt)
			}
			w.assertNoOrphans(false)
		})
	}
}

// TestFrozenHandoffRefusesAPlanThatMints: a plan that would refresh or
// repair a handoff whose spec changed under a kill (as an older build
// planned it) is refused by apply before any write: what it minted would
// stand under the manifest's old digest for grants of neither spec.
func TestFrozenHandoffRefusesAPlanThatMints(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	w.mustApply()
	before := w.manifest(iapSlug)
	w.kill(iapSlug, "apple_iap")
	w.editSpec(iapSlug, `issues = "write"`, `issues = "read"`)
	w.advance(55 * time.Minute)
	p := w.plan()
	for i := range p.Handoffs {
		h := &p.Handoffs[i]
		if h.Slug != iapSlug {
			continue
		}
		for j := range h.Changes {
			if h.Changes[j].Surface == "github" {
				h.Changes[j].Action, h.Changes[j].Reason = plan.Refresh, "token expires in 5m"
			}
		}
		h.Action = plan.Refresh
		// What an older build's plan, or a plan file edited by hand, would
		// have apply do: refresh the token.
		if h.Operation == nil {
			h.Operation = &plan.Operation{Kind: plan.OpRefresh, Final: plan.FinalUpdate}
		}
		h.Operation.Work = append(h.Operation.Work, plan.Work{Surface: "github", Op: "refresh", Event: "refresh", Record: true})
	}
	tokens := len(w.srv.GitHub.Tokens())
	w.kit.Stats.Reset()
	rep, err := apply.Apply(context.Background(), p, w.deps())
	w.record(rep, err)
	if err == nil || !strings.Contains(err.Error(), "surfaces are killed (apple_iap)") {
		t.Fatalf("apply of a plan that mints for a frozen handoff: %v", err)
	}
	if n := len(w.srv.GitHub.Tokens()); n != tokens {
		t.Errorf("%d tokens minted", n-tokens)
	}
	if after := w.manifest(iapSlug); !after.ExpiresAt.Equal(before.ExpiresAt) || after.SpecDigest != before.SpecDigest {
		t.Errorf("manifest moved: expires %s, digest %s", after.ExpiresAt, after.SpecDigest)
	}
	if _, journal := w.srv.Infisical.Secret(env, path.Join(root, iapSlug), manifest.JournalSecretName); journal {
		t.Error("the refused plan wrote a journal")
	}
	w.assertNoChanges()
}

// TestFrozenHandoffStillNarrows: a kill recorded while the privilege still
// reads the killed surface's key (an older build) and a changed spec: the
// plan narrows the privilege from its record, in place, and apply does
// that alone: no mint, same identity and client secret, the manifest's
// digest and expiry kept.
func TestFrozenHandoffStillNarrows(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	ctx := context.Background()
	w.mustApply()
	before := w.manifest(iapSlug)
	// The kill as an older build recorded it: in the manifest only.
	m := w.manifest(iapSlug)
	m.Revocation = &manifest.Revocation{At: w.now(), Kind: manifest.RevokedManual, By: "sec", Reason: "key leaked", Surfaces: []string{"apple_iap"}}
	b, err := manifest.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.inf.UpdateSecret(ctx, env, path.Join(root, iapSlug), manifest.SecretName, string(b)); err != nil {
		t.Fatal(err)
	}
	if err := w.canRead(iapSlug, queue, "APPLE_IAP_KEY_ID"); err != nil {
		t.Fatalf("before the narrowing the identity reads its key: %v", err)
	}
	// The spec widens meanwhile: none of it is applied.
	w.editSpec(iapSlug, `read        = ["/MooseQuest/queue/staging/APPLE_IAP_*"]`,
		`read        = ["/MooseQuest/queue/staging/APPLE_IAP_*", "/MooseQuest/queue/staging/STRIPE_*"]`)
	w.advance(55 * time.Minute)
	h := findHandoff(w.plan(), iapSlug)
	c, _ := findChange(h, "infisical")
	gh, _ := findChange(h, "github")
	if c.Action != plan.Refresh || len(c.Secrets) != 0 || len(c.Escalations) != 0 || gh.Action != plan.NoOp {
		t.Fatalf("plan: %s (%s); infisical %s (%s) secrets %v escalations %v; github %s", h.Action, h.Reason, c.Action, c.Reason, c.Secrets, c.Escalations, gh.Action)
	}
	tokens := len(w.srv.GitHub.Tokens())
	w.mustApply()
	if err := w.canRead(iapSlug, queue, "APPLE_IAP_KEY_ID"); err == nil {
		t.Error("after the narrowing the identity still reads the killed surface's key")
	}
	if err := w.canRead(iapSlug, queue, "STRIPE_TEST_SECRET_KEY"); err == nil {
		t.Error("the changed spec's wider read path was granted")
	}
	after := w.manifest(iapSlug)
	if !after.ExpiresAt.Equal(before.ExpiresAt) || after.SpecDigest != before.SpecDigest ||
		infRec(after).ClientSecretID != infRec(before).ClientSecretID ||
		infRec(after).IdentityID != infRec(before).IdentityID ||
		len(w.srv.GitHub.Tokens()) != tokens {
		t.Errorf("the narrowing did more than narrow: %s", asJSON(after))
	}
	if got := strings.Join(infRec(after).ReadPaths, ","); got != path.Join(root, iapSlug)+"/**" {
		t.Errorf("recorded read paths: %s", got)
	}
	w.assertBoundedBy(iapSlug, before.ExpiresAt)
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

// TestFrozenHandoffClearsAJournal: a stopped run's journal on a handoff
// whose spec changed under a kill is cleared without minting (untombstone
// refuses while one is there); untombstone then lets the next apply
// replace the whole handoff with the new spec, under a new TTL.
func TestFrozenHandoffClearsAJournal(t *testing.T) {
	w := newWorld(t, worldOptions{slugs: []string{iapSlug}})
	ctx := context.Background()
	w.mustApply()
	before := w.manifest(iapSlug)
	w.kill(iapSlug, "github")
	n := w.editSpec(iapSlug, `issues = "write"`, `issues = "read"`)
	j := &state.Journal{Slug: iapSlug, Operation: "update", Entries: []state.JournalEntry{{Step: "regrant", Surface: "infisical", At: w.now()}}}
	b, err := j.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.inf.UpsertSecret(ctx, env, path.Join(root, iapSlug), state.JournalSecretName, string(b)); err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Untombstone(ctx, iapSlug, w.deps()); err == nil {
		t.Fatal("untombstone beside a journal")
	}
	w.advance(time.Hour)
	tokens, ids := len(w.srv.GitHub.Tokens()), len(w.srv.Infisical.Identities())
	w.mustApply()
	if _, journal := w.srv.Infisical.Secret(env, path.Join(root, iapSlug), state.JournalSecretName); journal {
		t.Error("the journal is still there")
	}
	after := w.manifest(iapSlug)
	if !after.ExpiresAt.Equal(before.ExpiresAt) || after.SpecDigest != before.SpecDigest ||
		infRec(after).ClientSecretID != infRec(before).ClientSecretID ||
		len(w.srv.GitHub.Tokens()) != tokens || len(w.srv.Infisical.Identities()) != ids {
		t.Errorf("clearing the journal did more: %s", asJSON(after))
	}
	w.assertNoChanges()

	if _, err := apply.Untombstone(ctx, iapSlug, w.deps()); err != nil {
		t.Fatal(err)
	}
	if h := findHandoff(w.plan(), iapSlug); h.Action != plan.Replace {
		t.Fatalf("plan after untombstone: %s (%s)", h.Action, h.Reason)
	}
	w.mustApply()
	after = w.manifest(iapSlug)
	if after.SpecDigest != n.Digest() || !after.ExpiresAt.Equal(w.now().Add(24*time.Hour)) || after.Revocation != nil ||
		ghRec(after).Permissions["issues"] != "read" {
		t.Errorf("after untombstone and apply: %s", asJSON(after))
	}
	if r := w.gateRefusal(iapSlug); r != "" {
		t.Errorf("gate after the replace: %s", r)
	}
	w.assertBoundedBy(iapSlug, after.ExpiresAt)
	w.assertNoOrphans(false)
	w.assertNoChanges()
}
