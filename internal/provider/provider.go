// Package provider defines what a credential surface is to apply: one small
// interface, Surface, that each surface (GitHub installation tokens, the
// handoff's own Infisical identity, MCP tool lists, pre-provisioned
// financial keys, and tomorrow Cloudflare or AWS STS) implements in its own
// package under internal/provider/surfaces, and a Registry that maps surface
// names (the block names of the spec language) to implementations.
//
// Adding a surface is one new package and one line where the registry is
// built: apply, plan and verify only ever see this interface. The set of
// names of a Registry is what package reconcile calls its Registry (the
// surfaces this build can provision).
//
// The contract every implementation keeps:
//
//   - Secrets are returned, never written: a Result carries the values apply
//     writes to the handoff's vault folder, in memory only. A surface never
//     logs, prints or records a value; its manifest Record holds remote ids,
//     expiries, permissions and fingerprints.
//   - Every remote write is announced first with Request.Begin, with the name
//     of one of the surface's Steps. Begin is where apply numbers the step on
//     stderr, journals it, and where tests inject failures; an error from
//     Begin must be returned as is, at once.
//   - What a surface makes must be found again after a crash: either by a
//     deterministic name (an identity named for the handoff), or through the
//     vault (a token whose value was written). A step whose product can be
//     found by neither is marked Untraceable, so that apply journals it just
//     before it runs.
//   - On failure a surface returns what it made so far in Result.Compensate,
//     so that apply can undo it in memory when the run is not a crash.
//   - Revoke is idempotent and sweeps by name: it revokes what the Record
//     names and whatever the deterministic names find besides, treating
//     "already gone" as success.
package provider

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
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
	// Untraceable marks a step whose product can be found again neither by a
	// deterministic name nor through the vault until the surface's secret is
	// written (a GitHub installation token: GitHub lists no tokens and
	// revokes one only when given the token itself). Apply records in the
	// journal that such a step is in flight just before it runs.
	Untraceable bool
}

// Vault reads one secret of the vault with its value. *infisical.Client
// satisfies it.
type Vault interface {
	GetSecret(ctx context.Context, env, folder, key string) (infisical.Secret, error)
}

// Request is what a surface acts on: one handoff, at one instant.
type Request struct {
	// Slug is the handoff's slug.
	Slug string
	// Spec is the handoff's spec; nil when the spec was deleted (a revocation
	// only).
	Spec *spec.Handoff
	// Folder is the handoff's vault folder, <handoff_root>/<slug>, and
	// Environment the vault environment it lives in (handoff.hcl's).
	Folder      string
	Environment string
	// Now is the instant of the operation; ExpiresAt the end of the
	// handoff's TTL, which nothing a surface mints may outlive.
	Now       time.Time
	ExpiresAt time.Time
	// IdentityName is the name a new machine identity takes (the plan's,
	// "infisical-handoff-<slug>-<YYYYMMDD>").
	IdentityName string
	// Withhold lists read paths the handoff's identity must not be
	// granted, whatever its spec says: the key paths of the surfaces read
	// by reference (stripe, apple_iap, alpaca) that an operator killed
	// (H8). A surface that grants vault reads leaves them out of every
	// grant it makes, and Verify reports a grant that still holds them.
	Withhold []string
	// Live is the live state read under apply's lock: installations and the
	// identities named for each handoff. It may be nil outside apply.
	Live *state.Live
	// Vault reads the handoff's folder (a token to revoke with itself).
	Vault Vault
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

// Result is what a Create or Refresh produced.
type Result struct {
	// Secrets are the values to write in the handoff's folder, by secret
	// name. They live in memory only: apply writes them to the vault and
	// drops them. Never print a Result's Secrets.
	Secrets map[string]string
	// Record is the surface's entry in the manifest.
	Record Record
	// Detail says in a phrase what was minted, for the manifest's history
	// ("installation token for raxx-app/TradeMasterAPI, installation 1001").
	// It names no secret.
	Detail string
	// Fingerprint identifies the new credential in the history (see
	// manifest.Fingerprint); empty when there is none.
	Fingerprint string
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
	return fmt.Sprintf("provider.Result{secrets %v (values redacted), %s}", names, r.Detail)
}

// GoString is String.
func (r Result) GoString() string { return r.String() }

// Format prints String for every verb, so no fmt verb reveals a secret.
func (r Result) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

// Record is a surface's entry in the manifest: one of the typed entries for
// the surfaces the manifest knows, or Meta for any other (remote ids,
// modes, permissions; never a secret value).
type Record struct {
	GitHub    *manifest.GitHub
	Infisical *manifest.Infisical
	MCP       *manifest.MCP
	Meta      manifest.Meta
}

// IsZero reports whether the record holds nothing.
func (r Record) IsZero() bool {
	return r.GitHub == nil && r.Infisical == nil && r.MCP == nil && r.Meta == nil
}

// RecordOf returns the entry of surface name in s.
func RecordOf(s manifest.Surfaces, name string) (Record, bool) {
	switch name {
	case spec.SurfaceGitHub:
		return Record{GitHub: s.GitHub}, s.GitHub != nil
	case spec.SurfaceInfisical:
		return Record{Infisical: s.Infisical}, s.Infisical != nil
	case spec.SurfaceMCP:
		return Record{MCP: s.MCP}, s.MCP != nil
	}
	m, ok := s.Other[name]
	return Record{Meta: m}, ok
}

// Put sets the entry of surface name in s to r; a zero r removes it.
func (r Record) Put(s *manifest.Surfaces, name string) {
	switch name {
	case spec.SurfaceGitHub:
		s.GitHub = r.GitHub
		return
	case spec.SurfaceInfisical:
		s.Infisical = r.Infisical
		return
	case spec.SurfaceMCP:
		s.MCP = r.MCP
		return
	}
	if r.Meta == nil {
		delete(s.Other, name)
		if len(s.Other) == 0 {
			s.Other = nil
		}
		return
	}
	if s.Other == nil {
		s.Other = map[string]manifest.Meta{}
	}
	s.Other[name] = r.Meta
}

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

// Surface is one kind of credential a handoff can hold.
type Surface interface {
	// Name is the surface's block name in specs ("github", "infisical").
	Name() string
	// Secrets names the secrets the surface writes in a handoff's folder
	// (none for a surface that records only).
	Secrets() []string
	// Steps lists, in order, the remote writes op will make for req and rec
	// (rec nil: nothing recorded), so that apply can number them exactly
	// and journal them. With a nil req it lists every step op may make.
	Steps(op Op, req *Request, rec *Record) []Step
	// Create mints the credential the spec asks for, valid until
	// req.ExpiresAt at most.
	Create(ctx context.Context, req *Request) (Result, error)
	// Refresh mints again the credential rec records (same grant), revoking
	// the one it replaces.
	Refresh(ctx context.Context, req *Request, rec Record) (Result, error)
	// Revoke ends what rec records (nil: nothing is recorded, as after a
	// crash) and whatever the surface's deterministic names find for
	// req.Slug. Already gone is success.
	Revoke(ctx context.Context, req *Request, rec *Record) error
	// Verify compares rec with the spec (req.Spec, nil when deleted) and
	// with the live metadata of the surface. It writes nothing.
	Verify(ctx context.Context, req *Request, rec Record) []Violation
}

// Regranter is a surface whose grant can change in place, without minting
// a new credential: the handoff's Infisical identity, whose privilege is
// narrowed when a surface it reads by reference is killed, and widened
// again once that kill is lifted. Its Steps list the steps of OpRegrant.
type Regranter interface {
	// NeedsRegrant reports whether the grant rec records differs from
	// what req allows now: the spec's grant less req.Withhold (with
	// req.Spec nil, rec's own grant less req.Withhold). It writes nothing.
	NeedsRegrant(req *Request, rec Record) bool
	// Regrant sets the grant of the credential rec records to what req
	// allows now, in place, and returns the updated record (no secrets,
	// nothing to compensate: a narrower grant is never undone). Running it
	// again is harmless.
	Regrant(ctx context.Context, req *Request, rec Record) (Result, error)
}

// Registry maps surface names to their implementation: the surfaces this
// build can provision.
type Registry map[string]Surface

// NewRegistry returns a registry of the given surfaces. Two surfaces with
// one name are a programming error: it panics.
func NewRegistry(surfaces ...Surface) Registry {
	r := Registry{}
	for _, s := range surfaces {
		if s == nil {
			continue
		}
		if _, dup := r[s.Name()]; dup {
			panic("provider: two surfaces named " + s.Name())
		}
		r[s.Name()] = s
	}
	return r
}

// Get returns the surface named name.
func (r Registry) Get(name string) (Surface, bool) {
	s, ok := r[name]
	return s, ok
}

// Names returns the names of the registered surfaces, sorted: what
// reconcile.NewRegistry takes.
func (r Registry) Names() []string {
	out := make([]string, 0, len(r))
	for k := range r {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// HasUntraceable reports whether op of s may make an Untraceable step.
func HasUntraceable(s Surface, op Op) bool {
	for _, st := range s.Steps(op, nil, nil) {
		if st.Untraceable {
			return true
		}
	}
	return false
}
