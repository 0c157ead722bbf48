package byref_test

import (
	"context"
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces/byref"
	"github.com/raxx-app/handoff/internal/vault"
)

// keys is a vault that only lists: any write would panic on the nil
// embedded interface, which proves the surface writes nothing.
type keys struct {
	vault.Vault
	secrets map[string]string // "env:/path/KEY" -> value
	listed  []string
}

func (k *keys) ListSecrets(_ context.Context, env, folder string, recursive bool) ([]vault.Secret, error) {
	k.listed = append(k.listed, env+":"+folder)
	var out []vault.Secret
	found := false
	for p, v := range k.secrets {
		e, full, _ := strings.Cut(p, ":")
		dir, key := path.Split(full)
		dir = strings.TrimSuffix(dir, "/")
		if e != env || !(dir == folder || recursive && strings.HasPrefix(dir, folder+"/")) {
			continue
		}
		found = true
		out = append(out, vault.Secret{Path: dir, Key: key, Value: v})
	}
	if !found {
		return nil, fmt.Errorf("folder %s: %w", folder, vault.ErrNotFound)
	}
	return out, nil
}

const (
	testKey       = "sk_test_51HxTESTKEYVALUE0000000000000000"
	restrictedKey = "rk_test_51HxRESTRICTEDTESTVALUE00000000"
	liveKey       = "sk_live_51HxLIVEKEYVALUEsecret00000000000"
	liveRestrict  = "rk_live_51HxLIVERESTRICTEDVALUE0000000000"
	oddKey        = "sk_org_51HxUNKNOWNMODEVALUE00000000000000"
	webhook       = "whsec_0000000000000000000000000000"
	publishable   = "pk_live_51HxPUBLISHABLE000000000000000000"
)

var allValues = []string{testKey, restrictedKey, liveKey, liveRestrict, oddKey, webhook, publishable}

func stripeSpec(mode, approval, read string) string {
	return `
  stripe {
    mode        = "` + mode + `"
    permissions = { checkout_sessions = "write" }
  }
  infisical {
    environment = "staging"
    read        = ["` + read + `"]
  }` + approval
}

const approval = `
  live_approval {
    by     = "cfo"
    reason = "launch"
  }`

func TestStripeKeyModeMustMatchTheSpec(t *testing.T) {
	queue := "staging:/MooseQuest/queue/staging/"
	for _, tc := range []struct {
		name    string
		spec    string
		secrets map[string]string
		// refused lists the paths the error must name; none: it passes.
		refused []string
		markers []string
	}{
		{name: "test keys under a test spec", spec: stripeSpec("test", "", "/MooseQuest/queue/staging/STRIPE_*"),
			secrets: map[string]string{queue + "STRIPE_SECRET_KEY": testKey, queue + "STRIPE_RESTRICTED_KEY": restrictedKey,
				queue + "STRIPE_WEBHOOK_SECRET": webhook, queue + "STRIPE_PUBLISHABLE_KEY": publishable}},
		{name: "live key under a test spec", spec: stripeSpec("test", "", "/MooseQuest/queue/staging/STRIPE_*"),
			secrets: map[string]string{queue + "STRIPE_SECRET_KEY": liveKey, queue + "STRIPE_TEST_KEY": testKey},
			refused: []string{"/MooseQuest/queue/staging/STRIPE_SECRET_KEY (environment staging), a live key (sk_live_)"}},
		{name: "live restricted key and a key of unknown mode", spec: stripeSpec("test", "", "/MooseQuest/queue/staging/*"),
			secrets: map[string]string{queue + "STRIPE_RK": liveRestrict, queue + "PAYMENTS_KEY": oddKey},
			refused: []string{"/MooseQuest/queue/staging/PAYMENTS_KEY (environment staging), a Stripe key whose prefix does not say its mode",
				"/MooseQuest/queue/staging/STRIPE_RK (environment staging), a live key (rk_live_)"}},
		{name: "live key deep under **", spec: stripeSpec("test", "", "/MooseQuest/**"),
			secrets: map[string]string{"staging:/MooseQuest/a/b/STRIPE_KEY": liveKey},
			refused: []string{"/MooseQuest/a/b/STRIPE_KEY (environment staging), a live key (sk_live_)"}},
		{name: "a live key outside the glob is not read by the handoff", spec: stripeSpec("test", "", "/MooseQuest/queue/staging/STRIPE_*"),
			secrets: map[string]string{queue + "STRIPE_TEST_KEY": testKey, queue + "OTHER_LIVE": liveKey}},
		{name: "live key in another environment", spec: stripeSpec("test", "", "/MooseQuest/queue/staging/STRIPE_*"),
			secrets: map[string]string{"prod:/MooseQuest/queue/staging/STRIPE_KEY": liveKey}},
		{name: "no folder", spec: stripeSpec("test", "", "/Nowhere/STRIPE_*")},
		{name: "live key under a live-approved live spec", spec: stripeSpec("live", approval, "/MooseQuest/queue/staging/STRIPE_*"),
			secrets: map[string]string{queue + "STRIPE_SECRET_KEY": liveKey, queue + "STRIPE_TEST_KEY": testKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := parse(t, tc.spec)
			v := &keys{secrets: tc.secrets}
			s := byref.Stripe()
			req := &surface.Request{Slug: "pay-20260621", Spec: h, Environment: "staging", Folder: "/MooseQuest/handoffs/pay-20260621", Vault: v}
			res, err := s.Create(context.Background(), req)
			if len(tc.refused) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("a live key under a test spec was accepted")
				}
				msg := err.Error()
				for _, want := range tc.refused {
					if !strings.Contains(msg, want) {
						t.Errorf("the refusal does not name %q:\n%s", want, msg)
					}
				}
				if !strings.Contains(msg, "H7") || !strings.Contains(msg, "live_approval") {
					t.Errorf("the refusal does not say what to do:\n%s", msg)
				}
				if res.Record != nil || res.Compensate != nil {
					t.Errorf("a refused create returned %v", res)
				}
			}
			assertNoValue(t, fmt.Sprint(err))
			// The pre-mint check, which apply runs before the handoff's
			// first step, refuses the same, with the same message.
			if cerr := s.CheckMint(context.Background(), req); fmt.Sprint(cerr) != fmt.Sprint(err) {
				t.Errorf("CheckMint: %v\nCreate: %v", cerr, err)
			}
			if strings.Contains(tc.spec, `"live"`) && len(v.listed) != 0 {
				t.Errorf("a live-approved spec read %v: nothing needs checking", v.listed)
			}

			// Verify finds the same, as a scope violation, on a record
			// minted before the key was swapped.
			clean := &keys{secrets: map[string]string{}}
			res, err = s.Create(context.Background(), &surface.Request{Slug: "pay-20260621", Spec: h, Environment: "staging", Vault: clean})
			if err != nil {
				t.Fatal(err)
			}
			rec, err := recordJSON(res)
			if err != nil {
				t.Fatal(err)
			}
			violations := s.Verify(context.Background(), req, rec)
			if len(violations) != len(tc.refused) {
				t.Fatalf("verify: %v, want %d violations", violations, len(tc.refused))
			}
			for _, vi := range violations {
				if !vi.Scope {
					t.Errorf("not a scope violation: %v", vi)
				}
				assertNoValue(t, vi.String())
			}
			// A killed surface's key paths are withheld: no grant reads them.
			killed := *req
			killed.Withhold = s.KeyPaths(rec)
			if vs := s.Verify(context.Background(), &killed, rec); len(vs) != 0 {
				t.Errorf("verify of a killed surface: %v", vs)
			}
		})
	}
}

func assertNoValue(t *testing.T, s string) {
	t.Helper()
	for _, v := range allValues {
		// The mode marker (8 characters) may be named; nothing longer.
		if strings.Contains(s, v[:9]) {
			t.Errorf("output shows more of a key than its mode marker: %q", s)
		}
	}
}
