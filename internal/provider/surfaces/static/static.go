// Package static holds the financial surfaces whose keys cannot be minted:
// stripe, apple_iap and alpaca.
//
// Their keys cannot be minted through the vendors' public APIs (Stripe
// restricted keys and App Store Server API keys are made in the
// dashboards), so in this build they hand the task a pre-provisioned key by
// reference: policy has already enforced test/sandbox/paper unless
// live-approved; the surface records mode and declared permissions in the
// manifest, writes no secret, and the task reads the key through its
// identity's vault read paths (e.g. /MooseQuest/queue/staging/STRIPE_*).
// Alpaca's API keys, likewise, are generated in its dashboard.
//
// Nothing remote is written, so no operation has a step; revoking ends
// nothing at the vendor (the key is shared and long-lived). The handoff's
// access to the key is its identity's privilege, through the read paths
// the manifest entry records as key_paths (reconcile.MetaKeyPaths): killing
// the surface on its own (`handoff revoke -surface stripe`) makes apply
// narrow that privilege in place to withhold them (package apply, and the
// infisical surface's Regrant), and revoking the handoff ends the identity.
// Create refuses a handoff whose infisical read paths reach none of the
// surface's keys (STRIPE_*, APPLE_IAP_*, ALPACA_*): its task could not read
// a key.
package static

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider"
	"github.com/raxx-app/handoff/internal/spec"
)

// Surface is one pre-provisioned-key surface.
type Surface struct {
	name string
	// prefix starts the names of the surface's keys in the vault
	// ("STRIPE_").
	prefix string
}

// Stripe is the stripe surface. Stripe restricted keys cannot be minted
// through Stripe's public API (they are made in the dashboard), so in this
// build it hands the task a pre-provisioned key by reference: policy has
// already enforced test mode unless live-approved; the surface records mode
// and declared permissions in the manifest, writes no secret, and the task
// reads the key through its identity's vault read paths (e.g.
// /MooseQuest/queue/staging/STRIPE_*).
func Stripe() *Surface { return &Surface{name: spec.SurfaceStripe, prefix: "STRIPE_"} }

// AppleIAP is the apple_iap surface. App Store Server API keys cannot be
// minted through Apple's public APIs (they are made in the App Store Connect
// dashboard), so in this build it hands the task a pre-provisioned key by
// reference: policy has already enforced sandbox unless live-approved; the
// surface records the environment and bundle id in the manifest, writes no
// secret, and the task reads the key through its identity's vault read
// paths (e.g. /MooseQuest/queue/staging/APPLE_IAP_*).
func AppleIAP() *Surface { return &Surface{name: spec.SurfaceAppleIAP, prefix: "APPLE_IAP_"} }

// Alpaca is the alpaca surface. Alpaca API keys cannot be minted through
// its public API (they are generated in the dashboard), so in this build it
// hands the task a pre-provisioned key by reference: policy has already
// enforced paper trading unless live-approved; the surface records the mode
// in the manifest, writes no secret, and the task reads the key through its
// identity's vault read paths (e.g. /MooseQuest/queue/staging/ALPACA_*).
func Alpaca() *Surface { return &Surface{name: spec.SurfaceAlpaca, prefix: "ALPACA_"} }

// Name is the surface's block name.
func (s *Surface) Name() string { return s.name }

// Secrets: none; the key stays where it was provisioned.
func (s *Surface) Secrets() []string { return nil }

// Steps: none; nothing remote is written.
func (s *Surface) Steps(provider.Op, *provider.Request, *provider.Record) []provider.Step { return nil }

// Create records the mode and declared permissions, and the vault paths
// through which the handoff's identity reads the key.
func (s *Surface) Create(_ context.Context, req *provider.Request) (provider.Result, error) {
	h := req.Spec
	if h == nil {
		return provider.Result{}, fmt.Errorf("%s: handoff %s has no spec", s.name, req.Slug)
	}
	meta := manifest.Meta{"source": "pre-provisioned key, read through the handoff identity's vault read paths"}
	var live bool
	switch s.name {
	case spec.SurfaceStripe:
		if h.Stripe == nil {
			return provider.Result{}, fmt.Errorf("stripe: handoff %s has no stripe block", req.Slug)
		}
		meta["mode"] = h.Stripe.Mode.Value
		perms := map[string]any{}
		for k, v := range h.Stripe.Permissions.Map() {
			perms[k] = v
		}
		meta["permissions"] = perms
		live = h.Stripe.Live()
	case spec.SurfaceAppleIAP:
		if h.AppleIAP == nil {
			return provider.Result{}, fmt.Errorf("apple_iap: handoff %s has no apple_iap block", req.Slug)
		}
		meta["environment"] = h.AppleIAP.Environment.Value
		meta["bundle_id"] = h.AppleIAP.BundleID.Value
		live = h.AppleIAP.Live()
	case spec.SurfaceAlpaca:
		if h.Alpaca == nil {
			return provider.Result{}, fmt.Errorf("alpaca: handoff %s has no alpaca block", req.Slug)
		}
		meta["mode"] = h.Alpaca.Mode.Value
		live = h.Alpaca.Live()
	default:
		return provider.Result{}, fmt.Errorf("static: unknown surface %s", s.name)
	}
	if live {
		// Policy refuses this already; a second lock on the door.
		if h.LiveApproval == nil || !h.LiveApproval.By.Valid() || h.LiveApproval.By.Value == "" {
			return provider.Result{}, fmt.Errorf("%s: handoff %s asks for live credentials without a live_approval block", s.name, req.Slug)
		}
		meta["live_approved_by"] = h.LiveApproval.By.Value
	}
	paths := s.keyPaths(h)
	if len(paths) == 0 {
		return provider.Result{}, fmt.Errorf("%s: handoff %s has no infisical read path reaching a %s* secret, so its identity could not read the pre-provisioned key: add one such as /MooseQuest/queue/staging/%s* to infisical.read",
			s.name, req.Slug, s.prefix, s.prefix)
	}
	list := make([]any, len(paths))
	for i, p := range paths {
		list[i] = p
	}
	// reconcile.MetaKeyPaths: what a kill of this surface withholds from
	// the handoff's identity.
	meta["key_paths"] = list
	return provider.Result{
		Record: provider.Record{Meta: meta},
		Detail: fmt.Sprintf("%s by reference (%s), read through %s", s.name, modeOf(meta), strings.Join(paths, ", ")),
	}, nil
}

// keyPaths are the spec's read paths that reach the surface's keys: a
// path whose last segment starts with the prefix, or is a wildcard that
// covers it.
func (s *Surface) keyPaths(h *spec.Handoff) []string {
	if h.Infisical == nil {
		return nil
	}
	var out []string
	for _, p := range h.Infisical.Read.Strings() {
		base := path.Base(p)
		switch {
		case strings.HasPrefix(base, s.prefix),
			base == "*" || base == "**",
			strings.HasSuffix(base, "*") && strings.HasPrefix(s.prefix, strings.TrimSuffix(base, "*")):
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func modeOf(meta manifest.Meta) string {
	for _, k := range []string{"mode", "environment"} {
		if v, ok := meta[k].(string); ok {
			return v
		}
	}
	return "?"
}

// Refresh records the spec again; nothing is minted.
func (s *Surface) Refresh(ctx context.Context, req *provider.Request, _ provider.Record) (provider.Result, error) {
	return s.Create(ctx, req)
}

// Revoke ends nothing at the vendor: the key is pre-provisioned and shared.
// The handoff's access ends with its identity's privilege: apply narrows it
// to withhold the recorded key_paths when this surface alone is killed, and
// deletes the identity when the handoff is revoked.
func (s *Surface) Revoke(context.Context, *provider.Request, *provider.Record) error { return nil }

// Verify checks the recorded mode against the spec and the live approval.
func (s *Surface) Verify(_ context.Context, req *provider.Request, rec provider.Record) []provider.Violation {
	var out []provider.Violation
	add := func(scope bool, format string, args ...any) {
		out = append(out, provider.Violation{Surface: s.name, Scope: scope, Message: fmt.Sprintf(format, args...)})
	}
	m := rec.Meta
	if m == nil {
		return nil
	}
	mode := modeOf(m)
	if isLive(mode) {
		if _, ok := m["live_approved_by"]; !ok {
			add(true, "%s key recorded without a live approval", mode)
		}
	}
	if req.Spec == nil {
		return out
	}
	want := ""
	switch s.name {
	case spec.SurfaceStripe:
		if req.Spec.Stripe != nil {
			want = req.Spec.Stripe.Mode.Value
			if perms, ok := m["permissions"].(map[string]any); ok {
				spec := req.Spec.Stripe.Permissions.Map()
				for k, v := range perms {
					if levelRank(fmt.Sprint(v)) > levelRank(spec[k]) {
						add(true, "permission %s: %v recorded, the spec asks for %s", k, v, orNone(spec[k]))
					}
				}
			}
		}
	case spec.SurfaceAppleIAP:
		if req.Spec.AppleIAP != nil {
			want = req.Spec.AppleIAP.Environment.Value
		}
	case spec.SurfaceAlpaca:
		if req.Spec.Alpaca != nil {
			want = req.Spec.Alpaca.Mode.Value
		}
	}
	if want != "" && want != mode {
		add(isLive(mode), "mode %s recorded, the spec asks for %s", mode, want)
	}
	return out
}

func isLive(mode string) bool {
	return mode == spec.StripeLive || mode == spec.AppleIAPProduction || mode == spec.AlpacaLive
}

func levelRank(l string) int {
	switch l {
	case "read":
		return 1
	case "write":
		return 2
	}
	return 0
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
