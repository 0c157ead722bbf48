package contracttest

import (
	"bytes"
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
