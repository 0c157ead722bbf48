package vsim

import (
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
)

// TestGeneratedRepoIsValid loads and checks a generated repository the
// way handoff validate does, in process and with nothing remote.
func TestGeneratedRepoIsValid(t *testing.T) {
	dir := t.TempDir()
	const n = 25
	if err := WriteRepo(dir, n); err != nil {
		t.Fatal(err)
	}
	repo, diags := spec.LoadDir(dir)
	diags = append(diags, policy.Check(repo)...)
	if len(diags) > 0 {
		t.Fatalf("diagnostics on the generated repository: %v", diags)
	}
	if len(repo.Handoffs) != n {
		t.Fatalf("%d handoffs, want %d", len(repo.Handoffs), n)
	}
	for _, h := range repo.Handoffs {
		if ghsurface.Of(h) == nil || infsurface.Of(h) == nil {
			t.Fatalf("%s: want github and infisical blocks, so that apply mints tokens and identities", h.Slug.Value)
		}
	}
	if repo.Config == nil {
		t.Fatal("no handoff.hcl config")
	}
}

func TestTerraformConfig(t *testing.T) {
	src := TerraformConfig(3)
	if got := strings.Count(src, `resource "terraform_data"`); got != 3 {
		t.Errorf("%d resources, want 3:\n%s", got, src)
	}
	if !strings.Contains(src, `"r00002"`) {
		t.Errorf("resource names not unique:\n%s", src)
	}
}
