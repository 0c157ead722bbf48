package infisical

import (
	"testing"
	"time"
)

// liveTokensOf counts the access tokens of identityID the server would
// still accept.
func (h *harness) liveTokensOf(identityID string) int {
	n := 0
	for _, tok := range h.srv.LiveAccessTokens() {
		if tok.IdentityID == identityID {
			n++
		}
	}
	return n
}

// TestLogoutRevokesEveryTokenOfTheClient: a client that logged in several
// times (a forced Login replaces a live token) leaves none alive after
// Logout, every revocation checked against Infisical's API description by
// the harness's transport; a token the server revoked already counts as
// revoked, and a second Logout sends nothing.
func TestLogoutRevokesEveryTokenOfTheClient(t *testing.T) {
	h := newHarness(t)
	prov := h.srv.ProvisionerIdentityID()
	tests := []struct {
		name   string
		logins int
		// revokedElsewhere revokes the cached token behind the client's
		// back before Logout.
		revokedElsewhere bool
	}{
		{"one login", 1, false},
		{"a forced login replaced a live token", 3, false},
		{"the token was revoked already", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(h.cfg)
			h.must(err)
			base := h.liveTokensOf(prov)
			for range tt.logins {
				h.must(c.Login(ctx))
			}
			if got := h.liveTokensOf(prov); got != base+tt.logins {
				t.Fatalf("%d live tokens after %d logins, want %d", got, tt.logins, base+tt.logins)
			}
			if tt.revokedElsewhere {
				other := &Client{cfg: c.cfg, base: c.base, http: c.http, timeout: c.timeout, now: c.now, loginSem: make(chan struct{}, 1)}
				c.mu.Lock()
				other.tok = c.tok
				c.mu.Unlock()
				h.must(other.Logout(ctx))
			}
			h.must(c.Logout(ctx))
			if got := h.liveTokensOf(prov); got != base {
				t.Errorf("%d live tokens after Logout, want %d", got, base)
			}
			h.kit.Stats.Reset()
			h.must(c.Logout(ctx))
			if n := h.kit.Stats.Total(); n != 0 {
				t.Errorf("a second Logout sent %d requests", n)
			}
		})
	}
}

// TestAsIdentityLogout: the client of a handoff's identity revokes its own
// token, not the provisioner's.
func TestAsIdentityLogout(t *testing.T) {
	h := newHarness(t)
	h.must(h.c.Login(ctx))
	id, err := h.c.CreateIdentity(ctx, "infisical-handoff-logout-20260621-20260621", "no-access")
	h.must(err)
	ua, err := h.c.AttachUniversalAuth(ctx, id.ID, UAConfig{AccessTokenTTL: 15 * time.Minute})
	h.must(err)
	cs, err := h.c.CreateClientSecret(ctx, id.ID, "logout test", 0, 0)
	h.must(err)
	h.remember(cs.Value)
	own, err := h.c.AsIdentity(ctx, ua.ClientID, cs.Value)
	h.must(err)
	if h.liveTokensOf(id.ID) != 1 {
		t.Fatalf("the identity has %d live tokens after AsIdentity", h.liveTokensOf(id.ID))
	}
	h.must(own.Logout(ctx))
	if n := h.liveTokensOf(id.ID); n != 0 {
		t.Errorf("%d tokens of the identity live after its Logout", n)
	}
	if n := h.liveTokensOf(h.srv.ProvisionerIdentityID()); n != 1 {
		t.Errorf("the provisioner's token was touched: %d live", n)
	}
}
