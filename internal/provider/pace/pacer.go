package pace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Pacer. The zero value is usable: the real clock, no
// deadline of its own, waits not reported.
type Config struct {
	// Clock is the time source (default RealClock).
	Clock Clock
	// Deadline, on Clock, is a deadline for every request besides the
	// context's: a wait that would end after it fails at once with a
	// *DeadlineError. Zero: none.
	Deadline time.Time
	// OnWait is told of every wait for a limit before it starts. It is
	// called without locks held, possibly from many goroutines at once.
	OnWait func(Wait)
}

// Pacer paces the requests of every client that shares it. It is safe for
// concurrent use.
type Pacer struct {
	clock    Clock
	deadline atomic.Pointer[time.Time] // nil: none
	onWait   func(Wait)

	mu      sync.Mutex
	vendors []*vendor          // registered, longest base path first per host
	auto    map[string]*vendor // unregistered hosts
	ids     uint64
}

// New returns a pacer.
func New(cfg Config) *Pacer {
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	p := &Pacer{clock: cfg.Clock, onWait: cfg.OnWait, auto: map[string]*vendor{}}
	p.SetDeadline(cfg.Deadline)
	return p
}

// Clock is the pacer's clock (the HTTP layer sleeps its back-offs on it).
func (p *Pacer) Clock() Clock { return p.clock }

// Deadline is the pacer's own deadline (Config.Deadline, or the last
// SetDeadline); zero: none.
func (p *Pacer) Deadline() time.Time {
	if dl := p.deadline.Load(); dl != nil {
		return *dl
	}
	return time.Time{}
}

// SetDeadline replaces the pacer's own deadline (zero: none). It takes
// effect for every wait that starts after it, from any goroutine: a command
// may learn its deadline after its clients made their first requests.
func (p *Pacer) SetDeadline(t time.Time) {
	if t.IsZero() {
		p.deadline.Store(nil)
		return
	}
	p.deadline.Store(&t)
}

// vendor is one registered server and the state of its limits.
type vendor struct {
	host     string // URL host, lower case
	basePath string // path prefix without trailing slash
	model    Model
	sem      chan struct{}
	buckets  map[bucketKey]*bucket
	stats    map[statKey]*Counts
}

type bucketKey struct {
	account string
	limit   int    // index into the request's limits; -1 for the vendor pause
	class   string // for class limits
	scope   string // route, class or ""
}

type statKey struct{ class, route string }

// Register makes requests to baseURL (scheme, host and path prefix, e.g.
// "https://app.infisical.com" or "https://ghe.example.com/api/v3") follow m.
// The first registration of a base URL wins: another client of the same
// server registering again shares its counts. Requests to servers nobody
// registered follow a model that knows no limits but obeys the server's
// rate-limit headers, refusals and Retry-After.
func (p *Pacer) Register(baseURL string, m Model) error {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("pace: register %q: not an absolute URL", baseURL)
	}
	v := newVendor(strings.ToLower(u.Host), strings.TrimRight(u.Path, "/"), m)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range p.vendors {
		if o.host == v.host && o.basePath == v.basePath {
			return nil
		}
	}
	p.vendors = append(p.vendors, v)
	sort.SliceStable(p.vendors, func(i, j int) bool { return len(p.vendors[i].basePath) > len(p.vendors[j].basePath) })
	return nil
}

func newVendor(host, basePath string, m Model) *vendor {
	if m.Vendor == "" {
		m.Vendor = host
	}
	if m.Margin == 0 {
		m.Margin = time.Second
	}
	if m.Headers == (HeaderNames{}) {
		m.Headers = XRateLimit
	}
	if m.Limited == nil {
		m.Limited = DefaultLimited
	}
	v := &vendor{host: host, basePath: basePath, model: m, buckets: map[bucketKey]*bucket{}, stats: map[statKey]*Counts{}}
	if m.Concurrency > 0 {
		v.sem = make(chan struct{}, m.Concurrency)
	}
	return v
}

// autoModel is the model of a server nobody registered: no known limit, but
// the server's headers, refusals and Retry-After are obeyed.
func autoModel(host string) Model {
	return Model{Vendor: host, Default: "requests", Limits: []Limit{{Name: "requests", Scope: PerVendor, Headers: true}}}
}

func (p *Pacer) vendorFor(u *url.URL) *vendor {
	host := strings.ToLower(u.Host)
	for _, v := range p.vendors {
		if v.host == host && (v.basePath == "" || u.Path == v.basePath || strings.HasPrefix(u.Path, v.basePath+"/")) {
			return v
		}
	}
	v, ok := p.auto[host]
	if !ok {
		v = newVendor(host, "", autoModel(host))
		p.auto[host] = v
	}
	return v
}

type accountKey struct{}

// WithAccount marks ctx's requests as made by one account of the vendor
// (GitHub: the App, or one installation's token): each account has its own
// counts. Requests without one share the account "".
func WithAccount(ctx context.Context, account string) context.Context {
	return context.WithValue(ctx, accountKey{}, account)
}

func accountOf(ctx context.Context) string {
	s, _ := ctx.Value(accountKey{}).(string)
	return s
}

type priorityKey struct{}

// WithPriority marks ctx's requests as urgent: the apply lease's renewal,
// which must not queue behind the run's ordinary requests on the same
// route, or the lease lapses. An urgent request may use the points a
// limit keeps for urgent ones (Limit.Reserve) and takes the first window
// with room for it rather than its place at the end of the queue. Every
// known limit still holds.
func WithPriority(ctx context.Context) context.Context {
	return context.WithValue(ctx, priorityKey{}, true)
}

// IsPriority reports whether ctx's requests are urgent (WithPriority).
func IsPriority(ctx context.Context) bool {
	b, _ := ctx.Value(priorityKey{}).(bool)
	return b
}

// Ticket is a request's place in its vendor's limits. Call Done exactly once
// with the answer (or the transport error).
type Ticket struct {
	p     *Pacer
	v     *vendor
	id    uint64
	route Route
	holds []hold
	hdr   int // index in holds of the limit the headers describe; -1 none
	pause int // index in holds of the vendor pause
	slot  bool
}

// Acquire waits until req may be sent without breaking a known limit, and
// reserves its place. It fails with a *DeadlineError, without waiting, when
// the wait would pass ctx's deadline or Config.Deadline, and with ctx.Err()
// when ctx ends while it waits.
func (p *Pacer) Acquire(ctx context.Context, req *http.Request) (*Ticket, error) {
	account, prio := accountOf(ctx), IsPriority(ctx)
	for try := 0; ; try++ {
		p.mu.Lock()
		v := p.vendorFor(req.URL)
		t := &Ticket{p: p, v: v}
		t.route = v.classify(req.Method, req.URL.Path)
		p.ids++
		t.id = p.ids
		now := p.clock.Now()
		bs, costs, hdr := v.bucketsFor(t.route, account, req.Method)
		at, blocker, byCeil := now, -1, false
		for range 16 {
			moved := false
			for i, b := range bs {
				b.expire(now)
				if e, ceil := b.earliest(at, costs[i], now, prio); e.After(at) {
					at, blocker, byCeil, moved = e, i, ceil, true
				}
			}
			if !moved {
				break
			}
		}
		delay := at.Sub(now)
		var w Wait
		if delay > 0 {
			w = v.waitFor(t.route, bs[blocker], byCeil, delay)
			if err := p.checkDeadline(ctx, w, at); err != nil {
				p.mu.Unlock()
				return nil, err
			}
			c := v.counts(t.route)
			c.Waits++
			c.Waited += delay
		}
		for i, b := range bs {
			t.holds = append(t.holds, b.commit(at, costs[i], t.id, prio))
		}
		t.hdr, t.pause = hdr, 0
		p.mu.Unlock()

		if delay > 0 {
			if p.onWait != nil {
				p.onWait(w)
			}
			if err := sleepUntil(ctx, p.clock, at); err != nil {
				p.cancel(t)
				return nil, err
			}
		}
		if v.sem != nil {
			select {
			case v.sem <- struct{}{}:
				t.slot = true
			default:
				start := p.clock.Now()
				select {
				case v.sem <- struct{}{}:
					t.slot = true
				case <-ctx.Done():
					p.cancel(t)
					return nil, ctx.Err()
				}
				p.mu.Lock()
				c := v.counts(t.route)
				c.Waits++
				c.Waited += p.clock.Now().Sub(start)
				p.mu.Unlock()
			}
		}
		p.mu.Lock()
		late := p.clock.Now().Sub(at)
		if late > v.model.Margin && try < 3 {
			// The request would reach the server later than its place:
			// take a new one rather than spill into a later window.
			for _, h := range t.holds {
				h.release(t.id)
			}
			p.mu.Unlock()
			t.releaseSlot()
			continue
		}
		v.counts(t.route).Requests++
		p.mu.Unlock()
		return t, nil
	}
}

func (p *Pacer) checkDeadline(ctx context.Context, w Wait, at time.Time) error {
	if dl, ok := ctx.Deadline(); ok {
		// Contexts carry wall-clock deadlines.
		if left := time.Until(dl); left < w.Delay {
			return &DeadlineError{Wait: w, Left: left}
		}
	}
	if dl := p.Deadline(); !dl.IsZero() && at.After(dl) {
		return &DeadlineError{Wait: w, Left: dl.Sub(p.clock.Now())}
	}
	return nil
}

// cancel gives back a ticket that will not be sent.
func (p *Pacer) cancel(t *Ticket) {
	p.mu.Lock()
	for _, h := range t.holds {
		h.release(t.id)
	}
	p.mu.Unlock()
	t.releaseSlot()
}

func (t *Ticket) releaseSlot() {
	if t.slot {
		<-t.v.sem
		t.slot = false
	}
}

// Route is the route the ticket's request was classified as.
func (t *Ticket) Route() Route { return t.route }

// Verdict is what the pacer made of an answer.
type Verdict struct {
	// Limited: the answer is a rate-limit refusal; the server did not act
	// and the request may be repeated whatever its method.
	Limited bool
	// Unavailable: a 503 with Retry-After; the server did not act either.
	Unavailable bool
	// Paused: the answer (or the model's Pause) set the wait before the
	// repeat; the next Acquire waits for it. When false after a refusal,
	// the caller backs off by itself.
	Paused bool
}

// Done records the answer to the ticket's request (resp nil when err is
// not): the server's rate-limit view, a refusal, a Retry-After. A 403 or
// 429 body is peeked at and left readable.
func (t *Ticket) Done(resp *http.Response, err error) Verdict {
	t.releaseSlot()
	if err != nil || resp == nil {
		return Verdict{}
	}
	p, v := t.p, t.v
	var body []byte
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests {
		body = peek(resp)
	}
	limited := v.model.Limited(resp.StatusCode, resp.Header, body)
	answered := p.clock.Now()
	retryAfter := parseRetryAfter(resp.Header, answered)
	vw := v.readView(resp.Header, answered)
	vw.retryAfter = retryAfter

	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	var verdict Verdict
	if t.hdr >= 0 {
		t.holds[t.hdr].b.adopt(t.holds[t.hdr], vw, now)
	}
	pause := t.holds[t.pause]
	switch {
	case limited:
		verdict.Limited = true
		v.counts(t.route).Limited++
		switch {
		case retryAfter > 0 && t.hdr >= 0 && vw.remaining == 0:
			h := t.holds[t.hdr]
			h.b.pause(now.Add(retryAfter), h.pos)
			verdict.Paused = true
		case retryAfter > 0:
			pause.b.pause(now.Add(retryAfter), pause.pos)
			verdict.Paused = true
		case t.hdr >= 0 && vw.remaining == 0 && vw.hasReset:
			// adopt set a ceiling of zero until the reset.
			verdict.Paused = true
		case v.model.Pause > 0:
			pause.b.pause(now.Add(v.model.Pause), pause.pos)
			verdict.Paused = true
		}
	case resp.StatusCode == http.StatusServiceUnavailable && retryAfter > 0:
		verdict.Unavailable, verdict.Paused = true, true
		pause.b.pause(now.Add(retryAfter), pause.pos)
	}
	return verdict
}

// peek reads up to 64 KiB of resp's body and puts it back.
func peek(resp *http.Response) []byte {
	if resp.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	return b
}

// parseRetryAfter reads Retry-After: seconds, or an HTTP date relative to
// the answer's Date, else to now (the pacer's clock: a server on a virtual
// clock dates its answers on it).
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	s := strings.TrimSpace(h.Get("Retry-After"))
	if s == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && n > 0 {
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(s); err == nil {
		// Relative to the answer's own Date when it has one (clock skew).
		ref := now
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			ref = d
		}
		return t.Sub(ref)
	}
	return 0
}

// readView reads the server's rate-limit headers; a reset given as a Unix
// time is relative to the answer's Date, else to now (the pacer's clock).
func (v *vendor) readView(h http.Header, now time.Time) view {
	names := v.model.Headers
	vw := view{limit: -1, remaining: -1}
	if n, ok := intHeader(h, names.Limit); ok {
		vw.limit = n
	}
	if n, ok := intHeader(h, names.Remaining); ok {
		vw.remaining = n
	}
	if n, ok := intHeader(h, names.Reset); ok && n >= 0 {
		vw.hasReset = true
		if n > 1_000_000_000 {
			ref := now
			if d, err := http.ParseTime(h.Get("Date")); err == nil {
				ref = d
			}
			vw.resetIn = max(time.Unix(int64(n), 0).Sub(ref), 0)
		} else {
			vw.resetIn = time.Duration(n) * time.Second
		}
	}
	return vw
}

func intHeader(h http.Header, name string) (int, bool) {
	if name == "" {
		return 0, false
	}
	s := strings.TrimSpace(h.Get(name))
	if s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// classify finds a request's route; a path outside the base is generic.
func (v *vendor) classify(method, path string) Route {
	rel := strings.TrimPrefix(path, v.basePath)
	if rel == "" {
		rel = "/"
	}
	if r, ok := v.model.Routes.Match(method, rel); ok {
		r.Method = strings.ToUpper(method)
		return r
	}
	return Route{Method: strings.ToUpper(method), Path: genericPath(rel), Class: v.model.Default}
}

// bucketsFor returns the buckets a request uses (the vendor pause first),
// its cost in each and the index of the one its headers describe.
func (v *vendor) bucketsFor(r Route, account, method string) (bs []*bucket, costs []int, hdr int) {
	hdr = -1
	get := func(k bucketKey, lim Limit, words string) *bucket {
		b, ok := v.buckets[k]
		if !ok {
			b = &bucket{lim: lim, max: lim.Max, margin: v.model.Margin, words: words, isPause: k.limit < 0}
			if lim.Name != "" {
				b.words = lim.Name
			}
			v.buckets[k] = b
		}
		return b
	}
	bs = append(bs, get(bucketKey{account: account, limit: -1}, Limit{}, ""))
	costs = append(costs, 1)
	add := func(i int, class string, lim Limit) {
		k := bucketKey{account: account, limit: i, class: class}
		switch lim.Scope {
		case PerRoute:
			k.scope = r.String()
		case PerClass:
			k.scope = r.Class
		}
		if lim.Headers && hdr < 0 {
			hdr = len(bs)
		}
		bs = append(bs, get(k, lim, r.words()))
		costs = append(costs, lim.cost(method))
	}
	for i, lim := range v.model.Classes[r.Class] {
		add(i, r.Class, lim)
	}
	for i, lim := range v.model.Limits {
		add(i, "", lim)
	}
	return bs, costs, hdr
}

func (v *vendor) waitFor(r Route, b *bucket, byCeil bool, delay time.Duration) Wait {
	w := Wait{Vendor: v.model.Vendor, Route: r.String(), Delay: delay}
	if b.isPause {
		w.Asked = true
		return w
	}
	w.Class = b.words
	if b.max > 0 {
		w.Limit = b.lim.Rate(b.max)
	}
	w.Asked = byCeil
	return w
}

func (v *vendor) counts(r Route) *Counts {
	k := statKey{class: r.Class, route: r.String()}
	c, ok := v.stats[k]
	if !ok {
		c = &Counts{}
		v.stats[k] = c
	}
	return c
}

// Counts are a pacer's counters for some requests.
type Counts struct {
	// Requests is how many were sent (each attempt counts).
	Requests int64
	// Waits is how many had to wait for a limit or a free slot, and
	// Waited how long in all.
	Waits  int64
	Waited time.Duration
	// Limited is how many refusals (429, or GitHub's rate-limit 403) came
	// back all the same.
	Limited int64
}

func (c *Counts) add(o Counts) {
	c.Requests += o.Requests
	c.Waits += o.Waits
	c.Waited += o.Waited
	c.Limited += o.Limited
}

// Stat is the counts of one route, or (in ClassStats) of one class.
type Stat struct {
	Vendor string
	Class  string
	Route  string // empty in ClassStats
	Counts
}

// Stats returns the counts per vendor, class and route, sorted.
func (p *Pacer) Stats() []Stat {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Stat
	for _, v := range p.allVendors() {
		for k, c := range v.stats {
			out = append(out, Stat{Vendor: v.model.Vendor, Class: k.class, Route: k.route, Counts: *c})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Vendor != b.Vendor {
			return a.Vendor < b.Vendor
		}
		if a.Class != b.Class {
			return a.Class < b.Class
		}
		return a.Route < b.Route
	})
	return out
}

// ClassStats returns the counts per vendor and class, sorted.
func (p *Pacer) ClassStats() []Stat {
	var out []Stat
	for _, s := range p.Stats() {
		if n := len(out); n > 0 && out[n-1].Vendor == s.Vendor && out[n-1].Class == s.Class {
			out[n-1].add(s.Counts)
			continue
		}
		s.Route = ""
		out = append(out, s)
	}
	return out
}

// Total returns the counts of every request of a vendor ("" for all).
func (p *Pacer) Total(vendorName string) Counts {
	var c Counts
	for _, s := range p.Stats() {
		if vendorName == "" || s.Vendor == vendorName {
			c.add(s.Counts)
		}
	}
	return c
}

func (p *Pacer) allVendors() []*vendor {
	vs := append([]*vendor(nil), p.vendors...)
	for _, v := range p.auto {
		vs = append(vs, v)
	}
	return vs
}

// Sleep waits d on the pacer's clock (the HTTP layer's back-off between
// attempts), unless the wait would pass ctx's deadline or Config.Deadline:
// then it returns false at once without waiting. err is ctx.Err() when ctx
// ends during the wait.
func (p *Pacer) Sleep(ctx context.Context, d time.Duration) (slept bool, err error) {
	if d <= 0 {
		return true, ctx.Err()
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false, nil
	}
	if dl := p.Deadline(); !dl.IsZero() && p.clock.Now().Add(d).After(dl) {
		return false, nil
	}
	return true, p.clock.Sleep(ctx, d)
}

// IsDeadline reports whether err is a pacer's *DeadlineError.
func IsDeadline(err error) bool {
	var de *DeadlineError
	return errors.As(err, &de)
}
