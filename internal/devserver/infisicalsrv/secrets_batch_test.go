package infisicalsrv

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// batchEnv is a server with the admin token and an empty folder
// /MooseQuest/handoffs/b in staging.
type batchEnv struct {
	*testEnv
	adm, path string
}

func newBatchEnv(t *testing.T) *batchEnv {
	e := newTestEnv(t)
	b := &batchEnv{testEnv: e, adm: e.admin(), path: DefaultHandoffRoot + "/b"}
	want(t, e.do("POST", "/api/v2/folders", b.adm, map[string]any{"projectId": DefaultProjectID, "environment": "staging", "name": "b", "path": DefaultHandoffRoot}), 200)
	return b
}

// body is a v4 batch body at b.path with the given secrets.
func (b *batchEnv) body(secrets any, kv ...any) map[string]any {
	m := map[string]any{"projectId": DefaultProjectID, "environment": "staging", "secretPath": b.path, "secrets": secrets}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func kvs(pairs ...string) []map[string]any {
	var out []map[string]any
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, map[string]any{"secretKey": pairs[i], "secretValue": pairs[i+1]})
	}
	return out
}

func keysOnly(keys ...string) []map[string]any {
	var out []map[string]any
	for _, k := range keys {
		out = append(out, map[string]any{"secretKey": k})
	}
	return out
}

// stored is the folder's content as KEY=value@version, sorted.
func (b *batchEnv) stored() []string {
	var out []string
	for _, s := range b.srv.Secrets("staging", b.path, false) {
		out = append(out, s.Key+"="+s.Value+"@"+strconv.Itoa(s.Version))
	}
	sort.Strings(out)
	return out
}

// entries is the answer's secrets as KEY=value, sorted.
func entries(r resp) []string {
	var out []string
	for _, s := range r.list("secrets") {
		m := s.(map[string]any)
		out = append(out, m["secretKey"].(string)+"="+m["secretValue"].(string))
	}
	sort.Strings(out)
	return out
}

func TestBatchCreateIsAllOrNothing(t *testing.T) {
	b := newBatchEnv(t)
	want(t, b.do("POST", "/api/v4/secrets/batch", b.adm, b.body(kvs("A", "1"))), 200)
	r := b.do("POST", "/api/v4/secrets/batch", b.adm, b.body(kvs("B", "2", "A", "x", "C", "3")))
	want(t, r, 400, nameBadRequest)
	if r.str("message") != "Secret already exists: A" {
		t.Fatalf("message %q", r.str("message"))
	}
	if got := b.stored(); !reflect.DeepEqual(got, []string{"A=1@1"}) {
		t.Fatalf("after a refused create: %v", got)
	}
	// A name twice: one secret, the last value.
	r = b.do("POST", "/api/v4/secrets/batch", b.adm, b.body(kvs("D", "first", "D", "last")))
	want(t, r, 200)
	if got := entries(r); !reflect.DeepEqual(got, []string{"D=last"}) {
		t.Fatalf("duplicate name: %v", got)
	}
}

func TestBatchUpdateModes(t *testing.T) {
	b := newBatchEnv(t)
	want(t, b.do("POST", "/api/v4/secrets/batch", b.adm, b.body(kvs("A", "1", "B", "1"))), 200)
	for _, tc := range []struct {
		name    string
		mode    string // "" = the default, failOnNotFound
		secrets []map[string]any
		status  int
		message string
		answer  []string
		stored  []string
	}{
		{"default mode, one missing", "", kvs("A", "2", "Z", "2"), 404, "Secret does not exist: Z in path " + DefaultHandoffRoot + "/b", nil, []string{"A=1@1", "B=1@1"}},
		{"explicit failOnNotFound, all present", "failOnNotFound", kvs("A", "2"), 200, "", []string{"A=2"}, []string{"A=2@2", "B=1@1"}},
		{"ignore skips the missing", "ignore", kvs("B", "3", "Y", "3"), 200, "", []string{"B=3"}, []string{"A=2@2", "B=3@2"}},
		{"upsert creates the missing", "upsert", kvs("A", "4", "X", "4"), 200, "", []string{"A=4", "X=4"}, []string{"A=4@3", "B=3@2", "X=4@1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := b.body(tc.secrets)
			if tc.mode != "" {
				body["mode"] = tc.mode
			}
			r := b.do("PATCH", "/api/v4/secrets/batch", b.adm, body)
			want(t, r, tc.status)
			if tc.message != "" && (r.str("message") != tc.message || r.str("error") != nameNotFound) {
				t.Fatalf("error %s: %s", r.str("error"), r.str("message"))
			}
			if tc.answer != nil && !reflect.DeepEqual(entries(r), tc.answer) {
				t.Fatalf("answer %v, want %v", entries(r), tc.answer)
			}
			if got := b.stored(); !reflect.DeepEqual(got, tc.stored) {
				t.Fatalf("stored %v, want %v", got, tc.stored)
			}
		})
	}
}

func TestBatchUpdateAcrossFolders(t *testing.T) {
	b := newBatchEnv(t)
	want(t, b.do("POST", "/api/v4/secrets/batch", b.adm, b.body(kvs("A", "1"))), 200)
	queueKey := "STRIPE_TEST_SECRET_KEY"
	secrets := []map[string]any{{"secretKey": "A", "secretValue": "2"}, {"secretKey": queueKey, "secretValue": "sk_test_new", "secretPath": DefaultQueuePath + "/"}}
	r := b.do("PATCH", "/api/v4/secrets/batch", b.adm, b.body(secrets))
	want(t, r, 200)
	if got := entries(r); !reflect.DeepEqual(got, []string{"A=2", queueKey + "=sk_test_new"}) {
		t.Fatalf("answer %v", got)
	}
	// One unknown folder fails the whole batch, as the source words it.
	secrets = []map[string]any{{"secretKey": "A", "secretValue": "3"}, {"secretKey": "Q", "secretValue": "x", "secretPath": "/nowhere"}}
	r = b.do("PATCH", "/api/v4/secrets/batch", b.adm, b.body(secrets))
	want(t, r, 404, "UpdateManySecret", "Folder with path 'null' in environment with slug 'staging' not found")
	if got := b.stored(); !reflect.DeepEqual(got, []string{"A=2@2"}) {
		t.Fatalf("after a refused update: %v", got)
	}
	body := b.body(kvs("A", "3"))
	body["environment"] = "qa"
	want(t, b.do("PATCH", "/api/v4/secrets/batch", b.adm, body), 404, nameNotFound, "Environment with slug 'qa'")
	// Renames: onto a free name, and refused onto a taken one.
	want(t, b.do("POST", "/api/v4/secrets/batch", b.adm, b.body(kvs("B", "1"))), 200)
	r = b.do("PATCH", "/api/v4/secrets/batch", b.adm, b.body([]map[string]any{{"secretKey": "A", "newSecretName": "B"}}))
	want(t, r, 400, nameBadRequest, "Secret with new name already exists: B")
	r = b.do("PATCH", "/api/v4/secrets/batch", b.adm, b.body([]map[string]any{{"secretKey": "A", "newSecretName": "C"}}))
	want(t, r, 200)
	if got := b.stored(); !reflect.DeepEqual(got, []string{"B=1@1", "C=2@3"}) {
		t.Fatalf("after the rename: %v", got)
	}
}

func TestBatchDeleteIsAllOrNothing(t *testing.T) {
	b := newBatchEnv(t)
	want(t, b.do("POST", "/api/v4/secrets/batch", b.adm, b.body(kvs("A", "1", "B", "2"))), 200)
	r := b.do("DELETE", "/api/v4/secrets/batch", b.adm, b.body(keysOnly("A", "Z")))
	want(t, r, 404, nameNotFound)
	// The message names the key that does exist (observed).
	if r.str("message") != "One or more secrets does not exist: A" {
		t.Fatalf("message %q", r.str("message"))
	}
	if got := b.stored(); len(got) != 2 {
		t.Fatalf("after a refused delete: %v", got)
	}
	r = b.do("DELETE", "/api/v4/secrets/batch", b.adm, b.body(keysOnly("B", "A")))
	want(t, r, 200)
	if got := entries(r); !reflect.DeepEqual(got, []string{"A=1", "B=2"}) {
		t.Fatalf("answer %v", got)
	}
	if got := b.stored(); len(got) != 0 {
		t.Fatalf("after the delete: %v", got)
	}
}

// TestBatchEntryShape pins the keys of each operation's entries and their
// order (by id, not by request).
func TestBatchEntryShape(t *testing.T) {
	b := newBatchEnv(t)
	common := "_id createdAt environment id secretComment secretKey secretReminderNote secretReminderRepeatDays secretValue skipMultilineEncoding type updatedAt version workspace"
	names := []string{"K1", "K2", "K3", "K4", "K5", "K6"}
	var created []string
	for _, n := range names {
		created = append(created, n, "v")
	}
	for _, tc := range []struct {
		method string
		body   map[string]any
		keys   string
	}{
		{"POST", b.body(kvs(created...)), common + " isRotatedSecret rotationId"},
		{"PATCH", b.body(kvs(created...)), common + " isRotatedSecret rotationId secretValueHidden"},
		{"DELETE", b.body(keysOnly(names...)), common + " secretValueHidden"},
	} {
		r := b.do(tc.method, "/api/v4/secrets/batch", b.adm, tc.body)
		want(t, r, 200)
		wantKeys := strings.Fields(tc.keys)
		sort.Strings(wantKeys)
		var ids []string
		for _, s := range r.list("secrets") {
			m := s.(map[string]any)
			var got []string
			for k := range m {
				got = append(got, k)
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, wantKeys) {
				t.Fatalf("%s entry keys\n got %v\nwant %v", tc.method, got, wantKeys)
			}
			if h, ok := m["secretValueHidden"]; ok && h != false {
				t.Fatalf("%s: the admin's values are hidden: %v", tc.method, m)
			}
			ids = append(ids, m["id"].(string))
		}
		if len(ids) != len(names) || !sort.StringsAreSorted(ids) {
			t.Fatalf("%s: entries not in id order: %v", tc.method, ids)
		}
	}
}

func TestBatchRequestErrors(t *testing.T) {
	b := newBatchEnv(t)
	v3 := func(kv ...any) map[string]any {
		m := map[string]any{"environment": "staging", "secretPath": b.path, "secrets": kvs("A", "1")}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name, method, path string
		body               map[string]any
		status             int
		errName, message   string
	}{
		{"v4 with workspaceId", "POST", "/api/v4/secrets/batch", map[string]any{"workspaceId": DefaultProjectID, "environment": "staging", "secrets": kvs("A", "1")},
			422, nameValidation, `[{"code":"invalid_type","expected":"string","received":"undefined","path":["projectId"],"message":"Required"}]`},
		{"v4 no secrets", "PATCH", "/api/v4/secrets/batch", b.body([]any{}),
			422, nameValidation, `[{"code":"too_small","minimum":1,"type":"array","inclusive":true,"exact":false,"path":["secrets"],"message":"Array must contain at least 1 element(s)"}]`},
		{"v4 bad name", "POST", "/api/v4/secrets/batch", b.body(kvs("A:B", "1")),
			422, nameValidation, `[{"code":"custom","path":["secrets",0,"secretKey"],"message":"Secret name cannot contain colon."}]`},
		{"v4 unknown mode", "PATCH", "/api/v4/secrets/batch", b.body(kvs("A", "1"), "mode", "replace"), 422, nameValidation, ""},
		{"v4 missing folder", "POST", "/api/v4/secrets/batch", b.body(kvs("A", "1"), "secretPath", "/x/y/"),
			404, "CreateManySecret", "Folder with path '/x/y' in environment with slug 'staging' not found"},
		{"v4 missing folder on delete", "DELETE", "/api/v4/secrets/batch", b.body(keysOnly("A"), "secretPath", "/x/y"),
			404, "DeleteManySecret", "Folder with path '/x/y' in environment with slug 'staging' not found"},
		{"v4 unknown project", "POST", "/api/v4/secrets/batch", b.body(kvs("A", "1"), "projectId", "proj-none"), 404, nameNotFound, "Project with proj-none not found"},
		{"v4 tags", "POST", "/api/v4/secrets/batch", b.body([]map[string]any{{"secretKey": "A", "secretValue": "1", "tagIds": []string{"t1"}}}), 404, nameNotFound, "Tag not found. Found "},
		{"v3 with projectId", "POST", "/api/v3/secrets/batch/raw", v3("projectId", DefaultProjectID), 400, nameBadRequest, "Must provide either project slug or projectId"},
		{"v3 with nothing", "DELETE", "/api/v3/secrets/batch/raw", v3(), 400, nameBadRequest, "Must provide either project slug or projectId"},
		{"v3 unknown slug", "PATCH", "/api/v3/secrets/batch/raw", v3("projectSlug", "nope"), 404, nameNotFound, "Project with slug 'nope' not found"},
		{"v3 missing folder", "POST", "/api/v3/secrets/batch/raw", v3("workspaceId", DefaultProjectID, "secretPath", "/x/y"),
			404, "CreateManySecret", "Folder with path '/x/y' in environment with slug 'staging' not found"},
		{"v3 no secrets", "POST", "/api/v3/secrets/batch/raw", v3("workspaceId", DefaultProjectID, "secrets", []any{}), 422, nameValidation, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(tc.method, tc.path, b.adm, tc.body)
			want(t, r, tc.status, tc.errName)
			if tc.message == "" {
				return
			}
			if strings.HasPrefix(tc.message, "[") {
				var wantIssues any
				if err := json.Unmarshal([]byte(tc.message), &wantIssues); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(r.get("message"), wantIssues) {
					t.Fatalf("issues\n got %s", r.raw)
				}
			} else if r.str("message") != tc.message {
				t.Fatalf("message %q, want %q", r.str("message"), tc.message)
			}
		})
	}
	if got := b.stored(); len(got) != 0 {
		t.Fatalf("refused requests wrote %v", got)
	}
}

// TestBatchAuthorization: CASL rules apply per secret, and a refusal of one
// refuses the batch; values the identity may not read come back hidden.
func TestBatchAuthorization(t *testing.T) {
	b := newBatchEnv(t)
	pid := DefaultProjectID
	// The handoff may create and edit A* in the folder out (not its own),
	// and read nothing there.
	out := DefaultHandoffRoot + "/out"
	want(t, b.do("POST", "/api/v2/folders", b.adm, map[string]any{"projectId": pid, "environment": "staging", "name": "out", "path": DefaultHandoffRoot}), 200)
	writeA := map[string]any{"subject": "secrets", "action": []string{"create", "edit"}, "conditions": map[string]any{
		"environment": "staging", "secretPath": map[string]any{"$eq": out}, "secretName": map[string]any{"$glob": "A*"}}}
	h := b.provisionHandoff(b.adm, "w", 3600, "1h", writeA)
	tok := b.login(h.clientID, h.clientSecret)
	own := out
	body := func(secrets any) map[string]any {
		return map[string]any{"projectId": pid, "environment": "staging", "secretPath": own, "secrets": secrets}
	}
	r := b.do("POST", "/api/v4/secrets/batch", tok, body(kvs("A1", "one", "B1", "two")))
	want(t, r, 403, namePermission, "You are not allowed to create on secrets")
	if n := len(b.srv.Secrets("staging", own, false)); n != 0 {
		t.Fatalf("a refused batch created %d secrets", n)
	}
	r = b.do("POST", "/api/v4/secrets/batch", tok, body(kvs("A1", "one", "A2", "two")))
	want(t, r, 200)
	for _, s := range r.list("secrets") {
		if v := s.(map[string]any)["secretValue"]; v != hiddenValue {
			t.Fatalf("a value it may not read came back: %v", s)
		}
	}
	r = b.do("PATCH", "/api/v4/secrets/batch", tok, body(kvs("A1", "uno")))
	want(t, r, 200)
	if e := r.list("secrets")[0].(map[string]any); e["secretValueHidden"] != true || e["secretValue"] != hiddenValue {
		t.Fatalf("update entry: %v", e)
	}
	// It may not delete, nor write elsewhere.
	want(t, b.do("DELETE", "/api/v4/secrets/batch", tok, body(keysOnly("A1"))), 403, namePermission, "You are not allowed to delete on secrets")
	want(t, b.do("PATCH", "/api/v4/secrets/batch", tok, map[string]any{"projectId": pid, "environment": "staging", "secretPath": DefaultQueuePath,
		"secrets": kvs("STRIPE_TEST_SECRET_KEY", "stolen")}), 403, namePermission, "You are not allowed to edit on secrets")
	want(t, b.do("PATCH", "/api/v4/secrets/batch", tok, map[string]any{"projectId": pid, "environment": "staging", "secretPath": own, "mode": "upsert",
		"secrets": kvs("A1", "x", "B2", "y")}), 403, namePermission, "You are not allowed to create on secrets")
	if s, _ := b.srv.Secret("staging", own, "A1"); s.Value != "uno" || s.Version != 2 {
		t.Fatalf("A1 after the refusals: %+v", s)
	}

	// Audit events and access records, like the single-secret routes'.
	var types []string
	for _, ev := range b.srv.AuditEvents() {
		if ev.ActorID == h.identityID && strings.Contains(ev.Type, "secret") {
			types = append(types, ev.Type)
		}
	}
	if !reflect.DeepEqual(types, []string{"create-secrets", "update-secrets"}) {
		t.Fatalf("audit events of the handoff: %v", types)
	}
	var ev AuditEvent
	for _, x := range b.srv.AuditEvents() {
		if x.Type == "create-secrets" && x.ActorID == h.identityID {
			ev = x
		}
	}
	list, _ := ev.Metadata["secrets"].([]map[string]any)
	if ev.Metadata["secretPath"] != own || len(list) != 2 {
		t.Fatalf("create-secrets metadata: %v", ev.Metadata)
	}
	denied := 0
	for _, rec := range b.srv.AccessLog() {
		if rec.IdentityID == h.identityID && strings.HasSuffix(rec.Route, "/api/v4/secrets/batch") && rec.Status == 403 {
			denied++
		}
	}
	if denied != 4 {
		t.Fatalf("%d denied batch requests in the access log, want 4", denied)
	}
	// No value reaches an error answer.
	r = b.do("POST", "/api/v4/secrets/batch", tok, body(kvs("A1", "secret-value-xyz")))
	want(t, r, 400, nameBadRequest, "Secret already exists: A1")
	if raw := string(r.raw); strings.Contains(raw, "secret-value-xyz") || strings.Contains(raw, "uno") {
		t.Fatalf("a value leaked into an error: %s", raw)
	}
}
