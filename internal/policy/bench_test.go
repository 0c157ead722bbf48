package policy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/raxx-app/handoff/internal/spec"
)

// generateRepo writes a valid repository of n handoffs under dir: the
// handoff.hcl of the project and n specs shaped like the design's examples,
// a tenth of them in HCL JSON. It is used by the benchmark and to measure
// the binary.
func generateRepo(tb testing.TB, dir string, n int) {
	tb.Helper()
	config := `infisical {
  site_url        = "https://app.infisical.com"
  organization_id = "org-raxx"
  project_id      = "proj-moosequest"
  environment     = "staging"
  handoff_root    = "/MooseQuest/handoffs"
}

github {
  api_url = "https://api.github.com"
  app_id  = 424242
}

policy {
  max_ttl            = "24h"
  github_permissions = { contents = "write", pull_requests = "write", issues = "write", metadata = "read" }
  vault_read_roots   = ["/MooseQuest/queue/staging"]
  github_owners      = ["raxx-app"]
}
`
	if err := os.MkdirAll(filepath.Join(dir, spec.SpecsDir), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, spec.ConfigFile), []byte(config), 0o644); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		slug := fmt.Sprintf("task-%05d-20260621", i)
		var name, src string
		if i%10 == 9 {
			name = slug + ".hcl.json"
			src = fmt.Sprintf(`{
  "handoff": {
    %q: {
      "card": %d,
      "description": "Generated checkout task %d",
      "ttl": "%dh",
      "approved_by": "ops",
      "stripe": {"mode": "test", "permissions": {"checkout_sessions": "write", "subscriptions": "read"}},
      "infisical": {"environment": "staging", "read": ["/MooseQuest/queue/staging/STRIPE_*", "/MooseQuest/handoffs/%s/NOTES"]}
    }
  }
}
`, slug, 1000+i, i, 1+i%24, slug)
		} else {
			name = slug + ".hcl"
			src = fmt.Sprintf(`handoff %q {
  card        = %d
  description = "Generated task %d"
  ttl         = "%dh"
  approved_by = "ops"

  github {
    repository  = "raxx-app/repo-%d"
    permissions = { contents = "write", pull_requests = "write", issues = "read" }
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/APPLE_IAP_*", "/MooseQuest/handoffs/%s/NOTES"]
  }

  apple_iap {
    environment = "sandbox"
    bundle_id   = "com.raxx.app%d"
  }

  mcp {
    allow   = ["github_pr_create", "github_pr_comment", "infisical_get_secret"]
    exclude = ["filesystem_write_outside_worktree", "stripe_charge"]
  }
}
`, slug, 1000+i, i, 1+i%24, i%50, slug, i)
		}
		if err := os.WriteFile(filepath.Join(dir, spec.SpecsDir, name), []byte(src), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkValidate10000 parses and checks a repository of 10,000 specs,
// as "handoff validate" does. The files are written once, before timing.
// Besides ns/op it reports cpu-ns/op, the CPU time of the process per run
// (user + system, all threads): on a busy machine ns/op varies with the
// neighbours, cpu-ns/op much less, and on N idle cores ns/op is about
// cpu-ns/op / N. The CLI keeps the collector's defaults, as the benchmark
// does (see cmd/handoff/main.go).
func BenchmarkValidate10000(b *testing.B) {
	dir := b.TempDir()
	generateRepo(b, dir, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		repo, diags := load(b, dir)
		if len(diags) > 0 || len(repo.Handoffs) != 10000 {
			b.Fatalf("%d handoffs, diagnostics: %v", len(repo.Handoffs), diags)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// TestGenerateRepo writes the benchmark's repository to $HANDOFF_GEN_DIR
// when set, to measure the binary on it (see BenchmarkValidate10000), and
// otherwise checks that a small generated repository is valid.
func TestGenerateRepo(t *testing.T) {
	if dir := os.Getenv("HANDOFF_GEN_DIR"); dir != "" {
		generateRepo(t, dir, 10000)
		return
	}
	dir := t.TempDir()
	generateRepo(t, dir, 20)
	if repo, diags := load(t, dir); len(diags) > 0 || len(repo.Handoffs) != 20 {
		t.Fatalf("%d handoffs, diagnostics: %v", len(repo.Handoffs), diags)
	}
}
