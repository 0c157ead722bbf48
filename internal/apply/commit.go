package apply

import (
	"context"
	"fmt"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/vault"
)

// The commit of a run is one step and, on a vault that writes batches
// (vault.Batcher: Infisical's batch upsert), one request: the secrets the
// mints returned, the manifest and the journal marked committed, all or
// nothing. So a run stopped anywhere leaves one of two states:
//
//   - before the batch: the journal as the run last wrote it (a mint in
//     flight recorded) and nothing of the commit: the next apply revokes
//     the leftovers as it always did, and flags a mint whose value is not
//     in the vault;
//   - after it: the manifest naming everything the run made, the secrets,
//     and the journal marked committed (state.Journal.Settled): the next
//     apply deletes the journal and does nothing else (reconcile plans
//     OpSettle), minting nothing twice.
//
// A batch sent without an answer (the process killed, the connection cut)
// is one or the other: the server applies it in one transaction or not at
// all. The batch upserts, so a name that exists (a refresh's token and
// manifest, a journal) is updated and one that does not is created; a
// create-only batch would fail whole on one existing name.

// batcher is the vault's batch writer, nil when it has none (every secret
// is then written on its own, in the same order, under the same step).
func (r *run) batcher() vault.Batcher {
	b, _ := r.a.deps.Vault.(vault.Batcher)
	return b
}

// takeSecrets collects the values the mints returned, dropping them from
// the results.
func (r *run) takeSecrets() map[string]string {
	values := map[string]string{}
	for i := range r.minted {
		for k, v := range r.minted[i].res.Secrets {
			values[k] = v
		}
		r.minted[i].res.Secrets = nil
	}
	return values
}

// commit writes what the run commits, as its plan's commit step says
// (reconcile.CommitStep): the secrets the mints returned, then the
// manifest. A kill's run writes its manifest on its own (it reads and
// merges first, and may not own the journal).
func (r *run) commit(ctx context.Context) error {
	values := r.takeSecrets()
	defer clear(values)
	names := reconcile.CommitNames(r.a.deps.Registry, r.op)
	if len(names) == 0 {
		return nil
	}
	step := reconcile.CommitStep(names)
	var written []string
	for _, n := range names {
		if _, ok := values[n]; ok {
			written = append(written, n)
		}
	}
	withManifest := r.op.Final != plan.FinalNone
	b := r.batcher()
	if r.kill || b == nil {
		return r.commitEach(ctx, step, written, values, withManifest)
	}
	entries := make([]vault.Entry, 0, len(written)+2)
	for _, n := range written {
		entries = append(entries, vault.Entry{Key: n, Value: values[n]})
	}
	defer clear(entries)
	// The manifest names what the batch writes.
	before, sent := len(r.written), false
	r.written = append(r.written, written...)
	defer func() {
		if !sent {
			r.written = r.written[:before]
		}
	}()
	var m *manifest.Manifest
	var mb []byte
	if withManifest {
		var err error
		if m, err = r.buildManifest(); err != nil {
			return err
		}
		if mb, err = manifest.Marshal(m); err != nil {
			return err
		}
		entries = append(entries, vault.Entry{Key: manifest.SecretName, Value: string(mb)})
	}
	mark := r.journal != nil && r.journalKept == ""
	if mark {
		j := *r.journal
		j.Committed = true
		entries = append(entries, vault.Entry{Key: state.JournalSecretName, Value: marshalJournal(&j)})
	}
	if err := r.step(ctx, step); err != nil {
		return err
	}
	secs, err := b.UpsertSecrets(ctx, r.env, r.folder, entries, r.comment())
	if err != nil {
		return fmt.Errorf("write %s in %s: %w", andNames(entryKeys(entries)), r.folder, err)
	}
	sent = true
	if !withManifest {
		return nil
	}
	var mver, jver int
	for _, s := range secs {
		switch s.Key {
		case manifest.SecretName:
			mver = s.Version
		case state.JournalSecretName:
			jver = s.Version
		}
	}
	expect := r.mver
	r.mver, r.final = mver, m
	switch {
	case mver == expect+1:
		return nil
	case mark && r.jver > 0 && mver > expect+1 && jver-r.jver == mver-expect:
		// The client repeated the batch after an answer it did not get
		// (a 5xx, a dropped connection) and the server had applied it:
		// the journal, which no other run writes while this one holds
		// the lock, moved by as many versions as the manifest. Nobody
		// wrote in between.
		r.a.progress("handoff %s: the commit was applied %d times (an answer was lost and the request repeated); no other write came in between", r.slug, mver-expect)
		return nil
	}
	r.lost = true
	r.stoppedByKill = true
	return fmt.Errorf("handoff %s: %w (version %d, expected %d): a handoff revoke may have written a tombstone there, which this write replaced; failing closed: the handoff is revoked whole",
		r.slug, ErrLostUpdate, mver, expect+1)
}

// commitEach is the commit without a batch, and a kill's: each secret on
// its own, then the manifest (read and merged first by a kill). The step
// is announced once, before the first write.
func (r *run) commitEach(ctx context.Context, step string, written []string, values map[string]string, withManifest bool) error {
	if err := r.step(ctx, step); err != nil {
		return err
	}
	for _, n := range written {
		if _, err := r.a.deps.Vault.UpsertSecret(ctx, r.env, r.folder, n, values[n], r.comment()); err != nil {
			return fmt.Errorf("write %s/%s: %w", r.folder, n, err)
		}
		r.written = append(r.written, n)
	}
	if !withManifest {
		return nil
	}
	m, err := r.buildManifest()
	if err != nil {
		return err
	}
	if _, err := manifest.Marshal(m); err != nil {
		return err
	}
	return r.writeManifestCAS(ctx, m)
}

// writeJournalSecret writes the journal's first version of this run: a
// create when the folder has none (one request), an upsert over the
// journal of an earlier run (one batch request when the vault can).
func (r *run) writeJournalSecret(ctx context.Context, value string) (vault.Secret, error) {
	v := r.a.deps.Vault
	if r.lh == nil || !r.lh.HasJournal() {
		sec, err := v.CreateSecret(ctx, r.env, r.folder, state.JournalSecretName, value, r.comment())
		if !vault.IsAlreadyExists(err) {
			return sec, err
		}
	}
	return r.upsertOne(ctx, state.JournalSecretName, value)
}

// deleteSecrets deletes the folder secrets the plan lists, in one step and,
// on a vault that can, one request.
func (r *run) deleteSecrets(ctx context.Context) error {
	names := r.op.Deletes
	if len(names) == 0 {
		return nil
	}
	if err := r.step(ctx, reconcile.DeleteStep(names)); err != nil {
		return err
	}
	if b := r.batcher(); b != nil && len(names) > 1 {
		if err := b.DeleteSecrets(ctx, r.env, r.folder, names); err != nil {
			return fmt.Errorf("delete %s from %s: %w", andNames(names), r.folder, err)
		}
	} else {
		for _, name := range names {
			if err := r.a.deps.Vault.DeleteSecret(ctx, r.env, r.folder, name); err != nil {
				return fmt.Errorf("delete %s/%s: %w", r.folder, name, err)
			}
		}
	}
	for _, name := range names {
		r.deleted[name] = true
		if name == manifest.SecretName {
			r.mver = 0 // a corrupt manifest, deleted by this run
		}
	}
	return nil
}

func entryKeys(es []vault.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Key
	}
	return out
}

func andNames(names []string) string {
	switch len(names) {
	case 0:
		return "nothing"
	case 1:
		return names[0]
	}
	out := ""
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			out += " and "
		default:
			out += ", "
		}
		out += n
	}
	return out
}
