package devkit

import (
	"sync"
	"time"
)

// Clock is the time source of the local servers. It follows the wall clock,
// shifted by an offset that tests and `handoff dev` advance to make tokens,
// client secrets and privileges expire without sleeping. The zero value is not
// usable; call NewClock.
type Clock struct {
	mu     sync.RWMutex
	offset time.Duration
	frozen *time.Time
	wall   func() time.Time
}

// NewClock returns a clock that reads the wall clock with no offset.
func NewClock() *Clock { return &Clock{wall: time.Now} }

// NewFrozenClock returns a clock stopped at t; only Advance and Set move it.
// Tests use it when a result must not depend on how long the test ran.
func NewFrozenClock(t time.Time) *Clock {
	c := NewClock()
	c.frozen = &t
	return c
}

// Now returns the server's current time, in UTC.
func (c *Clock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.frozen != nil {
		return c.frozen.UTC()
	}
	return c.wall().Add(c.offset).UTC()
}

// Advance moves the clock forward by d (a negative d moves it back).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen != nil {
		t := c.frozen.Add(d)
		c.frozen = &t
		return
	}
	c.offset += d
}

// Set makes Now return t from this instant on (the clock keeps running unless
// it was frozen).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen != nil {
		c.frozen = &t
		return
	}
	c.offset = t.Sub(c.wall())
}

// Offset reports how far the clock is ahead of the wall clock.
func (c *Clock) Offset() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.frozen != nil {
		return c.frozen.Sub(c.wall())
	}
	return c.offset
}
