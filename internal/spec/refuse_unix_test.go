//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package spec_test

import (
	"errors"
	"github.com/raxx-app/handoff/internal/spec"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestLoadDirRefusesWhatIsNotARegularFile: a spec, handoff.hcl or specs/
// that is a link, a FIFO, a socket or a device is refused with a
// diagnostic that quotes nothing of it, without blocking, and the secret
// a link points at (a file, the process environment) is never read.
func TestLoadDirRefusesWhatIsNotARegularFile(t *testing.T) {
	t.Setenv("HANDOFF_TEST_SECRET", secretValue)
	secretFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secretFile, []byte(secretValue+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"a-task.hcl": validSpec, "evil.hcl": "handoff \"evil\" {\n  card = \"" + secretValue + "\"\n}\n"})

	type setup func(t *testing.T, dir string)
	link := func(target, name string) setup {
		return func(t *testing.T, dir string) {
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name  string
		setup setup
		want  []diagAt
	}{
		{"spec linked to a secret file", link(secretFile, "specs/tok-task.hcl"),
			[]diagAt{{"specs/tok-task.hcl", "error", "Symbolic link refused"}}},
		{"spec linked to the process environment", link("/proc/self/environ", "specs/env-task.hcl"),
			[]diagAt{{"specs/env-task.hcl", "error", "Symbolic link refused"}}},
		{"spec linked inside the repository", link("../handoff.hcl", "specs/in-task.hcl"),
			[]diagAt{{"specs/in-task.hcl", "error", "Symbolic link refused"}}},
		{"dangling link", link("/no/such/file", "specs/gone-task.hcl"),
			[]diagAt{{"specs/gone-task.hcl", "error", "Symbolic link refused"}}},
		{"FIFO", func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "specs/pipe-task.hcl"), 0o644); err != nil {
				t.Skip(err)
			}
		}, []diagAt{{"specs/pipe-task.hcl", "error", "Not a regular file"}}},
		{"socket", func(t *testing.T, dir string) {
			// A socket path must be short: bind in the directory itself.
			t.Chdir(filepath.Join(dir, "specs"))
			l, err := net.Listen("unix", "sock-task.hcl")
			if err != nil {
				t.Skip(err)
			}
			t.Cleanup(func() { l.Close() })
		}, []diagAt{{"specs/sock-task.hcl", "error", "Not a regular file"}}},
		{"character device", func(t *testing.T, dir string) {
			// The device of /dev/null (1, 3); only root may make one.
			if err := syscall.Mknod(filepath.Join(dir, "specs/dev-task.hcl"), syscall.S_IFCHR|0o644, 1<<8|3); err != nil {
				t.Skip(err)
			}
		}, []diagAt{{"specs/dev-task.hcl", "error", "Not a regular file"}}},
		{"handoff.hcl linked to a secret file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, spec.ConfigFile))
			link(secretFile, spec.ConfigFile)(t, dir)
		}, []diagAt{{"handoff.hcl", "error", "Symbolic link refused"}}},
		{"handoff.hcl a FIFO", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, spec.ConfigFile))
			if err := syscall.Mkfifo(filepath.Join(dir, spec.ConfigFile), 0o644); err != nil {
				t.Skip(err)
			}
		}, []diagAt{{"handoff.hcl", "error", "Not a regular file"}}},
		{"specs/ linked to a directory outside", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, spec.SpecsDir))
			link(outside, spec.SpecsDir)(t, dir)
		}, []diagAt{{"specs", "error", "Symbolic link refused"}}},
		{"specs/ a file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, spec.SpecsDir))
			writeFiles(t, dir, map[string]string{spec.SpecsDir: secretValue})
		}, []diagAt{{"specs", "error", "Not a directory"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newRepo(t, nil)
			tt.setup(t, dir)
			repo, diags := spec.LoadDir(dir)
			if got := short(dir, diags); !slices.Equal(got, tt.want) {
				t.Errorf("diagnostics:\n got %v\nwant %v\n%v", got, tt.want, diags)
			}
			if len(repo.Handoffs) != 0 {
				t.Errorf("loaded %d handoffs", len(repo.Handoffs))
			}
			assertQuiet(t, repo, diags)
			// The reader itself, without LoadDir's listing: it opens
			// first and refuses what it opened.
			for _, w := range tt.want {
				path := filepath.Join(dir, w.file)
				if w.file == spec.SpecsDir {
					continue
				}
				src, _, err := spec.ReadFile(path)
				var fe *spec.FileError
				if !errors.As(err, &fe) || fe.Kind == "" || src != nil {
					t.Errorf("spec.ReadFile(%s) = %q, %v; want a refusal", w.file, src, err)
				}
				if err != nil && strings.Contains(err.Error(), secretValue) {
					t.Errorf("error quotes the secret: %v", err)
				}
			}
		})
	}
}
