package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParseHandoff(t *testing.T, name string, src []byte) *Handoff {
	t.Helper()
	h, diags := ParseHandoffFile(name, src)
	if diags.HasErrors() || h == nil {
		t.Fatalf("ParseHandoffFile(%s): %v", name, diags)
	}
	return h
}

// zeroLocations clears every hcl.Range and file name reachable from v, so
// that values parsed from different files and syntaxes can be compared.
func zeroLocations(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			zeroLocations(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(hcl.Range{}) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).Name == "Filename" {
				v.Field(i).SetString("")
				continue
			}
			zeroLocations(v.Field(i))
		}
	case reflect.Slice:
		for i := range v.Len() {
			zeroLocations(v.Index(i))
		}
	}
}

func TestNativeAndJSONAreEquivalent(t *testing.T) {
	t.Run("handoff", func(t *testing.T) {
		n := mustParseHandoff(t, "all-surfaces.hcl", mustRead(t, "testdata/equiv/all-surfaces.hcl"))
		j := mustParseHandoff(t, "all-surfaces.hcl.json", mustRead(t, "testdata/equiv/all-surfaces.hcl.json"))
		if n.Digest() != j.Digest() {
			t.Errorf("digests differ: native %s, json %s", n.Digest(), j.Digest())
		}
		zeroLocations(reflect.ValueOf(n))
		zeroLocations(reflect.ValueOf(j))
		if !reflect.DeepEqual(n, j) {
			t.Errorf("values differ:\nnative: %s\njson:   %s", n.CanonicalJSON(), j.CanonicalJSON())
		}
	})
	t.Run("config", func(t *testing.T) {
		n, d1 := ParseConfig("handoff.hcl", mustRead(t, "testdata/equiv/handoff.hcl"))
		j, d2 := ParseConfig("handoff.hcl.json", mustRead(t, "testdata/equiv/handoff.hcl.json"))
		if d1.HasErrors() || d2.HasErrors() {
			t.Fatalf("diagnostics: %v %v", d1, d2)
		}
		zeroLocations(reflect.ValueOf(n))
		zeroLocations(reflect.ValueOf(j))
		if !reflect.DeepEqual(n, j) {
			t.Errorf("configs differ:\nnative: %+v\njson:   %+v", n, j)
		}
	})
}

func TestParseHandoffValues(t *testing.T) {
	const name = "testdata/equiv/all-surfaces.hcl"
	h := mustParseHandoff(t, name, mustRead(t, name))
	if h.Slug.Value != "all-surfaces" || h.Card.Value != 4242 || h.TTL.Value != 8*time.Hour ||
		h.TTL.Raw != "8h" || h.ApprovedBy.Value != "ops" {
		t.Errorf("scalars: slug %q card %d ttl %v (%q) approved_by %q",
			h.Slug.Value, h.Card.Value, h.TTL.Value, h.TTL.Raw, h.ApprovedBy.Value)
	}
	if got := h.Surfaces(); !slices.Equal(got, []string{"github", "infisical", "mcp", "stripe", "cloudflare", "aws", "heroku", "apple_iap", "alpaca"}) {
		t.Errorf("Surfaces() = %v", got)
	}
	if got := h.LiveSurfaces(); !slices.Equal(got, []string{"stripe", "apple_iap"}) {
		t.Errorf("LiveSurfaces() = %v", got)
	}
	if e, ok := h.GitHub.Permissions.Get("issues"); !ok || e.Value.Value != "read" {
		t.Errorf("github issues = %+v, %v", e, ok)
	}
	if got := h.Infisical.Read.Strings(); len(got) != 2 || got[1] != "/MooseQuest/handoffs/all-surfaces/NOTES" {
		t.Errorf("infisical read = %v", got)
	}
	if h.AWS.Duration.Value != 30*time.Minute || h.Heroku.TTL.Value != 2*time.Hour || h.Cloudflare.TTL.Value != time.Hour {
		t.Errorf("surface durations: aws %v heroku %v cloudflare %v", h.AWS.Duration.Value, h.Heroku.TTL.Value, h.Cloudflare.TTL.Value)
	}

	// Ranges point at the exact place of each value.
	ranges := []struct {
		what      string
		rng       hcl.Range
		line, col int
	}{
		{"slug", h.Slug.Range, 1, 9},
		{"card", h.Card.Range, 2, 17},
		{"ttl", h.TTL.Range, 4, 17},
		{"github block", h.GitHub.DefRange, 7, 3},
		{"permission key", h.GitHub.Permissions.Entries[2].Key.Range, 9, 66},
		{"permission value", h.GitHub.Permissions.Entries[2].Value.Range, 9, 75},
		{"second read path", h.Infisical.Read.Values[1].Range, 14, 61},
		{"stripe mode", h.Stripe.Mode.Range, 23, 19},
		{"live_approval by", h.LiveApproval.By.Range, 55, 14},
	}
	for _, r := range ranges {
		if r.rng.Filename != name || r.rng.Start.Line != r.line || r.rng.Start.Column != r.col {
			t.Errorf("%s at %s, want %s:%d:%d", r.what, RangeString(r.rng), name, r.line, r.col)
		}
	}
}

func TestDefaults(t *testing.T) {
	src := `handoff "defaults" {
  card        = 1
  ttl         = "6h"
  approved_by = "ops"
  stripe {
    permissions = { charges = "read" }
  }
  apple_iap {
    bundle_id = "com.example.app"
  }
  alpaca {}
  aws {
    role_arn       = "arn:aws:iam::123456789012:role/x"
    session_policy = "{}"
  }
  cloudflare {
    zones             = ["example.com"]
    permission_groups = ["DNS Read"]
  }
  heroku {
    app   = "some-app"
    scope = ["read"]
  }
  infisical {
    read = ["/a/b"]
  }
}
`
	h := mustParseHandoff(t, "defaults.hcl", []byte(src))
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"stripe mode", h.Stripe.Mode.Value, StripeTest},
		{"apple_iap environment", h.AppleIAP.Environment.Value, AppleIAPSandbox},
		{"alpaca mode", h.Alpaca.Mode.Value, AlpacaPaper},
		{"aws duration", h.AWS.Duration.Value, time.Hour},
		{"cloudflare ttl", h.Cloudflare.TTL.Value, 6 * time.Hour},
		{"heroku ttl", h.Heroku.TTL.Value, 6 * time.Hour},
		{"stripe mode range is the block header", h.Stripe.Mode.Range, h.Stripe.DefRange},
		{"infisical environment unset", h.Infisical.Environment.Valid(), false},
		{"description unset", h.Description.Valid(), false},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if len(h.LiveSurfaces()) != 0 {
		t.Errorf("LiveSurfaces() = %v, want none", h.LiveSurfaces())
	}

	// Writing a default out does not change the meaning, so neither the digest.
	explicit := strings.Replace(src, `permissions = { charges = "read" }`, `mode = "test"
    permissions = { charges = "read" }`, 1)
	if a, b := h.Digest(), mustParseHandoff(t, "defaults.hcl", []byte(explicit)).Digest(); a != b {
		t.Errorf("explicit default changed the digest: %s vs %s", a, b)
	}
}

const digestBase = `handoff "digest-base" {
  card        = 3629
  description = "StoreKit 2 server notification handler"
  ttl         = "24h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/TradeMasterAPI"
    permissions = { contents = "write", pull_requests = "write" }
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/APPLE_IAP_*"]
  }

  mcp {
    allow   = ["github_pr_create"]
    exclude = ["stripe_charge"]
  }
}
`

func TestDigestIgnoresFormatting(t *testing.T) {
	base := mustParseHandoff(t, "digest-base.hcl", []byte(digestBase)).Digest()
	if !strings.HasPrefix(base, "sha256:") || len(base) != len("sha256:")+64 {
		t.Fatalf("Digest() = %q, want sha256:<64 hex>", base)
	}
	same := map[string]string{
		"reindented and commented": `# a comment
handoff "digest-base" {
    card = 3629   // the card
    description = "StoreKit 2 server notification handler"
    ttl = "24h"
    approved_by = "ops"
    github {
        repository = "raxx-app/TradeMasterAPI"
        permissions = {
          pull_requests = "write"
          contents = "write"
        }
    }
    infisical {
      environment = "staging"
      read = [
        "/MooseQuest/queue/staging/APPLE_IAP_*",
      ]
    }
    mcp {
      exclude = ["stripe_charge"]
      allow = ["github_pr_create"]
    }
}
`,
		"blocks and attributes reordered": strings.Replace(strings.Replace(digestBase,
			`  card        = 3629
  description`, `  description`, 1),
			`  approved_by = "ops"`, `  approved_by = "ops"
  card        = 3629`, 1),
		"same ttl in minutes": strings.Replace(digestBase, `"24h"`, `"1440m"`, 1),
	}
	for name, src := range same {
		if got := mustParseHandoff(t, "digest-base.hcl", []byte(src)).Digest(); got != base {
			t.Errorf("%s: digest changed: %s vs %s", name, got, base)
		}
	}
	changed := map[string][2]string{
		"slug":              {`"digest-base"`, `"digest-other"`},
		"card":              {`3629`, `3630`},
		"description":       {`notification handler`, `notification handlers`},
		"ttl":               {`"24h"`, `"23h"`},
		"approved_by":       {`"ops"`, `"cto"`},
		"repository":        {`TradeMasterAPI`, `TradeMasterWeb`},
		"permission level":  {`contents = "write"`, `contents = "read"`},
		"extra permission":  {`pull_requests = "write"`, `pull_requests = "write", issues = "read"`},
		"environment":       {`"staging"`, `"prod"`},
		"read path":         {`APPLE_IAP_*`, `APPLE_*`},
		"mcp allow":         {`"github_pr_create"`, `"github_pr_create", "github_pr_comment"`},
		"mcp exclude moved": {"allow   = [\"github_pr_create\"]\n    exclude = [\"stripe_charge\"]", "allow   = [\"github_pr_create\", \"stripe_charge\"]\n    exclude = []"},
		"surface removed":   {"  mcp {\n    allow   = [\"github_pr_create\"]\n    exclude = [\"stripe_charge\"]\n  }\n", ""},
		"surface added":     {"  mcp {", "  alpaca {}\n  mcp {"},
	}
	for name, r := range changed {
		src := strings.Replace(digestBase, r[0], r[1], 1)
		if src == digestBase {
			t.Fatalf("%s: replacement %q not found", name, r[0])
		}
		if got := mustParseHandoff(t, "digest-base.hcl", []byte(src)).Digest(); got == base {
			t.Errorf("%s: digest unchanged after a semantic change", name)
		}
	}
}

func TestSlugFromFilename(t *testing.T) {
	for in, want := range map[string]string{
		"specs/a-b.hcl":      "a-b",
		"specs/a-b.hcl.json": "a-b",
		"/x/specs/c.hcl":     "c",
		`specs\d.hcl`:        "d",
		"specs/readme.md":    "",
		"x.json":             "",
	} {
		if got := SlugFromFilename(in); got != want {
			t.Errorf("SlugFromFilename(%q) = %q, want %q", in, got, want)
		}
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDuplicateBlocksAndFileErrors(t *testing.T) {
	tests := []struct {
		name, src string
		summary   string
		line, col int
	}{
		{"no handoff", "# empty\n", "Missing handoff block", 1, 1},
		{"no label", "handoff {\n}\n", "Missing slug for handoff", 1, 9},
		{"two labels", "handoff \"a-b\" \"c\" {\n}\n", "Extraneous label for handoff", 1, 15},
		{"top-level attribute", "card = 1\n", "Unsupported argument", 1, 1},
		{"duplicate attribute", "handoff \"x-y\" {\n  card = 1\n  card = 2\n  ttl = \"1h\"\n  approved_by = \"a\"\n}\n", "Attribute redefined", 3, 3},
		{"huge card", "handoff \"x-y\" {\n  card = 1e30\n  ttl = \"1h\"\n  approved_by = \"a\"\n}\n", `Invalid value for "card"`, 2, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := ParseHandoffFile("f.hcl", []byte(tt.src))
			if len(diags) == 0 {
				t.Fatal("no diagnostics")
			}
			d := diags[0]
			if d.Summary != tt.summary || d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col {
				t.Errorf("got %s: %s, want %d:%d: %s", RangeString(*d.Subject), d.Summary, tt.line, tt.col, tt.summary)
			}
		})
	}
}

func TestParseConfigReadEnvironments(t *testing.T) {
	cfg, diags := ParseConfig("handoff.hcl", mustRead(t, "testdata/equiv/handoff.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	envs := cfg.Policy.VaultReadEnvironments
	if got := envs.Strings(); !slices.Equal(got, []string{"staging", "dev"}) {
		t.Errorf("vault_read_environments = %v, want [staging dev]", got)
	}
	if !envs.Valid() || envs.Values[0].Range.Start.Line != 18 {
		t.Errorf("vault_read_environments range = %v, want line 18", envs.Values[0].Range)
	}

	// Unset, it is invalid, so package policy can apply its default.
	cfg, diags = ParseConfig("handoff.hcl", []byte("policy {\n  max_ttl = \"1h\"\n}\n"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if cfg.Policy.VaultReadEnvironments.Valid() {
		t.Errorf("unset vault_read_environments is valid: %+v", cfg.Policy.VaultReadEnvironments)
	}

	// A string instead of a list says how to write it.
	_, diags = ParseConfig("handoff.hcl", []byte("policy {\n  vault_read_environments = \"staging\"\n}\n"))
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `vault_read_environments = ["staging"]`) {
		t.Errorf("string value: %v, want an error with the example", diags)
	}
}

func TestRepoHandoff(t *testing.T) {
	repo, diags := LoadDir("../..")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if h := repo.Handoff("iap-notif-handler-20260621"); h == nil || h.Slug.Value != "iap-notif-handler-20260621" {
		t.Errorf("Handoff(iap-notif-handler-20260621) = %v", h)
	}
	if h := repo.Handoff("no-such-task-20260621"); h != nil {
		t.Errorf("Handoff of an unknown slug = %v", h.Slug.Value)
	}
	var none *Repo
	if none.Handoff("x") != nil {
		t.Error("a nil Repo has a handoff")
	}
}
