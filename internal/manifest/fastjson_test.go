package manifest

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// checkDecodeAny fails unless decodeAnyFast declines b or decodes exactly
// what json.Unmarshal decodes into an `any`, which must then succeed.
func checkDecodeAny(t *testing.T, b []byte) bool {
	t.Helper()
	got, ok := decodeAnyFast(b)
	if !ok {
		return false
	}
	var want any
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("decodeAnyFast took %q, which encoding/json refuses: %v", b, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeAnyFast(%q) = %#v, encoding/json says %#v", b, got, want)
	}
	return true
}

var anyBodies = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `-0.0`, `1.5e3`, `1E+2`, `1e-2`, `true`, `false`, `null`, ` { } `,
	`{"a":1,"a":2}`, `{"a":{"b":[1,"x",null,true,{"c":[]}]}}`,
	`{"s":"a\"b\\c\/d\b\f\n\r\t"}`, `{"s":"\u0041"}`, `{"s":"é"}`, "{\"s\":\"\xff\"}", "{\"s\":\"a\x01\"}",
	`{"s":"a\qb"}`, `{"a":1e400}`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":tru}`,
	`{"a":1,}`, `[1,]`, `{"a" 1}`, `{a:1}`, `[1 2]`, `{"a":1} x`, `{"a":1}{}`, "\ufeff{}", `{"a":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}`,
}

// TestDecodeAnyFastSameAsUnmarshal: on the golden manifest, its every
// prefix, and edge cases, decodeAnyFast gives encoding/json's value or
// declines; and it takes manifests (else it would be no faster).
func TestDecodeAnyFastSameAsUnmarshal(t *testing.T) {
	golden, err := os.ReadFile("testdata/manifest.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if !checkDecodeAny(t, golden) {
		t.Error("decodeAnyFast declines the golden manifest")
	}
	for i := range len(golden) {
		checkDecodeAny(t, golden[:i])
	}
	for _, base := range fastCheckBases(t) {
		b, err := json.Marshal(base)
		if err != nil {
			t.Fatal(err)
		}
		if !checkDecodeAny(t, b) {
			t.Errorf("decodeAnyFast declines %s", b)
		}
	}
	for _, s := range anyBodies {
		checkDecodeAny(t, []byte(s))
	}
}

func FuzzDecodeAnyFast(f *testing.F) {
	golden, err := os.ReadFile("testdata/manifest.golden.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	for _, s := range anyBodies {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecodeAny(t, b)
	})
}
