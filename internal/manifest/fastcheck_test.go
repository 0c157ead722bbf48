package manifest

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/schema"
)

// TestFastCheckCompiles: the schema compiles into a fast check (a keyword
// it did not know would make it refuse every manifest, silently slow).
func TestFastCheckCompiles(t *testing.T) {
	if compileFastCheck([]byte(`{"type": "object", "unknownKeyword": 1}`))(map[string]any{}) {
		t.Error("a schema with an unknown keyword compiles to a check that accepts")
	}
	if !compileFastCheck(schema.ManifestJSONSchema)(fastCheckBases(t)[0]) {
		t.Error("the manifest schema does not compile to a fast check (see the compiler's keywords)")
	}
}

// fastCheckBases are valid manifests of every shape the schema allows:
// each optional part present at least once.
func fastCheckBases(t testing.TB) []map[string]any {
	raw, err := os.ReadFile("testdata/manifest.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	golden := decodeAny(t, raw)
	revoked := decodeAny(t, raw)
	revoked["status"] = "revoked"
	revoked["revocation"] = map[string]any{"at": "2026-06-21T10:00:00Z", "kind": "manual", "reason": "drill", "by": "ops",
		"surfaces": []any{"github"}, "untombstoned_at": "2026-06-21T11:00:00.5+02:00"}
	surf := revoked["surfaces"].(map[string]any)
	surf["infisical"].(map[string]any)["client_id_secret"] = "INFISICAL_CLIENT_ID"
	surf["infisical"].(map[string]any)["client_secret_expires_at"] = "2026-06-22T09:00:00Z"
	surf["aws"] = map[string]any{"role_arn": "arn:aws:iam::123456789012:role/x", "nested": map[string]any{"a": nil}, "n": 3, "ok": true, "list": []any{1, "x"}}
	revoked["history"] = append(revoked["history"].([]any), map[string]any{"at": "2026-06-21T10:00:00Z", "action": "revoke", "detail": "d", "git_commit": "abc"})
	minimal := decodeAny(t, raw)
	for _, k := range []string{"card", "git_commit", "history"} {
		delete(minimal, k)
	}
	minimal["surfaces"] = map[string]any{}
	minimal["secrets"] = []any{}
	return []map[string]any{golden, revoked, minimal}
}

func decodeAny(t testing.TB, b []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// replacements are the values every value of a base is replaced with in
// turn.
var replacements = []any{nil, "", "x", "X", "ABC_1", 0.0, 1.0, -1.0, 1.5, 1e20, true, []any{}, []any{"A"}, []any{nil}, map[string]any{},
	"2026-06-21T09:00:00Z", "2026-06-21t09:00:00z", "2026-13-21T09:00:00Z", "2026-06-21T09:00:60Z", "2026-06-21T09:00:00",
	"sha256:" + strings.Repeat("a", 12), "sha256:" + strings.Repeat("a", 64), "/abs", "a/b", "read", "write", "active", "revoked",
	"manual", "create", "abc1234", "ab-cd"}

// mutations returns doc mutated at every path: each key deleted, each value
// replaced, an unknown key added to each object, an element appended to each
// array.
func mutations(doc any) []any {
	var out []any
	var walk func(v any, set func(any) any)
	walk = func(v any, set func(any) any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				out = append(out, set(without(x, k)))
				out = append(out, set(with(x, "zz_unknown", "x")))
				for _, r := range replacements {
					out = append(out, set(with(x, k, r)))
				}
				walk(x[k], func(nv any) any { return set(with(x, k, nv)) })
			}
		case []any:
			for i := range x {
				for _, r := range replacements {
					c := append([]any(nil), x...)
					c[i] = r
					out = append(out, set(c))
				}
				i := i
				walk(x[i], func(nv any) any {
					c := append([]any(nil), x...)
					c[i] = nv
					return set(c)
				})
			}
			if len(x) > 0 {
				out = append(out, set(append(append([]any(nil), x...), x[0])))
			}
		}
	}
	walk(doc, func(v any) any { return v })
	return out
}

func with(m map[string]any, k string, v any) map[string]any {
	c := make(map[string]any, len(m)+1)
	for kk, vv := range m {
		c[kk] = vv
	}
	c[k] = v
	return c
}

func without(m map[string]any, k string) map[string]any {
	c := with(m, k, nil)
	delete(c, k)
	return c
}

// TestFastCheckAgreesWithSchema: on every base and thousands of mutations,
// the fast check never accepts what the schema validator refuses, accepts
// every base, and agrees with the validator on all but a few documents
// (where it is stricter and Parse falls back to the validator).
func TestFastCheckAgreesWithSchema(t *testing.T) {
	var docs []any
	for _, b := range fastCheckBases(t) {
		raw, _ := json.Marshal(b)
		if !fastValid(decodeAny(t, raw)) {
			t.Fatalf("the fast check refuses a valid base: %s", raw)
		}
		if err := validateSchema(raw); err != nil {
			t.Fatalf("a base is invalid: %v", err)
		}
		docs = append(docs, mutations(b)...)
	}
	stricter := 0
	for _, d := range docs {
		raw, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		fast, valid := fastValid(doc), validateSchema(raw) == nil
		switch {
		case fast && !valid:
			t.Errorf("the fast check accepts a manifest the schema refuses (%v): %s", validateSchema(raw), raw)
		case !fast && valid:
			stricter++
			if testing.Verbose() {
				t.Logf("stricter than the schema: %s", raw)
			}
		}
	}
	t.Logf("%d documents; the fast check is stricter than the schema on %d", len(docs), stricter)
	if len(docs) < 3000 {
		t.Errorf("only %d documents: the mutations prove little", len(docs))
	}
	if stricter*100 > len(docs) {
		t.Errorf("the fast check is stricter than the schema on %d of %d documents: Parse would fall back too often", stricter, len(docs))
	}
}

func FuzzFastCheck(f *testing.F) {
	raw, err := os.ReadFile("testdata/manifest.golden.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"schema_version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var doc any
		if json.Unmarshal(b, &doc) != nil {
			return
		}
		if fastValid(doc) {
			if err := validateSchema(b); err != nil {
				t.Fatalf("the fast check accepts a manifest the schema refuses (%v): %s", err, b)
			}
		}
	})
}
