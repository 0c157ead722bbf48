// Package byref holds the financial surfaces whose keys cannot be minted:
// stripe, apple_iap and alpaca.
//
// Their keys cannot be minted through the vendors' public APIs (Stripe
// restricted keys and App Store Server API keys are made in the
// dashboards; Alpaca's API keys, likewise), so a handoff gets a
// pre-provisioned key by reference: policy has already enforced
// test/sandbox/paper unless live-approved (H7); the surface records mode
// and declared permissions in the manifest, writes no secret, and the task
// reads the key through its identity's vault read paths (e.g.
// /MooseQuest/queue/staging/STRIPE_*).
//
// Nothing remote is written, so no operation has a step; revoking ends
// nothing at the vendor (the key is shared and long-lived). The handoff's
// access to the key is its identity's privilege, through the read paths
// the record lists as key_paths (ByReference): killing the surface on its
// own (`handoff revoke -surface stripe`) makes apply narrow that privilege
// in place to withhold them, and revoking the handoff ends the identity.
// Create refuses a handoff whose read paths reach none of the surface's
// keys (STRIPE_*, APPLE_IAP_*, ALPACA_*): its task could not read a key.
//
// A key's value can say its mode (H7): a Stripe secret or restricted key
// starts with sk_test_ or rk_test_ in test mode, sk_live_ or rk_live_ in
// live mode. Under a test-mode spec, CheckMint (at apply, before the
// handoff's first step: no identity is created for a refused key), Create
// and Verify read, with the provisioner, every secret the key paths reach,
// and refuse a live key
// (or a Stripe key whose mode its prefix does not tell), naming its vault
// path and at most the mode marker, never the value. A live-approved
// live spec may read test and live keys: nothing is read for it.
package byref

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/vault"
)

// Block is the block of a by-reference surface in a handoff.
type Block struct {
	DefRange hcl.Range // the block header
	// Mode is the mode ("test"/"live", "paper"/"live") or environment
	// ("sandbox"/"production"), defaulted to the safe one.
	Mode spec.String
	// Permissions are the declared permissions (stripe: resource →
	// "read"|"write").
	Permissions spec.StringMap
	// BundleID is the app's bundle identifier (apple_iap).
	BundleID spec.String

	kind *kind
}

// Range is the block header.
func (b *Block) Range() hcl.Range { return b.DefRange }

// Canonical is the block's part of the handoff's digest.
func (b *Block) Canonical() any { return b.kind.canonical(b) }

// Live reports whether the block asks for live or production credentials.
func (b *Block) Live() bool { return b.Mode.Value == b.kind.live }

// Record is the surface's entry in the manifest. Records written by older
// builds may carry other keys; they are kept when read.
type Record struct {
	Source         string            `json:"source,omitempty"`
	Mode           string            `json:"mode,omitempty"`
	Environment    string            `json:"environment,omitempty"`
	BundleID       string            `json:"bundle_id,omitempty"`
	Permissions    map[string]string `json:"permissions,omitempty"`
	LiveApprovedBy string            `json:"live_approved_by,omitempty"`
	// KeyPaths are the read paths through which the handoff's identity
	// reads the key: what a kill of the surface withholds.
	KeyPaths []string `json:"key_paths,omitempty"`
	// Secret and Secrets name folder secrets a record may own.
	Secret  string   `json:"secret,omitempty"`
	Secrets []string `json:"secrets,omitempty"`
}

// Decode reads a record, ignoring keys it does not know; nil when there is
// none.
func Decode(rec surface.Record) *Record {
	var r Record
	if len(rec) == 0 || json.Unmarshal(rec, &r) != nil {
		return nil
	}
	return &r
}

func (r *Record) mode() string {
	if r.Mode != "" {
		return r.Mode
	}
	if r.Environment != "" {
		return r.Environment
	}
	return "?"
}

// kind describes one by-reference surface.
type kind struct {
	name   string
	title  string // "Stripe", in messages
	prefix string // "STRIPE_": the names of its keys in the vault
	// modeAttr is "mode" or "environment"; safe is its default, live the
	// value that needs a live_approval.
	modeAttr, safe, live string
	// resource names the credential for a mode or bundle id.
	resource func(g *plan.Grant) string
	syntax   *spec.BlockSyntax
	// liveSummary and liveDetail are the H7 diagnostic.
	liveSummary, liveDetail string
	// keyMode, when set, tells the mode of a key from its value (see
	// stripeKeyMode); safeMarkers name the prefixes of safe keys, for
	// messages.
	keyMode     func(value string) (mode, marker string, ok bool)
	safeMarkers string
}

func (k *kind) canonical(b *Block) any {
	switch k.name {
	case "stripe":
		return struct {
			Mode        string            `json:"mode"`
			Permissions map[string]string `json:"permissions"`
		}{b.Mode.Value, b.Permissions.Map()}
	case "apple_iap":
		return struct {
			Environment string `json:"environment"`
			BundleID    string `json:"bundle_id"`
		}{b.Mode.Value, b.BundleID.Value}
	}
	return struct {
		Mode string `json:"mode"`
	}{b.Mode.Value}
}

// Surface is one pre-provisioned-key surface.
type Surface struct{ k *kind }

var _ surface.ByReference = (*Surface)(nil)

// Stripe is the stripe surface: a restricted key (test mode unless
// live-approved), read by reference.
func Stripe() *Surface {
	return &Surface{&kind{
		name: "stripe", title: "Stripe", prefix: "STRIPE_", modeAttr: "mode", safe: "test", live: "live",
		resource: func(g *plan.Grant) string {
			if g != nil && g.Mode != "" {
				return "restricted key (" + g.Mode + " mode)"
			}
			return "restricted key"
		},
		syntax: &spec.BlockSyntax{Type: "stripe", Name: "A stripe block in a handoff", Attrs: []spec.AttrSyntax{
			{Name: "mode", Example: `mode = "test"`},
			{Name: "permissions", Required: true, Example: `permissions = { checkout_sessions = "write", subscriptions = "read" }`},
		}},
		keyMode:     stripeKeyMode,
		safeMarkers: "sk_test_… or rk_test_…",
		liveSummary: "Live Stripe key without approval",
		liveDetail:  "mode = \"live\" mints a key that moves real money; it needs a recorded operator approval (H7). Add live_approval { by = \"<who>\", reason = \"<why>\" } to the handoff, or use mode = \"test\".",
	}}
}

// AppleIAP is the apple_iap surface: App Store Server API access (sandbox
// unless live-approved), read by reference.
func AppleIAP() *Surface {
	return &Surface{&kind{
		name: "apple_iap", title: "App Store", prefix: "APPLE_IAP_", modeAttr: "environment", safe: "sandbox", live: "production",
		resource: func(g *plan.Grant) string {
			if g != nil && g.Attributes["bundle_id"] != "" {
				return "App Store Server API access for " + g.Attributes["bundle_id"]
			}
			return "App Store Server API access"
		},
		syntax: &spec.BlockSyntax{Type: "apple_iap", Name: "An apple_iap block in a handoff", Attrs: []spec.AttrSyntax{
			{Name: "environment", Example: `environment = "sandbox"`},
			{Name: "bundle_id", Required: true, Example: `bundle_id = "com.example.app"`},
		}},
		liveSummary: "Production App Store access without approval",
		liveDetail:  "environment = \"production\" touches real purchases; it needs a recorded operator approval (H7). Add live_approval { by = \"<who>\", reason = \"<why>\" } to the handoff, or use environment = \"sandbox\".",
	}}
}

// Alpaca is the alpaca surface: trading API keys (paper unless
// live-approved), read by reference.
func Alpaca() *Surface {
	return &Surface{&kind{
		name: "alpaca", title: "Alpaca", prefix: "ALPACA_", modeAttr: "mode", safe: "paper", live: "live",
		resource: func(g *plan.Grant) string {
			if g != nil && g.Mode != "" {
				return "API key (" + g.Mode + ")"
			}
			return "API key"
		},
		syntax: &spec.BlockSyntax{Type: "alpaca", Name: "An alpaca block in a handoff", Attrs: []spec.AttrSyntax{
			{Name: "mode", Example: `mode = "paper"`},
		}},
		liveSummary: "Live Alpaca trading without approval",
		liveDetail:  "mode = \"live\" trades real money; it needs a recorded operator approval (H7). Add live_approval { by = \"<who>\", reason = \"<why>\" } to the handoff, or use mode = \"paper\".",
	}}
}

// Name is the surface's block name.
func (s *Surface) Name() string { return s.k.name }

// Of returns the surface's block of h, nil when it has none.
func (s *Surface) Of(h *spec.Handoff) *Block {
	b, _ := h.Block(s.k.name)
	x, _ := b.(*Block)
	return x
}

// Syntax is the surface's block.
func (s *Surface) Syntax() spec.SurfaceSyntax {
	return spec.SurfaceSyntax{Spec: s.k.syntax, Decode: func(b *spec.Body, _ *spec.Handoff) spec.Block {
		blk := &Block{DefRange: b.DefRange(), Mode: b.String(s.k.modeAttr, s.k.safe), kind: s.k}
		if s.k.name == "stripe" {
			blk.Permissions = b.Map("permissions")
		}
		if s.k.name == "apple_iap" {
			blk.BundleID = b.String("bundle_id", "")
		}
		return blk
	}}
}

var (
	stripeKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	bundleIDRE  = regexp.MustCompile(`^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$`)
)

// Check checks the block's mode and settings; the live rule is Live.
func (s *Surface) Check(c *surface.Check, _ *spec.Handoff, b spec.Block) {
	blk, ok := b.(*Block)
	if !ok {
		return
	}
	k := s.k
	if m := blk.Mode; m.Valid() && m.Value != k.safe && m.Value != k.live {
		switch k.name {
		case "stripe":
			c.Errorf(m.Range, "Invalid Stripe mode",
				"mode is %q; write mode = \"test\" (the default), or \"live\" together with a live_approval block.", m.Value)
		case "apple_iap":
			c.Errorf(m.Range, "Invalid apple_iap environment",
				"environment is %q; write environment = \"sandbox\" (the default), or \"production\" together with a live_approval block.", m.Value)
		default:
			c.Errorf(m.Range, "Invalid alpaca mode",
				"mode is %q; write mode = \"paper\" (the default), or \"live\" together with a live_approval block.", m.Value)
		}
	}
	switch k.name {
	case "stripe":
		perms := blk.Permissions
		if perms.Valid() && len(perms.Entries) == 0 {
			c.Errorf(perms.Range, "No Stripe permissions",
				"A restricted key needs at least one resource. List what the task needs, such as permissions = { checkout_sessions = \"write\" }.")
		}
		for _, e := range perms.Entries {
			if !stripeKeyRE.MatchString(e.Key.Value) {
				c.Errorf(e.Key.Range, "Invalid Stripe resource",
					"%q is not a Stripe resource name. Write it in snake case as in Stripe's restricted key settings, such as checkout_sessions.", e.Key.Value)
				continue
			}
			if v := e.Value.Value; v != policy.LevelRead && v != policy.LevelWrite {
				c.Errorf(e.Value.Range, fmt.Sprintf("Invalid level %q for Stripe resource %q", v, e.Key.Value),
					"A restricted key grants \"read\" or \"write\" per resource. Write %s = \"read\" or \"write\".", e.Key.Value)
			}
		}
	case "apple_iap":
		if b := blk.BundleID; b.Valid() && !bundleIDRE.MatchString(b.Value) {
			c.Errorf(b.Range, "Invalid bundle id",
				"bundle_id is %q; write the app's reverse-DNS bundle identifier, such as \"com.raxx.trademaster\".", b.Value)
		}
	}
}

// Live is the H7 diagnostic of a block that asks for live credentials.
func (s *Surface) Live(b spec.Block) *hcl.Diagnostic {
	blk, ok := b.(*Block)
	if !ok || !blk.Live() {
		return nil
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: s.k.liveSummary, Detail: s.k.liveDetail, Subject: blk.Mode.Range.Ptr()}
}

// Desired is the spec's mode and declared grant, until t.ExpiresAt.
func (s *Surface) Desired(t surface.Target) *plan.Grant {
	blk := s.Of(t.Spec)
	if blk == nil {
		return nil
	}
	g := &plan.Grant{ExpiresAt: t.ExpiresAt}
	switch s.k.name {
	case "stripe":
		g.Mode, g.Permissions = blk.Mode.Value, blk.Permissions.Map()
	case "apple_iap":
		g.Environment, g.Attributes = blk.Mode.Value, map[string]string{"bundle_id": blk.BundleID.Value}
	default:
		g.Mode = blk.Mode.Value
	}
	return g
}

// Recorded is the recorded mode and grant.
func (s *Surface) Recorded(rec surface.Record, m *manifest.Manifest) *plan.Grant {
	r := Decode(rec)
	if r == nil {
		return nil
	}
	g := &plan.Grant{Mode: r.Mode, Environment: r.Environment, Permissions: maps.Clone(r.Permissions), ExpiresAt: m.ExpiresAt}
	if r.BundleID != "" {
		g.Attributes = map[string]string{"bundle_id": r.BundleID}
	}
	return g
}

// Resource names the key.
func (s *Surface) Resource(_ string, g *plan.Grant) string { return s.k.resource(g) }

// Secrets are those the record names (none by default: the key stays
// where it was provisioned).
func (s *Surface) Secrets(rec surface.Record) []string {
	r := Decode(rec)
	if r == nil {
		return nil
	}
	var out []string
	if r.Secret != "" {
		out = append(out, r.Secret)
	}
	return append(out, r.Secrets...)
}

// KeyPaths are the read paths the record lists.
func (s *Surface) KeyPaths(rec surface.Record) []string {
	if r := Decode(rec); r != nil {
		return r.KeyPaths
	}
	return nil
}

// Steps: none; nothing remote is written.
func (s *Surface) Steps(surface.Op, *surface.Request, surface.Record) []surface.Step { return nil }

// Create records the mode and declared permissions, and the vault paths
// through which the handoff's identity reads the key. It refuses what
// CheckMint refuses: apply has run that check before the handoff's first
// step, and Create runs it again, for a key swapped in between.
func (s *Surface) Create(ctx context.Context, req *surface.Request) (surface.Result, error) {
	blk, keyPaths, err := s.check(ctx, req)
	if err != nil {
		return surface.Result{}, err
	}
	rec := &Record{Source: "pre-provisioned key, read through the handoff identity's vault read paths", KeyPaths: keyPaths}
	switch s.k.name {
	case "stripe":
		rec.Mode, rec.Permissions = blk.Mode.Value, blk.Permissions.Map()
	case "apple_iap":
		rec.Environment, rec.BundleID = blk.Mode.Value, blk.BundleID.Value
	default:
		rec.Mode = blk.Mode.Value
	}
	if blk.Live() {
		rec.LiveApprovedBy = req.Spec.LiveApproval.By.Value
	}
	return surface.Result{
		Record: rec,
		Detail: fmt.Sprintf("%s by reference (%s), read through %s", s.k.name, rec.mode(), strings.Join(rec.KeyPaths, ", ")),
	}, nil
}

var _ surface.PreMintChecker = (*Surface)(nil)

// CheckMint refuses, before any surface of the handoff makes anything
// (surface.PreMintChecker), a block that asks for live credentials without
// a live_approval, read paths that reach none of the surface's keys, and,
// in the safe mode, read paths that reach a live key (unsafeKeys): a
// refused handoff is given no identity and no privilege at all.
func (s *Surface) CheckMint(ctx context.Context, req *surface.Request) error {
	_, _, err := s.check(ctx, req)
	return err
}

// check is what Create and CheckMint refuse; it returns the block and its
// key paths.
func (s *Surface) check(ctx context.Context, req *surface.Request) (*Block, []string, error) {
	blk := s.Of(req.Spec)
	if blk == nil {
		return nil, nil, fmt.Errorf("%s: handoff %s has no %s block", s.k.name, req.Slug, s.k.name)
	}
	if blk.Live() {
		// Policy refuses this already; a second lock on the door.
		la := req.Spec.LiveApproval
		if la == nil || !la.By.Valid() || la.By.Value == "" {
			return nil, nil, fmt.Errorf("%s: handoff %s asks for live credentials without a live_approval block", s.k.name, req.Slug)
		}
	}
	keyPaths := s.keyPaths(req.Spec)
	if len(keyPaths) == 0 {
		return nil, nil, fmt.Errorf("%s: handoff %s has no infisical read path reaching a %s* secret, so its identity could not read the pre-provisioned key: add one such as /MooseQuest/queue/staging/%s* to infisical.read",
			s.k.name, req.Slug, s.k.prefix, s.k.prefix)
	}
	if !blk.Live() {
		found, err := s.unsafeKeys(ctx, req, keyPaths)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: handoff %s: %w", s.k.name, req.Slug, err)
		}
		if len(found) > 0 {
			return nil, nil, fmt.Errorf("%s: handoff %s is in %s mode, but its read paths reach %s: refusing to let it read them (H7). Point infisical.read at %s keys (%s), or ask for %s = %q with a live_approval block",
				s.k.name, req.Slug, s.k.safe, strings.Join(found, "; "), s.k.safe, s.k.safeMarkers, s.k.modeAttr, s.k.live)
		}
	}
	return blk, keyPaths, nil
}

// keyPaths are the spec's read paths that reach the surface's keys: a
// path whose last segment starts with the prefix, or is a wildcard that
// covers it.
func (s *Surface) keyPaths(h *spec.Handoff) []string {
	var out []string
	in := infisical.Of(h)
	if in == nil {
		return nil
	}
	for _, p := range in.Read.Strings() {
		base := path.Base(p)
		switch {
		case strings.HasPrefix(base, s.k.prefix),
			base == "*" || base == "**",
			strings.HasSuffix(base, "*") && strings.HasPrefix(s.k.prefix, strings.TrimSuffix(base, "*")):
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Refresh records the spec again; nothing is minted.
func (s *Surface) Refresh(ctx context.Context, req *surface.Request, _ surface.Record) (surface.Result, error) {
	return s.Create(ctx, req)
}

// Revoke ends nothing at the vendor: the key is pre-provisioned and shared.
// The handoff's access ends with its identity's privilege: apply narrows it
// to withhold the recorded key paths when this surface alone is killed, and
// deletes the identity when the handoff is revoked.
func (s *Surface) Revoke(context.Context, *surface.Request, surface.Record) error { return nil }

// Verify checks the recorded mode against the spec and the live approval,
// and, in the safe mode, that the key paths reach no live key.
func (s *Surface) Verify(ctx context.Context, req *surface.Request, rec surface.Record) []surface.Violation {
	r := Decode(rec)
	if r == nil {
		return nil
	}
	v := &surface.Violations{Surface: s.k.name}
	mode := r.mode()
	live := mode == s.k.live
	if live && r.LiveApprovedBy == "" {
		v.Add(true, "%s key recorded without a live approval", mode)
	}
	blk := s.Of(req.Spec)
	if blk == nil {
		return v.List
	}
	if s.k.name == "stripe" {
		want := blk.Permissions.Map()
		for _, k := range sortedKeys(r.Permissions) {
			if rank(r.Permissions[k]) > rank(want[k]) {
				v.Add(true, "permission %s: %s recorded, the spec asks for %s", k, r.Permissions[k], orNone(want[k]))
			}
		}
	}
	if want := blk.Mode.Value; want != "" && want != mode {
		v.Add(live, "mode %s recorded, the spec asks for %s", mode, want)
	}
	if mode == s.k.safe {
		found, err := s.unsafeKeys(ctx, req, r.KeyPaths)
		if err != nil {
			v.Add(false, "%v", err)
		}
		for _, f := range found {
			v.Add(true, "%s mode, but its identity can read %s", mode, f)
		}
	}
	return v.List
}

// stripeKeyMode tells the mode of a Stripe secret (sk_) or restricted
// (rk_) key from its prefix: "test" or "live", with the marker that says
// so (sk_test_, …); "" and no marker for such a key of another form. ok is
// false for a value that is not a secret or restricted key (a webhook
// secret, a publishable key, anything else).
func stripeKeyMode(value string) (mode, marker string, ok bool) {
	value = strings.TrimSpace(value)
	for _, kind := range []string{"sk_", "rk_"} {
		if !strings.HasPrefix(value, kind) {
			continue
		}
		for _, m := range []string{"test", "live"} {
			if strings.HasPrefix(value, kind+m+"_") {
				return m, kind + m + "_", true
			}
		}
		return "", "", true
	}
	return "", "", false
}

// unsafeKeys reads, with the provisioner's vault, every secret the key
// paths reach in the handoff's read environment, and describes those whose
// value is a key of another mode than the safe one, or whose mode cannot
// be told: by vault path and mode marker, never more of the value. Nothing
// is read for a surface that cannot tell a key's mode, or without a vault
// (a request made outside apply and verify). A folder that does not exist
// holds no key; a withheld path (a killed surface) is read by no grant.
func (s *Surface) unsafeKeys(ctx context.Context, req *surface.Request, keyPaths []string) ([]string, error) {
	if s.k.keyMode == nil || req == nil || req.Vault == nil || req.Spec == nil {
		return nil, nil
	}
	env := infisical.ReadEnvironment(req)
	var found []string
	for _, p := range keyPaths {
		if slices.Contains(req.Withhold, p) {
			continue // killed: no grant holds it
		}
		dir, glob := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		if dir == "" {
			dir = "/"
		}
		recursive := glob == "**"
		list, err := req.Vault.ListSecrets(ctx, env, dir, recursive)
		if vault.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s (environment %s) to check the mode of its keys: %w", p, env, err)
		}
		for _, sec := range list {
			if ok, _ := path.Match(glob, sec.Key); !ok && !recursive {
				continue
			}
			mode, marker, ok := s.k.keyMode(sec.Value)
			switch {
			case !ok || mode == s.k.safe:
			case marker != "":
				found = append(found, fmt.Sprintf("%s (environment %s), a %s key (%s)", sec.FullPath(), env, mode, marker))
			default:
				found = append(found, fmt.Sprintf("%s (environment %s), a %s key whose prefix does not say its mode", sec.FullPath(), env, s.k.title))
			}
		}
	}
	sort.Strings(found)
	return slices.Compact(found), nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func rank(l string) int {
	switch l {
	case policy.LevelRead:
		return 1
	case policy.LevelWrite:
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

// DescribeRevoke says what revoking rec ended: nothing at the vendor.
func (s *Surface) DescribeRevoke(rec surface.Record, replaced bool) string {
	keys := s.KeyPaths(rec)
	if replaced || len(keys) == 0 {
		return ""
	}
	return fmt.Sprintf("%s, read by reference: nothing to end at the vendor (the key is pre-provisioned and shared); the handoff's identity no longer reads %s",
		s.k.name, strings.Join(keys, ", "))
}

// Checks name the settings the surface checks, for the plan's record.
func (s *Surface) Checks() surface.Checks {
	if s.k.name == "apple_iap" {
		return surface.Checks{Settings: "bundle id"}
	}
	return surface.Checks{}
}
