package policy_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/diag"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/policy/policytest"
	"github.com/raxx-app/handoff/internal/spec"
)

func writeRepo(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzParseAndValidate feeds arbitrary handoff.hcl and spec sources through
// the parser, the policy and every renderer. It must never panic, and every
// diagnostic must carry a location. Its seeds are the invalid corpus and the
// valid repositories, so plain "go test" runs them.
func FuzzParseAndValidate(f *testing.F) {
	cases, err := policytest.Load("testdata/invalid")
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		var config []byte
		for _, file := range c.Files {
			if file.Name == spec.ConfigFile {
				config = file.Data
			}
		}
		for _, file := range c.Files {
			if strings.HasPrefix(file.Name, spec.SpecsDir+"/") {
				f.Add(config, file.Data, strings.HasSuffix(file.Name, ".json"))
			}
		}
	}
	for _, dir := range []string{"testdata/valid", "../.."} {
		config, _ := os.ReadFile(filepath.Join(dir, spec.ConfigFile))
		names, _ := filepath.Glob(filepath.Join(dir, spec.SpecsDir, "*"))
		for _, n := range names {
			src, _ := os.ReadFile(n)
			f.Add(config, src, strings.HasSuffix(n, ".json"))
		}
	}

	f.Fuzz(func(t *testing.T, config, src []byte, json bool) {
		name := "specs/fuzz-task.hcl"
		if json {
			name += ".json"
		}
		repo := &spec.Repo{Dir: ".", Sources: map[string][]byte{spec.ConfigFile: config, name: src}}
		cfg, diags := spec.ParseConfig(spec.ConfigFile, config)
		repo.Config = cfg
		h, d := spec.ParseHandoffFile(name, src)
		diags = append(diags, d...)
		if h != nil {
			repo.Handoffs = []*spec.Handoff{h}
			_ = h.Digest()
			_ = h.Surfaces()
		}
		diags = append(diags, policy.Check(repo)...)
		for _, d := range diags {
			if d.Subject == nil {
				t.Errorf("diagnostic without location: %s: %s", d.Summary, d.Detail)
			}
			if d.Summary == "" {
				t.Errorf("diagnostic without summary at %v", d.Subject)
			}
		}
		render(t, diags, repo.Sources)
	})
}

func render(t *testing.T, diags hcl.Diagnostics, sources map[string][]byte) {
	t.Helper()
	if err := diag.WriteText(io.Discard, diags, sources, true); err != nil {
		t.Error(err)
	}
	if err := diag.WriteJSON(io.Discard, diags); err != nil {
		t.Error(err)
	}
	if err := diag.WriteGitHubActions(io.Discard, diags, "/w"); err != nil {
		t.Error(err)
	}
}
