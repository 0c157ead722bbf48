package surface

import (
	"context"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
)

// The interfaces of this file are capabilities a Surface may have besides
// the Surface interface. The core asks for them with a type assertion and
// plans, checks and applies the same way whichever surface has them.

// Policer is a surface that declares attributes of the policy block
// (SurfaceSyntax.Policy): Policy returns its effective policy, def (what it
// decoded of the default policy) overridden by override (of handoff.hcl's
// policy block; nil when absent), and the diagnostics of checking that
// policy against the surface's hard rules. The result is Check.Policy.
type Policer interface {
	Policy(def, override spec.Block, cfg *spec.Config) (any, hcl.Diagnostics)
}

// Configured is a surface with a block of its own in handoff.hcl
// (SurfaceSyntax.Config): CheckConfig checks it (b is nil when absent).
type Configured interface {
	CheckConfig(c *Check, b spec.Block)
}

// Live is a surface with live, real-money or production modes (H7): Live
// returns, for block b, nil when b asks for none, else the diagnostic to
// report when the handoff has no live_approval block.
type Live interface {
	Live(b spec.Block) *hcl.Diagnostic
}

// Expiring is a surface whose credential expires before the handoff does
// (a GitHub installation token's hour, an STS session): Expiry says when
// the credential rec records expires, what to call it in reasons
// ("token"), and whether it is minted again ahead of expiry, within the
// plan's refresh window (else only once expired).
type Expiring interface {
	Expiry(rec Record) (at time.Time, noun string, early bool)
}

// FixedLife is an Expiring surface whose vendor fixes its credential's
// life at the mint (GitHub's hour), so that the credential may outlive the
// handoff, by that life at most: Life says when the credential rec records
// was minted (zero when rec does not say) and that life. The dispatch gate
// refuses a manifest whose record expires later than that life after the
// mint. The credential of an Expiring surface without it ends with the
// handoff: the gate refuses a record that expires after the handoff.
type FixedLife interface {
	Life(rec Record) (mintedAt time.Time, life time.Duration)
}

// Stamped is a surface whose record holds when its credential was minted
// (or issued) and when it expires: Stamps returns those times with the
// record's names for them, for the dispatch gate (Registry.Expiries,
// manifest.Consistent). The gate refuses a record whose mint lies in the
// future (manifest.ClockSkew aside), before the handoff was created or
// after it expired, whose expiry lies before its mint, or after the
// handoff's expiry (FixedLife: more than its life after the mint), naming
// the surface and the field. Every surface whose record holds such a time
// must have it, or the gate takes the record's word for it.
type Stamped interface {
	Stamps(rec Record) Stamps
}

// Stamps are the times a record holds; a zero time is one the record does
// not say (a record that does not decode says none).
type Stamps struct {
	// Minted is when the credential was minted or issued; MintedField the
	// record's JSON name for it ("minted_at", "issued_at").
	Minted      time.Time
	MintedField string
	// Expires is when the credential expires; ExpiresField the record's
	// JSON name for it ("token_expires_at").
	Expires      time.Time
	ExpiresField string
}

// Vanishing is a surface whose credential can be deleted out of band in a
// way the live state shows (an identity deleted by hand): Vanished says
// so, and why; the plan replaces the surface.
type Vanishing interface {
	Vanished(rec Record, live *state.Live) (why string, gone bool)
}

// Leftover is something a surface's deterministic names find for a
// handoff, recorded or not.
type Leftover struct {
	ID, Name string
	// Kind names what it is, for the plan: "identity".
	Kind string
}

// Leftovers is a surface whose products are found by deterministic names
// in the live state (identities named for the handoff): what a crashed or
// corrupt handoff left is found, and revoked, through them.
type Leftovers interface {
	Leftovers(slug string, live *state.Live) []Leftover
}

// RegrantInput is what a Regranter plans an in-place change from.
type RegrantInput struct {
	Target Target
	// FromRecord says the spec changed since rec was minted (frozen under
	// a kill): the grant may only narrow from what rec records.
	FromRecord bool
	Record     Record
	// Withhold are the read paths no grant may hold; WithheldBy says which
	// killed surfaces withhold each, and Kill is their revocation record.
	Withhold   []string
	WithheldBy map[string][]string
	Kill       *manifest.Revocation
}

// Regranter is a surface whose grant changes in place, without minting a
// new credential: the handoff's Infisical identity, whose privilege is
// narrowed when a surface it reads by reference is killed and widened
// again once that kill is lifted. Its Steps list the steps of OpRegrant.
type Regranter interface {
	// PlanRegrant says how the recorded grant differs from what the
	// request allows now: the reasons (empty when the same), the
	// escalations among them, and the grant after the change (nil when the
	// same).
	PlanRegrant(in RegrantInput) (reasons, escalations []string, after *plan.Grant)
	// NeedsRegrant reports whether the grant rec records differs from what
	// req allows now: the spec's grant less req.Withhold (with req.Spec
	// nil, rec's own grant less req.Withhold). It writes nothing.
	NeedsRegrant(req *Request, rec Record) bool
	// Regrant sets the grant of the credential rec records to what req
	// allows now, in place, and returns the updated record (no secrets,
	// nothing to compensate: a narrower grant is never undone). Running it
	// again is harmless.
	Regrant(ctx context.Context, req *Request, rec Record) (Result, error)
}

// ByReference is a surface that mints nothing: the task reads a
// pre-provisioned key through its identity's vault read paths, which its
// record lists. Killing it alone withholds them from every grant
// (Request.Withhold).
type ByReference interface {
	KeyPaths(rec Record) []string
}

// Use is one handoff's use of a surface in a plan.
type Use struct {
	Spec   *spec.Handoff
	Change plan.Change
	// Active says the handoff's manifest is active (a no-op keeps a live
	// credential).
	Active bool
}

// PlanInput is what a PlanChecker checks.
type PlanInput struct {
	// Specs are every spec of the repository.
	Specs []*spec.Handoff
	// Uses are the plan's changes of the surface, by handoff.
	Uses []Use
	Live *state.Live
	// Config is handoff.hcl (nil when missing), for checks against the
	// surface's effective policy (policy.Effective).
	Config *spec.Config
}

// PlanChecker is a surface with plan-time checks against its live state
// (an App installation that cannot grant what a spec asks: the 422 of apply
// caught at plan time). Errors stop apply.
type PlanChecker interface {
	CheckPlan(in PlanInput) hcl.Diagnostics
}

// AttrKind says how a grant attribute of a surface compares, for the
// privilege deltas a plan shows.
type AttrKind struct {
	// List says the value is a ", "-joined list; Noun names one element
	// ("zone"). A new element is an escalation, unless Exclusions: then a
	// removed one is ("no longer excludes X").
	List       bool
	Noun       string
	Exclusions bool
	// Duration says a longer value is an escalation, a shorter one not.
	Duration bool
	// Opaque says any change is an escalation, described without values
	// ("session policy changed").
	Opaque bool
	// Name says a change is not an escalation (the name of what is
	// minted).
	Name bool
}

// Attributed is a surface whose grants carry Attributes: Attrs says how
// each compares (an attribute it does not list: any change is an
// escalation).
type Attributed interface {
	Attrs() map[string]AttrKind
}

// EnvVar is one variable of a handoff's session context.
type EnvVar struct {
	// Name is the variable's name in the agent's environment.
	Name string
	// Secret names the folder secret holding the value; Value is a
	// non-secret value (used when Secret is empty).
	Secret string
	Value  string
}

// Session is what a surface contributes to the session context of `handoff
// env` and `handoff exec` for its record.
type Session struct {
	// Env are variables, in order.
	Env []EnvVar
	// Read are vault paths beyond the handoff's folder the session may
	// read (with the handoff's identity).
	Read []string
	// ReadEnvironment is the environment of Read ("" the folder's).
	ReadEnvironment string
	// Lists are named lists for the orchestrator (MCP tools allowed and
	// excluded).
	Lists map[string][]string
}

// SessionContributor is a surface that contributes to the session context.
type SessionContributor interface {
	Session(rec Record, folder string) Session
}

// Unprovisionable is a surface the language knows and this build cannot
// provision: plan refuses a change it needs, saying why.
type Unprovisionable interface {
	Unprovisionable() string
}

// Titled is a surface that names its credential in messages ("GitHub
// token").
type Titled interface {
	Title() string
}

// RevokeDescriber is a surface that says, for the history, what revoking
// rec ended ("installation token sha256:… for raxx-app/X (the token in the
// vault, with itself)"); replaced says it is revoked to be minted again.
// An empty text falls back to the generic one.
type RevokeDescriber interface {
	DescribeRevoke(rec Record, replaced bool) string
}

// Checks describe a surface's rules for the plan's record of what was
// checked.
type Checks struct {
	// Policy are whole rules policy.Check enforces for the surface.
	Policy []string
	// Settings names, in a phrase, the settings the surface checks
	// ("zones"), listed together with the other surfaces'.
	Settings string
	// Plan are the checks against the surface's live state at plan time.
	Plan []string
}

// Described is a surface that says what it checks.
type Described interface {
	Checks() Checks
}

// RevokedVerifier is a surface whose credential its vendor cannot end
// before it expires, so that a revocation stays something to check: an
// STS session, which only a deny on its role refuses. Verify skips the
// records of a revoked handoff and of a killed surface, except for a
// RevokedVerifier's: VerifyRevoked checks, against the vendor, that what
// rec records is still refused (a revoked credential that works again is
// a scope violation). It writes nothing.
type RevokedVerifier interface {
	VerifyRevoked(ctx context.Context, req *Request, rec Record) []Violation
}

// PreMintChecker is a surface with a check that must pass before anything
// of a handoff is made: apply runs CheckMint for every surface a handoff's
// operation creates or refreshes, before the operation's first step (its
// folder, its journal, the revocations of a replace), and an error stops
// the handoff there. A refusal then grants nothing at all, where the same
// check in Create would run after the surfaces before it (the handoff's
// identity and its privilege) and leave apply to undo them: the Stripe key
// of a test-mode spec that is a live key. It writes nothing, announces no
// step, and its error names no secret value.
type PreMintChecker interface {
	CheckMint(ctx context.Context, req *Request) error
}
