package pace

import (
	"context"
	"sync"
	"time"
)

// Clock is the time source of a Pacer.
type Clock interface {
	// Now is the current time.
	Now() time.Time
	// Sleep waits d, or until ctx is done (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// untilSleeper is a Clock that can wait until a given time; a virtual clock
// implements it so that goroutines sleeping at once do not add up their
// sleeps.
type untilSleeper interface {
	SleepUntil(ctx context.Context, t time.Time) error
}

// sleepUntil waits until t on c.
func sleepUntil(ctx context.Context, c Clock, t time.Time) error {
	if u, ok := c.(untilSleeper); ok {
		return u.SleepUntil(ctx, t)
	}
	return c.Sleep(ctx, t.Sub(c.Now()))
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits d on a timer, or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// VirtualClock is a clock in which sleeping advances time instead of
// waiting: Sleep(d) moves it to d after the moment it was called, unless
// another sleeper already moved it further. It never goes back. Tests and
// simulations use it to run hours of pacing in no time.
type VirtualClock struct {
	mu  sync.Mutex
	now time.Time
	// onAdvance, when set, is called with each new time, in order, e.g. to
	// move a local server's clock along.
	onAdvance func(time.Time)
}

// NewVirtualClock returns a virtual clock at start.
func NewVirtualClock(start time.Time) *VirtualClock { return &VirtualClock{now: start} }

// NewVirtualClockFollowing returns a virtual clock at start that calls
// follow with every time it advances to, in order (a local server's clock
// setter, such as devkit's Clock.Set). follow must not use this clock.
func NewVirtualClockFollowing(start time.Time, follow func(time.Time)) *VirtualClock {
	return &VirtualClock{now: start, onAdvance: follow}
}

// Now is the virtual time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep advances the clock by d from now; it fails only when ctx is done.
func (c *VirtualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	t := c.now.Add(d)
	c.mu.Unlock()
	c.advanceTo(t)
	return nil
}

// SleepUntil advances the clock to t if it is not there yet.
func (c *VirtualClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.advanceTo(t)
	return nil
}

// Advance moves the clock forward by d.
func (c *VirtualClock) Advance(d time.Duration) {
	c.mu.Lock()
	t := c.now.Add(d)
	c.mu.Unlock()
	c.advanceTo(t)
}

func (c *VirtualClock) advanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !t.After(c.now) {
		return
	}
	c.now = t
	if c.onAdvance != nil {
		// Under the lock, so that the follower sees the times in order; it
		// must not call back into this clock.
		c.onAdvance(t)
	}
}
