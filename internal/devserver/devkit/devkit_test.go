package devkit

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"GET /app", "GET /app", true},
		{"GET /app", "GET /apps", false},
		{"*", "POST /x/y", true},
		{"POST /app/installations/*/access_tokens", "POST /app/installations/7/access_tokens", true},
		{"POST /app/installations/*/access_tokens", "GET /app/installations/7/access_tokens", false},
		{"* /api/v4/secrets*", "DELETE /api/v4/secrets/FOO", true},
		{"GET *", "POST /x", false},
		{"*/token", "DELETE /installation/token", true},
	}
	for _, c := range cases {
		if got := globMatch(c.pattern, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestParseFault(t *testing.T) {
	good := map[string]Fault{
		"POST /app/installations/*/access_tokens=503,nth=2": {Route: "POST /app/installations/*/access_tokens", Status: 503, Nth: 2},
		"*=429,rate=0.5,retry-after=2s":                     {Status: 429, Rate: 0.5, RetryAfter: 2 * time.Second},
		"GET /api/v4/secrets=drop,count=1":                  {Route: "GET /api/v4/secrets", Drop: true, Count: 1},
		"*=delay,delay=3s":                                  {Delay: 3 * time.Second},
	}
	for in, want := range good {
		got, err := ParseFault(in)
		if err != nil || got != want {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "GET /x", "GET /x=200", "GET /x=abc", "*=500,nth", "*=500,rate=2", "*=500,colour=red", "*=delay"} {
		if _, err := ParseFault(bad); err == nil {
			t.Errorf("ParseFault(%q) accepted", bad)
		}
	}
}

func newTestRouter(kit *Kit) *Router {
	rt := NewRouter(kit, func(w http.ResponseWriter, r *http.Request, status int) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"injected":true}`)
	}, "/api/v3")
	rt.Handle("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "thing "+r.PathValue("id"))
	})
	rt.Handle("POST /things", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				return
			}
		}
		w.WriteHeader(http.StatusCreated)
	})
	rt.NotFound(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
	return rt
}

func get(t *testing.T, srv *httptest.Server, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		return 0, err.Error(), nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestRouterCountsPrefixesAndFaults(t *testing.T) {
	kit := NewKit()
	srv := httptest.NewServer(newTestRouter(kit))
	defer srv.Close()

	if code, body, _ := get(t, srv, "/things/7"); code != 200 || body != "thing 7" {
		t.Fatalf("GET /things/7 = %d %q", code, body)
	}
	if code, body, _ := get(t, srv, "/api/v3/things/8"); code != 200 || body != "thing 8" {
		t.Fatalf("GET /api/v3/things/8 = %d %q", code, body)
	}
	if code, _, _ := get(t, srv, "/nowhere"); code != 404 {
		t.Fatalf("unmatched = %d", code)
	}
	if n := kit.Stats.Count("GET /things/{id}"); n != 2 {
		t.Errorf("count = %d, want 2 (prefix counted under the bare route)", n)
	}
	if n := kit.Stats.Count("unmatched"); n != 1 {
		t.Errorf("unmatched count = %d", n)
	}

	// The second matching request fails with the vendor's body and Retry-After.
	kit.Faults.Add(Fault{Route: "GET /things/*", Status: 503, Nth: 2, RetryAfter: 1500 * time.Millisecond})
	codes := []int{}
	var retry string
	for range 3 {
		code, body, h := get(t, srv, "/things/1")
		codes = append(codes, code)
		if code == 503 {
			retry = h.Get("Retry-After")
			if body != `{"injected":true}` {
				t.Errorf("fault body = %q", body)
			}
		}
	}
	if codes[0] != 200 || codes[1] != 503 || codes[2] != 200 {
		t.Errorf("codes = %v, want [200 503 200]", codes)
	}
	if retry != "2" {
		t.Errorf("Retry-After = %q, want 2 (rounded up)", retry)
	}

	// A dropped connection is an error at the client, not a response. (On a
	// fresh connection: net/http silently retries an idempotent request that
	// failed on a reused one.)
	kit.Faults.Clear()
	kit.Faults.Add(Fault{Route: "GET /things/{id}", Drop: true, Count: 1})
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := fresh.Get(srv.URL + "/things/1"); err == nil {
		resp.Body.Close()
		t.Errorf("dropped request got status %d", resp.StatusCode)
	}
	if code, _, _ := get(t, srv, "/things/1"); code != 200 {
		t.Errorf("after Count=1 fault: %d", code)
	}
}

func TestRouterCapsBodies(t *testing.T) {
	kit := NewKit()
	rt := newTestRouter(kit)
	rt.MaxBodyBytes = 10
	srv := httptest.NewServer(rt)
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL+"/things", "application/json", strings.NewReader(strings.Repeat("x", 100)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", resp.StatusCode)
	}
}

func TestDevEndpoints(t *testing.T) {
	kit := &Kit{Clock: NewFrozenClock(time.Date(2026, 6, 21, 0, 0, 0, 0, time.UTC)), Stats: &Stats{}, Faults: &Faults{}}
	srv := httptest.NewServer(newTestRouter(kit))
	defer srv.Close()
	post := func(path, body string) (int, map[string]any) {
		resp, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if code, m := post("/_dev/clock", `{"advance":"61m"}`); code != 200 || m["now"] != "2026-06-21T01:01:00Z" {
		t.Errorf("advance: %d %v", code, m)
	}
	if code, _ := post("/_dev/clock", `{"advance":"soon"}`); code != 400 {
		t.Errorf("bad advance: %d", code)
	}
	if code, m := post("/_dev/faults", `{"fault":"GET /things/*=500","latency":"1ms"}`); code != 200 || len(m["faults"].([]any)) != 1 {
		t.Errorf("add fault: %d %v", code, m)
	}
	if code, _, _ := get(t, srv, "/things/1"); code != 500 {
		t.Errorf("fault via /_dev not applied: %d", code)
	}
	if code, body, _ := get(t, srv, "/_dev/stats"); code != 200 || !strings.Contains(body, `"GET /things/{id}":1`) {
		t.Errorf("stats: %d %s", code, body)
	}
	if code, _ := post("/_dev/stats/reset", ``); code != 200 || kit.Stats.Total() != 0 {
		t.Errorf("reset: %d total=%d", code, kit.Stats.Total())
	}
}

func TestClock(t *testing.T) {
	c := NewClock()
	before := c.Now()
	c.Advance(time.Hour)
	if d := c.Now().Sub(before); d < time.Hour || d > time.Hour+time.Minute {
		t.Errorf("advance by 1h moved %v", d)
	}
	target := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Set(target)
	if d := c.Now().Sub(target); d < 0 || d > time.Minute {
		t.Errorf("Set: now is %v from target", d)
	}
}

func TestUncleanPathsAreNotFound(t *testing.T) {
	srv := httptest.NewServer(newTestRouter(NewKit()))
	defer srv.Close()
	for _, p := range []string{"//things/1", "/things/../things/1", "/things/./1"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.URL.Path = p // keep it unclean on the wire
		resp, err := srv.Client().Transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d, want the vendor's 404 (no redirect)", p, resp.StatusCode)
		}
	}
}
