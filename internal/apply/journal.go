package apply

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/state"
)

// Journal is the value of PROVISION_JOURNAL: apply's record of an operation
// under way on one handoff. It extends the shape package state reads
// (version, slug, operation, run_id, entries: one entry per surface the
// operation touches) with what recovery needs. It names remote ids, never a
// secret value.
type Journal struct {
	Version   int    `json:"version"`
	Slug      string `json:"slug"`
	Operation string `json:"operation"`
	RunID     string `json:"run_id"`
	// Owner is the lock owner of the run.
	Owner     string    `json:"owner,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// IdentityName is the deterministic name of the identity the operation
	// creates, if any.
	IdentityName string `json:"identity_name,omitempty"`
	// Steps are the remote writes the operation intends, in order.
	Steps   []string             `json:"steps"`
	Entries []state.JournalEntry `json:"entries"`
	// InFlight lists the Untraceable steps that were about to run, recorded
	// just before each.
	InFlight []InFlight `json:"in_flight,omitempty"`
	// Flags carries the findings of recovery (an unrevocable token) while a
	// run that found them is itself under way.
	Flags []string `json:"flags,omitempty"`
	// Revocation is the record a revocation under way writes in the
	// manifest (a kill of some surfaces included): a later apply that finds
	// it finishes the revocation with it instead of refreshing what was
	// being revoked.
	Revocation *manifest.Revocation `json:"revocation,omitempty"`
}

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
}

// ParseJournal reads a journal apply wrote.
func ParseJournal(b []byte) (*Journal, error) {
	var j Journal
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if j.Version != state.JournalVersion || j.Slug == "" {
		return nil, fmt.Errorf("journal: version %d, slug %q: not a journal of this build", j.Version, j.Slug)
	}
	return &j, nil
}

func (j *Journal) marshal() string {
	j.Version = state.JournalVersion
	if j.Steps == nil {
		j.Steps = []string{}
	}
	if j.Entries == nil {
		j.Entries = []state.JournalEntry{}
	}
	b, err := json.Marshal(j)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// flagPrefix starts the history detail and report line of an unrevocable
// credential.
const flagPrefix = "unrevocable: "

var expiresByRE = regexp.MustCompile(`expires by (\S+)\s*$`)

// flagFor describes a mint that was in flight when a run stopped and whose
// product never reached the vault.
func flagFor(slug string, f InFlight, runID string) string {
	what := f.Surface + " credential"
	if f.Surface == "github" {
		what = "GitHub installation token"
	}
	reach := ""
	if repo := f.IDs["repository"]; repo != "" {
		reach = fmt.Sprintf(" for %s", repo)
		if inst := f.IDs["installation_id"]; inst != "" {
			reach += fmt.Sprintf(" (installation %s)", inst)
		}
	}
	by := f.IDs["expires_by"]
	if by == "" {
		by = f.At.Add(time.Hour).UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%shandoff %s: a %s mint%s was in flight at %s when apply run %s stopped, and its value never reached the vault; if it was minted, nobody can revoke it (GitHub revokes a token only with the token itself): it is narrowed to that one repository and the spec's permissions, and expires by %s",
		flagPrefix, slug, what, reach, f.At.UTC().Format(time.RFC3339), runID, by)
}

// Flag is a credential that may be live although no manifest can revoke it:
// the documented window of a mint killed before its value reached the
// vault.
type Flag struct {
	Slug string
	// Confirmed is false for a journal not yet recovered (the mint may not
	// have happened, or its value may be in the vault): a possible window.
	Confirmed bool
	ExpiresBy time.Time
	Message   string
}

// PendingMints returns the windows verify must report at now: the
// Untraceable steps in flight in journals no apply has recovered yet, and
// those a recovery confirmed (history events of manifests), while they may
// still be live.
func PendingMints(live *state.Live, now time.Time) []Flag {
	var out []Flag
	for _, slug := range live.Slugs() {
		h := live.Handoffs[slug]
		if h.JournalRaw != nil {
			if j, err := ParseJournal(h.JournalRaw); err == nil {
				for _, f := range j.InFlight {
					by := f.At.Add(time.Hour)
					if t, err := time.Parse(time.RFC3339, f.IDs["expires_by"]); err == nil {
						by = t
					}
					if now.Before(by) {
						out = append(out, Flag{Slug: slug, ExpiresBy: by,
							Message: "possible " + strings.TrimPrefix(flagFor(slug, f, j.RunID), flagPrefix) + " (not yet recovered: run handoff apply)"})
					}
				}
				for _, msg := range j.Flags {
					if by, ok := flagExpiry(msg); ok && now.Before(by) {
						out = append(out, Flag{Slug: slug, Confirmed: true, ExpiresBy: by, Message: msg})
					}
				}
			}
		}
		if m := h.Manifest; m != nil {
			for _, ev := range m.History {
				if ev.Action != manifest.EventAdopt || !strings.HasPrefix(ev.Detail, flagPrefix) {
					continue
				}
				if by, ok := flagExpiry(ev.Detail); ok && now.Before(by) {
					out = append(out, Flag{Slug: slug, Confirmed: true, ExpiresBy: by, Message: ev.Detail})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Slug < out[j].Slug })
	return out
}

func flagExpiry(msg string) (time.Time, bool) {
	m := expiresByRE.FindStringSubmatch(msg)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, m[1])
	return t, err == nil
}
