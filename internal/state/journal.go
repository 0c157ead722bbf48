package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
)

// JournalSecretName is the name of the journal secret in a handoff's folder.
const JournalSecretName = manifest.JournalSecretName

// JournalVersion is the version of the journal shape this build writes.
const JournalVersion = 1

// Journal is the value of PROVISION_JOURNAL: apply's record of an
// operation under way on one handoff, written before its first remote write
// and updated just before each Untraceable step, so that a run killed
// between two steps leaves a trail from which the next run revokes what was
// made. Apply removes the journal once the manifest is written. It names
// remote ids, never a secret value. Unknown fields are accepted when read,
// so that a journal written by a newer build still reads.
type Journal struct {
	Version int    `json:"version"`
	Slug    string `json:"slug"`
	// Operation is what the run was doing: "create", "recover",
	// "refresh", "update", "replace", "revoke".
	Operation string `json:"operation,omitempty"`
	// RunID identifies the apply run that wrote the journal; Owner is its
	// lock owner.
	RunID     string    `json:"run_id,omitempty"`
	Owner     string    `json:"owner,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
	// IdentityName is the deterministic name of what the operation
	// creates under a name (a surface's), if any.
	IdentityName string `json:"identity_name,omitempty"`
	// Steps are the remote writes the operation intends, in order.
	Steps   []string       `json:"steps"`
	Entries []JournalEntry `json:"entries"`
	// InFlight lists the Untraceable steps that were about to run,
	// recorded just before each.
	InFlight []InFlight `json:"in_flight,omitempty"`
	// Flags carries the findings of recovery (an unrevocable token) while
	// a run that found them is itself under way.
	Flags []string `json:"flags,omitempty"`
	// Revocation is, for a revocation under way, the record it writes in
	// the manifest (a kill of some surfaces included): a later apply that
	// finds it finishes the revocation with it, never refreshes.
	Revocation *manifest.Revocation `json:"revocation,omitempty"`
	// Committed marks the copy of the journal that apply writes in the same
	// all-or-nothing batch as the run's manifest (and the secrets it
	// minted): the run committed, everything it made is named by that
	// manifest, and only the journal itself is left to delete. A run
	// stopped after the batch leaves it; the next apply deletes it and
	// mints nothing (Settled).
	Committed bool `json:"committed,omitempty"`
}

// Settled reports whether the journal is the commit mark of a run that
// wrote its manifest: nothing of it is left but the journal.
func (j *Journal) Settled() bool { return j != nil && j.Committed }

// InFlight is an Untraceable step recorded just before it ran.
type InFlight struct {
	Surface string    `json:"surface"`
	Step    string    `json:"step"`
	At      time.Time `json:"at"`
	// Secret is the folder secret the step's product is written to, and
	// PrevFingerprint the fingerprint of its value before the step ("" when
	// there was none): a different value there afterwards means the product
	// reached the vault.
	Secret          string            `json:"secret,omitempty"`
	PrevFingerprint string            `json:"prev_fingerprint,omitempty"`
	IDs             map[string]string `json:"ids,omitempty"`
	// Undone says the run that took the step got its product back and
	// revoked it as it failed (its compensation): nothing of it is left
	// for anyone to revoke.
	Undone bool `json:"undone,omitempty"`
}

// JournalOpRevoke is the Operation of a revocation under way: found beside
// an active manifest, it is a revocation to finish.
const JournalOpRevoke = "revoke"

// JournalEntry is one step apply recorded.
type JournalEntry struct {
	// Step names the operation, e.g. "create-identity", "mint-token".
	Step string `json:"step"`
	// Surface is the credential surface the step acts on ("github",
	// "infisical", …); empty for steps on the vault folder itself.
	Surface string `json:"surface,omitempty"`
	// RemoteIDs are the ids known at the time of the entry (identity id,
	// client secret id, installation id, token fingerprint, …).
	RemoteIDs map[string]string `json:"remote_ids,omitempty"`
	At        time.Time         `json:"at"`
}

// ParseJournal decodes a journal. Unknown fields are accepted, so that a
// journal written by a newer apply still reads; a wrong version or a
// missing slug is an error.
func ParseJournal(b []byte) (*Journal, error) {
	var j Journal
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if j.Version != JournalVersion {
		return nil, fmt.Errorf("journal: version %d not understood (want %d)", j.Version, JournalVersion)
	}
	if j.Slug == "" {
		return nil, errors.New("journal: no slug")
	}
	return &j, nil
}

// Marshal encodes the journal as JSON, setting Version.
func (j *Journal) Marshal() ([]byte, error) {
	j.Version = JournalVersion
	if j.Entries == nil {
		j.Entries = []JournalEntry{}
	}
	if j.Steps == nil {
		j.Steps = []string{}
	}
	return json.Marshal(j)
}

// Surfaces returns the distinct non-empty surfaces of the entries, in order
// of first appearance.
func (j *Journal) Surfaces() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range j.Entries {
		if e.Surface != "" && !seen[e.Surface] {
			seen[e.Surface] = true
			out = append(out, e.Surface)
		}
	}
	return out
}
