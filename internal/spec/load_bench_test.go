package spec_test

import (
	"fmt"
	"github.com/raxx-app/handoff/internal/spec"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoadDir10000 loads a repository of 10,000 specs of the usual
// size (those of tools/benchrun), the scale handoff is measured at.
func BenchmarkLoadDir10000(b *testing.B) {
	dir := b.TempDir()
	if err := os.Mkdir(filepath.Join(dir, spec.SpecsDir), 0o755); err != nil {
		b.Fatal(err)
	}
	cfg, err := os.ReadFile("testdata/equiv/handoff.hcl")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, spec.ConfigFile), cfg, 0o644); err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		slug := fmt.Sprintf("bench-%05d-20260621", i)
		src := fmt.Sprintf(`handoff %q {
  card        = %d
  description = "Generated benchmark task %d"
  ttl         = "24h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/TradeMasterAPI"
    permissions = { contents = "write", pull_requests = "write", issues = "write" }
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/APPLE_IAP_*"]
  }

  mcp {
    allow   = ["github_pr_create", "github_pr_comment", "infisical_get_secret"]
    exclude = ["filesystem_write_outside_worktree", "stripe_charge", "heroku_scale"]
  }
}
`, slug, 10000+i, i)
		if err := os.WriteFile(filepath.Join(dir, spec.SpecsDir, slug+".hcl"), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		repo, diags := spec.LoadDir(dir)
		if len(diags) > 0 || len(repo.Handoffs) != 10000 {
			b.Fatalf("%d handoffs, %v", len(repo.Handoffs), diags)
		}
	}
}
