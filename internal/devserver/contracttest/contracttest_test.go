package contracttest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The embedded copies must stay identical to the shared originals whenever
// those are beside the checkout (they are in CI and on developer machines).
func TestEmbeddedContractsMatchShared(t *testing.T) {
	for _, v := range []Vendor{GitHub, Infisical, Cloudflare} {
		shared := filepath.Join("..", "..", "..", "..", "shared", "contracts", string(v)+".openapi.json")
		want, err := os.ReadFile(shared)
		if os.IsNotExist(err) {
			t.Skipf("%s not beside the checkout", shared)
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := Document(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("embedded %s contract differs from %s: copy it again", v, shared)
		}
	}
}

func TestDocumentsLoadAndRoute(t *testing.T) {
	minOps := map[Vendor]int{GitHub: 20, Infisical: 20, Cloudflare: 9}
	for _, v := range []Vendor{GitHub, Infisical, Cloudflare} {
		val := MustNew(t, v, "http://127.0.0.1:1")
		if n := len(val.Operations()); n < minOps[v] {
			t.Errorf("%s: %d operations, want at least %d", v, n, minOps[v])
		}
		if got, want := len(val.Uncovered()), len(val.Operations()); got != want {
			t.Errorf("%s: %d uncovered before any traffic, want %d", v, got, want)
		}
	}
}

func TestUndocumentedErrorStatusUsesGenericSchema(t *testing.T) {
	cases := []struct {
		status  int
		body    string
		wantErr bool
	}{
		{503, `{"message":"Service Unavailable","documentation_url":"https://docs.github.com/rest"}`, false},
		{401, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`, false},
		{503, `<html>down</html>`, true},
		{503, `{"message": 42}`, true},
		{299, `{}`, true}, // an undocumented success is a violation
	}
	for _, tc := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		}))
		v := MustNew(t, GitHub, srv.URL)
		req := httptest.NewRequest("GET", srv.URL+"/app", nil)
		resp, err := http.Get(srv.URL + "/app")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		err = v.Check(req, nil, resp, body)
		if (err != nil) != tc.wantErr {
			t.Errorf("status %d body %s: err = %v, want error %v", tc.status, tc.body, err, tc.wantErr)
		}
		srv.Close()
	}
}

// Cloudflare documents the 4XX answers of its token routes as the allOf of
// its success and failure envelopes (success must be true and false at
// once); Check validates them against the failure envelope instead. This
// test pins the contradiction (if a newer document fixes it, the fallback
// is no longer used) and shows that a real failure passes and a malformed
// one does not.
func TestCloudflareContradictoryFailureSchemas(t *testing.T) {
	v := MustNew(t, Cloudflare, "http://127.0.0.1:1/client/v4")
	contradictory := 0
	for path, item := range v.doc.Paths.Map() {
		for method, op := range item.Operations() {
			ref := op.Responses.Status(400)
			if ref == nil || ref.Value == nil {
				t.Fatalf("%s %s documents no 4XX", method, path)
			}
			if ContradictorySuccess(ref.Value.Content.Get("application/json").Schema.Value) {
				contradictory++
			}
		}
	}
	if contradictory != 8 {
		t.Errorf("%d operations document a contradictory 4XX schema, want the 8 token routes", contradictory)
	}

	cases := []struct {
		path, body string
		status     int
		wantErr    bool
	}{
		{"/client/v4/user/tokens", `{"result":null,"success":false,"errors":[{"code":9109,"message":"Invalid access token"}],"messages":[]}`, 403, false},
		{"/client/v4/user/tokens", `{"result":null,"success":false,"errors":[{"code":"x"}],"messages":[]}`, 403, true},
		{"/client/v4/user/tokens", `{"result":null,"success":true,"errors":[],"messages":[]}`, 403, true},
		{"/client/v4/zones", `{"result":null,"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[]}`, 403, false},
		{"/client/v4/zones", `{"success":false}`, 403, true},
	}
	for _, tc := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		}))
		val := MustNew(t, Cloudflare, srv.URL+"/client/v4")
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		req := httptest.NewRequest("GET", srv.URL+tc.path, nil)
		if err := val.Check(req, nil, resp, body); (err != nil) != tc.wantErr {
			t.Errorf("%s %d %s: err = %v, want error %v", tc.path, tc.status, tc.body, err, tc.wantErr)
		}
		srv.Close()
	}
}

// The request-side accommodations for Cloudflare's document: a token_id
// path value is accepted though its schema is untyped, and permission group
// ids (readOnly in the document) may be sent; anything else wrong with a
// request is still reported.
func TestCloudflareRequestAccommodations(t *testing.T) {
	tokenJSON := `{"id":"ed17574386854bf78a67040be0a770b0","name":"t","status":"active","policies":[]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"result":`+tokenJSON+`,"success":true,"errors":[],"messages":[]}`)
	}))
	defer srv.Close()
	val := MustNew(t, Cloudflare, srv.URL+"/client/v4")
	policy := `{"effect":"allow","resources":{"com.cloudflare.api.account.zone.*":"*"},"permission_groups":[{"id":"c8fed203ed3043cba015a93ad1616f1f"}]}`
	cases := []struct {
		method, path, body string
		wantErr            bool
	}{
		{"GET", "/client/v4/user/tokens/ed17574386854bf78a67040be0a770b0", "", false},
		{"POST", "/client/v4/user/tokens", `{"name":"t","policies":[` + policy + `]}`, false},
		{"POST", "/client/v4/user/tokens", `{"name":7,"policies":[` + policy + `]}`, true},
		{"POST", "/client/v4/user/tokens", `{"policies":[` + policy + `]}`, true},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := val.Check(req, []byte(tc.body), resp, body); (err != nil) != tc.wantErr {
			t.Errorf("%s %s %s: err = %v, want error %v", tc.method, tc.path, tc.body, err, tc.wantErr)
		}
	}
}
