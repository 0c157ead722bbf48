package pace

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kind is how a limit's window moves.
type Kind int

const (
	// Fixed windows start with the first request after the previous window
	// ended and last Window, as @fastify/rate-limit keeps them (Infisical).
	// The client cannot know exactly when the server's window began, so a
	// new window is opened only Model.Margin after the last one ended.
	Fixed Kind = iota
	// Rolling allows at most Max in any span of Window (plus Model.Margin).
	Rolling
	// Refill is a bucket of Max refilled gradually at Max per Window
	// (Heroku's 4,500 an hour, about 75 a minute).
	Refill
)

func (k Kind) String() string {
	switch k {
	case Fixed:
		return "fixed window"
	case Rolling:
		return "rolling window"
	case Refill:
		return "refilled bucket"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Scope says which requests share one count of a limit. Every count is
// also kept apart per account (WithAccount).
type Scope int

const (
	// PerRoute: each route (method and path template) has its own count.
	PerRoute Scope = iota
	// PerClass: the routes of one class share a count.
	PerClass
	// PerVendor: every request to the vendor's server shares a count.
	PerVendor
)

// Limit is one rule a vendor enforces.
type Limit struct {
	// Name says what is limited, in words ("points per endpoint"); empty
	// takes the words of the request's route ("secret writes").
	Name string
	// Max is how many requests (or points, see Cost) a Window allows. Zero
	// means the limit is known only from the server's headers (GitHub's
	// hourly limit): nothing is held back until a response names it.
	Max int
	// Window is the span Max applies to (one minute, one hour); zero only
	// for a limit known from headers that name their own reset.
	Window time.Duration
	// Kind is how the window moves.
	Kind Kind
	// Scope is which requests share the count.
	Scope Scope
	// Cost is a request's price in points (nil: 1 each); GitHub's secondary
	// limit charges 1 for a GET and 5 for a write.
	Cost func(method string) int
	// Headers says that the server's rate-limit headers (Model.Headers)
	// describe this limit: their remaining count and reset are adopted when
	// stricter than the model, and a refusal with them pauses this count
	// only. At most one limit of a request should say so.
	Headers bool
	// Reserve is how many points of each Fixed window are kept for urgent
	// requests (WithPriority) once the count has seen one: an ordinary
	// request waits for the next window rather than take them, and an
	// urgent one takes the first window with room, ahead of the ordinary
	// requests queued for later windows. Counts that never see an urgent
	// request keep all their points for ordinary ones. Ignored by Rolling
	// and Refill limits, where an urgent request waits its turn.
	Reserve int
}

func (l Limit) cost(method string) int {
	if l.Cost == nil {
		return 1
	}
	if c := l.Cost(method); c > 0 {
		return c
	}
	return 1
}

// Rate formats max per the limit's window: "40/min", "900 points/min",
// "5000/h", "1200/5 min".
func (l Limit) Rate(max int) string {
	unit := ""
	if l.Cost != nil {
		unit = " points"
	}
	if l.Window <= 0 {
		return strconv.Itoa(max) + unit + " per the server's window"
	}
	return strconv.Itoa(max) + unit + "/" + windowWords(l.Window)
}

func windowWords(w time.Duration) string {
	switch w {
	case time.Second:
		return "s"
	case time.Minute:
		return "min"
	case time.Hour:
		return "h"
	case 24 * time.Hour:
		return "day"
	}
	return Words(w)
}

// Route is a route template of a vendor and its rate-limit class.
type Route struct {
	Method string // "POST"
	Path   string // "/api/v4/secrets/{secretName}"
	// Class names the route's entry in Model.Classes ("secretsLimit").
	Class string
	// Words say what the route's requests are, for messages ("secret
	// writes"); empty takes Class.
	Words string
}

// String is "METHOD /path/{param}".
func (r Route) String() string { return r.Method + " " + r.Path }

func (r Route) words() string {
	if r.Words != "" {
		return r.Words
	}
	return r.Class
}

// Routes is a table of route templates. A request path matches a template
// with as many segments whose literal segments are equal; "{name}" matches
// any non-empty segment. When several match, the one with the most literal
// segments wins ("/api/v4/secrets/batch" over "/api/v4/secrets/{secretName}").
type Routes struct {
	byMethod map[string][]compiledRoute
}

type compiledRoute struct {
	route    Route
	segs     []string // "" for a parameter
	literals int
}

// NewRoutes compiles routes into a table.
func NewRoutes(routes []Route) *Routes {
	t := &Routes{byMethod: map[string][]compiledRoute{}}
	for _, r := range routes {
		segs := splitPath(r.Path)
		c := compiledRoute{route: r, segs: make([]string, len(segs))}
		for i, s := range segs {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				continue
			}
			c.segs[i] = s
			c.literals++
		}
		m := strings.ToUpper(r.Method)
		t.byMethod[m] = append(t.byMethod[m], c)
	}
	return t
}

// Len is the number of routes in the table.
func (t *Routes) Len() int {
	n := 0
	for _, rs := range t.byMethod {
		n += len(rs)
	}
	return n
}

// Match finds the template of a request path (without query).
func (t *Routes) Match(method, path string) (Route, bool) {
	if t == nil {
		return Route{}, false
	}
	segs := splitPath(path)
	best, found := compiledRoute{literals: -1}, false
	for _, c := range t.byMethod[strings.ToUpper(method)] {
		if len(c.segs) != len(segs) || c.literals <= best.literals {
			continue
		}
		ok := true
		for i, s := range c.segs {
			if (s == "" && segs[i] == "") || (s != "" && s != segs[i]) {
				ok = false
				break
			}
		}
		if ok {
			best, found = c, true
		}
	}
	return best.route, found
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// genericPath stands for a path no template matched: segments that look
// like ids (all digits, or 16 characters or more with a digit, as UUIDs
// are) become "{id}", so that one route is not split per object.
func genericPath(p string) string {
	segs := splitPath(p)
	for i, s := range segs {
		digits := strings.Trim(s, "0123456789")
		if s != "" && (digits == "" || (len(s) >= 16 && len(digits) < len(s))) {
			segs[i] = "{id}"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// HeaderNames are the response headers that carry a server's rate-limit
// view. Empty names are not read.
type HeaderNames struct {
	// Limit is the maximum of the window ("X-RateLimit-Limit").
	Limit string
	// Remaining is how many requests the window still allows
	// ("X-RateLimit-Remaining", Heroku's "RateLimit-Remaining").
	Remaining string
	// Reset is when the window ends: seconds from now (Infisical) or epoch
	// seconds (GitHub); a value above 10^9 is read as epoch seconds, taken
	// relative to the response's Date header.
	Reset string
}

// XRateLimit are the x-ratelimit-* headers Infisical and GitHub send.
var XRateLimit = HeaderNames{Limit: "X-RateLimit-Limit", Remaining: "X-RateLimit-Remaining", Reset: "X-RateLimit-Reset"}

// Model is what a pacer knows of one vendor's limits.
type Model struct {
	// Vendor names the vendor in messages ("Infisical", "GitHub").
	Vendor string
	// Routes classifies requests; a request no route matches gets Default.
	Routes *Routes
	// Default is the class of requests no route matches.
	Default string
	// Classes are the limits of each class, by Route.Class.
	Classes map[string][]Limit
	// Limits apply to every request besides those of its class.
	Limits []Limit
	// Concurrency caps the requests in flight at once (0: no cap).
	Concurrency int
	// Headers name the server's rate-limit headers (zero: XRateLimit).
	Headers HeaderNames
	// Limited says whether an answer is a rate-limit refusal: the server
	// did not act, and the request is repeated after the wait the answer
	// names. body is at most the first 64 KiB of a 403 or 429 answer (nil
	// for other statuses). Nil: DefaultLimited.
	Limited func(status int, h http.Header, body []byte) bool
	// Pause is how long a refusal that names no wait pauses the vendor
	// (GitHub asks for at least a minute). Zero: the HTTP layer backs off
	// as it does after an error.
	Pause time.Duration
	// Margin is added to every Fixed and Rolling window and to resets the
	// server announces, for the latency between our send and the server's
	// count (default 1 s). A request that reaches the network later than
	// Margin after its reserved time takes a new place.
	Margin time.Duration
}

// DefaultLimited holds for a 429, and for a 403 that says the rate limit is
// exhausted (x-ratelimit-remaining: 0).
func DefaultLimited(status int, h http.Header, _ []byte) bool {
	return status == http.StatusTooManyRequests ||
		(status == http.StatusForbidden && h.Get("X-RateLimit-Remaining") == "0")
}

// Wait is one wait of a request for a limit, as reported to Config.OnWait.
type Wait struct {
	// Vendor is the model's vendor ("Infisical").
	Vendor string
	// Class says which requests the limit counts, in words ("secret
	// writes"); empty for a pause the server asked for on the whole vendor.
	Class string
	// Limit is the limit's rate ("40/min"); empty when the wait is the
	// server's own (Asked).
	Limit string
	// Route is the waiting request's route ("POST /api/v4/secrets/batch").
	Route string
	// Delay is how long it waits.
	Delay time.Duration
	// Asked says the wait comes from the server's answer (Retry-After, or
	// its rate-limit headers) rather than from the model.
	Asked bool
}

// String is the line the CLI prints: "waiting 38 s for Infisical's limit on
// secret writes, 40/min".
func (w Wait) String() string {
	return "waiting " + Words(w.Delay) + " for " + w.what()
}

func (w Wait) what() string {
	switch {
	case w.Class == "":
		return w.Vendor + ", as it asked"
	case w.Asked && w.Limit == "":
		return w.Vendor + "'s limit on " + w.Class + ", as the server asked"
	case w.Asked:
		return w.Vendor + "'s limit on " + w.Class + ", " + w.Limit + ", as the server counts it"
	}
	return w.Vendor + "'s limit on " + w.Class + ", " + w.Limit
}

// DeadlineError is the failure of a request whose wait for a limit would
// pass the caller's deadline. No request was sent for it.
type DeadlineError struct {
	Wait Wait
	// Left is how much time the deadline left (zero or negative when it has
	// already passed).
	Left time.Duration
}

// Error says which vendor, which limit and how long: "Infisical's limit on
// secret writes (40/min) needs a 38 s wait, past the deadline of this run".
func (e *DeadlineError) Error() string {
	w := e.Wait
	var what string
	switch {
	case w.Class == "":
		what = w.Vendor + " asked for a " + Words(w.Delay) + " wait"
	case w.Limit == "":
		what = w.Vendor + "'s limit on " + w.Class + " needs a " + Words(w.Delay) + " wait (the server's count)"
	default:
		what = w.Vendor + "'s limit on " + w.Class + " (" + w.Limit + ") needs a " + Words(w.Delay) + " wait"
	}
	left := ""
	if e.Left > 0 {
		left = " (" + Words(e.Left) + " left)"
	}
	return fmt.Sprintf("%s before %s, past the deadline of this run%s", what, w.Route, left)
}

// Temporary is true: a later run, or a later deadline, gets through.
func (e *DeadlineError) Temporary() bool { return true }

// Words writes a duration for people: "38 s", "2 min 5 s", "1 h 3 min",
// "250 ms".
func Words(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 s"
	case d < time.Second:
		return strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10) + " ms"
	}
	s := int64((d + time.Second - 1) / time.Second) // round up: never promise less
	h, m := s/3600, s%3600/60
	s %= 60
	var parts []string
	if h > 0 {
		parts = append(parts, strconv.FormatInt(h, 10)+" h")
	}
	if m > 0 {
		parts = append(parts, strconv.FormatInt(m, 10)+" min")
	}
	if s > 0 && h == 0 {
		parts = append(parts, strconv.FormatInt(s, 10)+" s")
	}
	return strings.Join(parts, " ")
}
