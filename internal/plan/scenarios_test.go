package plan

// The plans the renderers are tested on, one per scenario of the golden
// files. Scenarios is exported (in test builds only) for the external test
// package, which writes them as plan files too.

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
)

// t0 is when every test plan was made.
var t0 = time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC)

const (
	iapSlug      = "iap-notif-handler-20260621"
	foundersSlug = "founders-checkout-20260621"
)

// Scenario is a named test plan.
type Scenario struct {
	Name string
	Plan *Plan
	// Formats lists the golden files kept for it; the 1,000-handoff plan is
	// golden-tested only where its size matters (Markdown).
	Formats []string
}

var allFormats = []string{"text", "text-color", "json", "md"}

// Scenarios returns the test plans, freshly built (callers may modify them).
func Scenarios() []Scenario {
	return []Scenario{
		{"empty", newTestPlan(), allFormats},
		{"two-creates", newTestPlan(iapCreate(), foundersCreate()), allFormats},
		{"no-change", newTestPlan(iapNoOp(), foundersNoOp()), allFormats},
		{"refresh", newTestPlan(iapRefresh(), foundersNoOp()), allFormats},
		{"refresh-forecast", refreshForecastPlan(), allFormats},
		{"replace-escalation", newTestPlan(iapReplace(), foundersNoOp()), allFormats},
		{"revoke", revokePlan(), allFormats},
		{"mass-revocation", massRevocationPlan(), allFormats},
		{"mix", mixPlan(), allFormats},
		{"held", heldPlan(), allFormats},
		{"held-with-changes", heldWithChangesPlan(), allFormats},
		{"many", manyPlan(1000), []string{"md"}},
	}
}

func digest(s string) string { return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s))) }

func newTestPlan(hs ...Handoff) *Plan {
	p := &Plan{
		FormatVersion:    FormatVersion,
		HandoffVersion:   "0.1.0",
		CreatedAt:        t0,
		GitCommit:        "8c3f1e2d4b5a69788796a5b4c3d2e1f0a9b8c7d6",
		Environment:      "staging",
		HandoffRoot:      "/MooseQuest/handoffs",
		StateFingerprint: digest("live state"),
		SpecsDigest:      digest("specs"),
		Policy: PolicyResult{
			Passed: true,
			Checks: []string{"slug", "ttl", "github-permissions", "forbidden-scopes", "vault-paths", "live-approval"},
		},
		Handoffs: hs,
	}
	p.Finalize()
	return p
}

// The grants of the design's two example handoffs.

func iapGitHub() Grant {
	return Grant{
		Repository:  "raxx-app/TradeMasterAPI",
		Permissions: map[string]string{"contents": "write", "pull_requests": "write", "issues": "write"},
	}
}

func infisicalGrant(slug, queue string) Grant {
	return Grant{
		Environment: "staging",
		ReadPaths:   []string{"/MooseQuest/handoffs/" + slug + "/**", "/MooseQuest/queue/staging/" + queue},
		ExpiresAt:   t0.Add(24 * time.Hour),
	}
}

func iapMCP() Grant {
	return Grant{Attributes: map[string]string{
		"allow":   "github_pr_create, github_pr_comment, infisical_get_secret",
		"exclude": "filesystem_write_outside_worktree, stripe_charge, heroku_scale",
	}}
}

func iapApple() Grant {
	return Grant{Environment: "sandbox", Attributes: map[string]string{"bundle_id": "com.raxx.trademaster"}}
}

func foundersStripe() Grant {
	return Grant{
		Mode:        "test",
		Permissions: map[string]string{"checkout_sessions": "write", "subscriptions": "read", "webhook_endpoints": "read"},
	}
}

// iapChanges builds the four surfaces of iap-notif-handler-20260621, each
// with the action and the before/after grants a scenario gives it.
func iapChanges(action Action, reason string) []Change {
	gh, inf, mcp, apple := iapGitHub(), infisicalGrant(iapSlug, "APPLE_IAP_*"), iapMCP(), iapApple()
	c := []Change{
		{Surface: "github", Resource: "installation token for raxx-app/TradeMasterAPI", After: &gh, Secrets: []string{"GH_HANDOFF_TOKEN"}},
		{Surface: "infisical", Resource: "identity infisical-handoff_" + iapSlug, After: &inf, Secrets: []string{"INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET"}},
		{Surface: "mcp", Resource: "tool lists", After: &mcp},
		{Surface: "apple_iap", Resource: "App Store Server API access (sandbox)", After: &apple, Secrets: []string{"APPLE_IAP_CONFIG"}},
	}
	for i := range c {
		c[i].Action, c[i].Reason = action, reason
		if action != Create {
			c[i].Before = cloneGrant(c[i].After)
		}
	}
	return c
}

func iapCreate() Handoff {
	return Handoff{
		Slug: iapSlug, Card: 3629, Description: "StoreKit 2 server notification handler",
		SpecFile: "specs/" + iapSlug + ".hcl", SpecDigest: digest(iapSlug),
		ExpiresAt: t0.Add(24 * time.Hour),
		Changes:   iapChanges(Create, "new spec"),
	}
}

func iapNoOp() Handoff {
	h := iapCreate()
	h.ExpiresAt = t0.Add(20 * time.Hour)
	h.Changes = iapChanges(NoOp, "")
	return h
}

// iapRefresh: the GitHub token expires in 8 minutes.
func iapRefresh() Handoff {
	h := iapNoOp()
	gh := &h.Changes[0]
	gh.Action, gh.Reason = Refresh, "token expires in 8m"
	gh.Before.ExpiresAt = t0.Add(8 * time.Minute)
	return h
}

// iapReplace: the spec now asks contents write (was read) on a new
// repository, and the vault identity may read one more queue folder.
func iapReplace() Handoff {
	h := iapNoOp()
	h.Reason = "spec changed"
	gh := &h.Changes[0]
	gh.Action, gh.Reason = Replace, "spec changed"
	gh.Resource = "installation token for raxx-app/TradeMasterWeb"
	gh.Before = &Grant{
		Repository:  "raxx-app/TradeMasterAPI",
		Permissions: map[string]string{"contents": "read", "pull_requests": "write"},
		ExpiresAt:   t0.Add(40 * time.Minute),
	}
	gh.After = &Grant{
		Repository:  "raxx-app/TradeMasterWeb",
		Permissions: map[string]string{"contents": "write", "pull_requests": "write", "issues": "write"},
	}
	gh.Escalations = GrantEscalations(gh.Before, gh.After)

	inf := &h.Changes[1]
	inf.Action, inf.Reason = Replace, "spec changed"
	inf.Before.ReadPaths = inf.Before.ReadPaths[:1]
	inf.Escalations = GrantEscalations(inf.Before, inf.After)
	return h
}

func foundersChanges(action Action, reason string) []Change {
	inf, stripe := infisicalGrant(foundersSlug, "STRIPE_*"), foundersStripe()
	c := []Change{
		{Surface: "infisical", Resource: "identity infisical-handoff_" + foundersSlug, After: &inf, Secrets: []string{"INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET"}},
		{Surface: "stripe", Resource: "restricted key (test mode)", After: &stripe, Secrets: []string{"STRIPE_RESTRICTED_KEY"}},
	}
	for i := range c {
		c[i].Action, c[i].Reason = action, reason
		if action != Create {
			c[i].Before = cloneGrant(c[i].After)
		}
	}
	return c
}

func foundersCreate() Handoff {
	return Handoff{
		Slug: foundersSlug, Card: 3206, Description: "Founders' plan checkout on a restricted Stripe test key",
		SpecFile: "specs/" + foundersSlug + ".hcl", SpecDigest: digest(foundersSlug),
		ExpiresAt: t0.Add(24 * time.Hour),
		Changes:   foundersChanges(Create, "new spec"),
	}
}

func foundersNoOp() Handoff {
	h := foundersCreate()
	h.ExpiresAt = t0.Add(22 * time.Hour)
	h.Changes = foundersChanges(NoOp, "")
	return h
}

// pastTTLRevoke: a handoff whose 24h ended an hour ago.
func pastTTLRevoke() Handoff {
	slug := "weekly-report-20260620"
	gh := &Grant{Repository: "raxx-app/reports", Permissions: map[string]string{"contents": "read", "issues": "write"}}
	inf := infisicalGrant(slug, "REPORT_*")
	inf.ExpiresAt = t0.Add(-time.Hour)
	reason := "past its TTL (expired 2026-06-21T08:00:00Z)"
	return Handoff{
		Slug: slug, Card: 3550, SpecFile: "specs/" + slug + ".hcl", SpecDigest: digest(slug),
		Reason: reason, ExpiresAt: t0.Add(-time.Hour),
		Changes: []Change{
			{Surface: "github", Action: Revoke, Reason: reason, Resource: "installation token for raxx-app/reports", Before: gh, Secrets: []string{"GH_HANDOFF_TOKEN"}},
			{Surface: "infisical", Action: Revoke, Reason: reason, Resource: "identity infisical-handoff_" + slug, Before: &inf, Secrets: []string{"INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET"}},
		},
	}
}

// specDeletedRevoke: the spec file was removed in a reviewed pull request.
func specDeletedRevoke() Handoff {
	slug := "stripe-webhooks-20260621"
	stripe := &Grant{Mode: "test", Permissions: map[string]string{"webhook_endpoints": "write"}}
	gh := &Grant{Repository: "raxx-app/payments", Permissions: map[string]string{"contents": "write", "pull_requests": "write"}, ExpiresAt: t0.Add(35 * time.Minute)}
	return Handoff{
		Slug: slug, Card: 3611, Reason: "spec deleted", ExpiresAt: t0.Add(18 * time.Hour),
		Changes: []Change{
			{Surface: "github", Action: Revoke, Reason: "spec deleted", Resource: "installation token for raxx-app/payments", Before: gh, Secrets: []string{"GH_HANDOFF_TOKEN"}},
			{Surface: "stripe", Action: Revoke, Reason: "spec deleted", Resource: "restricted key (test mode)", Before: stripe, Secrets: []string{"STRIPE_RESTRICTED_KEY"}},
		},
	}
}

// revokePlan revokes one handoff at the end of its TTL and one whose spec
// was deleted: one revocation counts, within the default limits.
func revokePlan() *Plan {
	p := newTestPlan(pastTTLRevoke(), specDeletedRevoke())
	p.RevocationGuard = NewRevocationGuard(2, []string{"stripe-webhooks-20260621"}, 1, RevocationLimits{Count: 10, SharePercent: 50})
	return p
}

// massRevocationPlan revokes three of the four live handoffs, their specs
// gone (specs/ lost, say), and one at the end of its TTL, under a policy
// of max_revocations = 2 and max_revocation_share = "50%": the guard
// trips on both limits.
func massRevocationPlan() *Plan {
	deleted := func(slug string, card int) Handoff {
		h := specDeletedRevoke()
		h.Slug, h.Card = slug, card
		return h
	}
	p := newTestPlan(pastTTLRevoke(), deleted("billing-sync-20260621", 3701), deleted("docs-refresh-20260621", 3702), specDeletedRevoke())
	p.RevocationGuard = NewRevocationGuard(4, []string{"billing-sync-20260621", "docs-refresh-20260621", "stripe-webhooks-20260621"}, 1,
		RevocationLimits{Count: 2, SharePercent: 50})
	return p
}

// mixPlan has one handoff per action, two unchanged ones, a policy warning
// and an escalation only the planner knows (an MCP tool).
func mixPlan() *Plan {
	pricing := "pricing-page-20260620"
	mcpBefore := &Grant{Attributes: map[string]string{"allow": "github_pr_create", "exclude": "stripe_charge"}}
	mcpAfter := &Grant{Attributes: map[string]string{"allow": "github_pr_create, stripe_price_update", "exclude": "stripe_charge"}}
	infBefore := &Grant{Environment: "staging", ReadPaths: []string{"/MooseQuest/handoffs/" + pricing + "/**"}}
	infAfter := &Grant{Environment: "staging", ReadPaths: []string{"/MooseQuest/handoffs/" + pricing + "/**", "/MooseQuest/queue/staging/STRIPE_PRICE_*"}}
	replace := Handoff{
		Slug: pricing, Card: 3590, SpecFile: "specs/" + pricing + ".hcl", SpecDigest: digest(pricing + "v2"),
		ExpiresAt: t0.Add(6 * time.Hour),
		Changes: []Change{
			{Surface: "infisical", Action: Replace, Reason: "spec changed", Resource: "identity infisical-handoff_" + pricing,
				Before: infBefore, After: infAfter, Escalations: GrantEscalations(infBefore, infAfter), Secrets: []string{"INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET"}},
			{Surface: "mcp", Action: Replace, Reason: "spec changed", Resource: "tool lists",
				Before: mcpBefore, After: mcpAfter, Escalations: []string{"new MCP tool stripe_price_update"}},
		},
	}
	docs := Handoff{Slug: "docs-sync-20260621", Card: 3630, SpecFile: "specs/docs-sync-20260621.hcl", SpecDigest: digest("docs"),
		ExpiresAt: t0.Add(12 * time.Hour),
		Changes: []Change{{Surface: "github", Action: NoOp, Resource: "installation token for raxx-app/docs",
			Before: &Grant{Repository: "raxx-app/docs", Permissions: map[string]string{"contents": "write"}, ExpiresAt: t0.Add(50 * time.Minute)},
			After:  &Grant{Repository: "raxx-app/docs", Permissions: map[string]string{"contents": "write"}, ExpiresAt: t0.Add(50 * time.Minute)}}}}
	ledger := foundersNoOp()
	ledger.Slug, ledger.Card, ledger.SpecFile = "ledger-export-20260620", 3401, "specs/ledger-export-20260620.hcl"
	p := newTestPlan(foundersCreate(), iapRefresh(), replace, pastTTLRevoke(), docs, ledger)
	p.Policy.Warnings = []string{`handoff "ledger-export-20260620" asks for ttl = "24h", the policy maximum; a shorter TTL limits what a leaked credential can do`}
	return p
}

// manyPlan has n handoffs cycling through the actions: creates, refreshes,
// replaces with escalations, revokes and unchanged ones.
func manyPlan(n int) *Plan {
	var hs []Handoff
	for i := range n {
		slug := fmt.Sprintf("task-%04d-20260621", i)
		gh := &Grant{Repository: fmt.Sprintf("raxx-app/service-%03d", i%200), Permissions: map[string]string{"contents": "write", "pull_requests": "write"}, ExpiresAt: t0.Add(30 * time.Minute)}
		inf := infisicalGrant(slug, "QUEUE_*")
		h := Handoff{Slug: slug, Card: 4000 + i, SpecFile: "specs/" + slug + ".hcl", SpecDigest: digest(slug), ExpiresAt: t0.Add(time.Duration(1+i%23) * time.Hour)}
		ghc := Change{Surface: "github", Resource: "installation token for " + gh.Repository, Before: gh, After: cloneGrant(gh), Secrets: []string{"GH_HANDOFF_TOKEN"}}
		infc := Change{Surface: "infisical", Resource: "identity infisical-handoff_" + slug, Before: &inf, After: cloneGrant(&inf), Secrets: []string{"INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET"}}
		switch i % 5 {
		case 0:
			ghc.Action, ghc.Reason, ghc.Before = Create, "new spec", nil
			infc.Action, infc.Reason, infc.Before = Create, "new spec", nil
		case 1:
			ghc.Action, ghc.Reason = Refresh, "token expires in 8m"
			ghc.Before.ExpiresAt = t0.Add(8 * time.Minute)
			ghc.After.ExpiresAt = time.Time{}
			infc.Action = NoOp
		case 2:
			ghc.Action, ghc.Reason = Replace, "spec changed"
			ghc.Before.Permissions["contents"] = "read"
			ghc.After.ExpiresAt = time.Time{}
			ghc.Escalations = GrantEscalations(ghc.Before, ghc.After)
			infc.Action = NoOp
		case 3:
			h.Reason = "spec deleted"
			ghc.Action, ghc.Reason, ghc.After = Revoke, "spec deleted", nil
			infc.Action, infc.Reason, infc.After = Revoke, "spec deleted", nil
		default:
			ghc.Action, infc.Action = NoOp, NoOp
		}
		h.Changes = []Change{ghc, infc}
		hs = append(hs, h)
	}
	return newTestPlan(hs...)
}

// heldPlan changes nothing but holds three handoffs back: one tombstoned,
// one with a killed surface, one revoked when its spec was deleted and
// whose spec is back. Their words (who, why) come from manifests: one
// holds Markdown and a control character.
func heldPlan() *Plan {
	tomb := iapNoOp()
	tomb.Changes = nil
	tomb.Reason = "tombstoned by alice at 2026-06-21T08:30:00Z: token pasted in a log; run handoff untombstone or use a new slug"
	tomb.Held = &Hold{Kind: HoldTombstone, By: "alice", At: t0.Add(-30 * time.Minute), Reason: "token pasted in a log", Untombstone: true}

	killed := foundersNoOp()
	killed.Reason = "up to date (expires 2026-06-22T07:00:00Z); stripe killed by bob at 2026-06-21T08:00:00Z: *rotated* | `key`\x1b[2J"
	killed.Held = &Hold{Kind: HoldKill, Surfaces: []string{"stripe"}, By: "bob", At: t0.Add(-time.Hour), Reason: "*rotated* | `key`\x1b[2J", Untombstone: true}

	back := Handoff{Slug: "stripe-webhooks-20260621", Card: 3611, Description: "Stripe webhook endpoints <b>test</b> [mode](https://x)",
		SpecFile: "specs/stripe-webhooks-20260621.hcl", SpecDigest: digest("stripe-webhooks-20260621"),
		Reason: "revoked (deleted) at 2026-06-20T18:00:00Z; a revoked slug is not minted again: use a new slug",
		Held:   &Hold{Kind: HoldDeleted, At: t0.Add(-15 * time.Hour), Reason: "spec deleted"}}
	return newTestPlan(tomb, killed, back)
}

// heldWithChangesPlan holds one handoff back beside a create whose
// description is long and spans lines.
func heldWithChangesPlan() *Plan {
	create := iapCreate()
	create.Description = "Handles the StoreKit 2 server notifications of the App Store:\nrenewals, refunds, revocations, " +
		strings.Repeat("and many more notification types ", 8)
	expired := foundersNoOp()
	expired.Changes = nil
	expired.Reason = "revoked (expired) at 2026-06-21T06:00:00Z: past its TTL; a revoked slug is not minted again: use a new slug"
	expired.Held = &Hold{Kind: HoldExpired, At: t0.Add(-3 * time.Hour), Reason: "past its TTL"}
	return newTestPlan(create, expired)
}

// refreshForecastPlan is the refresh plan with the forecast of the next
// scheduled runs: one early refresh deferred by the cap.
func refreshForecastPlan() *Plan {
	p := newTestPlan(iapRefresh(), foundersNoOp())
	p.Refreshes = &Refreshes{Schedule: "15m", Capacity: 524, ThisRun: 1, Due: 1, Deferred: 1, Next: []RunRefreshes{
		{At: t0.Add(15 * time.Minute), Refreshes: 1, Due: 0},
		{At: t0.Add(30 * time.Minute), Refreshes: 0, Due: 0},
		{At: t0.Add(45 * time.Minute), Refreshes: 2, Due: 1},
		{At: t0.Add(60 * time.Minute), Refreshes: 1, Due: 1},
	}}
	return p
}
