package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/raxx-app/handoff/internal/atomicfile"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "f.txt")
	link := filepath.Join(dir, "elsewhere.txt")
	if err := os.WriteFile(link, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		before func()
		data   string
		perm   os.FileMode
	}{
		{"new file", func() {}, "one", 0o600},
		{"replaces, with the new mode", func() {}, "two", 0o640},
		{"a link in place is replaced, not written through", func() {
			os.Remove(target)
			if err := os.Symlink(link, target); err != nil {
				t.Fatal(err)
			}
		}, "three", 0o600},
	}
	for _, tt := range tests {
		tt.before()
		if err := atomicfile.WriteFile(target, []byte(tt.data), tt.perm); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		st, err := os.Lstat(target)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(target); string(b) != tt.data || !st.Mode().IsRegular() || st.Mode().Perm() != tt.perm {
			t.Errorf("%s: got %q, mode %v; want %q, %v", tt.name, b, st.Mode(), tt.data, tt.perm)
		}
	}
	if b, _ := os.ReadFile(link); string(b) != "untouched" {
		t.Errorf("the link's target was written: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d entries left in the directory, want 2 (no temporary file)", len(entries))
	}
}

func TestWriteFileFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-dir", "f")
	if err := atomicfile.WriteFile(missing, []byte("x"), 0o600); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
	// A rename onto a directory fails after the temporary file was written.
	target := filepath.Join(dir, "is-a-dir")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(target, []byte("x"), 0o600); err == nil {
		t.Fatal("replacing a non-empty directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries left, want 1 (the temporary file removed)", len(entries))
	}
}
