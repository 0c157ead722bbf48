package spec_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces"
	"github.com/raxx-app/handoff/internal/surfaces/byref"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	herokusurface "github.com/raxx-app/handoff/internal/surfaces/heroku"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/surfaces/pending"
)

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParseHandoff(t *testing.T, name string, src []byte) *spec.Handoff {
	t.Helper()
	h, diags := spec.ParseHandoffFile(name, src)
	if diags.HasErrors() || h == nil {
		t.Fatalf("ParseHandoffFile(%s): %v", name, diags)
	}
	return h
}

// dump renders every value reachable from v, exported or not, except
// hcl.Ranges and file names, so that values parsed from different files
// and syntaxes can be compared. Surfaces' blocks are held in maps of
// interfaces and may carry funcs (which reflect.DeepEqual never finds
// equal), so the comparison is of this rendering; the language's own
// syntax descriptions are named, not walked.
func dump(v reflect.Value) string {
	var b strings.Builder
	dumpValue(&b, v, map[uintptr]bool{})
	return b.String()
}

var (
	rangeType  = reflect.TypeOf(hcl.Range{})
	syntaxType = reflect.TypeOf(spec.BlockSyntax{})
)

func dumpValue(b *strings.Builder, v reflect.Value, seen map[uintptr]bool) {
	switch v.Kind() {
	case reflect.Invalid:
		b.WriteString("<invalid>")
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		if v.Type().Elem() == syntaxType {
			fmt.Fprintf(b, "syntax(%s)", v.Elem().FieldByName("Type").String())
			return
		}
		if seen[v.Pointer()] {
			b.WriteString("<cycle>")
			return
		}
		seen[v.Pointer()] = true
		defer delete(seen, v.Pointer())
		b.WriteString("&")
		dumpValue(b, v.Elem(), seen)
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		fmt.Fprintf(b, "(%s)", v.Elem().Type())
		dumpValue(b, v.Elem(), seen)
	case reflect.Struct:
		if v.Type() == rangeType {
			b.WriteString("<range>")
			return
		}
		fmt.Fprintf(b, "%s{", v.Type())
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Name == "Filename" {
				continue
			}
			fmt.Fprintf(b, "%s:", f.Name)
			dumpValue(b, v.Field(i), seen)
			b.WriteString(" ")
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		b.WriteString("[")
		for i := range v.Len() {
			dumpValue(b, v.Index(i), seen)
			b.WriteString(" ")
		}
		b.WriteString("]")
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		b.WriteString("map[")
		for _, k := range keys {
			dumpValue(b, k, seen)
			b.WriteString(":")
			dumpValue(b, v.MapIndex(k), seen)
			b.WriteString(" ")
		}
		b.WriteString("]")
	case reflect.Func:
		if v.IsNil() {
			b.WriteString("func(nil)")
		} else {
			b.WriteString("func")
		}
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fmt.Fprintf(b, "%d", v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		fmt.Fprintf(b, "%d", v.Uint())
	case reflect.Bool:
		fmt.Fprintf(b, "%t", v.Bool())
	case reflect.Float32, reflect.Float64:
		fmt.Fprintf(b, "%g", v.Float())
	default:
		fmt.Fprintf(b, "<%s>", v.Kind())
	}
}

// liveSurfaces returns the surfaces of h that ask for live or production
// credentials (H7), in h's order: what spec.Handoff.LiveSurfaces returned
// before the surfaces owned their blocks.
func liveSurfaces(h *spec.Handoff) []string {
	var out []string
	for _, name := range h.Surfaces() {
		s, ok := surfaces.Default.Get(name)
		if !ok {
			continue
		}
		l, ok := s.(surface.Live)
		if !ok {
			continue
		}
		if b, _ := h.Block(name); l.Live(b) != nil {
			out = append(out, name)
		}
	}
	return out
}

// pendingBlock returns the block of a surface of package pending.
func pendingBlock(t *testing.T, h *spec.Handoff, name string) *pending.Block {
	t.Helper()
	b, _ := h.Block(name)
	p, ok := b.(*pending.Block)
	if !ok {
		t.Fatalf("%s block is %T, want *pending.Block", name, b)
	}
	return p
}

func TestNativeAndJSONAreEquivalent(t *testing.T) {
	t.Run("handoff", func(t *testing.T) {
		n := mustParseHandoff(t, "all-surfaces.hcl", mustRead(t, "testdata/equiv/all-surfaces.hcl"))
		j := mustParseHandoff(t, "all-surfaces.hcl.json", mustRead(t, "testdata/equiv/all-surfaces.hcl.json"))
		if n.Digest() != j.Digest() {
			t.Errorf("digests differ: native %s, json %s", n.Digest(), j.Digest())
		}
		if len(n.Surfaces()) != 9 {
			t.Fatalf("native spec has surfaces %v, want all nine", n.Surfaces())
		}
		if dn, dj := dump(reflect.ValueOf(n)), dump(reflect.ValueOf(j)); dn != dj {
			t.Errorf("values differ:\nnative: %s\njson:   %s\nnative: %s\njson:   %s", n.CanonicalJSON(), j.CanonicalJSON(), dn, dj)
		}
	})
	t.Run("config", func(t *testing.T) {
		n, d1 := spec.ParseConfig("handoff.hcl", mustRead(t, "testdata/equiv/handoff.hcl"))
		j, d2 := spec.ParseConfig("handoff.hcl.json", mustRead(t, "testdata/equiv/handoff.hcl.json"))
		if d1.HasErrors() || d2.HasErrors() {
			t.Fatalf("diagnostics: %v %v", d1, d2)
		}
		if n.Vault == nil || ghsurface.ConfigOf(n) == nil || n.Policy == nil {
			t.Fatalf("native config lacks a block: %+v", n)
		}
		if dn, dj := dump(reflect.ValueOf(n)), dump(reflect.ValueOf(j)); dn != dj {
			t.Errorf("configs differ:\nnative: %s\njson:   %s", dn, dj)
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
	if got := liveSurfaces(h); !slices.Equal(got, []string{"stripe", "apple_iap"}) {
		t.Errorf("live surfaces = %v", got)
	}
	gh := ghsurface.Of(h)
	if e, ok := gh.Permissions.Get("issues"); !ok || e.Value.Value != "read" {
		t.Errorf("github issues = %+v, %v", e, ok)
	}
	if got := infsurface.Of(h).Read.Strings(); len(got) != 2 || got[1] != "/MooseQuest/handoffs/all-surfaces/NOTES" {
		t.Errorf("infisical read = %v", got)
	}
	aws := pendingBlock(t, h, "aws").Durs["duration"]
	heroku := herokusurface.Of(h).TTL
	cloudflare := cfsurface.Of(h).TTL
	if aws.Value != 30*time.Minute || heroku.Value != 2*time.Hour || cloudflare.Value != time.Hour {
		t.Errorf("surface durations: aws %v heroku %v cloudflare %v", aws.Value, heroku.Value, cloudflare.Value)
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
		{"github block", gh.DefRange, 7, 3},
		{"github block (BlockRange)", h.BlockRange(ghsurface.Name), 7, 3},
		{"permission key", gh.Permissions.Entries[2].Key.Range, 9, 66},
		{"permission value", gh.Permissions.Entries[2].Value.Range, 9, 75},
		{"second read path", infsurface.Of(h).Read.Values[1].Range, 14, 61},
		{"stripe mode", byref.Stripe().Of(h).Mode.Range, 23, 19},
		{"live_approval by", h.LiveApproval.By.Range, 55, 14},
	}
	for _, r := range ranges {
		if r.rng.Filename != name || r.rng.Start.Line != r.line || r.rng.Start.Column != r.col {
			t.Errorf("%s at %s, want %s:%d:%d", r.what, spec.RangeString(r.rng), name, r.line, r.col)
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
	stripe := byref.Stripe().Of(h)
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"stripe mode", stripe.Mode.Value, "test"},
		{"apple_iap environment", byref.AppleIAP().Of(h).Mode.Value, "sandbox"},
		{"alpaca mode", byref.Alpaca().Of(h).Mode.Value, "paper"},
		{"aws duration", pendingBlock(t, h, "aws").Durs["duration"].Value, time.Hour},
		{"cloudflare ttl", cfsurface.Of(h).TTL.Value, 6 * time.Hour},
		{"heroku ttl", herokusurface.Of(h).TTL.Value, 6 * time.Hour},
		{"stripe mode range is the block header", stripe.Mode.Range, stripe.DefRange},
		{"infisical environment unset", infsurface.Of(h).Environment.Valid(), false},
		{"description unset", h.Description.Valid(), false},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if got := liveSurfaces(h); len(got) != 0 {
		t.Errorf("live surfaces = %v, want none", got)
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
		"surface blocks reordered": strings.Replace(digestBase,
			"  github {\n    repository  = \"raxx-app/TradeMasterAPI\"\n    permissions = { contents = \"write\", pull_requests = \"write\" }\n  }\n\n  infisical {\n    environment = \"staging\"\n    read        = [\"/MooseQuest/queue/staging/APPLE_IAP_*\"]\n  }\n",
			"  infisical {\n    environment = \"staging\"\n    read        = [\"/MooseQuest/queue/staging/APPLE_IAP_*\"]\n  }\n\n  github {\n    repository  = \"raxx-app/TradeMasterAPI\"\n    permissions = { contents = \"write\", pull_requests = \"write\" }\n  }\n", 1),
		"same ttl in minutes": strings.Replace(digestBase, `"24h"`, `"1440m"`, 1),
	}
	for name, src := range same {
		if src == digestBase {
			t.Fatalf("%s: replacement not found", name)
		}
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
		if got := spec.SlugFromFilename(in); got != want {
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
			_, diags := spec.ParseHandoffFile("f.hcl", []byte(tt.src))
			if len(diags) == 0 {
				t.Fatal("no diagnostics")
			}
			d := diags[0]
			if d.Summary != tt.summary || d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col {
				t.Errorf("got %s: %s, want %d:%d: %s", spec.RangeString(*d.Subject), d.Summary, tt.line, tt.col, tt.summary)
			}
		})
	}
}

// readEnvironments returns what the infisical surface decoded of the policy
// block's vault_read_environments.
func readEnvironments(t *testing.T, cfg *spec.Config) spec.StringList {
	t.Helper()
	b, ok := cfg.Policy.Surface(infsurface.Name)
	p, isPolicy := b.(*infsurface.PolicyBlock)
	if !ok || !isPolicy {
		t.Fatalf("policy block of infisical = %T, %v", b, ok)
	}
	return p.Environments
}

func TestParseConfigReadEnvironments(t *testing.T) {
	cfg, diags := spec.ParseConfig("handoff.hcl", mustRead(t, "testdata/equiv/handoff.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	envs := readEnvironments(t, cfg)
	if got := envs.Strings(); !slices.Equal(got, []string{"staging", "dev"}) {
		t.Errorf("vault_read_environments = %v, want [staging dev]", got)
	}
	if !envs.Valid() || envs.Values[0].Range.Start.Line != 18 {
		t.Errorf("vault_read_environments range = %v, want line 18", envs.Values[0].Range)
	}

	// Unset, it is invalid, so package policy can apply its default.
	cfg, diags = spec.ParseConfig("handoff.hcl", []byte("policy {\n  max_ttl = \"1h\"\n}\n"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if envs := readEnvironments(t, cfg); envs.Valid() {
		t.Errorf("unset vault_read_environments is valid: %+v", envs)
	}

	// A string instead of a list says how to write it.
	_, diags = spec.ParseConfig("handoff.hcl", []byte("policy {\n  vault_read_environments = \"staging\"\n}\n"))
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `vault_read_environments = ["staging"]`) {
		t.Errorf("string value: %v, want an error with the example", diags)
	}
}

func TestRepoHandoff(t *testing.T) {
	repo, diags := spec.LoadDir("../..")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if h := repo.Handoff("iap-notif-handler-20260621"); h == nil || h.Slug.Value != "iap-notif-handler-20260621" {
		t.Errorf("Handoff(iap-notif-handler-20260621) = %v", h)
	}
	if h := repo.Handoff("no-such-task-20260621"); h != nil {
		t.Errorf("Handoff of an unknown slug = %v", h.Slug.Value)
	}
	var none *spec.Repo
	if none.Handoff("x") != nil {
		t.Error("a nil Repo has a handoff")
	}
}
