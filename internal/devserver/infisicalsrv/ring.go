package infisicalsrv

// ring is a bounded log: once full, each push drops the oldest entry, in
// constant time.
type ring[T any] struct {
	buf   []T
	start int // index of the oldest entry once full
	limit int
}

func newRing[T any](limit int) *ring[T] { return &ring[T]{limit: limit} }

func (r *ring[T]) push(v T) {
	if len(r.buf) < r.limit {
		r.buf = append(r.buf, v)
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % r.limit
}

// each calls f on every entry, oldest first.
func (r *ring[T]) each(f func(T)) {
	for i := range r.buf {
		f(r.buf[(r.start+i)%len(r.buf)])
	}
}

// slice returns the entries, oldest first, in a new slice.
func (r *ring[T]) slice() []T {
	out := make([]T, 0, len(r.buf))
	r.each(func(v T) { out = append(out, v) })
	return out
}

func (r *ring[T]) len() int { return len(r.buf) }
