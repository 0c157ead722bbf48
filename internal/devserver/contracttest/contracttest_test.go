package contracttest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// The embedded copies must stay identical to the shared originals whenever
// those are beside the checkout (they are in CI and on developer machines).
func TestEmbeddedContractsMatchShared(t *testing.T) {
	for _, v := range []Vendor{GitHub, Infisical} {
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
	for _, v := range []Vendor{GitHub, Infisical} {
		val := MustNew(t, v, "http://127.0.0.1:1")
		if n := len(val.Operations()); n < 20 {
			t.Errorf("%s: %d operations, want at least 20", v, n)
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
