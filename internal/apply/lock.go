package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/vault"
)

// LockSecretName is the lease secret in the handoff root. Package state
// skips it when it reads the live state (state.Live.Locked).
const LockSecretName = state.LockSecretName

// lease is the value of the lock secret. It names no secret.
type lease struct {
	Owner      string    `json:"owner"`
	AcquiredAt time.Time `json:"acquired_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// LockedError is the refusal of an apply while another holds the lock.
type LockedError struct {
	Owner string
	Until time.Time
	Path  string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("apply: another apply holds the lock: owner %s, until %s (lease %s); wait for it to finish, or retry with a lock timeout",
		e.Owner, e.Until.UTC().Format(time.RFC3339), e.Path)
}

// heldLock is the lease this run holds.
type heldLock struct {
	a  *applier
	mu sync.Mutex
	// version is the secret version of our last write of the lease.
	version int
	lease   lease
	// until is the expiry (UnixNano) of the lease as last written with
	// success: the run stops acting leaseMargin before it.
	until atomic.Int64
	// lastErr is the last renewal's failure, for the reason of a lapse.
	lastErr atomic.Pointer[string]
	// lost is set once another run wrote the lease: it is not ours to
	// delete any more (our renewal may even have overwritten theirs, in
	// which case both runs stop and the lease expires by itself).
	lost atomic.Bool
}

func newHeldLock(a *applier, version int, l lease) *heldLock {
	h := &heldLock{a: a, version: version, lease: l}
	h.until.Store(l.ExpiresAt.UnixNano())
	return h
}

// leaseMargin is how long before its lease's expiry a holder stops acting:
// TTL/6, at least 1 s (clock skew between two runs, a request in transit),
// but at most TTL/3 so that a short lease (in tests) still leaves time to
// renew it.
func leaseMargin(ttl time.Duration) time.Duration {
	return min(max(ttl/6, time.Second), ttl/3)
}

// expiry is the expiry of the lease as last written with success.
func (l *heldLock) expiry() time.Time { return time.Unix(0, l.until.Load()).UTC() }

// left is how long this run may still act under its lease, by the run's
// clock: zero or less once the lease has lapsed (it expires within the
// margin, and another apply may take it over at its expiry).
func (l *heldLock) left() time.Duration {
	return l.expiry().Sub(l.a.now()) - leaseMargin(l.a.deps.Lock.TTL)
}

// errLapsed is renewOnce's refusal to renew a lease that has lapsed.
var errLapsed = errors.New("the lease has lapsed")

// lapseError is the cause with which a run whose lease lapsed stops.
func (l *heldLock) lapseError() error {
	last := ""
	if e := l.lastErr.Load(); e != nil {
		last = "; last renewal: " + *e
	}
	return fmt.Errorf("%w: could not renew %s before it expired (lease until %s%s); stopping; the next apply converges from the journals",
		errLockLost, l.path(), l.expiry().Format(time.RFC3339), last)
}

func (l *heldLock) path() string { return path.Join(l.a.cfg.Root, LockSecretName) }

func (a *applier) newLease() lease {
	now := a.now().UTC()
	return lease{Owner: a.deps.Lock.Owner, AcquiredAt: now, ExpiresAt: now.Add(a.deps.Lock.TTL)}
}

// acquire takes the lease: an atomic create, or the takeover of an expired
// lease by an update whose resulting version must be the one read plus one.
// It waits for another holder up to LockOptions.Wait.
func (a *applier) acquire(ctx context.Context) (*heldLock, error) {
	// The lease's requests are urgent (they go ahead of the handoffs'
	// queued ones): taking it tells a paced vault which routes to keep
	// room on for its renewals.
	ctx = vault.Urgent(ctx)
	inf := a.deps.Vault
	env, root := a.cfg.Environment, a.cfg.Root
	lockPath := path.Join(root, LockSecretName)
	deadline := time.Now().Add(a.deps.Lock.Wait)
	waiting := false
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mine := a.newLease()
		sec, err := inf.CreateSecret(ctx, env, root, LockSecretName, mustJSON(mine), "")
		if vault.IsNotFound(err) && attempt == 0 {
			// A fresh project: the root does not exist yet.
			if err := inf.EnsureFolder(ctx, env, root); err != nil {
				return nil, fmt.Errorf("apply: create the handoff root %s for the lock: %w", root, err)
			}
			continue
		}
		if err == nil {
			a.progress("lock: acquired %s (owner %s, until %s)", lockPath, mine.Owner, mine.ExpiresAt.Format(time.RFC3339))
			return newHeldLock(a, sec.Version, mine), nil
		}
		if !vault.IsAlreadyExists(err) {
			return nil, fmt.Errorf("apply: take the lock %s: %w", lockPath, err)
		}
		cur, err := inf.GetSecret(ctx, env, root, LockSecretName)
		if vault.IsNotFound(err) {
			continue // released meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("apply: read the lock %s: %w", lockPath, err)
		}
		var other lease
		valid := json.Unmarshal([]byte(cur.Value), &other) == nil && other.Owner != ""
		now := a.now()
		if valid && now.Before(other.ExpiresAt) {
			if time.Now().After(deadline) {
				return nil, &LockedError{Owner: other.Owner, Until: other.ExpiresAt, Path: lockPath}
			}
			if !waiting {
				a.progress("lock: waiting for the apply of %s (lease until %s)", other.Owner, other.ExpiresAt.UTC().Format(time.RFC3339))
				waiting = true
			}
			t := time.NewTimer(min(a.deps.Lock.Poll, time.Until(deadline)+time.Millisecond))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
			continue
		}
		// Expired (a crashed run) or unreadable: take it over, unless
		// someone else writes it between our read and our write.
		upd, err := inf.UpdateSecret(ctx, env, root, LockSecretName, mustJSON(mine))
		if vault.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("apply: take over the expired lock %s: %w", lockPath, err)
		}
		if upd.Version != cur.Version+1 {
			continue // another apply wrote it meanwhile: look again
		}
		if valid {
			a.progress("lock: took over %s from %s, whose lease expired at %s", lockPath, other.Owner, other.ExpiresAt.UTC().Format(time.RFC3339))
		} else {
			a.progress("lock: took over %s, which held no valid lease", lockPath)
		}
		return newHeldLock(a, upd.Version, mine), nil
	}
}

// renew keeps the lease alive every TTL/4 (every TTL/12 after a failed
// renewal) until the returned stop is called. It cancels the run, with the
// reason as the cause, when the lease turns out not to be ours any more,
// or when it could not be renewed and the run's clock reaches its expiry
// minus leaseMargin: from its expiry on, another apply may take it over,
// and this run must have stopped by then. In-flight handoffs stop at their
// next step; the next apply converges from their journals.
func (l *heldLock) renew(ctx context.Context, cancel context.CancelCauseFunc) (stop func()) {
	ttl := l.a.deps.Lock.TTL
	done := make(chan struct{})
	var halting sync.Once
	halt := func(err error) {
		halting.Do(func() {
			l.a.progress("lock: %v", err)
			cancel(err)
		})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	// The renewer.
	go func() {
		defer wg.Done()
		every, retry := ttl/4, max(ttl/12, time.Millisecond)
		wait := every
		for {
			if !l.a.sleep(ctx, done, wait) {
				return
			}
			if l.a.crashed.Load() {
				return
			}
			err := l.renewOnce(ctx)
			switch {
			case err == nil:
				wait = every
			case errors.Is(err, errLapsed):
				halt(l.lapseError())
				return
			case errors.Is(err, errLockLost):
				l.lost.Store(true)
				halt(err)
				return
			case ctx.Err() != nil:
				return // the run is over or stopping
			default:
				msg := err.Error()
				l.lastErr.Store(&msg)
				l.a.progress("lock: renewal failed (%v); retrying until the lease lapses at %s",
					err, l.expiry().Add(-leaseMargin(ttl)).Format(time.RFC3339))
				wait = retry
			}
		}
	}()
	// The watchdog: the lease lapses at a time, whatever the renewals do
	// (one may be stuck in retries).
	go func() {
		defer wg.Done()
		poll := max(ttl/12, time.Millisecond)
		for {
			left := l.left()
			if left <= 0 {
				if !l.a.crashed.Load() {
					halt(l.lapseError())
				}
				return
			}
			if !l.a.sleep(ctx, done, min(left, poll)) {
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

// sleep waits d and reports true, or false as soon as done is closed or
// ctx ends.
func sleep(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return false
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

var errLockLost = errors.New("apply: lost the lock")

func (l *heldLock) renewOnce(ctx context.Context) error {
	// Urgent: a renewal queued behind the handoffs' writes for a route's
	// window would let the lease lapse under load.
	ctx = vault.Urgent(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left() <= 0 {
		return errLapsed // too late: it may be another apply's by now
	}
	inf := l.a.deps.Vault
	env, root := l.a.cfg.Environment, l.a.cfg.Root
	cur, err := inf.GetSecret(ctx, env, root, LockSecretName)
	if vault.IsNotFound(err) {
		return fmt.Errorf("%w: %s was deleted; stopping; the next apply converges from the journals", errLockLost, l.path())
	}
	if err != nil {
		return err
	}
	var got lease
	if json.Unmarshal([]byte(cur.Value), &got) != nil || got.Owner != l.lease.Owner || cur.Version != l.version {
		return fmt.Errorf("%w: %s now belongs to %s; stopping; the next apply converges from the journals", errLockLost, l.path(), got.Owner)
	}
	n := l.lease
	n.ExpiresAt = l.a.now().UTC().Add(l.a.deps.Lock.TTL)
	upd, err := inf.UpdateSecret(ctx, env, root, LockSecretName, mustJSON(n))
	if err != nil {
		return err
	}
	if upd.Version != l.version+1 {
		return fmt.Errorf("%w: %s was written by another apply; stopping; the next apply converges from the journals", errLockLost, l.path())
	}
	l.version, l.lease = upd.Version, n
	l.until.Store(n.ExpiresAt.UnixNano())
	return nil
}

// release deletes the lease if it is still ours, and only while it is
// valid. Infisical has no conditional delete, so a read then a delete could
// delete the lease of another apply that took ours over in between; but
// nobody takes over a lease before its expiry, so the delete is sent only
// while this run's lease has more than leaseMargin left (checked before
// and after the read, and the requests are bounded by that time), after a
// read that finds our owner and the version of our last write. A lease that
// has lapsed, or that another run wrote, is left alone: it expires by
// itself.
func (l *heldLock) release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost.Load() {
		return nil
	}
	left := l.left()
	if left <= 0 {
		l.a.progress("lock: left %s as it is: this run's lease lapsed (until %s), another apply may hold it by now; it expires by itself", l.path(), l.expiry().Format(time.RFC3339))
		return nil
	}
	ctx, cancel := context.WithTimeout(vault.Urgent(ctx), min(30*time.Second, left))
	defer cancel()
	inf := l.a.deps.Vault
	env, root := l.a.cfg.Environment, l.a.cfg.Root
	cur, err := inf.GetSecret(ctx, env, root, LockSecretName)
	if vault.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var got lease
	if json.Unmarshal([]byte(cur.Value), &got) != nil || got.Owner != l.lease.Owner || cur.Version != l.version {
		l.a.progress("lock: left %s as it is: it is no longer the lease this run wrote (owner %s, version %d, ours %d)", l.path(), got.Owner, cur.Version, l.version)
		return nil
	}
	if l.left() <= 0 {
		l.a.progress("lock: left %s as it is: this run's lease lapsed (until %s) while it was read; it expires by itself", l.path(), l.expiry().Format(time.RFC3339))
		return nil
	}
	if err := inf.DeleteSecret(ctx, env, root, LockSecretName); err != nil {
		return err
	}
	l.a.progress("lock: released %s", l.path())
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
