package static_test

import (
	"context"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/provider"
	"github.com/raxx-app/handoff/internal/provider/surfaces/static"
	"github.com/raxx-app/handoff/internal/spec"
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

func TestStripeRecordsModeAndPathsWritesNothing(t *testing.T) {
	h := parse(t, `
  stripe {
    permissions = { checkout_sessions = "write" }
  }
  infisical {
    read = ["/MooseQuest/queue/staging/STRIPE_*", "/MooseQuest/queue/staging/APPLE_IAP_*"]
  }`)
	s := static.Stripe()
	if len(s.Steps(provider.OpCreate, nil, nil)) != 0 || len(s.Secrets()) != 0 {
		t.Error("a static surface makes no remote write and no secret")
	}
	res, err := s.Create(context.Background(), &provider.Request{Slug: "pay-20260621", Spec: h})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Record.Meta
	if m["mode"] != "test" || len(res.Secrets) != 0 || res.Compensate != nil {
		t.Errorf("record %v", m)
	}
	if paths := m["key_paths"].([]any); len(paths) != 1 || paths[0] != "/MooseQuest/queue/staging/STRIPE_*" {
		t.Errorf("key paths %v", paths)
	}
	if perms := m["permissions"].(map[string]any); perms["checkout_sessions"] != "write" {
		t.Errorf("permissions %v", perms)
	}
	if v := s.Verify(context.Background(), &provider.Request{Spec: h}, res.Record); len(v) != 0 {
		t.Errorf("verify: %v", v)
	}
}

func TestStaticRefusals(t *testing.T) {
	noPath := parse(t, `
  apple_iap {
    bundle_id = "com.example"
  }
  infisical {
    read = ["/MooseQuest/queue/staging/STRIPE_*"]
  }`)
	if _, err := static.AppleIAP().Create(context.Background(), &provider.Request{Slug: "pay-20260621", Spec: noPath}); err == nil || !strings.Contains(err.Error(), "APPLE_IAP_*") {
		t.Errorf("no read path reaching the key: %v", err)
	}
	live := parse(t, `
  alpaca {
    mode = "live"
  }
  infisical {
    read = ["/MooseQuest/queue/prod/ALPACA_*"]
  }`)
	if _, err := static.Alpaca().Create(context.Background(), &provider.Request{Slug: "pay-20260621", Spec: live}); err == nil || !strings.Contains(err.Error(), "live_approval") {
		t.Errorf("live without approval: %v", err)
	}
}
