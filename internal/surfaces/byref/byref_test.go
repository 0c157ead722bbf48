package byref_test

import (
	"context"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
	_ "github.com/raxx-app/handoff/internal/surfaces"
	"github.com/raxx-app/handoff/internal/surfaces/byref"
)

func parse(t *testing.T, body string) *spec.Handoff {
	t.Helper()
	src := `handoff "pay-20260621" {
  card        = 1
  ttl         = "1h"
  approved_by = "ops"
` + body + "\n}\n"
	h, diags := spec.ParseHandoffFile("specs/pay-20260621.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return h
}

func record(t *testing.T, res surface.Result) *byref.Record {
	t.Helper()
	r, ok := res.Record.(*byref.Record)
	if !ok {
		t.Fatalf("record %T", res.Record)
	}
	return r
}

func TestStripeRecordsModeAndPathsWritesNothing(t *testing.T) {
	h := parse(t, `
  stripe {
    permissions = { checkout_sessions = "write" }
  }
  infisical {
    read = ["/MooseQuest/queue/staging/STRIPE_*", "/MooseQuest/queue/staging/APPLE_IAP_*"]
  }`)
	s := byref.Stripe()
	if len(s.Steps(surface.OpCreate, nil, nil)) != 0 || len(s.Secrets(nil)) != 0 {
		t.Error("a by-reference surface makes no remote write and no secret")
	}
	res, err := s.Create(context.Background(), &surface.Request{Slug: "pay-20260621", Spec: h})
	if err != nil {
		t.Fatal(err)
	}
	r := record(t, res)
	if r.Mode != "test" || len(res.Secrets) != 0 || res.Compensate != nil {
		t.Errorf("record %+v", r)
	}
	if len(r.KeyPaths) != 1 || r.KeyPaths[0] != "/MooseQuest/queue/staging/STRIPE_*" {
		t.Errorf("key paths %v", r.KeyPaths)
	}
	if r.Permissions["checkout_sessions"] != "write" {
		t.Errorf("permissions %v", r.Permissions)
	}
	rec, err := recordJSON(res)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.KeyPaths(rec); len(got) != 1 {
		t.Errorf("KeyPaths of the record %v", got)
	}
	if v := s.Verify(context.Background(), &surface.Request{Spec: h}, rec); len(v) != 0 {
		t.Errorf("verify: %v", v)
	}
}

func TestByReferenceRefusals(t *testing.T) {
	noPath := parse(t, `
  apple_iap {
    bundle_id = "com.example"
  }
  infisical {
    read = ["/MooseQuest/queue/staging/STRIPE_*"]
  }`)
	if _, err := byref.AppleIAP().Create(context.Background(), &surface.Request{Slug: "pay-20260621", Spec: noPath}); err == nil || !strings.Contains(err.Error(), "APPLE_IAP_*") {
		t.Errorf("no read path reaching the key: %v", err)
	}
	live := parse(t, `
  alpaca {
    mode = "live"
  }
  infisical {
    read = ["/MooseQuest/queue/prod/ALPACA_*"]
  }`)
	if _, err := byref.Alpaca().Create(context.Background(), &surface.Request{Slug: "pay-20260621", Spec: live}); err == nil || !strings.Contains(err.Error(), "live_approval") {
		t.Errorf("live without approval: %v", err)
	}
	// The pre-mint check apply runs before the handoff's first step refuses
	// both the same way.
	if err := byref.AppleIAP().CheckMint(context.Background(), &surface.Request{Slug: "pay-20260621", Spec: noPath}); err == nil || !strings.Contains(err.Error(), "APPLE_IAP_*") {
		t.Errorf("CheckMint, no read path reaching the key: %v", err)
	}
	if err := byref.Alpaca().CheckMint(context.Background(), &surface.Request{Slug: "pay-20260621", Spec: live}); err == nil || !strings.Contains(err.Error(), "live_approval") {
		t.Errorf("CheckMint, live without approval: %v", err)
	}
}
