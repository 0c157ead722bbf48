package main

import (
	"fmt"
	"strings"
	"testing"
)

func lines(from, to int, replace map[int]string) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		if r, ok := replace[i]; ok {
			b.WriteString(r + "\n")
			continue
		}
		fmt.Fprintf(&b, "%d\n", i)
	}
	return b.String()
}

// The expected hunks are what GNU diff -u prints for the same inputs.
func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"equal", "a\n", "a\n", ""},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"newline added at end of file", "x\ny", "x\ny\n", "@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n"},
		{"from empty", "", "new\n", "@@ -0,0 +1 @@\n+new\n"},
		{"two hunks", lines(1, 20, nil), lines(1, 20, map[int]string{2: "two", 18: "eighteen"}),
			"@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+eighteen\n 19\n 20\n"},
		{"changes six lines apart merge", lines(1, 12, nil), lines(1, 12, map[int]string{2: "two", 9: "nine"}),
			"@@ -1,12 +1,12 @@\n 1\n-2\n+two\n 3\n 4\n 5\n 6\n 7\n 8\n-9\n+nine\n 10\n 11\n 12\n"},
		{"changes seven lines apart split", lines(1, 13, nil), lines(1, 13, map[int]string{2: "two", 10: "ten"}),
			"@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n@@ -7,7 +7,7 @@\n 7\n 8\n 9\n-10\n+ten\n 11\n 12\n 13\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unifiedDiff("specs/x.hcl", tt.old, tt.new)
			want := tt.want
			if want != "" {
				want = "--- a/specs/x.hcl\n+++ b/specs/x.hcl\n" + want
			}
			if got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestUnifiedDiffAbsolutePath(t *testing.T) {
	got := unifiedDiff("/tmp/r/handoff.hcl", "a\n", "b\n")
	if !strings.HasPrefix(got, "--- a/tmp/r/handoff.hcl\n+++ b/tmp/r/handoff.hcl\n") {
		t.Errorf("headers: %q", got)
	}
}
