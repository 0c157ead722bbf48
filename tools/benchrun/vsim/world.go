package vsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/devserver"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/workspace"
)

// LimitsOff is the limits profile of a world whose rate limits are
// switched off (devserver.Servers.NoRateLimits), as reports name it.
const LimitsOff = "off (every vendor)"

// Options configure a World.
type Options struct {
	// Dir holds the GitOps repository (Dir/gitops), the App key and the
	// servers' state file. Required.
	Dir string
	// Latency is added by the servers to every request, on the bubble's
	// clock.
	Latency time.Duration
	// NoLimits switches every server's rate limits off and tells the
	// clients so (they pace to nothing): the world's Limits say so.
	NoLimits bool
}

// World is the dev servers behind an in-memory transport and a GitOps
// directory, on the bubble's clock.
type World struct {
	// Servers are the emulators; their clock follows the bubble's.
	Servers *devserver.Servers
	// Repo is the GitOps directory (handoff.hcl and specs/).
	Repo string

	opts      Options
	kit       *devkit.Kit
	stateFile string
	transport *memTransport
	env       map[string]string
}

// The hosts of the servers: loopback addresses (the clients refuse plain
// http elsewhere) that nothing listens on: the transport never dials.
var hosts = []struct{ name, host string }{
	{"GitHub", "127.0.0.1:1001"},
	{"Infisical", "127.0.0.1:1002"},
	{"Cloudflare", "127.0.0.1:1003"},
	{"AWS", "127.0.0.1:1004"},
	{"Heroku", "127.0.0.1:1005"},
}

// NewWorld builds the servers (default fixtures, fresh state) and the
// repository directory.
func NewWorld(opts Options) (*World, error) {
	if opts.Dir == "" {
		return nil, errors.New("vsim: no Dir")
	}
	w := &World{opts: opts, Repo: filepath.Join(opts.Dir, "gitops"), stateFile: filepath.Join(opts.Dir, "devstate.json"),
		transport: &memTransport{handlers: map[string]http.Handler{}, vendors: map[string]string{}, announced: map[Announced]int64{}}}
	// NewClock follows time.Now, which is the bubble's clock.
	w.kit = devkit.NewKit()
	if err := w.open(opts.NoLimits); err != nil {
		return nil, err
	}
	return w, nil
}

// open (re)builds the servers from the state file, if any, with or
// without their rate limits.
func (w *World) open(noLimits bool) error {
	s, err := devserver.New(devserver.Options{Kit: w.kit, StateFile: w.stateFile})
	if err != nil {
		return err
	}
	if noLimits {
		s.NoRateLimits()
	}
	w.opts.NoLimits = noLimits
	urls := []*string{&s.GitHubURL, &s.InfisicalURL, &s.CloudflareURL, &s.AWSURL, &s.HerokuURL}
	handlers := []http.Handler{s.GitHub, s.Infisical, s.Cloudflare, s.AWS, s.Heroku}
	w.transport.mu.Lock()
	for i, h := range hosts {
		*urls[i] = "http://" + h.host
		w.transport.handlers[h.host] = handlers[i]
		w.transport.vendors[h.host] = h.name
	}
	w.transport.mu.Unlock()
	keyFile := filepath.Join(w.opts.Dir, "app.pem")
	if err := s.WriteKeyFile(keyFile); err != nil {
		return err
	}
	env := s.Env(keyFile)
	// The CLI reads the dev clock over the network; here every clock is
	// the bubble's already.
	delete(env, workspace.EnvDevClockURL)
	// A fixed commit: no `git rev-parse` per run.
	env["GITHUB_SHA"] = "0000000000000000000000000000000000000000"
	w.Servers, w.env = s, env
	w.kit.Faults.SetLatency(w.opts.Latency, 0)
	return nil
}

// Reopen saves the servers' state and builds them again from it, with or
// without their rate limits (a setup made with the limits off, then the
// vendors' defaults): the windows counted so far are forgotten, as after a
// restart.
func (w *World) Reopen(noLimits bool) error {
	if err := w.Servers.SaveState(); err != nil {
		return err
	}
	return w.open(noLimits)
}

// Limits says which rate limits the servers enforce.
func (w *World) Limits() string {
	if w.opts.NoLimits {
		return LimitsOff
	}
	return w.Servers.LimitsSummary()
}

// Announced returns the budgets the servers announced in GitHub's
// rate-limit headers (x-ratelimit-resource with x-ratelimit-limit): limits
// the pacer's models know only from the answers, with how many answers
// announced each.
func (w *World) Announced() []AnnouncedCount {
	return w.transport.announcedCounts()
}

// RunOptions tune one Run.
type RunOptions struct {
	// Parallelism is apply's (default apply.DefaultParallelism).
	Parallelism int
	// Progress receives apply's numbered steps (nil: discarded).
	Progress io.Writer
}

// Run is what one `handoff apply -auto-approve` did.
type Run struct {
	// Start and End are on the bubble's clock: End−Start is the run's
	// virtual time, plan included.
	Start, End time.Time
	// Planned counts the plan's operations by kind (create, refresh, …);
	// Done the ones that converged.
	Planned, Done map[string]int
	// Failed counts the handoffs whose run failed; RateLimited those of
	// them failed by a rate limit (a 429 or a wait past a deadline),
	// which the user sees.
	Failed, RateLimited int
	// Errors are the first few failures (they never hold a secret).
	Errors []string
	// Stats are the pacer's counts per vendor, class and route.
	Stats []pace.Stat
	// Models are the pacer's models of the vendors' limits.
	Models []pace.Model
	// Live is the state the plan was made from.
	Live *state.Live
	// Expiries are, per slug of the live state, the earliest expiry of
	// the short-lived credentials of its active manifest (the gate
	// refuses the handoff from then until a refresh).
	Expiries map[string]time.Time
	// Finished is when each converged handoff's run ended, by slug.
	Finished map[string]time.Time
	// Ops is what each handoff of the plan was to undergo, by slug.
	Ops map[string]string
	// Notes are the first lines apply wrote about its lease ("lock: …"),
	// such as a lease that lapsed.
	Notes []string
}

// Totals sums the pacer's counts of the run.
func (r Run) Totals() pace.Counts {
	var c pace.Counts
	for _, s := range r.Stats {
		c.Requests += s.Requests
		c.Waits += s.Waits
		c.Waited += s.Waited
		c.Limited += s.Limited
	}
	return c
}

// Virtual is the run's virtual time.
func (r Run) Virtual() time.Duration { return r.End.Sub(r.Start) }

// Run does what `handoff apply -auto-approve` does on the repository: load
// and check the specs, read the live state and plan, and apply the plan
// when it changes anything, with a fresh workspace (its own clients and
// pacer, as a new process has).
func (w *World) Run(ctx context.Context, o RunOptions) (r Run, err error) {
	r = Run{Start: time.Now(), Planned: map[string]int{}, Done: map[string]int{}, Expiries: map[string]time.Time{},
		Finished: map[string]time.Time{}, Ops: map[string]string{}}
	env := w.env
	ws, diags := workspace.Load(ctx, w.Repo, func(k string) string { return env[k] })
	if diags.HasErrors() {
		return r, fmt.Errorf("vsim: loading %s: %s", w.Repo, diags.Error())
	}
	ws.Version = "vsim"
	ws.HTTP = httpx.Config{Transport: w.transport}
	defer func() {
		r.Stats, r.Models, r.End = ws.Pacer().Stats(), ws.Pacer().Models(), time.Now()
	}()
	p, live, pdiags, perr := ws.Plan(ctx)
	err = perr
	if err != nil {
		return r, fmt.Errorf("vsim: plan: %w", err)
	}
	if pdiags.HasErrors() {
		return r, fmt.Errorf("vsim: plan: %s", pdiags.Error())
	}
	r.Live = live
	reg := ws.Registry()
	for slug, lh := range live.Handoffs {
		m := lh.Manifest
		if m == nil || m.Status != manifest.Active {
			continue
		}
		for _, e := range reg.Expiries(m) {
			if e.At.IsZero() || !e.At.Before(m.ExpiresAt) {
				continue // lives as long as the handoff: never refreshed
			}
			if at, ok := r.Expiries[slug]; !ok || e.At.Before(at) {
				r.Expiries[slug] = e.At
			}
		}
	}
	for _, h := range p.Handoffs {
		if h.Operation != nil {
			op := string(h.Operation.Kind)
			r.Planned[op]++
			r.Ops[h.Slug] = op
		}
	}
	if !p.HasChanges() {
		return r, nil
	}
	v, err := ws.Vault()
	if err != nil {
		return r, err
	}
	if ws.UsesGitHub() {
		if _, err := ws.GitHub(); err != nil {
			return r, err
		}
	}
	var mu sync.Mutex
	notes := &noteWriter{next: o.Progress}
	defer func() { r.Notes = notes.lines() }()
	deps := apply.Deps{
		Vault: v, Readers: ws.Readers(), Registry: reg, Repo: ws.Repo, Now: ws.Now, Progress: notes,
		Config:      apply.Config{Root: ws.Settings.HandoffRoot, Environment: ws.Settings.Environment},
		Lock:        apply.LockOptions{Owner: "vsim"},
		Parallelism: o.Parallelism,
		Done: func(h apply.HandoffReport) {
			if h.Err != nil {
				return
			}
			mu.Lock()
			r.Finished[h.Slug] = time.Now()
			mu.Unlock()
		},
	}
	rep, err := apply.Apply(ctx, p, deps)
	for _, h := range rep.Handoffs {
		if h.Err != nil {
			r.Failed++
			if RateLimited(h.Err) {
				r.RateLimited++
			}
			if len(r.Errors) < 3 {
				r.Errors = append(r.Errors, h.Slug+": "+h.Err.Error())
			}
			continue
		}
		if h.Op != "" {
			r.Done[h.Op]++
		}
	}
	if err != nil && len(rep.Handoffs) == 0 {
		return r, fmt.Errorf("vsim: apply: %w", err)
	}
	return r, nil
}

// noteWriter keeps the first lines of apply's progress about its lease
// that are not routine (acquired, released): a lapse, a failed renewal, a
// takeover. It passes everything on to next (if any).
type noteWriter struct {
	next  io.Writer
	mu    sync.Mutex
	notes []string
}

func (n *noteWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("lock: ")) {
		n.mu.Lock()
		for _, line := range strings.Split(string(p), "\n") {
			if strings.Contains(line, "lock: ") && !routineLock(line) && len(n.notes) < 3 {
				n.notes = append(n.notes, strings.TrimSpace(line))
			}
		}
		n.mu.Unlock()
	}
	if n.next != nil {
		return n.next.Write(p)
	}
	return len(p), nil
}

func routineLock(line string) bool {
	return strings.Contains(line, "lock: acquired") || strings.Contains(line, "lock: released")
}

func (n *noteWriter) lines() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.notes...)
}

// RateLimited reports whether err is a rate limit the user sees: a
// refusal (429, or GitHub's rate-limit 403) that came back to the caller,
// or a wait for a limit that would have passed a deadline.
func RateLimited(err error) bool {
	if err == nil {
		return false
	}
	if pace.IsDeadline(err) {
		return true
	}
	var api *httpx.APIError
	if errors.As(err, &api) && (api.Status == http.StatusTooManyRequests ||
		(api.Status == http.StatusForbidden && strings.Contains(strings.ToLower(api.Message), "rate limit"))) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, " 429 ") || strings.Contains(msg, "rate limit")
}

// memTransport hands every request to the handler of its host, in the
// caller's goroutine, the way net/http's server would see it from a
// loopback client.
type memTransport struct {
	mu        sync.Mutex
	handlers  map[string]http.Handler
	vendors   map[string]string
	announced map[Announced]int64
}

// Announced is a budget a server announced in GitHub's rate-limit headers.
type Announced struct {
	Vendor   string
	Resource string // x-ratelimit-resource ("core")
	Limit    int    // x-ratelimit-limit
}

// AnnouncedCount is an announced budget and how many answers announced it.
type AnnouncedCount struct {
	Announced
	Answers int64
}

func (t *memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	h, ok := t.handlers[req.URL.Host]
	vendor := t.vendors[req.URL.Host]
	t.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("vsim: no server at %s", req.URL.Host)
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	in := req.Clone(req.Context())
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.ContentLength = int64(len(body))
	in.RequestURI = req.URL.RequestURI()
	in.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	in.RemoteAddr = "127.0.0.1:40000"
	in.Host = req.URL.Host
	in.Proto, in.ProtoMajor, in.ProtoMinor = "HTTP/1.1", 1, 1
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, in)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	if resp.Header.Get("Date") == "" {
		// net/http's server sets it; the bubble's clock is the servers'.
		resp.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	if res := resp.Header.Get("X-RateLimit-Resource"); res != "" {
		var limit int
		if _, err := fmt.Sscan(resp.Header.Get("X-RateLimit-Limit"), &limit); err == nil && limit > 0 {
			t.mu.Lock()
			t.announced[Announced{Vendor: vendor, Resource: res, Limit: limit}]++
			t.mu.Unlock()
		}
	}
	resp.Request = req
	return resp, nil
}

func (t *memTransport) announcedCounts() []AnnouncedCount {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]AnnouncedCount, 0, len(t.announced))
	for a, n := range t.announced {
		out = append(out, AnnouncedCount{Announced: a, Answers: n})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Vendor != b.Vendor {
			return a.Vendor < b.Vendor
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		return a.Limit < b.Limit
	})
	return out
}
