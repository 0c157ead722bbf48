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

// Journal is apply's record of intent for one handoff: before each remote
// write, apply appends what it is about to do (and, once known, the remote
// ids it got), so that a run killed between two steps leaves a trail the
// next run follows to adopt or revoke what was made. Apply removes the
// journal once the manifest is written. It names remote ids, never a secret
// value.
//
// This is the minimal shape the planner reads; apply owns its meaning and
// may add fields (they are kept when read).
type Journal struct {
	Version int    `json:"version"`
	Slug    string `json:"slug"`
	// Operation is what the run was doing: "create", "refresh", "replace",
	// "revoke".
	Operation string `json:"operation,omitempty"`
	// RunID identifies the apply run that wrote the journal.
	RunID   string         `json:"run_id,omitempty"`
	Entries []JournalEntry `json:"entries"`
	// Revocation is, for a revocation under way, the record it writes in
	// the manifest: a manual one (`handoff revoke`, all surfaces or those
	// named) that a later apply must finish, never refresh.
	Revocation *manifest.Revocation `json:"revocation,omitempty"`
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
