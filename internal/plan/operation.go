package plan

import (
	"time"
)

// OpKind is what a handoff's run does as a whole, as journaled and
// reported.
type OpKind string

// The kinds of operation.
const (
	// OpCreate mints a new handoff.
	OpCreate OpKind = "create"
	// OpRecover revokes the leftovers of a crashed run or a corrupt
	// manifest (found by name), then creates again when the spec exists.
	OpRecover OpKind = "recover"
	// OpRefresh mints again with the same grant.
	OpRefresh OpKind = "refresh"
	// OpUpdate replaces, creates, revokes or regrants some surfaces.
	OpUpdate OpKind = "update"
	// OpReplace mints everything again under a changed spec (a new TTL).
	OpReplace OpKind = "replace"
	// OpRevoke revokes everything (or, for a kill, the surfaces named),
	// keeping the manifest as the record.
	OpRevoke OpKind = "revoke"
	// OpSettle deletes the journal a run left after it committed (wrote
	// its manifest, and the journal marked committed, in one batch): its
	// only step; nothing is minted or written.
	OpSettle OpKind = "settle"
)

// Final is what a run writes last.
type Final string

// The final writes.
const (
	// FinalNone writes no manifest (leftovers of a handoff with no spec
	// and no manifest).
	FinalNone Final = "none"
	// FinalNew writes a new active manifest.
	FinalNew Final = "new"
	// FinalUpdate updates the active manifest.
	FinalUpdate Final = "update"
	// FinalRevoked writes the manifest as revoked.
	FinalRevoked Final = "revoked"
)

// Operation is what apply does for one handoff, decided by the planner:
// apply executes it and re-checks only that the plan is not stale. It
// names no secret.
type Operation struct {
	Kind  OpKind `json:"kind"`
	Final Final  `json:"final"`
	// NeedFolder says the handoff's folder is created first.
	NeedFolder bool `json:"need_folder,omitempty"`
	// TombstoneFirst says the manifest's revocation record is written
	// before any credential is touched (a manual revocation: the gate
	// closes at once).
	TombstoneFirst bool `json:"tombstone_first,omitempty"`
	// TombstoneFromSpec says the folder has no usable manifest: the
	// tombstone is built from the spec.
	TombstoneFromSpec bool `json:"tombstone_from_spec,omitempty"`
	// NewTTL says the run replaces the whole handoff with its spec: a new
	// TTL starts and the new spec digest is recorded. Otherwise an active
	// manifest keeps its expiry and digest, and what is minted ends by
	// that expiry (H3).
	NewTTL bool `json:"new_ttl,omitempty"`
	// Frozen says the spec changed while surfaces are killed: only what
	// mints nothing is done.
	Frozen bool `json:"frozen,omitempty"`
	// Revocation is the record the run writes (a manual revocation's, a
	// kill's, or one apply finishes); nil when none or apply's own.
	Revocation *Revocation `json:"revocation,omitempty"`
	// Withhold are the read paths no grant may hold (the key paths of
	// killed surfaces read by reference).
	Withhold []string `json:"withhold,omitempty"`
	// Work are the surface operations, in order: revocations, then
	// in-place grant changes, then mints.
	Work []Work `json:"work"`
	// Deletes are the folder secrets deleted after the revocations.
	Deletes []string `json:"deletes,omitempty"`
	// Dropped are the surfaces whose record the manifest drops.
	Dropped []string `json:"dropped,omitempty"`
	// History are events the run records besides those of its work (a
	// kill, a tombstone).
	History []Note `json:"history,omitempty"`
	// Flags are findings an operator must know (a tombstone that cannot be
	// written).
	Flags []string `json:"flags,omitempty"`
	// Note is printed when the run starts.
	Note string `json:"note,omitempty"`
	// Steps are every remote write of the run, in order, as apply
	// announces them: "step i/n: <step> (<slug>)".
	Steps []string `json:"steps"`
}

// Work is one surface operation of a run.
type Work struct {
	Surface string `json:"surface"`
	// Op is create, refresh, revoke or regrant.
	Op string `json:"op"`
	// Event is what the history records: create, refresh, replace,
	// revoke.
	Event string `json:"event"`
	// FromRecord says the surface works from its record, not the spec
	// (the spec changed under a kill).
	FromRecord bool `json:"from_record,omitempty"`
	// Record says the surface is given its record in the manifest (a
	// revocation after a crash is not: it sweeps by name).
	Record bool `json:"record,omitempty"`
}

// Note is a history event of an operation, stamped when it runs.
type Note struct {
	Action  string `json:"action"`
	Surface string `json:"surface,omitempty"`
	Detail  string `json:"detail"`
}

// Revocation is the record a revocation writes in the manifest.
type Revocation struct {
	// At is when it was decided; zero when the run stamps it (a revocation
	// apply makes itself: expired, spec deleted).
	At       time.Time `json:"at,omitzero"`
	Kind     string    `json:"kind"`
	Reason   string    `json:"reason"`
	By       string    `json:"by,omitempty"`
	Surfaces []string  `json:"surfaces,omitempty"`
}
