package reconcile

import (
	"fmt"
	"strings"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// A run ends with one write of everything it commits: the secrets its
// mints returned (those of Untraceable mints first, WriteOrder) and the
// manifest, in one all-or-nothing batch when the vault can (Infisical's
// batch upsert), so that a run stopped at any point leaves either the
// state before the batch (the journal says what to revoke) or the state
// after it (the journal, marked committed in the same batch, says there is
// nothing left to do but delete it). See package apply.

// CommitNames are the secrets the run of o writes in its commit, in order:
// the secrets of its mints, then the manifest unless it writes none.
func CommitNames(reg *surface.Registry, o *plan.Operation) []string {
	names := WriteOrder(reg, o.Work)
	if o.Final != plan.FinalNone {
		names = append(names, manifest.SecretName)
	}
	return names
}

// CommitStep is the step of the commit of names ("" when none): "write
// PROVISION_MANIFEST", or "write GH_HANDOFF_TOKEN, INFISICAL_CLIENT_ID and
// PROVISION_MANIFEST" for one batch.
func CommitStep(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return "write " + andList(names)
}

// DeleteStep is the step that deletes the folder secrets names: "delete
// secret X", or "delete secrets X, Y and Z" for one batch.
func DeleteStep(names []string) string {
	if len(names) == 1 {
		return "delete secret " + names[0]
	}
	return "delete secrets " + andList(names)
}

func andList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// settle plans the deletion of a settled journal (state.Journal.Settled)
// beside a handoff that needs nothing else: its run wrote the manifest and
// stopped before deleting the journal. Nothing is minted, revoked or
// rewritten; the journal goes, in one request.
func (pl *planner) settle(ph *plan.Handoff, lh *state.Handoff) {
	j := lh.Journal
	why := fmt.Sprintf("the journal of apply run %s (%s, started %s) is marked committed: that run wrote its manifest and stopped before deleting the journal; delete it, nothing else to do",
		j.RunID, j.Operation, fmtTime(j.StartedAt))
	ph.Changes = append(ph.Changes, plan.Change{Surface: SurfaceVault, Action: plan.Refresh, Resource: "vault folder " + lh.Folder,
		Reason: why, Secrets: []string{state.JournalSecretName}})
	ph.Reason = why
	ph.Operation = &plan.Operation{Kind: plan.OpSettle, Final: plan.FinalNone, Work: []plan.Work{},
		Steps: []string{"delete " + state.JournalSecretName}}
}
