package pace

import (
	"time"
)

// bucket is one count of one limit (per route, class or vendor, per
// account), plus the server's view of it.
//
// Reservations in a bucket are made in time order (reserved times never
// decrease), which keeps each kind's bookkeeping simple and serves waiting
// requests first come, first served.
type bucket struct {
	lim    Limit
	max    int // lim.Max, or lower when the server said so; learnt when lim.Max is 0
	margin time.Duration
	// what the bucket counts, for waits: the route's words unless lim.Name
	words string
	// isPause marks the vendor's pause, which only the server sets.
	isPause bool
	// last is the latest reserved time.
	last time.Time
	// points counts every point ever reserved: a response's headers are
	// corrected for the points reserved after its request.
	points int64

	// Fixed: the latest window, and the ones before it that may still be
	// open (urgent requests go into them); urgent says the count has seen
	// an urgent request, from which on ordinary ones leave lim.Reserve.
	winEnd time.Time
	used   int
	winGen int64
	past   []pastWin
	urgent bool
	// Rolling
	log []entry
	// Refill
	tokens   float64
	tokensAt time.Time

	// ceil is the server's view: at most ceilLeft more points before
	// ceilUntil. A pause is a ceiling of zero.
	ceilSet   bool
	ceilLeft  int
	ceilUntil time.Time
	ceilGen   int64
	ceilFrom  int64 // points position of the answer that set it
	ceilAsked bool  // set by a refusal or Retry-After rather than a count
}

// pastWin is a Fixed window before the latest one.
type pastWin struct {
	end  time.Time
	used int
	gen  int64
}

// pastKept bounds how many windows before the latest a Fixed count
// remembers; those that have ended are forgotten first (expire). A queue
// of ordinary requests rarely reaches more than a few windows ahead.
const pastKept = 64

type entry struct {
	at   time.Time
	cost int
	id   uint64
}

// hold is what one ticket reserved in one bucket, to release or correct it.
type hold struct {
	b       *bucket
	cost    int
	at      time.Time
	pos     int64 // b.points after this reservation
	winGen  int64
	ceilGen int64
	inCeil  bool
	// usedAfter is the Fixed window's count right after this reservation.
	usedAfter int
}

func (b *bucket) stateful() bool { return b.max > 0 && b.lim.Max > 0 }

func (b *bucket) clamp(cost int) int {
	if b.max > 0 && cost > b.max {
		return b.max
	}
	return cost
}

// earliest is the first time at or after t when cost more points fit.
// blockedByCeil says the server's view, not the model, set it.
//
// An urgent request (prio) may use the points ordinary ones leave
// (lim.Reserve) and, on a Fixed count, an earlier window than theirs.
func (b *bucket) earliest(t time.Time, cost int, now time.Time, prio bool) (at time.Time, byCeil bool) {
	for range 8 {
		t0 := t
		if b.stateful() {
			if prio && b.lim.Kind == Fixed {
				t = b.urgentEarliest(t, b.clamp(cost))
			} else {
				t = b.modelEarliest(t, b.clamp(cost), now)
			}
		}
		left := b.ceilLeft
		if !prio && !b.ceilAsked {
			// The server's count of the window: the reserve is kept there
			// too.
			left -= b.reserve()
		}
		if b.ceilSet && t.Before(b.ceilUntil) && left < cost {
			t, byCeil = b.ceilUntil, true
		}
		if t.Equal(t0) {
			break
		}
	}
	return t, byCeil
}

func (b *bucket) modelEarliest(t time.Time, cost int, now time.Time) time.Time {
	if t.Before(b.last) {
		t = b.last
	}
	switch b.lim.Kind {
	case Fixed:
		if b.winEnd.IsZero() || !t.Before(b.winEnd.Add(b.margin)) {
			return t // a new window opens at t
		}
		if t.Before(b.winEnd) && b.used+cost <= b.max-b.reserve() {
			return t
		}
		return b.winEnd.Add(b.margin)
	case Rolling:
		b.prune(now)
		span := b.lim.Window + b.margin
		need, sum := b.max-cost, 0
		for i := len(b.log) - 1; i >= 0; i-- {
			sum += b.log[i].cost
			if sum > need {
				if e := b.log[i].at.Add(span); e.After(t) {
					t = e
				}
				break
			}
		}
		return t
	case Refill:
		avail := b.tokensAt1(t)
		if avail >= float64(cost) {
			return t
		}
		rate := float64(b.max) / float64(b.lim.Window) // points per ns
		return t.Add(time.Duration((float64(cost)-avail)/rate) + 1)
	}
	return t
}

// reserve is how many points of a window ordinary requests leave: the
// limit's Reserve once the count has seen an urgent request (never all of
// them).
func (b *bucket) reserve() int {
	if !b.urgent || b.lim.Reserve <= 0 || b.lim.Kind != Fixed {
		return 0
	}
	return max(min(b.lim.Reserve, b.max-1), 0)
}

// urgentEarliest is the first time at or after t when an urgent request of
// cost fits a Fixed count: in the first window, past or latest, still open
// at t with room for it (ordinary requests leave the reserve in each), else
// in a new window after the latest.
func (b *bucket) urgentEarliest(t time.Time, cost int) time.Time {
	try := func(end time.Time, used int) (time.Time, bool) {
		at := t
		if start := end.Add(-b.lim.Window); at.Before(start) {
			at = start
		}
		return at, at.Before(end) && used+cost <= b.max
	}
	for _, w := range b.past {
		if at, ok := try(w.end, w.used); ok {
			return at
		}
	}
	if b.winEnd.IsZero() || !t.Before(b.winEnd.Add(b.margin)) {
		return t // a new window opens at t
	}
	if at, ok := try(b.winEnd, b.used); ok {
		return at
	}
	return b.winEnd.Add(b.margin)
}

// pastAt is the window before the latest that holds t, or nil.
func (b *bucket) pastAt(t time.Time) *pastWin {
	for i := range b.past {
		w := &b.past[i]
		if !t.Before(w.end.Add(-b.lim.Window)) && t.Before(w.end) {
			return w
		}
	}
	return nil
}

// tokensAt1 is the refill bucket's content at t (full before first use).
func (b *bucket) tokensAt1(t time.Time) float64 {
	if b.tokensAt.IsZero() {
		return float64(b.max)
	}
	rate := float64(b.max) / float64(b.lim.Window)
	v := b.tokens + rate*float64(t.Sub(b.tokensAt))
	return min(v, float64(b.max))
}

func (b *bucket) prune(now time.Time) {
	cut := now.Add(-(b.lim.Window + b.margin))
	i := 0
	for i < len(b.log) && !b.log[i].at.After(cut) {
		i++
	}
	if i > 0 {
		b.log = append(b.log[:0], b.log[i:]...)
	}
}

// commit reserves cost points at t (which earliest allowed); prio marks
// an urgent request.
func (b *bucket) commit(t time.Time, cost int, id uint64, prio bool) hold {
	h := hold{b: b, cost: cost, at: t}
	if b.stateful() {
		c := b.clamp(cost)
		switch b.lim.Kind {
		case Fixed:
			if prio {
				b.urgent = true
			}
			if w := b.pastAt(t); prio && w != nil && t.Before(b.winEnd.Add(-b.lim.Window)) {
				w.used += c
				h.winGen, h.usedAfter = w.gen, w.used
				break
			}
			if b.winEnd.IsZero() || !t.Before(b.winEnd.Add(b.margin)) {
				if !b.winEnd.IsZero() {
					b.past = append(b.past, pastWin{end: b.winEnd, used: b.used, gen: b.winGen})
					if len(b.past) > pastKept {
						b.past = append(b.past[:0], b.past[len(b.past)-pastKept:]...)
					}
				}
				b.winEnd, b.used = t.Add(b.lim.Window), 0
				b.winGen++
			}
			b.used += c
			h.winGen, h.usedAfter = b.winGen, b.used
		case Rolling:
			b.log = append(b.log, entry{at: t, cost: c, id: id})
		case Refill:
			b.tokens, b.tokensAt = b.tokensAt1(t)-float64(c), t
		}
		if t.After(b.last) {
			b.last = t
		}
	}
	if b.ceilSet && t.Before(b.ceilUntil) {
		b.ceilLeft -= cost
		h.inCeil, h.ceilGen = true, b.ceilGen
	}
	b.points += int64(cost)
	h.pos = b.points
	return h
}

// release gives back what h reserved (a request that did not go out).
func (h hold) release(id uint64) {
	b := h.b
	if b.stateful() {
		c := b.clamp(h.cost)
		switch b.lim.Kind {
		case Fixed:
			if h.winGen == b.winGen {
				b.used = max(0, b.used-c)
				break
			}
			for i := range b.past {
				if w := &b.past[i]; w.gen == h.winGen {
					w.used = max(0, w.used-c)
				}
			}
		case Rolling:
			for i, e := range b.log {
				if e.id == id {
					b.log = append(b.log[:i], b.log[i+1:]...)
					break
				}
			}
		case Refill:
			b.tokens = min(b.tokens+float64(c), float64(b.max))
		}
	}
	if h.inCeil && b.ceilSet && h.ceilGen == b.ceilGen {
		b.ceilLeft += h.cost
	}
}

// view is what the server said of this bucket after h's request.
type view struct {
	limit      int // -1: not said
	remaining  int // -1: not said
	resetIn    time.Duration
	hasReset   bool
	retryAfter time.Duration // 0: not said
}

// adopt takes the server's view when it is stricter than the model's.
func (b *bucket) adopt(h hold, v view, now time.Time) {
	if v.limit > 0 && (b.lim.Max == 0 || v.limit < b.max) {
		b.max = v.limit
	}
	if v.remaining < 0 {
		return
	}
	if b.ceilSet && h.pos < b.ceilFrom {
		return // an older answer than the one the ceiling came from
	}
	left := v.remaining - b.reservedSince(h)
	var until time.Time
	switch {
	case v.hasReset:
		until = now.Add(v.resetIn + b.margin)
	case b.lim.Kind == Refill && b.lim.Max > 0:
		// Heroku says only what is left; the bucket refills from there.
		if avail := b.tokensAt1(now); float64(left) < avail {
			b.tokens, b.tokensAt = float64(max(left, 0)), now
			if now.After(b.last) {
				b.last = now
			}
		}
		return
	case b.lim.Window > 0:
		until = now.Add(b.lim.Window)
	default:
		return
	}
	if b.ceilSet && now.Before(b.ceilUntil) && b.ceilAsked && b.ceilLeft <= 0 && !until.After(b.ceilUntil) {
		return // a pause the server asked for stands until it ends
	}
	b.setCeil(max(left, 0), until, h.pos, false)
}

// reservedSince is how many points were reserved after h that the
// server's count of h's window may not include yet: on a Fixed count, those
// of h's own window (the queue's places in later windows are not the
// server's concern until they open; counting them would leave no room in
// this window for an urgent request); else every one since.
func (b *bucket) reservedSince(h hold) int {
	if b.lim.Kind == Fixed && b.stateful() {
		if h.winGen == b.winGen {
			return max(b.used-h.usedAfter, 0)
		}
		for _, w := range b.past {
			if w.gen == h.winGen {
				return max(w.used-h.usedAfter, 0)
			}
		}
	}
	return int(b.points - h.pos)
}

// pause stops the bucket until t (a refusal or a Retry-After).
func (b *bucket) pause(until time.Time, from int64) {
	if b.ceilSet && b.ceilLeft <= 0 && !until.After(b.ceilUntil) {
		return
	}
	b.setCeil(0, until, from, true)
}

func (b *bucket) setCeil(left int, until time.Time, from int64, asked bool) {
	b.ceilSet, b.ceilLeft, b.ceilUntil, b.ceilFrom, b.ceilAsked = true, left, until, from, asked
	b.ceilGen++
}

// expire forgets a server view, and the Fixed windows, that have ended.
func (b *bucket) expire(now time.Time) {
	i := 0
	for i < len(b.past) && !now.Before(b.past[i].end) {
		i++
	}
	if i > 0 {
		b.past = append(b.past[:0], b.past[i:]...)
	}
	if b.ceilSet && !now.Before(b.ceilUntil) {
		b.ceilSet = false
	}
}
