package apply

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/state"
)

// flagPrefix starts the history detail and report line of an unrevocable
// credential.
const flagPrefix = "unrevocable: "

var expiresByRE = regexp.MustCompile(`expires by (\S+)\s*$`)

// flagFor describes a mint that was in flight when a run stopped and whose
// product never reached the vault. The surface named the credential and
// why nobody can revoke it in the step's ids ("credential",
// "unrevocable").
func flagFor(slug string, f state.InFlight, runID string) string {
	what := f.IDs["credential"]
	if what == "" {
		what = f.Surface + " credential"
	}
	why := f.IDs["unrevocable"]
	if why == "" {
		why = "its vendor revokes it only with the credential itself"
	}
	reach := " (surface " + f.Surface + ")"
	if r := f.IDs["reach"]; r != "" {
		reach += " " + r
	}
	by := f.IDs["expires_by"]
	if by == "" {
		by = f.At.Add(time.Hour).UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%shandoff %s: a %s mint%s was in flight at %s when apply run %s stopped, and its value never reached the vault; if it was minted, nobody can revoke it (%s): it is narrowed to the spec's grant, and expires by %s",
		flagPrefix, slug, what, reach, f.At.UTC().Format(time.RFC3339), runID, why, by)
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
			// A settled journal's mints reached the vault with its
			// manifest, and its flags are in the manifest's history.
			if j := h.Journal; j != nil && !j.Settled() {
				for _, f := range j.InFlight {
					if f.Undone {
						continue
					}
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

// flagSurface is the surface a flag's text names ("" when unknown).
func flagSurface(flag string) string {
	if m := flagSurfaceRE.FindStringSubmatch(flag); m != nil {
		return m[1]
	}
	return ""
}

var flagSurfaceRE = regexp.MustCompile(`\(surface ([a-z_]+)\)`)
