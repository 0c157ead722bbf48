package state

import (
	"maps"

	"github.com/raxx-app/handoff/internal/vault"
)

// SettledJournal reports whether the folder's journal is the commit mark of
// a run that wrote its manifest (Journal.Settled): the run finished but for
// deleting the journal.
func (h *Handoff) SettledJournal() bool { return h != nil && h.Journal.Settled() }

// WithoutJournal returns a copy of h as it is once its journal is deleted:
// what the planner plans from when the journal is settled. The copy shares
// the manifest.
func (h *Handoff) WithoutJournal() *Handoff {
	c := *h
	c.JournalRaw, c.Journal, c.JournalErr = nil, nil, nil
	c.Secrets = maps.Clone(h.Secrets)
	delete(c.Secrets, JournalSecretName)
	return &c
}

// vaultLimits are v's known rate limits, by kind of request.
func vaultLimits(v Vault) map[vault.Op]vault.Limit {
	lv, ok := v.(vault.Limited)
	if !ok {
		return nil
	}
	var out map[vault.Op]vault.Limit
	for _, op := range vault.Ops {
		if l, ok := lv.RateLimit(op); ok && l.Max > 0 && l.Window > 0 {
			if out == nil {
				out = map[vault.Op]vault.Limit{}
			}
			out[op] = l
		}
	}
	return out
}
