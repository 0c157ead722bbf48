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

	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/state"
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
	// lost is set once another run wrote the lease: it is not ours to
	// delete any more (our renewal may even have overwritten theirs, in
	// which case both runs stop and the lease expires by itself).
	lost atomic.Bool
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
	inf := a.deps.Infisical
	env, root := a.cfg.Environment, a.cfg.Root
	lockPath := path.Join(root, LockSecretName)
	deadline := time.Now().Add(a.deps.Lock.Wait)
	waiting := false
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mine := a.newLease()
		sec, err := inf.CreateSecret(ctx, env, root, LockSecretName, mustJSON(mine))
		if infisical.IsNotFound(err) && attempt == 0 {
			// A fresh project: the root does not exist yet.
			if err := inf.EnsureFolder(ctx, env, root); err != nil {
				return nil, fmt.Errorf("apply: create the handoff root %s for the lock: %w", root, err)
			}
			continue
		}
		if err == nil {
			a.progress("lock: acquired %s (owner %s, until %s)", lockPath, mine.Owner, mine.ExpiresAt.Format(time.RFC3339))
			return &heldLock{a: a, version: sec.Version, lease: mine}, nil
		}
		if !infisical.IsAlreadyExists(err) {
			return nil, fmt.Errorf("apply: take the lock %s: %w", lockPath, err)
		}
		cur, err := inf.GetSecret(ctx, env, root, LockSecretName)
		if infisical.IsNotFound(err) {
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
		if infisical.IsNotFound(err) {
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
		return &heldLock{a: a, version: upd.Version, lease: mine}, nil
	}
}

// renew keeps the lease alive every TTL/3 until the returned stop is
// called. When the lease turns out not to be ours any more, it cancels the
// run with the reason.
func (l *heldLock) renew(ctx context.Context, cancel context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(l.a.deps.Lock.TTL / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if l.a.crashed.Load() {
				return
			}
			if err := l.renewOnce(ctx); err != nil {
				if errors.Is(err, errLockLost) {
					l.lost.Store(true)
					l.a.progress("lock: %v: stopping", err)
					cancel(err)
					return
				}
				l.a.progress("lock: renewal failed (%v); retrying", err)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

var errLockLost = errors.New("apply: lost the lock")

func (l *heldLock) renewOnce(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	inf := l.a.deps.Infisical
	env, root := l.a.cfg.Environment, l.a.cfg.Root
	cur, err := inf.GetSecret(ctx, env, root, LockSecretName)
	if infisical.IsNotFound(err) {
		return fmt.Errorf("%w: %s was deleted", errLockLost, l.path())
	}
	if err != nil {
		return err
	}
	var got lease
	if json.Unmarshal([]byte(cur.Value), &got) != nil || got.Owner != l.lease.Owner || cur.Version != l.version {
		return fmt.Errorf("%w: %s now belongs to %s", errLockLost, l.path(), got.Owner)
	}
	n := l.lease
	n.ExpiresAt = l.a.now().UTC().Add(l.a.deps.Lock.TTL)
	upd, err := inf.UpdateSecret(ctx, env, root, LockSecretName, mustJSON(n))
	if err != nil {
		return err
	}
	if upd.Version != l.version+1 {
		return fmt.Errorf("%w: %s was written by another apply", errLockLost, l.path())
	}
	l.version, l.lease = upd.Version, n
	return nil
}

// release deletes the lease if it is still ours.
func (l *heldLock) release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	inf := l.a.deps.Infisical
	env, root := l.a.cfg.Environment, l.a.cfg.Root
	cur, err := inf.GetSecret(ctx, env, root, LockSecretName)
	if infisical.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var got lease
	if json.Unmarshal([]byte(cur.Value), &got) != nil || got.Owner != l.lease.Owner {
		return nil // not ours any more: leave it
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
