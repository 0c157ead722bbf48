package cloudflaresrv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/contracttest"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// testNow is where every test's frozen clock starts.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// env is a server under test with its HTTP front.
type env struct {
	t      testing.TB
	srv    *Server
	kit    *devkit.Kit
	ts     *httptest.Server
	client *http.Client
	base   string // ts.URL + BasePath
	prov   string // the provisioner token's value
}

// newEnv starts the default fixture (changed by mutate) on a frozen clock.
func newEnv(t testing.TB, mutate func(*Fixture)) *env {
	t.Helper()
	fx := DefaultFixture()
	if mutate != nil {
		mutate(&fx)
	}
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	srv, err := New(kit, fx)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, srv: srv, kit: kit, ts: ts, client: ts.Client(), base: ts.URL + BasePath, prov: srv.ProvisionerToken()}
}

// contract wraps the env's client with the Cloudflare contract validator.
func (e *env) contract() *contracttest.Validator {
	v := contracttest.MustNew(e.t, contracttest.Cloudflare, e.base)
	e.client = &http.Client{Transport: v.Transport(e.t, e.ts.Client().Transport, "/_dev/")}
	return v
}

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	raw    []byte
	env    struct {
		Success    bool            `json:"success"`
		Errors     []cfMessage     `json:"errors"`
		Messages   []cfMessage     `json:"messages"`
		Result     json.RawMessage `json:"result"`
		ResultInfo *resultInfo     `json:"result_info"`
	}
}

// code is the first error code of a failure (0 when there is none).
func (a *answer) code() int {
	if len(a.env.Errors) == 0 {
		return 0
	}
	return a.env.Errors[0].Code
}

func (a *answer) result(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.env.Result, v); err != nil {
		t.Fatalf("decode result %s: %v", a.env.Result, err)
	}
}

// do sends a request with the given bearer token ("" for none) and body
// (marshalled unless it is a string or nil).
func (e *env) do(method, path, tok string, body any, headers ...string) *answer {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	a := &answer{status: resp.StatusCode, header: resp.Header}
	a.raw, _ = io.ReadAll(resp.Body)
	if err := json.Unmarshal(a.raw, &a.env); err != nil {
		e.t.Fatalf("%s %s: %d body is not JSON: %s", method, path, resp.StatusCode, a.raw)
	}
	return a
}

// expect checks the status and, for a failure, the first error code.
func expect(t testing.TB, a *answer, status, code int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
	if status >= 400 {
		if a.env.Success || a.code() != code {
			t.Fatalf("error code %d (success %v), want %d: %s", a.code(), a.env.Success, code, a.raw)
		}
	} else if !a.env.Success {
		t.Fatalf("success false on %d: %s", status, a.raw)
	}
}

// minted is a token created through the API.
type minted struct {
	ID    string
	Value string
}

// tokenBody builds a token body with one allow policy of the named groups
// on the given resources.
func (e *env) tokenBody(name string, groups []string, resources map[string]any) map[string]any {
	e.t.Helper()
	var pgs []map[string]string
	for _, n := range groups {
		g, ok := e.srv.PermissionGroupByName(n)
		if !ok {
			e.t.Fatalf("no permission group %q", n)
		}
		pgs = append(pgs, map[string]string{"id": g.ID})
	}
	return map[string]any{"name": name, "policies": []any{map[string]any{
		"effect": "allow", "permission_groups": pgs, "resources": resources,
	}}}
}

// mint creates a token with the provisioner and returns its id and value.
func (e *env) mint(body map[string]any) minted {
	e.t.Helper()
	a := e.do("POST", "/user/tokens", e.prov, body)
	expect(e.t, a, 200, 0)
	var res struct {
		ID    string `json:"id"`
		Value string `json:"value"`
	}
	a.result(e.t, &res)
	if res.ID == "" || res.Value == "" {
		e.t.Fatalf("created token lacks an id or value: %s", a.raw)
	}
	return minted{ID: res.ID, Value: res.Value}
}

func zoneRes(id string) map[string]any { return map[string]any{ScopeZone + "." + id: "*"} }
