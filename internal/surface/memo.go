package surface

import "sync"

// RecordMemo decodes each distinct record of one surface once per process
// and hands out copies. A plan asks a surface about a handoff's record
// several times (expiry, drift, vanished, regrant), and each ask decoded
// the JSON again: about a tenth of a no-change plan's CPU.
//
// A record is keyed by its bytes, so equal records share an entry and a
// changed one is a new entry; at most maxMemo are kept (then records are
// decoded every time, as without the memo).
type RecordMemo[T any] struct {
	// Clone copies what a decoded value shares (its slices and maps), so
	// that a caller changing its copy changes no other; nil for a type
	// that shares nothing.
	Clone func(T) T

	mu sync.Mutex
	m  map[string]memoEntry[T]
}

type memoEntry[T any] struct {
	v  T
	ok bool
}

// maxMemo bounds the records a RecordMemo keeps.
const maxMemo = 1 << 16

// Decode returns decode(rec), computed once for rec's bytes.
func (c *RecordMemo[T]) Decode(rec Record, decode func(Record) (T, bool)) (T, bool) {
	c.mu.Lock()
	e, hit := c.m[string(rec)]
	c.mu.Unlock()
	if !hit {
		e.v, e.ok = decode(rec)
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]memoEntry[T]{}
		}
		if len(c.m) < maxMemo {
			c.m[string(rec)] = e
		}
		c.mu.Unlock()
	}
	if c.Clone != nil {
		e.v = c.Clone(e.v)
	}
	return e.v, e.ok
}
