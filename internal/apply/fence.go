package apply

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/vault"
)

// The kill switch does not take the lock (an emergency revocation never
// waits for an apply, running or dead), so an apply fences itself: before
// each remote write of a handoff's run, it checks that nobody wrote the
// handoff's manifest since the run read it or last wrote it itself. Under
// the lock only `handoff revoke` writes a manifest besides the apply, so a
// manifest written by someone else means the handoff (or some of its
// surfaces) was killed: the run stops there, mints nothing more, and undoes
// what it minted. The checks of all the handoffs a run applies at once share
// one listing of the root (names and versions, no value).

// KilledError is the error of a handoff's run that stopped because its
// manifest was written by someone else while it ran: `handoff revoke`.
type KilledError struct {
	Slug string
	// Step is the step the run did not take.
	Step string
	// Revocation is the kill found in the manifest; nil when the manifest
	// holds none (written by hand, or unreadable).
	Revocation *manifest.Revocation
}

func (e *KilledError) Error() string {
	if rv := e.Revocation; rv != nil && rv.Kind == manifest.RevokedManual {
		what := "revoked"
		if len(rv.Surfaces) > 0 {
			what = "surface " + strings.Join(rv.Surfaces, ", ") + " killed"
		}
		return fmt.Sprintf("handoff %s was %s by %s (%s) while this apply ran: stopped before %q, minting nothing more; what this run minted was revoked",
			e.Slug, what, cmp.Or(rv.By, "an operator"), rv.Reason, e.Step)
	}
	return fmt.Sprintf("the manifest of handoff %s was written by someone else while this apply ran: stopped before %q, minting nothing more; what this run minted was revoked; the next apply converges",
		e.Slug, e.Step)
}

// ErrLostUpdate is wrapped by the error of a run that wrote a handoff's
// manifest over a write made by someone else between its read and its
// write (the version it got back is not the one it read plus one).
// Infisical has no conditional update, so what was overwritten is not
// known: it may have been a tombstone, and the writer fails closed (the
// handoff is revoked whole, saying why).
var ErrLostUpdate = errors.New("the manifest was written by someone else at the same time")

// fence is the shared check of a run's handoffs: one listing of the root per
// round, each round serving every check asked before it started.
type fence struct {
	a   *applier
	ctx context.Context

	mu      sync.Mutex
	running bool
	next    *round
	// gap is the spacing of rounds once the burst is spent (roundGap);
	// tokens are the rounds that may start now, refilled one per gap up
	// to fenceBurst, as of refilled (read and written by the loop only).
	gap      time.Duration
	tokens   float64
	refilled time.Time
}

// fenceBurst is how many rounds may start at once before the spacing
// applies: a small apply (a few handoffs, a step each second or so) never
// waits for the fence (an apply of two handoffs took 6 s of spacing
// without it), and a large one settles to one round per gap. The burst
// and the first minute's spacing may reach the route's limit once; the
// pacer, which knows the limit, holds what would pass it.
const fenceBurst = 10

// round is one listing: the version of each folder's manifest (absent: 0).
type round struct {
	done     chan struct{}
	versions map[string]int
	err      error
}

func newFence(ctx context.Context, a *applier) *fence {
	return &fence{a: a, ctx: ctx, gap: roundGap(a.deps.Vault), tokens: fenceBurst}
}

// check returns a listing that started after the call.
func (f *fence) check(ctx context.Context) (*round, error) {
	f.mu.Lock()
	if f.next == nil {
		f.next = &round{done: make(chan struct{})}
	}
	r := f.next
	if !f.running {
		f.running = true
		go f.loop()
	}
	f.mu.Unlock()
	select {
	case <-r.done:
		return r, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// loop lists the root while checks wait for a round. On a vault whose
// listings are rate limited (Infisical Cloud: 40 a minute) the rounds are
// spaced to use at most three quarters of that limit, evenly: rounds as
// fast as checks come would spend a fixed window's allowance in a second
// and leave every check waiting for the next window; spaced, a check waits
// at most one spacing (two seconds), and every check that came meanwhile
// shares the round. A burst of rounds (fenceBurst) goes first, so that a
// small apply never waits.
func (f *fence) loop() {
	for {
		f.mu.Lock()
		if f.next == nil {
			f.running = false
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		f.take()
		f.mu.Lock()
		r := f.next
		f.next = nil
		f.mu.Unlock()
		r.versions, r.err = f.list()
		close(r.done)
	}
}

// take waits, when the burst is spent, for the next round's place.
func (f *fence) take() {
	if f.gap <= 0 {
		return
	}
	now := f.a.now()
	if !f.refilled.IsZero() {
		f.tokens = min(fenceBurst, f.tokens+float64(now.Sub(f.refilled))/float64(f.gap))
	}
	f.refilled = now
	if f.tokens < 1 {
		wait := time.Duration((1 - f.tokens) * float64(f.gap))
		f.a.sleep(f.ctx, nil, wait)
		f.tokens, f.refilled = 1, f.a.now()
	}
	f.tokens--
}

// roundGap is the spacing of the fence's rounds on v: a quarter of the
// list route's limit is left to the other listings (the state's reads).
func roundGap(v vault.Vault) time.Duration {
	l, ok := vault.RateLimit(v, vault.OpList)
	if !ok {
		return 0
	}
	n := max(l.Max*3/4, 1)
	return l.Window / time.Duration(n)
}

func (f *fence) list() (map[string]int, error) {
	env, root := f.a.cfg.Environment, f.a.cfg.Root
	secs, err := f.a.deps.Vault.ListSecretNames(f.ctx, env, root, true)
	if vault.IsNotFound(err) {
		return map[string]int{}, nil // no root yet: no manifest
	}
	if err != nil {
		return nil, fmt.Errorf("check the manifests under %s: %w", root, err)
	}
	out := map[string]int{}
	for _, s := range secs {
		if s.Key == manifest.SecretName {
			out[path.Clean(s.Path)] = s.Version
		}
	}
	return out, nil
}

// guard is the fence of one step: nil when the handoff's manifest is as the
// run last saw it. A kill's own run, and a run past its commit (the
// manifest written), are not fenced.
func (r *run) guard(ctx context.Context, step string) error {
	if r.kill || r.committed || r.fence == nil {
		return nil
	}
	rd, err := r.fence.check(ctx)
	if err != nil {
		return err
	}
	if rd.versions[path.Clean(r.folder)] == r.mver {
		return nil
	}
	return r.killed(ctx, step)
}

// killedUnder returns err, or the KilledError of the kill that caused it:
// a fenced run that failed checks its manifest once more.
func (r *run) killedUnder(ctx context.Context, err error) error {
	var k *KilledError
	if r.kill || r.committed || r.fence == nil || errors.As(err, &k) || errors.Is(err, ErrLostUpdate) || ctx.Err() != nil {
		return err
	}
	rd, ferr := r.fence.check(ctx)
	if ferr != nil || rd.versions[path.Clean(r.folder)] == r.mver {
		return err
	}
	step := "the step that failed"
	if i := r.pos - 1; i >= 0 && i < len(r.op.Steps) {
		step = r.op.Steps[i]
	}
	kerr := r.killed(ctx, step)
	return fmt.Errorf("%w (it failed: %v)", kerr, err)
}

// killed builds the KilledError of a run whose manifest changed, reading
// the kill it holds.
func (r *run) killed(ctx context.Context, step string) error {
	r.stoppedByKill = true
	e := &KilledError{Slug: r.slug, Step: step}
	if m, _, err := r.readManifest(ctx); err == nil && m != nil {
		e.Revocation = m.Revocation
	}
	return e
}

// readManifest reads the handoff's manifest as it is now: nil when there is
// none or it does not parse, with its version (0 when absent).
func (r *run) readManifest(ctx context.Context) (*manifest.Manifest, int, error) {
	sec, err := r.a.deps.Vault.GetSecret(ctx, r.env, r.folder, manifest.SecretName)
	if vault.IsNotFound(err) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read the manifest of %s: %w", r.slug, err)
	}
	m, perr := manifest.Parse([]byte(sec.Value))
	sec.Value = ""
	if perr != nil || m.Slug != r.slug {
		return nil, sec.Version, nil
	}
	return m, sec.Version, nil
}

// writeManifestCAS writes the built manifest m. An apply's run writes it
// right after its fence found the manifest as it last saw it (version
// r.mver), and fails with ErrLostUpdate when the version it gets back says
// someone wrote in between. A kill's run reads the manifest first: when
// someone else wrote it since this run's last read or write, it merges its
// kill into what is there (a tombstone is never weakened, kills add up,
// history is kept) rather than overwrite it; a write in between its read
// and its write is recorded in r.lost (Revoke then fails closed).
func (r *run) writeManifestCAS(ctx context.Context, m *manifest.Manifest) error {
	expect := r.mver
	if r.kill {
		cur, v, err := r.readManifest(ctx)
		if err != nil {
			return err
		}
		if v != r.mver && cur != nil {
			m = mergeKill(cur, m, r.m, r.deleted)
			r.a.progress("handoff %s: the manifest was written by another run meanwhile: this run's kill is merged into it", r.slug)
		}
		expect = v
	}
	b, err := manifest.Marshal(m)
	if err != nil {
		return err
	}
	sec, err := r.upsertOne(ctx, manifest.SecretName, string(b))
	if err != nil {
		return fmt.Errorf("write the manifest of %s: %w", r.slug, err)
	}
	r.mver, r.final = sec.Version, m
	if sec.Version == expect+1 {
		return nil
	}
	r.lost = true
	if r.kill {
		r.a.progress("handoff %s: another run wrote the manifest between this run's read and its write (version %d, expected %d): what it wrote is lost; failing closed", r.slug, sec.Version, expect+1)
		return nil
	}
	r.stoppedByKill = true
	return fmt.Errorf("handoff %s: %w (version %d, expected %d): a handoff revoke may have written a tombstone there, which this write replaced; failing closed: the handoff is revoked whole",
		r.slug, ErrLostUpdate, sec.Version, expect+1)
}

// mergeKill is what a kill's run writes when the manifest is no longer the
// one it built on (base): cur, as someone else left it, with this run's
// kill (mine) added. A tombstone (revoked by hand, not lifted) in cur stays,
// with its record; a revocation in mine makes cur revoked; kills of some
// surfaces add up; the records this run changed (a narrowed privilege)
// replace cur's; the events this run added are appended once.
func mergeKill(cur, mine, base *manifest.Manifest, deleted map[string]bool) *manifest.Manifest {
	out, err := cloneManifest(cur)
	if err != nil {
		return mine
	}
	curTomb := cur.Tombstoned()
	switch {
	case mine.Status == manifest.Revoked:
		if !curTomb {
			out.Status = manifest.Revoked
			out.Revocation = mine.Revocation
		}
		out.Secrets = slices.Clone(mine.Secrets)
	case curTomb:
		// A tombstone covers any kill of some surfaces.
	default:
		rv := *mine.Revocation
		if k := cur.KilledSurfaces(); len(k) > 0 {
			rv.Surfaces = union(k, rv.Surfaces)
		}
		out.Revocation = &rv
		for name, rec := range mine.Surfaces {
			if base == nil || string(base.Surfaces[name]) != string(rec) {
				out.Surfaces[name] = rec
			}
		}
		var keep []string
		for _, n := range out.Secrets {
			if !deleted[n] {
				keep = append(keep, n)
			}
		}
		out.Secrets = keep
		if out.Secrets == nil {
			out.Secrets = []string{}
		}
	}
	n := 0
	if base != nil {
		n = len(base.History)
	}
	if n <= len(mine.History) {
		for _, ev := range mine.History[n:] {
			if !slices.ContainsFunc(out.History, func(e manifest.Event) bool { return sameEvent(e, ev) }) {
				out.History = append(out.History, ev)
			}
		}
	}
	out.UpdatedAt = mine.UpdatedAt
	return out
}

func sameEvent(a, b manifest.Event) bool {
	return a.At.Equal(b.At) && a.Action == b.Action && a.Surface == b.Surface && a.Detail == b.Detail && a.Fingerprint == b.Fingerprint
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// foreignLease reports whether another run's lease on the lock is valid
// now (an apply is running, or crashed less than a lease ago).
func (a *applier) foreignLease(ctx context.Context) (string, bool) {
	sec, err := a.deps.Vault.GetSecret(ctx, a.cfg.Environment, a.cfg.Root, LockSecretName)
	if err != nil {
		return "", false
	}
	var l lease
	if json.Unmarshal([]byte(sec.Value), &l) != nil || l.Owner == "" {
		return "", false
	}
	return l.Owner, a.now().Before(l.ExpiresAt)
}

// upsertOne creates or updates one secret of the folder with the run's
// comment: one batch request on a vault that writes batches (an update
// needs no failed create first), else a create, then an update if it
// exists.
func (r *run) upsertOne(ctx context.Context, key, value string) (vault.Secret, error) {
	if b := r.batcher(); b != nil {
		secs, err := b.UpsertSecrets(ctx, r.env, r.folder, []vault.Entry{{Key: key, Value: value}}, r.comment())
		if err != nil {
			return vault.Secret{}, err
		}
		if len(secs) != 1 {
			return vault.Secret{}, fmt.Errorf("write %s: the vault answered with %d secrets", key, len(secs))
		}
		return secs[0], nil
	}
	return r.a.deps.Vault.UpsertSecret(ctx, r.env, r.folder, key, value, r.comment())
}
