package apply

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/vault"
)

// DefaultParallelism is how many handoffs are applied at once: each runs its
// steps in order, and at most this many requests are in flight (GitHub's
// secondary limit is 100 concurrent requests). Under the vendors' rate
// limits most of them wait for the pacer, so this many is enough to keep
// the scarcest limit busy (Infisical Cloud's 30 identities a minute: a
// handoff's other steps take far less than the two seconds between two
// identities), and few enough that the lease's renewal never waits behind
// more than one window of requests on a route (see DefaultLockTTL).
const DefaultParallelism = 16

// DefaultLockTTL is the default life of the apply lease. A renewal (a read
// and an update of the lease) goes through the same pacer as the handoffs'
// requests, and may wait behind them for a route's window (Infisical
// Cloud's secrets routes: 40 a minute each, with up to Parallelism
// requests queued before it), about a minute for each of its two
// requests: the lease is renewed every TTL/4 and lapses TTL/6 before its
// expiry, which leaves a renewal almost three minutes. A crashed run's
// lease blocks the next apply for at most this long (a scheduled run
// comes 15 minutes later).
const DefaultLockTTL = 5 * time.Minute

// ErrDeadline is the error of a handoff the run did not start because its
// deadline (Deps.Deadline) had passed; the next apply does it.
var ErrDeadline = errors.New("not started: the run's deadline passed; the next apply does it")

// ErrCrash, returned (or wrapped) by a FailPoint, simulates the process
// being killed at that step: Apply returns at once, sending nothing more: no
// compensation, no journal cleanup, and the lock is left to expire.
var ErrCrash = errors.New("apply: simulated crash")

// ErrStalePlan is the error (wrapped, with the reason) of a plan that no
// longer matches the live state or the specs: plan again.
var ErrStalePlan = errors.New("stale plan")

// Config locates the handoffs' folders. Empty fields take the values of
// handoff.hcl (Deps.Repo), else the plan's; a plan for another root or
// environment is refused.
type Config struct {
	// Root is the handoff root (handoff.hcl's infisical.handoff_root).
	Root string
	// Environment is the vault environment of the handoff folders.
	Environment string
}

// LockOptions tune the apply lock.
type LockOptions struct {
	// Owner names this run in the lease; default host:pid:random.
	Owner string
	// Wait is how long to wait for another apply's lease to end; zero fails
	// at once.
	Wait time.Duration
	// TTL is the life of the lease, renewed every TTL/4 while the run lasts
	// (default DefaultLockTTL). A crashed run's lease is taken over once
	// expired.
	TTL time.Duration
	// Poll is the interval between attempts while waiting (default 1 s).
	Poll time.Duration
}

// Step identifies one remote write, as announced on Progress and passed to
// a FailPoint.
type Step struct {
	Slug string
	// Op is the handoff's operation: create, refresh, update, replace,
	// revoke or recover.
	Op string
	// Index counts from 1 to Total.
	Index, Total int
	Name         string
}

func (s Step) String() string {
	return fmt.Sprintf("step %d/%d: %s (%s)", s.Index, s.Total, s.Name, s.Slug)
}

// Deps are what Apply works with.
type Deps struct {
	// Vault holds the handoffs' folders and the lock. Required.
	Vault vault.Vault
	// Readers are the surfaces whose live state is read with the vault's
	// (those whose vendor is configured).
	Readers []state.LiveReader
	// Registry holds the surfaces this build provisions, with their
	// clients (surfaces.New).
	Registry *surface.Registry
	// Repo holds the specs the plan was made from: required to create or
	// refresh (a plan made only of revocations needs none).
	Repo   *spec.Repo
	Config Config
	// Now is the clock of timestamps, expiries and leases (time.Now when
	// nil).
	Now func() time.Time
	// Progress receives the numbered steps (stderr); nil discards them. It
	// never receives a secret value.
	Progress io.Writer
	// FailPoint, when set, is called before each remote write; an error
	// stops the handoff's run there (compensated), or the whole run as a
	// crash when it wraps ErrCrash. For tests.
	FailPoint func(Step) error
	// Executed, when set, is called with each step a handoff's run
	// announces, in order (tests compare them with the plan's steps).
	Executed func(slug, step string)
	Lock     LockOptions
	// Parallelism bounds the handoffs applied at once (DefaultParallelism).
	Parallelism int
	// Sleep waits d on the clock of Now, or until ctx ends (then it returns
	// ctx's error): the spacing of the fence's listings and the lease's
	// renewals. Timers of the wall clock when nil; a test on a virtual
	// clock gives the clock's.
	Sleep func(ctx context.Context, d time.Duration) error
	// Deadline, when set (on the clock of Now), is when the run stops
	// starting handoffs: those not started by then are reported with
	// ErrDeadline and left to the next apply, which converges; those under
	// way finish. A bound on each wait for a vendor's limit is the
	// pacer's (pace.Config.Deadline), which the CLI sets a little later
	// from the same flag, so that a handoff under way is not stopped
	// half-way by a long wait.
	Deadline time.Time
	// Done, when set, is called as each handoff's run ends (from several
	// goroutines at once): the CLI's progress line.
	Done func(HandoffReport)
	// Replan, when set, makes Apply plan again instead of refusing a plan
	// that went stale while it waited for the lock (handoff apply without
	// a plan file: another apply ran meanwhile). It is called under the
	// lock with the live state read there, and returns the plan to apply
	// in place of the stale one. ApplySaved never replans: a saved plan is
	// applied exactly, or refused.
	Replan func(ctx context.Context, live *state.Live) (*plan.Plan, error)
	// Confirm, when set, is shown a plan made by Replan before it is
	// applied (the CLI prints it and, on a terminal without -auto-approve,
	// asks again); an error stops the apply before any write. A plan with
	// no changes is shown too, and nothing is applied.
	Confirm func(*plan.Plan) error
}

// Report says what a run did.
type Report struct {
	// Handoffs has one entry per handoff the plan changes, by slug.
	Handoffs []HandoffReport
	// Flags are findings an operator must know: a credential minted by a
	// crashed run that nobody can revoke (see the package comment).
	Flags []string
	// Writes counts the remote writes made (announced steps).
	Writes int
	// Replanned is the plan applied in place of a stale one (Deps.Replan);
	// nil when the plan given was applied.
	Replanned *plan.Plan
	// Rotation says what became of the rotation document; nil when
	// enrollment is off or the run did not reach it.
	Rotation *RotationReport
}

// HandoffReport is the outcome for one handoff.
type HandoffReport struct {
	Slug string
	// Op is what was done: create, refresh, update, revoke or recover.
	Op     string
	Action plan.Action
	// Steps counts the remote writes made.
	Steps int
	// Planned are the steps the plan listed for the handoff (its
	// Operation), which the run announces in order.
	Planned []string
	Flags   []string
	// Err is nil when the handoff converged.
	Err error
}

// Failed returns the handoffs whose run failed.
func (r Report) Failed() []HandoffReport {
	var out []HandoffReport
	for _, h := range r.Handoffs {
		if h.Err != nil {
			out = append(out, h)
		}
	}
	return out
}

// applier is one run.
type applier struct {
	deps  Deps
	cfg   Config
	now   func() time.Time
	runID string
	// command names the command for the secrets' comments: apply, revoke.
	command string

	progMu sync.Mutex

	crashed  atomic.Bool
	crashErr atomic.Value // error

	// held is the lease of this run once acquired: every step checks it
	// has not lapsed (a process suspended past its lease acts on waking
	// before the watchdog's timer fires).
	held atomic.Pointer[heldLock]

	// rotation is where the rotation document is read and written: set
	// for an apply when handoff.hcl enrolls credentials (rotation.go).
	rotation *rotation.Location
	// killed is the manifest a revoke's run wrote last (nil: none): what
	// is left of the handoff's entries once revoked (rotation.go).
	killed *manifest.Manifest
}

func newApplier(deps Deps) (*applier, error) {
	if deps.Vault == nil {
		return nil, errors.New("apply: no vault")
	}
	if deps.Registry == nil {
		return nil, errors.New("apply: no surface registry")
	}
	a := &applier{deps: deps, cfg: deps.Config, now: deps.Now, runID: randomID(), command: "apply"}
	if r := deps.Repo; r != nil && r.Config != nil && r.Config.Vault != nil {
		// handoff.hcl fills what the caller left empty.
		if v := r.Config.Vault; a.cfg.Root == "" && v.HandoffRoot().Valid() {
			a.cfg.Root = v.HandoffRoot().Value
		}
		if v := r.Config.Vault; a.cfg.Environment == "" && v.Environment().Valid() {
			a.cfg.Environment = v.Environment().Value
		}
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.deps.Parallelism <= 0 {
		a.deps.Parallelism = DefaultParallelism
	}
	if a.deps.Lock.TTL <= 0 {
		a.deps.Lock.TTL = DefaultLockTTL
	}
	if a.deps.Lock.Poll <= 0 {
		a.deps.Lock.Poll = time.Second
	}
	if a.deps.Lock.Owner == "" {
		host, _ := os.Hostname()
		a.deps.Lock.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), a.runID)
	}
	return a, nil
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (a *applier) progress(format string, args ...any) {
	if a.deps.Progress == nil {
		return
	}
	a.progMu.Lock()
	defer a.progMu.Unlock()
	fmt.Fprintf(a.deps.Progress, format+"\n", args...)
}

// crash records a simulated crash; every worker stops at its next step.
func (a *applier) crash(err error) {
	if a.crashed.CompareAndSwap(false, true) {
		a.crashErr.Store(err)
	}
}

func (a *applier) crashError() error {
	if v, ok := a.crashErr.Load().(error); ok {
		return v
	}
	return ErrCrash
}

// bind completes the configuration from the plan and checks they agree.
func (a *applier) bind(p *plan.Plan) error {
	if p == nil {
		return errors.New("apply: no plan")
	}
	if p.FormatVersion != plan.FormatVersion {
		return fmt.Errorf("apply: plan format %d is not this build's (%d): plan again", p.FormatVersion, plan.FormatVersion)
	}
	if a.cfg.Root == "" {
		a.cfg.Root = p.HandoffRoot
	}
	if a.cfg.Environment == "" {
		a.cfg.Environment = p.Environment
	}
	if path.Clean(a.cfg.Root) != path.Clean(p.HandoffRoot) || a.cfg.Environment != p.Environment {
		return fmt.Errorf("apply: the plan is for %s in environment %s, the configuration says %s in %s: plan again",
			p.HandoffRoot, p.Environment, a.cfg.Root, a.cfg.Environment)
	}
	a.cfg.Root = path.Clean(a.cfg.Root)
	if !p.Policy.Passed {
		return errors.New("apply: the plan did not pass the policy and plan checks: fix the errors `handoff plan` reports, then plan again")
	}
	return nil
}

// Apply carries out p. A plan with no changes returns at once: no lock, no
// request. Otherwise Apply takes the lock, reads the live state again and
// refuses p when the state's fingerprint or the specs' digest changed since
// p was made (ErrStalePlan), then applies every changed handoff, at most
// Deps.Parallelism at a time. The error joins the failures of every handoff
// (the Report says which); a failed handoff leaves a journal from which the
// next apply converges.
func Apply(ctx context.Context, p *plan.Plan, deps Deps) (Report, error) {
	a, err := newApplier(deps)
	if err != nil {
		return Report{}, err
	}
	if err := a.bind(p); err != nil {
		return Report{}, err
	}
	a.enroll()
	if !p.HasChanges() {
		return Report{}, nil
	}
	return a.run(ctx, p)
}

// ApplySaved carries out a plan read from a file (handoff apply FILE). It
// first re-reads the specs' digest and the live state and refuses, with a
// message that says what changed, a plan that is stale, before taking any
// lock; then it applies like Apply (which checks again under the lock).
func ApplySaved(ctx context.Context, p *plan.Plan, deps Deps) (Report, error) {
	a, err := newApplier(deps)
	if err != nil {
		return Report{}, err
	}
	if err := a.bind(p); err != nil {
		return Report{}, err
	}
	a.enroll()
	live, err := a.readState(ctx)
	if err != nil {
		return Report{}, err
	}
	if err := a.checkFresh(p, live, true); err != nil {
		return Report{}, err
	}
	if !p.HasChanges() {
		return Report{}, nil
	}
	return a.run(ctx, p)
}

func (a *applier) readState(ctx context.Context) (*state.Live, error) {
	src := state.Sources{Vault: a.deps.Vault, Readers: a.deps.Readers}
	return state.Read(ctx, src, state.Options{Environment: a.cfg.Environment, Root: a.cfg.Root, Now: a.now, Rotation: a.rotation})
}

// checkFresh refuses p when the specs or the live state changed since it
// was made.
func (a *applier) checkFresh(p *plan.Plan, live *state.Live, saved bool) error {
	what := "the plan"
	if saved {
		what = "the saved plan"
	}
	if a.deps.Repo != nil {
		if d := reconcile.SpecsDigest(a.deps.Repo.Handoffs); d != p.SpecsDigest {
			return fmt.Errorf("apply: %w: the specs changed since %s was made (digest %s, now %s): run handoff plan again",
				ErrStalePlan, what, short(p.SpecsDigest), short(d))
		}
	} else if planNeedsSpecs(p) {
		return fmt.Errorf("apply: %s creates or refreshes handoffs, which needs their specs: none were given", what)
	}
	if f := live.Fingerprint(); f != p.StateFingerprint {
		return fmt.Errorf("apply: %w: the live state changed since %s was made (fingerprint %s, now %s; another apply or a change by hand?): run handoff plan again",
			ErrStalePlan, what, short(p.StateFingerprint), short(f))
	}
	// Time passes without changing the state: a plan that refreshes a
	// handoff whose TTL has ended since must not mint for it (H3).
	now := a.now()
	for _, h := range p.Handoffs {
		lh := live.Handoffs[h.Slug]
		if lh == nil || lh.Manifest == nil || lh.Manifest.Status != manifest.Active || now.Before(lh.Manifest.ExpiresAt) {
			continue
		}
		for _, c := range h.Changes {
			if c.Action == plan.Create || c.Action == plan.Refresh {
				return fmt.Errorf("apply: %w: handoff %s expired at %s, after %s was made: run handoff plan again (it plans the revocation)",
					ErrStalePlan, h.Slug, lh.Manifest.ExpiresAt.UTC().Format(time.RFC3339), what)
			}
		}
	}
	return nil
}

func planNeedsSpecs(p *plan.Plan) bool {
	for _, h := range p.Handoffs {
		for _, c := range h.Changes {
			switch c.Action {
			case plan.Create, plan.Refresh, plan.Replace:
				return true
			}
		}
	}
	return false
}

func short(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

// run applies p under the lock.
func (a *applier) run(ctx context.Context, p *plan.Plan) (Report, error) {
	return a.locked(ctx, func(ctx context.Context, live *state.Live) (Report, error) {
		return a.applyLocked(ctx, p, live)
	})
}

// applyLocked applies p against live, read under the lock; ctx is
// cancelled, with the cause, when the lock is lost.
func (a *applier) applyLocked(ctx context.Context, p *plan.Plan, live *state.Live) (Report, error) {
	var replanned *plan.Plan
	if err := a.checkFresh(p, live, false); err != nil {
		if a.deps.Replan == nil || !errors.Is(err, ErrStalePlan) {
			return Report{}, err
		}
		if p, err = a.replan(ctx, err, live); err != nil {
			return Report{}, err
		}
		replanned = p
		if !p.HasChanges() {
			return Report{Replanned: p}, nil
		}
	}
	rep, err := a.applyPlan(ctx, p, live)
	rep.Replanned = replanned
	return rep, err
}

// replan makes the plan that replaces p, stale for the reason why, from the
// live state read under the lock, and has it confirmed.
func (a *applier) replan(ctx context.Context, why error, live *state.Live) (*plan.Plan, error) {
	a.progress("%v", strings.Replace(why.Error(), ": run handoff plan again", "", 1))
	a.progress("apply: planning again from the live state read under the lock")
	np, err := a.deps.Replan(ctx, live)
	if err != nil {
		return nil, fmt.Errorf("apply: plan again: %w", err)
	}
	if np == nil {
		return nil, errors.New("apply: plan again: no plan")
	}
	root, envName := a.cfg.Root, a.cfg.Environment
	if err := a.bind(np); err != nil {
		return nil, err
	}
	if a.cfg.Root != root || a.cfg.Environment != envName {
		return nil, fmt.Errorf("apply: the new plan is for %s in %s, the first for %s in %s", a.cfg.Root, a.cfg.Environment, root, envName)
	}
	if err := a.checkFresh(np, live, false); err != nil {
		return nil, fmt.Errorf("apply: the new plan: %w", err)
	}
	if a.deps.Confirm != nil {
		if err := a.deps.Confirm(np); err != nil {
			return nil, err
		}
	}
	return np, nil
}

// applyPlan applies every changed handoff of p, which matches live.
func (a *applier) applyPlan(ctx context.Context, p *plan.Plan, live *state.Live) (Report, error) {
	specs := map[string]*spec.Handoff{}
	if a.deps.Repo != nil {
		for _, h := range a.deps.Repo.Handoffs {
			if _, dup := specs[h.Slug.Value]; !dup {
				specs[h.Slug.Value] = h
			}
		}
	}

	var todo []*plan.Handoff
	for i := range p.Handoffs {
		if p.Handoffs[i].Operation != nil {
			todo = append(todo, &p.Handoffs[i])
		}
	}
	runOrder(todo)
	reports := make([]HandoffReport, len(todo))
	runs := make([]*run, len(todo))
	fence := newFence(ctx, a)
	sem := make(chan struct{}, a.deps.Parallelism)
	var wg sync.WaitGroup
	for i, ph := range todo {
		if a.crashed.Load() || ctx.Err() != nil {
			reports[i] = HandoffReport{Slug: ph.Slug, Action: ph.Action, Err: a.stopError(ctx)}
			continue
		}
		sem <- struct{}{}
		if a.pastDeadline() {
			<-sem
			reports[i] = HandoffReport{Slug: ph.Slug, Op: string(ph.Operation.Kind), Action: ph.Action, Planned: ph.Operation.Steps, Err: ErrDeadline}
			if a.deps.Done != nil {
				a.deps.Done(reports[i])
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := newRun(a, p, ph, live, specs[ph.Slug])
			r.fence, runs[i] = fence, r
			err := r.execute(ctx)
			if err != nil && r.stoppedByKill && !a.crashed.Load() {
				err = a.afterKill(ctx, r, err)
			}
			reports[i] = HandoffReport{Slug: ph.Slug, Op: string(r.op.Kind), Action: ph.Action, Steps: r.writes, Planned: r.op.Steps, Flags: r.flags, Err: err}
			if a.deps.Done != nil {
				a.deps.Done(reports[i])
			}
		}()
	}
	wg.Wait()

	rep := Report{Handoffs: reports}
	var errs []error
	for _, h := range reports {
		rep.Writes += h.Steps
		rep.Flags = append(rep.Flags, h.Flags...)
		if h.Err != nil {
			errs = append(errs, fmt.Errorf("handoff %s: %w", h.Slug, h.Err))
		}
	}
	sort.Strings(rep.Flags)
	if a.crashed.Load() {
		return rep, a.crashError()
	}
	if err := a.writeRotation(ctx, live, runs, &rep); err != nil {
		if a.crashed.Load() {
			return rep, a.crashError()
		}
		errs = append(errs, err)
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		errs = append(errs, cause)
	}
	return rep, errors.Join(errs...)
}

func (a *applier) stopError(ctx context.Context) error {
	if a.crashed.Load() {
		return a.crashError()
	}
	if c := context.Cause(ctx); c != nil {
		return c
	}
	return ctx.Err()
}
