package devkit

import (
	"encoding/json"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxBodyBytes caps request bodies; a larger body fails to decode and
// the emulator answers with the vendor's error for an invalid body.
const DefaultMaxBodyBytes = 1 << 20

// Kit is what the servers of one `handoff dev` process share: one clock, one
// set of counters, one set of faults.
type Kit struct {
	Clock  *Clock
	Stats  *Stats
	Faults *Faults
}

// NewKit returns a Kit on the wall clock with no faults.
func NewKit() *Kit {
	return &Kit{Clock: NewClock(), Stats: &Stats{}, Faults: &Faults{}}
}

// FailFunc writes the vendor's own answer for an injected error status, so a
// client cannot tell an injected 503 from a real one.
type FailFunc func(w http.ResponseWriter, r *http.Request, status int)

// Router registers an emulator's routes and wraps each one with counting,
// latency, fault injection and a body size cap.
type Router struct {
	kit      *Kit
	mux      *http.ServeMux
	fail     FailFunc
	prefixes []string
	notFound http.HandlerFunc
	// MaxBodyBytes caps request bodies (DefaultMaxBodyBytes unless changed
	// before the first request).
	MaxBodyBytes int64
}

// NewRouter returns a router whose injected failures are written by fail.
// Every route is also served under each of prefixes (GitHub Enterprise
// Server's "/api/v3", for instance); counters key routes without the prefix.
func NewRouter(kit *Kit, fail FailFunc, prefixes ...string) *Router {
	return &Router{kit: kit, mux: http.NewServeMux(), fail: fail, prefixes: prefixes, MaxBodyBytes: DefaultMaxBodyBytes}
}

// Handle registers h for pattern, a net/http ServeMux pattern with a method,
// e.g. "POST /app/installations/{installation_id}/access_tokens". Path values
// are read with r.PathValue as usual.
func (rt *Router) Handle(pattern string, h http.HandlerFunc) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		panic("devkit: route pattern must be \"METHOD /path\": " + pattern)
	}
	wrapped := rt.wrap(pattern, h)
	rt.mux.HandleFunc(pattern, wrapped)
	for _, p := range rt.prefixes {
		rt.mux.HandleFunc(method+" "+p+path, wrapped)
	}
}

// NotFound registers the answer for requests no route matches (the vendor's
// 404 body). Such requests are counted as "unmatched" and see faults too.
func (rt *Router) NotFound(h http.HandlerFunc) {
	rt.notFound = rt.wrap("unmatched", h)
	rt.mux.HandleFunc("/", rt.notFound)
}

// ServeHTTP dispatches to the registered routes and, under /_dev/, to the
// control endpoints of the kit (never counted, never faulted).
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_dev/") {
		rt.kit.ServeDev(w, r)
		return
	}
	// net/http's mux answers unclean paths ("//x", "/a/../b") with a
	// redirect and an HTML page, which no vendor API does: they are simply
	// not found.
	if rt.notFound != nil && r.URL.Path != "/" && path.Clean(r.URL.Path) != r.URL.Path {
		rt.notFound(w, r)
		return
	}
	rt.mux.ServeHTTP(w, r)
}

func (rt *Router) wrap(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rt.kit.Stats.Record(route)
		delay, fault := rt.kit.Faults.decide(route, r.Method, r.URL.Path)
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if fault != nil {
			if fault.Drop {
				abortConnection()
			}
			if fault.Status != 0 {
				if fault.RetryAfter > 0 {
					w.Header().Set("Retry-After", strconv.Itoa(int((fault.RetryAfter+time.Second-1)/time.Second)))
				}
				rt.fail(w, r, fault.Status)
				return
			}
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, rt.MaxBodyBytes)
		}
		h(w, r)
	}
}

// ServeDev serves the control endpoints shared by every emulator:
//
//	GET  /_dev/stats         {"total": n, "routes": {"GET /app": n, ...}}
//	POST /_dev/stats/reset
//	GET  /_dev/clock         {"now": RFC 3339, "offset": "1h0m0s"}
//	POST /_dev/clock         {"advance": "61m"} or {"set": RFC 3339}
//	GET  /_dev/faults        {"latency": "20ms", "jitter": "0s", "faults": [...]}
//	POST /_dev/faults        {"fault": "ROUTE=ACTION,..."} or {"latency": "20ms", "jitter": "5ms"}
//	DELETE /_dev/faults      removes every fault and the latency
func (k *Kit) ServeDev(w http.ResponseWriter, r *http.Request) {
	switch r.Method + " " + r.URL.Path {
	case "GET /_dev/stats":
		writeDevJSON(w, http.StatusOK, map[string]any{"total": k.Stats.Total(), "routes": k.Stats.Snapshot()})
	case "POST /_dev/stats/reset":
		k.Stats.Reset()
		writeDevJSON(w, http.StatusOK, map[string]any{"total": 0})
	case "GET /_dev/clock":
		k.writeClock(w)
	case "POST /_dev/clock":
		var body struct {
			Advance string `json:"advance"`
			Set     string `json:"set"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil {
			writeDevJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"advance\": DURATION} or {\"set\": RFC3339}: " + err.Error()})
			return
		}
		switch {
		case body.Advance != "":
			d, err := time.ParseDuration(body.Advance)
			if err != nil {
				writeDevJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			k.Clock.Advance(d)
		case body.Set != "":
			t, err := time.Parse(time.RFC3339, body.Set)
			if err != nil {
				writeDevJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			k.Clock.Set(t)
		}
		k.writeClock(w)
	case "GET /_dev/faults":
		k.writeFaults(w)
	case "POST /_dev/faults":
		var body struct {
			Fault   string `json:"fault"`
			Latency string `json:"latency"`
			Jitter  string `json:"jitter"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil {
			writeDevJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if body.Fault != "" {
			f, err := ParseFault(body.Fault)
			if err != nil {
				writeDevJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			k.Faults.Add(f)
		}
		if body.Latency != "" || body.Jitter != "" {
			lat, err1 := parseOptionalDuration(body.Latency)
			jit, err2 := parseOptionalDuration(body.Jitter)
			if err1 != nil || err2 != nil {
				writeDevJSON(w, http.StatusBadRequest, map[string]string{"error": "latency and jitter must be durations such as 20ms"})
				return
			}
			k.Faults.SetLatency(lat, jit)
		}
		k.writeFaults(w)
	case "DELETE /_dev/faults":
		k.Faults.Clear()
		k.writeFaults(w)
	default:
		writeDevJSON(w, http.StatusNotFound, map[string]string{"error": "unknown dev endpoint " + r.Method + " " + r.URL.Path})
	}
}

func (k *Kit) writeClock(w http.ResponseWriter) {
	writeDevJSON(w, http.StatusOK, map[string]string{
		"now":    k.Clock.Now().Format(time.RFC3339),
		"offset": k.Clock.Offset().Round(time.Second).String(),
	})
}

func (k *Kit) writeFaults(w http.ResponseWriter) {
	lat, jit := k.Faults.Latency()
	writeDevJSON(w, http.StatusOK, map[string]any{"latency": lat.String(), "jitter": jit.String(), "faults": k.Faults.List()})
}

func parseOptionalDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

func writeDevJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
