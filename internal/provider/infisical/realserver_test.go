package infisical

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/contracttest"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// realServer answers the batch-secret routes and the privilege update as a
// real Infisical server was observed to (reference infisical.md, "Observed
// on a real server (2026-12-05)"): all-or-nothing batches with the exact
// messages, answers not in request order, and a PATCH of a privilege that
// requires slug, permissions and type (422 naming each one missing). Every
// exchange is checked against the vendor contract.
type realServer struct {
	t  *testing.T
	mu sync.Mutex
	// folders holds "env:/path" of the folders that exist.
	folders map[string]bool
	secrets map[string]map[string]*fakeSecret // "env:/path" -> key
	privs   map[string]map[string]any
	// demand are fields the privilege update requires besides the real
	// ones: a server newer than the client.
	demand []string
	// bodies are the request bodies received, by "METHOD path".
	bodies map[string][]map[string]any
}

type fakeSecret struct {
	value, comment string
	version        int
}

const (
	fakeProject = "proj-1"
	fakeEnv     = "dev"
	fakeFolder  = "/handoffs/checkout"
	fakePrivID  = "priv-1"
)

func newRealServer(t *testing.T) (*realServer, *Client, *pace.VirtualClock) {
	s := &realServer{t: t, folders: map[string]bool{fakeEnv + ":" + fakeFolder: true},
		secrets: map[string]map[string]*fakeSecret{}, privs: map[string]map[string]any{},
		bodies: map[string][]map[string]any{}}
	s.privs[fakePrivID] = map[string]any{"id": fakePrivID, "slug": "handoff-checkout", "isTemporary": true, "temporaryMode": "relative",
		"temporaryRange": "2h", "temporaryAccessStartTime": "2026-12-05T09:00:00Z", "temporaryAccessEndTime": "2026-12-05T11:00:00Z",
		"permissions": []any{}, "createdAt": "2026-12-05T09:00:00Z", "updatedAt": "2026-12-05T09:00:00Z"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/universal-auth/login", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, map[string]any{"accessToken": "access-token-DO-NOT-PRINT", "expiresIn": 900, "accessTokenMaxTTL": 900, "tokenType": "Bearer"})
	})
	mux.HandleFunc("/api/v4/secrets/batch", s.batch)
	mux.HandleFunc("PATCH /api/v2/identity-project-additional-privilege/{id}", s.updatePrivilege)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	clock := pace.NewVirtualClock(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	v := contracttest.MustNew(t, contracttest.Infisical, srv.URL)
	c, err := New(Config{SiteURL: srv.URL, ClientID: "cid", ClientSecret: testSecret, ProjectID: fakeProject,
		HTTP: httpx.Config{Transport: v.Transport(t, nil), MinWait: time.Millisecond, MaxWait: time.Millisecond,
			Pacer: pace.New(pace.Config{Clock: clock})}})
	if err != nil {
		t.Fatal(err)
	}
	return s, c, clock
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func replyError(w http.ResponseWriter, status int, name string, msg any) {
	reply(w, status, map[string]any{"reqId": "req-fake", "statusCode": status, "message": msg, "error": name})
}

func (s *realServer) record(r *http.Request, route string) map[string]any {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	s.bodies[route] = append(s.bodies[route], body)
	return body
}

func (s *realServer) count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies[route])
}

func (s *realServer) batch(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := s.record(r, r.Method+" /api/v4/secrets/batch")
	if _, ok := body["projectId"].(string); !ok {
		replyError(w, 422, "ValidationFailure", []any{map[string]any{"code": "invalid_type", "path": []any{"projectId"}, "message": "Required"}})
		return
	}
	env, _ := body["environment"].(string)
	path, _ := body["secretPath"].(string)
	items, _ := body["secrets"].([]any)
	if len(items) == 0 {
		replyError(w, 422, "ValidationFailure", []any{map[string]any{"code": "too_small", "path": []any{"secrets"}, "message": "Array must contain at least 1 element(s)"}})
		return
	}
	folder := env + ":" + path
	if !s.folders[folder] {
		replyError(w, 404, "CreateManySecret", fmt.Sprintf("Folder with path '%s' in environment with slug '%s' not found", path, env))
		return
	}
	if s.secrets[folder] == nil {
		s.secrets[folder] = map[string]*fakeSecret{}
	}
	have := s.secrets[folder]
	type item struct{ key, value, comment string }
	var its []item
	for _, x := range items {
		m := x.(map[string]any)
		k, _ := m["secretKey"].(string)
		v, _ := m["secretValue"].(string)
		c, _ := m["secretComment"].(string)
		its = append(its, item{k, v, c})
	}
	var out []map[string]any
	entry := func(k string, sec *fakeSecret, hidden bool) map[string]any {
		e := map[string]any{"id": "id-" + k, "_id": "id-" + k, "workspace": fakeProject, "environment": env, "version": sec.version,
			"type": "shared", "secretKey": k, "secretValue": sec.value, "secretComment": sec.comment}
		if hidden {
			e["secretValueHidden"] = false
		}
		return e
	}
	switch r.Method {
	case http.MethodPost:
		for _, it := range its {
			if have[it.key] != nil {
				replyError(w, 400, "BadRequest", "Secret already exists: "+it.key)
				return
			}
		}
		for _, it := range its {
			have[it.key] = &fakeSecret{value: it.value, comment: it.comment, version: 1}
			out = append(out, entry(it.key, have[it.key], false))
		}
	case http.MethodPatch:
		mode, _ := body["mode"].(string)
		for _, it := range its {
			if have[it.key] == nil && mode != "upsert" && mode != "ignore" {
				replyError(w, 404, "NotFound", fmt.Sprintf("Secret does not exist: %s in path %s", it.key, path))
				return
			}
		}
		for _, it := range its {
			sec := have[it.key]
			switch {
			case sec == nil && mode == "ignore":
				continue
			case sec == nil:
				sec = &fakeSecret{}
				have[it.key] = sec
			}
			sec.value, sec.version = it.value, sec.version+1
			if it.comment != "" {
				sec.comment = it.comment
			}
			out = append(out, entry(it.key, sec, true))
		}
	case http.MethodDelete:
		var missing, found []string
		for _, it := range its {
			if have[it.key] == nil {
				missing = append(missing, it.key)
			} else {
				found = append(found, it.key)
			}
		}
		if len(missing) > 0 {
			// The real server names the keys it found, not the missing ones.
			replyError(w, 404, "NotFound", "One or more secrets does not exist: "+strings.Join(found, ", "))
			return
		}
		for _, it := range its {
			out = append(out, entry(it.key, have[it.key], true))
			delete(have, it.key)
		}
	}
	// Not in request order.
	sort.Slice(out, func(i, j int) bool { return out[i]["secretKey"].(string) > out[j]["secretKey"].(string) })
	reply(w, 200, map[string]any{"secrets": out})
}

func (s *realServer) updatePrivilege(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := s.record(r, "PATCH /api/v2/identity-project-additional-privilege/{id}")
	var issues []any
	required := func(field, expected string) {
		issues = append(issues, map[string]any{"code": "invalid_type", "expected": expected, "received": "undefined", "path": []any{field}, "message": "Required"})
	}
	if _, ok := body["slug"].(string); !ok {
		required("slug", "string")
	}
	if _, ok := body["permissions"].([]any); !ok {
		issues = append(issues, map[string]any{"code": "custom", "message": "Invalid input", "path": []any{"permissions"}})
	}
	typ, ok := body["type"].(map[string]any)
	if !ok {
		required("type", "object")
	} else if typ["isTemporary"] == true {
		for _, f := range []string{"temporaryMode", "temporaryRange", "temporaryAccessStartTime"} {
			if _, ok := typ[f].(string); !ok {
				issues = append(issues, map[string]any{"code": "invalid_type", "expected": "string", "received": "undefined", "path": []any{"type", f}, "message": "Required"})
			}
		}
	}
	for _, f := range s.demand {
		if _, ok := body[f]; !ok {
			required(f, "string")
		}
	}
	if len(issues) > 0 {
		replyError(w, 422, "ValidationFailure", issues)
		return
	}
	p := s.privs[r.PathValue("id")]
	if p == nil {
		replyError(w, 404, "NotFound", "Privilege with id "+r.PathValue("id")+" not found")
		return
	}
	p["slug"], p["permissions"], p["isTemporary"] = body["slug"], body["permissions"], typ["isTemporary"]
	for _, f := range []string{"temporaryMode", "temporaryRange", "temporaryAccessStartTime"} {
		if v, ok := typ[f]; ok {
			p[f] = v
		}
	}
	reply(w, 200, map[string]any{"privilege": p})
}
