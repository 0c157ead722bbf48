// Package plan holds what `handoff plan` computes and `handoff apply` carries
// out: per handoff and per surface, the ordered actions (create, refresh,
// replace, revoke, no-op) with the reason for each, the privilege before and
// after, the spec digest and git commit, and a fingerprint of the live state
// the plan was computed against, so that apply can refuse a stale plan.
//
// A Plan is data first. Rendering (text, JSON, Markdown) lives in this
// package's render files; the plan file format lives in internal/planfile.
// A Plan never holds a secret value: only names, ids, fingerprints and
// permissions.
package plan

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// FormatVersion is the version of the plan's JSON shape (plan -json, show
// -json and plan files). Bump it on any incompatible change.
const FormatVersion = 2

// Action is what apply will do to a handoff or to one of its surfaces.
type Action string

// The actions, from the least to the most disruptive.
const (
	// NoOp: live state matches the spec; nothing is written.
	NoOp Action = "no-op"
	// Create: mint what does not exist yet.
	Create Action = "create"
	// Refresh: re-mint a short-lived credential that expires soon (GitHub
	// installation tokens last one hour) or rewrite a secret that went
	// missing, with the same grant.
	Refresh Action = "refresh"
	// Replace: the spec changed while the handoff is active: revoke what was
	// minted and mint it again with the new grant.
	Replace Action = "replace"
	// Revoke: the TTL ended, the spec was deleted, or an operator asked.
	Revoke Action = "revoke"
)

// Symbol is the terraform-style marker of an action in rendered plans.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Refresh:
		return "~"
	case Replace:
		return "-/+"
	case Revoke:
		return "-"
	}
	return " "
}

// IsChange reports whether the action writes anything.
func (a Action) IsChange() bool { return a != NoOp && a != "" }

// rank orders actions so that a handoff's overall action is its most
// disruptive surface action.
func (a Action) rank() int {
	switch a {
	case Refresh:
		return 1
	case Create:
		return 2
	case Replace:
		return 3
	case Revoke:
		return 4
	}
	return 0
}

// Plan is the outcome of diffing the specs against the live state.
type Plan struct {
	FormatVersion int `json:"format_version"`
	// HandoffVersion is the version of the binary that made the plan.
	HandoffVersion string    `json:"handoff_version"`
	CreatedAt      time.Time `json:"created_at"`
	// GitCommit is the commit of the GitOps repository the specs came from,
	// empty when the directory is not a git checkout.
	GitCommit string `json:"git_commit,omitempty"`
	// Environment and HandoffRoot locate the vault folders the plan reads
	// and writes.
	Environment string `json:"environment"`
	HandoffRoot string `json:"handoff_root"`
	// StateFingerprint is a digest of the live state the plan was computed
	// against (manifests, secret names and versions, identities,
	// installations). Apply of a saved plan recomputes it and refuses to act
	// when it differs.
	StateFingerprint string `json:"state_fingerprint"`
	// SpecsDigest is a digest over every spec's slug and digest; apply of a
	// saved plan refuses when the specs on disk differ.
	SpecsDigest string `json:"specs_digest"`
	// Policy is the result of the policy checks the specs passed.
	Policy PolicyResult `json:"policy"`
	// RevocationGuard is the mass-revocation guard's account of the plan
	// (guard.go); nil in a plan made by a handoff without the guard.
	RevocationGuard *RevocationGuard `json:"revocation_guard,omitempty"`
	// Handoffs is sorted by slug and includes no-op handoffs.
	Handoffs []Handoff `json:"handoffs"`
	// Rotation is the plan of the rotation service's subscription
	// document; nil when handoff.hcl enrolls nothing.
	Rotation *Rotation `json:"rotation,omitempty"`
	// Refreshes is how many credentials refreshed ahead of their expiry
	// (GitHub's hour-long tokens) this run refreshes and the next
	// scheduled runs will; nil when no live handoff has one.
	Refreshes *Refreshes `json:"refreshes,omitempty"`
}

// Refreshes is the refresh load of a run and of the scheduled runs after
// it. The planner spreads early refreshes over the runs of the hour, so
// that credentials minted together are not all refreshed together, and
// caps what one run takes on at what the vault's rate limits allow.
type Refreshes struct {
	// Schedule is the interval of the scheduled apply the forecast
	// assumes ("15m").
	Schedule string `json:"schedule"`
	// Capacity is how many refreshes one run takes on at most, from the
	// vault's rate limits; 0 when they are unknown (no cap).
	Capacity int `json:"capacity,omitempty"`
	// ThisRun counts the handoffs this plan refreshes (and nothing else),
	// Due those of them that could not wait for the next run.
	ThisRun int `json:"this_run"`
	Due     int `json:"due"`
	// Deferred counts the early refreshes left to a later run by the cap.
	Deferred int `json:"deferred,omitempty"`
	// Next are the next scheduled runs, each at the start of its slot.
	Next []RunRefreshes `json:"next"`
}

// RunRefreshes is the forecast of one scheduled run: the handoffs it will
// refresh, Due of them because they could not wait for the run after.
type RunRefreshes struct {
	At        time.Time `json:"at"`
	Refreshes int       `json:"refreshes"`
	Due       int       `json:"due"`
}

// PolicyResult summarises the policy checks that ran before the plan.
type PolicyResult struct {
	Passed   bool     `json:"passed"`
	Checks   []string `json:"checks"`
	Warnings []string `json:"warnings,omitempty"`
}

// Handoff is the plan for one handoff.
type Handoff struct {
	Slug string `json:"slug"`
	Card int    `json:"card,omitempty"`
	// Description is the spec's, on one line and at most
	// MaxDescription characters (ClipDescription); empty when the spec
	// has none or was deleted.
	Description string `json:"description,omitempty"`
	SpecFile    string `json:"spec_file,omitempty"` // empty when the spec was deleted
	SpecDigest  string `json:"spec_digest,omitempty"`
	// Action is the most disruptive action among Changes (NoOp when none).
	Action Action `json:"action"`
	// Reason explains Action in a sentence: "new spec", "past its TTL
	// (expired 2026-06-22T09:00:00Z)", "spec deleted", "token expires in 8m".
	Reason string `json:"reason"`
	// ExpiresAt is the end of the handoff's TTL (for a create: as it will
	// be if applied now).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Held says why apply leaves unminted a handoff whose spec is in the
	// repository (wholly, or some of its surfaces); nil when nothing holds
	// it back. Such a handoff is often a no-op: the renderers show it all
	// the same, so that a plan never calls it up to date.
	Held *Hold `json:"held,omitempty"`
	// Changes holds one entry per surface, in the fixed surface order.
	Changes []Change `json:"changes"`
	// Operation is what apply does, step by step; nil when nothing.
	Operation *Operation `json:"operation,omitempty"`
	// Rotation are the entries of the rotation document the handoff's
	// change adds and removes; nil when none.
	Rotation *RotationChange `json:"rotation,omitempty"`
}

// HoldKind says what holds a handoff back.
type HoldKind string

// The kinds of hold.
const (
	// HoldTombstone: `handoff revoke` revoked the whole handoff; apply
	// mints it again only after `handoff untombstone`.
	HoldTombstone HoldKind = "tombstone"
	// HoldKill: `handoff revoke -surface` killed the surfaces named in
	// Hold.Surfaces; the rest lives on. `handoff untombstone` lifts it.
	HoldKill HoldKind = "kill"
	// HoldDeleted: the handoff was revoked when its spec was deleted; the
	// spec is back, but a revoked slug is never minted again.
	HoldDeleted HoldKind = "deleted"
	// HoldExpired: the handoff's TTL ended and it was revoked; its spec is
	// still in the repository.
	HoldExpired HoldKind = "expired"
)

// Hold is why apply leaves a handoff unminted although its spec is in the
// repository: who revoked it, when, why, and how to proceed.
type Hold struct {
	Kind HoldKind `json:"kind"`
	// Surfaces are the killed surfaces of a HoldKill.
	Surfaces []string `json:"surfaces,omitempty"`
	// By, At and Reason are the revocation's, as its manifest records
	// them (By is empty for apply's own revocations).
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at,omitzero"`
	Reason string    `json:"reason,omitempty"`
	// Untombstone says `handoff untombstone SLUG` lifts the hold;
	// otherwise only a new slug mints the spec again.
	Untombstone bool `json:"untombstone"`
}

// MaxDescription is the most characters of a spec's description a plan
// carries and shows.
const MaxDescription = 200

// ClipDescription returns s on one line (runs of white space, newlines
// included, become one space), cut to MaxDescription characters with an
// ellipsis.
func ClipDescription(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= MaxDescription {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:MaxDescription-1])) + "…"
}

// Change is the plan for one surface of a handoff.
type Change struct {
	Surface string `json:"surface"`
	Action  Action `json:"action"`
	Reason  string `json:"reason"`
	// Resource names what is minted or revoked, e.g. "installation token for
	// raxx-app/TradeMasterAPI" or "identity infisical-handoff-<slug>-<date>".
	Resource string `json:"resource"`
	// Before is the grant live now (nil for a create); After is the grant
	// once applied (nil for a revoke).
	Before *Grant `json:"before,omitempty"`
	After  *Grant `json:"after,omitempty"`
	// Escalations lists what After grants beyond Before: "contents: read →
	// write", "new repository raxx-app/X", "wider vault path /a/**".
	Escalations []string `json:"escalations,omitempty"`
	// Secrets are the vault secret names this change writes or deletes.
	Secrets []string `json:"secrets,omitempty"`
}

// Grant is what a surface's credential may do. Fields apply per surface;
// unused ones are empty.
type Grant struct {
	Repository  string            `json:"repository,omitempty"`
	Permissions map[string]string `json:"permissions,omitempty"`
	Environment string            `json:"environment,omitempty"`
	ReadPaths   []string          `json:"read_paths,omitempty"`
	Mode        string            `json:"mode,omitempty"`
	// Attributes holds surface-specific, non-secret settings (MCP lists,
	// zones, role ARNs), rendered as key = value.
	Attributes map[string]string `json:"attributes,omitempty"`
	ExpiresAt  time.Time         `json:"expires_at,omitzero"`
}

// Summary counts handoffs by action.
type Summary struct {
	Create  int `json:"create"`
	Refresh int `json:"refresh"`
	Replace int `json:"replace"`
	Revoke  int `json:"revoke"`
	NoOp    int `json:"no_op"`
}

// Summary counts the plan's handoffs by their overall action.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, h := range p.Handoffs {
		switch h.Action {
		case Create:
			s.Create++
		case Refresh:
			s.Refresh++
		case Replace:
			s.Replace++
		case Revoke:
			s.Revoke++
		default:
			s.NoOp++
		}
	}
	return s
}

// HasChanges reports whether applying the plan writes anything: a
// handoff's change, or the rotation document.
func (p *Plan) HasChanges() bool {
	for _, h := range p.Handoffs {
		if h.Action.IsChange() {
			return true
		}
	}
	return p.rotationWrites()
}

// Finalize sorts handoffs by slug and sets each handoff's Action to its most
// disruptive change (keeping an explicit Reason if one was set).
func (p *Plan) Finalize() {
	sort.Slice(p.Handoffs, func(i, j int) bool { return p.Handoffs[i].Slug < p.Handoffs[j].Slug })
	for i := range p.Handoffs {
		h := &p.Handoffs[i]
		overall := NoOp
		reason := ""
		for _, c := range h.Changes {
			if c.Action.rank() > overall.rank() {
				overall, reason = c.Action, c.Reason
			}
		}
		h.Action = overall
		if h.Reason == "" {
			h.Reason = reason
		}
	}
}
