package infisical

import (
	"testing"
	"time"
)

// TestUpdatePrivilegeInPlace: the rules of a privilege are replaced in
// place (same id and slug), its temporary window kept, and the identity's
// access follows at once; a missing privilege is IsNotFound.
func TestUpdatePrivilegeInPlace(t *testing.T) {
	h := newHarness(t)
	h.c.now = h.kit.Clock.Now
	own := handoffRoot + "/founders-checkout"
	h.must(h.c.EnsureFolder(ctx, stagingEnv, own))
	_, err := h.c.CreateSecret(ctx, stagingEnv, own, "NOTE", "own-note-value-1")
	h.must(err)
	h.remember("own-note-value-1")

	id, err := h.c.CreateIdentity(ctx, "infisical-handoff-founders-checkout-20260621", "no-access")
	h.must(err)
	ua, err := h.c.AttachUniversalAuth(ctx, id.ID, UAConfig{AccessTokenTTL: 900 * time.Second, AccessTokenMaxTTL: 900 * time.Second})
	h.must(err)
	cs, err := h.c.CreateClientSecret(ctx, id.ID, "handoff founders-checkout", 24*time.Hour, 0)
	h.must(err)
	h.remember(cs.Value)
	_, err = h.c.AddProjectMembership(ctx, id.ID, "no-access")
	h.must(err)
	start := h.kit.Clock.Now()
	wide := ReadRules(stagingEnv, own, []string{queuePath + "/STRIPE_*"})
	priv, err := h.c.CreatePrivilege(ctx, id.ID, PrivilegeSlug("founders-checkout"), wide, &Temporary{Start: start, Range: 24 * time.Hour})
	h.must(err)
	hc, err := h.c.AsIdentity(ctx, ua.ClientID, cs.Value)
	h.must(err)
	if _, err := hc.GetSecret(ctx, stagingEnv, queuePath, "STRIPE_TEST_SECRET_KEY"); err != nil {
		t.Fatalf("before the update: %v", err)
	}

	h.kit.Clock.Advance(time.Hour)
	narrow := ReadRules(stagingEnv, own, nil)
	got, err := h.c.UpdatePrivilege(ctx, priv.ID, priv.Slug, narrow, &Temporary{Start: priv.Start, Range: priv.Range})
	h.must(err)
	if got.ID != priv.ID || got.Slug != priv.Slug || !got.Temporary || !got.End.Equal(priv.End) || len(got.Rules) != 1 {
		t.Errorf("updated privilege %+v, was %+v", got, priv)
	}
	if _, err := hc.GetSecret(ctx, stagingEnv, queuePath, "STRIPE_TEST_SECRET_KEY"); !IsForbidden(err) {
		t.Errorf("STRIPE_* after narrowing: want 403, got %v", err)
	}
	if _, err := hc.GetSecret(ctx, stagingEnv, own, "NOTE"); err != nil {
		t.Errorf("own folder after narrowing: %v", err)
	}
	// Repeating it changes nothing; widening again restores the read.
	_, err = h.c.UpdatePrivilege(ctx, priv.ID, priv.Slug, narrow, &Temporary{Start: priv.Start, Range: priv.Range})
	h.must(err)
	_, err = h.c.UpdatePrivilege(ctx, priv.ID, priv.Slug, wide, &Temporary{Start: priv.Start, Range: priv.Range})
	h.must(err)
	if _, err := hc.GetSecret(ctx, stagingEnv, queuePath, "STRIPE_TEST_SECRET_KEY"); err != nil {
		t.Errorf("STRIPE_* after widening: %v", err)
	}
	if privs, err := h.c.ListPrivileges(ctx, id.ID); err != nil || len(privs) != 1 || privs[0].ID != priv.ID {
		t.Errorf("privileges after the updates: %+v, %v", privs, err)
	}

	h.must(h.c.DeletePrivilege(ctx, priv.ID))
	if _, err := h.c.UpdatePrivilege(ctx, priv.ID, priv.Slug, narrow, &Temporary{Start: priv.Start, Range: priv.Range}); !IsNotFound(err) {
		t.Errorf("update of a deleted privilege: want 404, got %v", err)
	}
	if _, err := h.c.UpdatePrivilege(ctx, priv.ID, priv.Slug, nil, nil); err == nil {
		t.Error("an update without rules was sent")
	}
}
