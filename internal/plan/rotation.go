package plan

import (
	"slices"

	"github.com/raxx-app/handoff/internal/rotation"
)

// Rotation is the plan of the rotation service's subscription document
// (handoff.hcl's rotation block): where it is, what is there now, and
// whether apply writes it. Nil when enrollment is off.
type Rotation struct {
	// Environment, Folder and Secret locate the document in the vault.
	Environment string `json:"environment"`
	Folder      string `json:"folder"`
	Secret      string `json:"secret"`
	// Live says what the secret holds now: missing, valid, invalid,
	// foreign (another repository's, or a later build's) or unread.
	// Apply writes only a missing or valid one.
	Live string `json:"live"`
	// Write says apply writes the document: it is missing, or differs
	// from what the manifests say once the plan is applied.
	Write bool `json:"write"`
	// Entries counts the document's entries once the plan is applied.
	Entries int `json:"entries"`
	// Reason says in a sentence why it is written, or why not.
	Reason string `json:"reason,omitempty"`
	// Repair is how the live document differs from what the manifests say
	// now (edited by hand, or left stale by an apply that stopped before
	// writing it): the write repairs it. Nil when it does not differ.
	Repair *RotationChange `json:"repair,omitempty"`
}

// RotationChange is a change of the document's entries.
type RotationChange struct {
	// Add are the entries the document gains, Remove those it loses; an
	// entry that changes is in both.
	Add    []rotation.Entry `json:"add,omitempty"`
	Remove []rotation.Entry `json:"remove,omitempty"`
}

// rotationWrites reports whether applying p writes the document.
func (p *Plan) rotationWrites() bool { return p.Rotation != nil && p.Rotation.Write }

func cloneRotationChange(c *RotationChange) *RotationChange {
	if c == nil {
		return nil
	}
	return &RotationChange{Add: cloneEntries(c.Add), Remove: cloneEntries(c.Remove)}
}

func cloneEntries(es []rotation.Entry) []rotation.Entry {
	if es == nil {
		return nil
	}
	out := slices.Clone(es)
	for i := range out {
		out[i].Capabilities = slices.Clone(out[i].Capabilities)
		out[i].AutoRevokeAfter = out[i].AutoRevokeAfter.UTC()
	}
	return out
}

// canonicalRotation is p's Rotation in the form its JSON is written in.
func canonicalRotation(r *Rotation) *Rotation {
	if r == nil {
		return nil
	}
	c := *r
	c.Repair = cloneRotationChange(r.Repair)
	return &c
}
