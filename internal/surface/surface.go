// Package surface is the seam between handoff's core and its credential
// surfaces, in the way terraform's providers.Interface is between terraform
// and its providers: one interface, Surface, that each surface (GitHub
// installation tokens, the handoff's own Infisical identity, MCP tool
// lists, the financial keys read by reference, Cloudflare tokens, AWS STS
// sessions, Heroku authorizations) implements in its own package under
// internal/surfaces, and one Registry, in the language's order, that the
// core (spec, policy, state, reconcile, apply) consults. The core names no
// surface and imports no vendor client; a surface's package declares
// everything about it:
//
//   - its part of the spec language (Syntax: its block, its handoff.hcl
//     block, its policy attributes) and of the generated reference;
//   - its policy rules (Check) and whether a block asks for live
//     financial credentials (H7);
//   - the grant a spec asks for (Desired), the grant a manifest records
//     (Recorded), how to name them (Resource), how their attributes compare
//     (Attrs);
//   - how it reads live state (LiveReader: one listing per plan, never one
//     per handoff), its plan-time checks against it (PlanChecker), what its
//     deterministic names find (Leftovers), its drift and expiry (Expiring,
//     Vanishing) and in-place grant changes (Regranter);
//   - the ordered steps of each operation (Steps) and the operations
//     themselves (Create, Refresh, Revoke, and Regrant);
//   - verification against the vendor (Verify) and the session context it
//     contributes to `handoff env` and `handoff exec` (Env).
//
// The contract every implementation keeps:
//
//   - Secrets are returned, never written: a Result carries the values
//     apply writes to the handoff's vault folder, in memory only. A surface
//     never logs, prints or records a value; its manifest Record holds
//     remote ids, expiries, permissions and fingerprints.
//   - Every remote write is announced first with Request.Begin, with the
//     name of one of the surface's Steps. Begin is where apply numbers the
//     step on stderr, journals it, checks the kill switch, and where tests
//     inject failures; an error from Begin must be returned as is, at once.
//   - What a surface makes must be found again after a crash: either by a
//     deterministic name (an identity named for the handoff), or through
//     the vault (a token whose value was written). A step whose product can
//     be found by neither is marked Untraceable, so that apply journals it
//     just before it runs.
//   - On failure a surface returns what it made so far in
//     Result.Compensate, so that apply can undo it in memory when the run
//     is not a crash.
//   - Revoke is idempotent and sweeps by name: it revokes what the record
//     names and whatever the deterministic names find besides, treating
//     "already gone" as success.
package surface

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/vault"
)

// Op is what apply asks of a surface.
type Op string

// The operations of a surface.
const (
	// OpCreate mints the surface's credential for a handoff.
	OpCreate Op = "create"
	// OpRefresh mints again a credential that expires soon or went missing,
	// with the same grant, revoking the one it replaces.
	OpRefresh Op = "refresh"
	// OpRevoke ends the credential.
	OpRevoke Op = "revoke"
	// OpRegrant changes in place the grant of the credential a record
	// names, minting nothing (a Regranter's).
	OpRegrant Op = "regrant"
)

// Step is one remote write a surface makes during an operation.
type Step struct {
	// Name is a short verb phrase ("create identity"), printed on stderr as
	// "step i/n: <Name> (<slug>)". It names no secret.
	Name string
	// Untraceable marks a step whose product can be found again neither by
	// a deterministic name nor through the vault until the surface's secret
	// is written (a GitHub installation token: GitHub lists no tokens and
	// revokes one only when given the token itself). Apply records in the
	// journal that such a step is in flight just before it runs.
	Untraceable bool
}

// Record is a surface's entry in the manifest, as JSON: remote ids,
// expiries, grants, fingerprints, never a secret value. Its package owns
// its shape.
type Record = json.RawMessage

// Request is what a surface acts on: one handoff, at one instant.
type Request struct {
	// Slug is the handoff's slug.
	Slug string
	// Spec is the handoff's spec; nil when the spec was deleted (a
	// revocation only), or when the surface must work from its record
	// (a regrant while the spec changed under a kill).
	Spec *spec.Handoff
	// Folder is the handoff's vault folder, <handoff_root>/<slug>, and
	// Environment the vault environment it lives in (handoff.hcl's).
	Folder      string
	Environment string
	// Now is the instant of the operation; ExpiresAt the end of the
	// handoff's TTL, which nothing a surface mints may outlive.
	Now       time.Time
	ExpiresAt time.Time
	// Planned is the grant the plan shows after the change (nil for a
	// revocation): a surface that names what it creates (an identity) takes
	// the name from its Attributes.
	Planned *plan.Grant
	// Withhold lists read paths a surface that grants vault reads must
	// leave out of every grant it makes: the key paths of the surfaces read
	// by reference that an operator killed (H8); Verify reports a grant
	// that still holds them.
	Withhold []string
	// Live is the live state read under apply's lock; nil outside apply.
	Live *state.Live
	// Vault reads the handoff's folder (a token to revoke with itself).
	Vault vault.Vault
	// Step is apply's hook, called by Begin; nil does nothing.
	Step func(ctx context.Context, name string, ids map[string]string) error
}

// Begin announces the remote write name (one of the surface's Steps) before
// it is made. ids are remote identifiers known at this point (never secret
// values), recorded in the journal for an Untraceable step. A non-nil error
// must be returned at once, unchanged: the run is stopping.
func (r *Request) Begin(ctx context.Context, name string, ids map[string]string) error {
	if r == nil || r.Step == nil {
		return ctx.Err()
	}
	return r.Step(ctx, name, ids)
}

// Block returns the surface's block of the request's spec.
func (r *Request) Block(surface string) (spec.Block, bool) {
	if r == nil || r.Spec == nil {
		return nil, false
	}
	return r.Spec.Block(surface)
}

// Result is what a Create, Refresh or Regrant produced.
type Result struct {
	// Secrets are the values to write in the handoff's folder, by secret
	// name. They live in memory only: apply writes them to the vault and
	// drops them. Never print a Result's Secrets.
	Secrets map[string]string
	// Record is the surface's entry in the manifest (marshalled with
	// encoding/json).
	Record any
	// Detail says in a phrase what was minted, for the manifest's history
	// ("installation token for raxx-app/TradeMasterAPI, installation 1001").
	// It names no secret.
	Detail string
	// Fingerprint identifies the new credential in the history (see
	// manifest.Fingerprint); empty when there is none.
	Fingerprint string
	// Narrower says a Regrant only took away (a kill): the history records
	// it as a revocation.
	Narrower bool
	// Compensate undoes what the operation made, for a run that fails before
	// the manifest is written (and is not a crash). It is set on error too,
	// when something was made before the failure. Nil when there is nothing
	// to undo.
	Compensate func(ctx context.Context) error
}

// String describes the result without its secret values.
func (r Result) String() string {
	names := make([]string, 0, len(r.Secrets))
	for k := range r.Secrets {
		names = append(names, k)
	}
	sort.Strings(names)
	return fmt.Sprintf("surface.Result{secrets %v (values redacted), %s}", names, r.Detail)
}

// GoString is String.
func (r Result) GoString() string { return r.String() }

// Format prints String for every verb, so no fmt verb reveals a secret.
func (r Result) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

// Violation is a difference verify found between a manifest, the spec and
// policy, and the live metadata of a surface. It never quotes a secret.
type Violation struct {
	Surface string
	// Scope is true when a credential can do more than its spec allows (a
	// wider grant, an extra credential): verify's exit 4. Other violations
	// (an expired token, a deleted identity) are drift that apply repairs.
	Scope   bool
	Message string
}

func (v Violation) String() string {
	kind := "drift"
	if v.Scope {
		kind = "scope violation"
	}
	return fmt.Sprintf("%s: %s: %s", v.Surface, kind, v.Message)
}

// Violations collects the violations of one surface.
type Violations struct {
	Surface string
	List    []Violation
}

// Add records a violation; scope marks a scope violation.
func (v *Violations) Add(scope bool, format string, args ...any) {
	v.List = append(v.List, Violation{Surface: v.Surface, Scope: scope, Message: fmt.Sprintf(format, args...)})
}

// Target is what a planner asks a surface about one handoff's spec.
type Target struct {
	Slug string
	Spec *spec.Handoff
	// Root is the handoff root, Folder <Root>/<Slug>, Environment the vault
	// environment of the folders.
	Root, Folder, Environment string
	// Now is when the plan is made; ExpiresAt the end of the handoff's TTL
	// (for a create, Now + ttl): nothing minted may outlive it, except
	// where the vendor fixes a credential's life (GitHub's hour).
	Now, ExpiresAt time.Time
	// Record is the surface's record when the grant is minted again in
	// place of it (a refresh or a repair): what it keeps (an identity's
	// name) is kept. Nil for a create or a replace.
	Record Record
	// Live is the live state the plan is made against, for a grant that
	// depends on it (the apps a Heroku token reaches); nil when unknown.
	Live *state.Live
}

// Check is what a surface's policy rules see of a repository.
type Check struct {
	// Config is handoff.hcl (nil when missing).
	Config *spec.Config
	// Policy is the surface's effective policy: what its DecodePolicy read
	// of the policy block of handoff.hcl over the default policy's (see
	// Policer); nil when the surface declares no policy.
	Policy any
	// HandoffRoot is the vault handoff root when valid, else "".
	HandoffRoot string
	// Environment is the environment of the handoff folders ("" unknown).
	Environment string
	diags       hcl.Diagnostics
}

// Errorf reports an error at rng.
func (c *Check) Errorf(rng hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
}

// Warnf reports a warning at rng.
func (c *Check) Warnf(rng hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
}

// Append adds diagnostics.
func (c *Check) Append(d ...*hcl.Diagnostic) { c.diags = append(c.diags, d...) }

// Diagnostics returns what was reported.
func (c *Check) Diagnostics() hcl.Diagnostics { return c.diags }

// Surface is one kind of credential a handoff can hold.
type Surface interface {
	// Name is the surface's block name in specs ("github", "infisical").
	Name() string
	// Syntax is the surface's part of the spec language.
	Syntax() spec.SurfaceSyntax
	// Check applies the surface's policy rules to its block of handoff h
	// (pure: no I/O).
	Check(c *Check, h *spec.Handoff, b spec.Block)
	// Desired is the grant t's spec asks for on the surface, as minted at
	// t.Now (bounded by t.ExpiresAt).
	Desired(t Target) *plan.Grant
	// Recorded is the grant rec records; m is its manifest.
	Recorded(rec Record, m *manifest.Manifest) *plan.Grant
	// Resource names what a change mints or revokes for slug; g is the
	// grant after (or before, for a revocation), nil when unknown.
	Resource(slug string, g *plan.Grant) string
	// Secrets names the secrets the surface writes in a handoff's folder
	// when rec (nil: the defaults) is minted again; none for a surface that
	// records only.
	Secrets(rec Record) []string
	// Steps lists, in order, the remote writes op will make for req and rec
	// (rec nil: nothing recorded), so that the plan lists them and apply
	// numbers and journals them. With a nil req it lists every step op may
	// make.
	Steps(op Op, req *Request, rec Record) []Step
	// Create mints the credential the spec asks for, valid until
	// req.ExpiresAt at most.
	Create(ctx context.Context, req *Request) (Result, error)
	// Refresh mints again the credential rec records (same grant), revoking
	// the one it replaces.
	Refresh(ctx context.Context, req *Request, rec Record) (Result, error)
	// Revoke ends what rec records (nil: nothing is recorded, as after a
	// crash) and whatever the surface's deterministic names find for
	// req.Slug. Already gone is success.
	Revoke(ctx context.Context, req *Request, rec Record) error
	// Verify compares rec with the spec (req.Spec, nil when deleted) and
	// with the live metadata of the surface. It writes nothing.
	Verify(ctx context.Context, req *Request, rec Record) []Violation
}
