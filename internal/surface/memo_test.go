package surface

import (
	"slices"
	"testing"
)

// TestRecordMemo: a record is decoded once, copies do not share what
// Clone copies, and different bytes are different entries.
func TestRecordMemo(t *testing.T) {
	type rec struct{ List []string }
	calls := 0
	decode := func(r Record) (rec, bool) {
		calls++
		if string(r) == "bad" {
			return rec{}, false
		}
		return rec{List: []string{string(r)}}, true
	}
	m := RecordMemo[rec]{Clone: func(r rec) rec { r.List = slices.Clone(r.List); return r }}
	for _, tc := range []struct {
		in    string
		want  string
		ok    bool
		calls int
	}{
		{"a", "a", true, 1},
		{"a", "a", true, 1},
		{"b", "b", true, 2},
		{"bad", "", false, 3},
		{"bad", "", false, 3},
	} {
		got, ok := m.Decode(Record(tc.in), decode)
		if ok != tc.ok || (ok && got.List[0] != tc.want) || calls != tc.calls {
			t.Errorf("Decode(%q) = %v, %v after %d decodes; want %q, %v after %d", tc.in, got, ok, calls, tc.want, tc.ok, tc.calls)
		}
		if ok {
			got.List[0] = "changed"
		}
	}
	if got, _ := m.Decode(Record("a"), decode); got.List[0] != "a" {
		t.Errorf("a copy's change reached the memo: %v", got)
	}
}
