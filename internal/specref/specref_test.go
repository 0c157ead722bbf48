package specref

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/provider/cloudflare"
	"github.com/raxx-app/handoff/internal/provider/github"
	hk "github.com/raxx-app/handoff/internal/provider/heroku"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/reconcile"
	"github.com/raxx-app/handoff/internal/spec"
	_ "github.com/raxx-app/handoff/internal/surfaces" // the language the reference documents
	awssurface "github.com/raxx-app/handoff/internal/surfaces/aws"
	"github.com/raxx-app/handoff/internal/surfaces/byref"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	herokusurface "github.com/raxx-app/handoff/internal/surfaces/heroku"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/vault/infisicalvault"
	"github.com/raxx-app/handoff/internal/workspace"
	"github.com/raxx-app/handoff/schema"
)

var update = flag.Bool("update", false, "rewrite docs/spec-reference.md with the generated reference")

const referencePath = "../../docs/spec-reference.md"

// TestReferenceIsUpToDate fails while docs/spec-reference.md differs from
// what the parser and the descriptions generate.
func TestReferenceIsUpToDate(t *testing.T) {
	got, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(referencePath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/specref -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go generate ./internal/specref (or go test ./internal/specref -update)\n%s",
			filepath.Base(referencePath), firstDifference(got, want))
	}
}

func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  generated: %q\n  on disk:   %q", i+1, gl, wl)
		}
	}
	return ""
}

// TestEveryArgumentIsDescribed is the real table against the real parser.
func TestEveryArgumentIsDescribed(t *testing.T) {
	if err := Check(spec.Schema(), descriptions); err != nil {
		t.Error(err)
	}
}

// TestCheckCatchesDrift proves Check is not vacuous: an argument the parser
// gains without a description, and a description of an argument the parser
// lost, are both reported, and so is a default documented for a required
// argument.
func TestCheckCatchesDrift(t *testing.T) {
	clone := func() map[string]Description {
		m := make(map[string]Description, len(descriptions))
		for k, v := range descriptions {
			m[k] = v
		}
		return m
	}
	withExtraArg := spec.Schema()
	hb := &withExtraArg[1].Blocks[0] // handoff
	hb.Attributes = append(hb.Attributes, spec.AttributeSchema{Name: "owner", Example: `owner = "ops"`})
	withExtraBlock := spec.Schema()
	withExtraBlock[0].Blocks = append(withExtraBlock[0].Blocks, spec.BlockSchema{Type: "audit"})

	tests := []struct {
		name   string
		schema []spec.FileSchema
		edit   func(map[string]Description)
		want   []string
	}{
		{"argument without description", withExtraArg, nil, []string{"argument handoff.owner of specs/<slug>.hcl has no description"}},
		{"block without description", withExtraBlock, nil, []string{"block config.audit of handoff.hcl has no description"}},
		{"description of an unknown argument", spec.Schema(),
			func(m map[string]Description) { m["handoff.github.branch"] = Description{Text: "x"} },
			[]string{"describes handoff.github.branch, which the parser does not know"}},
		{"blank description", spec.Schema(),
			func(m map[string]Description) { m["handoff.ttl"] = Description{Text: "  "} },
			[]string{"argument handoff.ttl of specs/<slug>.hcl has no description"}},
		{"default of a required argument", spec.Schema(),
			func(m map[string]Description) { m["handoff.ttl"] = Description{Text: "x", Default: `"24h"`} },
			[]string{"handoff.ttl is required but its description documents a default"}},
		{"missing file description", spec.Schema(),
			func(m map[string]Description) { delete(m, "file:handoff.hcl") },
			[]string{"file handoff.hcl needs a description"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := clone()
			if tt.edit != nil {
				tt.edit(d)
			}
			err := Check(tt.schema, d)
			if err == nil {
				t.Fatal("Check found nothing")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check error lacks %q:\n%v", w, err)
				}
			}
			if _, err := generate(tt.schema, d); err == nil {
				t.Error("generate succeeded despite the drift")
			}
		})
	}
}

// TestTypesFromTheParser pins the types the probes find for arguments of
// every decoder, so a probe that stopped telling them apart fails here.
func TestTypesFromTheParser(t *testing.T) {
	args, err := Args(spec.Schema())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range args {
		got[a.Key] = a.Type
	}
	tests := []struct{ key, want string }{
		{"config.infisical.site_url", TypeString},
		{"config.github.app_id", TypeNumber},
		{"config.policy.max_ttl", TypeDuration},
		{"config.policy.max_revocations", TypeNumber},
		{"config.policy.max_revocation_share", TypeString},
		{"config.apply.schedule", TypeDuration},
		{"config.policy.github_permissions", TypeMap},
		{"config.policy.vault_read_roots", TypeList},
		{"config.policy.vault_read_environments", TypeList},
		{"config.policy.github_owners", TypeList},
		{"config.policy.github_repositories", TypeList},
		{"handoff.card", TypeNumber},
		{"handoff.ttl", TypeDuration},
		{"handoff.approved_by", TypeString},
		{"handoff.github.repository", TypeString},
		{"handoff.github.permissions", TypeMap},
		{"handoff.infisical.read", TypeList},
		{"handoff.aws.duration", TypeDuration},
		{"handoff.aws.session_policy", TypeString},
		{"handoff.cloudflare.ttl", TypeDuration},
		{"handoff.live_approval.by", TypeString},
	}
	for _, tt := range tests {
		if got[tt.key] != tt.want {
			t.Errorf("%s: type %q, want %q", tt.key, got[tt.key], tt.want)
		}
	}
	for _, a := range args {
		if a.Type == "" {
			t.Errorf("%s has no type", a.Key)
		}
	}
}

// TestProbeSourceIsMinimalAndValid: the probe of every block, with no
// argument added, is accepted by the parser, so a rejected probe value is
// rejected because of that value alone.
func TestProbeSourceIsMinimalAndValid(t *testing.T) {
	for _, b := range Blocks(spec.Schema()) {
		src := ProbeSource(b, "", "")
		if _, _, diags := Parse(b, src); diags != "" {
			t.Errorf("%s: probe rejected: %s\n%s", b.Key, diags, src)
		}
	}
	// And a wrong type is rejected, naming the argument.
	b := findBlock(t, "handoff.github")
	if _, _, diags := Parse(b, ProbeSource(b, "permissions", `"write"`)); !strings.Contains(diags, "permissions") {
		t.Errorf("permissions = \"write\": %q, want a diagnostic naming permissions", diags)
	}
}

func findBlock(t *testing.T, key string) *Block {
	t.Helper()
	for _, b := range Blocks(spec.Schema()) {
		if b.Key == key {
			return b
		}
	}
	t.Fatalf("no block %s", key)
	return nil
}

// TestDocumentedDefaults checks every default of the table against the
// parser (the value decoded when the argument is omitted), the default
// policy, or the client that applies it.
func TestDocumentedDefaults(t *testing.T) {
	defPolicy, diags := spec.ParseConfig("schema/default-policy.hcl", schema.DefaultPolicyHCL)
	if diags.HasErrors() || defPolicy.Policy == nil {
		t.Fatalf("default policy: %v", diags)
	}
	quote := func(s string) string { return fmt.Sprintf("%q", s) }
	// Each checker returns the default as the table writes it, given the
	// config or handoff parsed from the block's probe without the argument.
	const handoffTTL = "the handoff's ttl"
	checks := map[string]func(*spec.Config, *spec.Handoff) string{
		"config.infisical.site_url": func(*spec.Config, *spec.Handoff) string {
			if infisicalvault.DefaultSiteURL != infisical.DefaultSiteURL {
				return "vault and client disagree: " + infisicalvault.DefaultSiteURL + " vs " + infisical.DefaultSiteURL
			}
			return quote(infisical.DefaultSiteURL)
		},
		"config.github.api_url": func(c *spec.Config, _ *spec.Handoff) string { return quote(ghsurface.ConfigOf(c).APIURL.Value) },
		"config.policy.max_ttl": func(*spec.Config, *spec.Handoff) string { return quote(defPolicy.Policy.MaxTTL.Raw) },
		"config.policy.max_revocations": func(*spec.Config, *spec.Handoff) string {
			return strconv.FormatInt(defPolicy.Policy.MaxRevocations.Value, 10)
		},
		"config.policy.max_revocation_share": func(*spec.Config, *spec.Handoff) string {
			return quote(defPolicy.Policy.MaxRevocationShare.Value)
		},
		"config.apply.schedule": func(c *spec.Config, _ *spec.Handoff) string {
			if c.Schedule() != reconcile.DefaultSchedule {
				return "the planner's default differs: " + reconcile.DefaultSchedule.String()
			}
			return quote(c.Apply.Schedule.Raw)
		},
		"config.policy.github_permissions": func(*spec.Config, *spec.Handoff) string {
			var kv []string
			for _, e := range defaultPolicyBlock[*ghsurface.PolicyBlock](t, defPolicy, ghsurface.Name).Permissions.Entries {
				kv = append(kv, e.Key.Value+" = "+quote(e.Value.Value))
			}
			return "{ " + strings.Join(kv, ", ") + " }"
		},
		"config.policy.vault_read_roots": func(*spec.Config, *spec.Handoff) string {
			var q []string
			for _, v := range defaultPolicyBlock[*infsurface.PolicyBlock](t, defPolicy, infsurface.Name).Roots.Strings() {
				q = append(q, quote(v))
			}
			return "[" + strings.Join(q, ", ") + "]"
		},
		"config.policy.cloudflare_permission_groups": func(*spec.Config, *spec.Handoff) string {
			return quoteList(defaultPolicyBlock[*cfsurface.PolicyBlock](t, defPolicy, cfsurface.Name).PermissionGroups.Strings())
		},
		"config.policy.cloudflare_zones": func(*spec.Config, *spec.Handoff) string {
			return quoteList(defaultPolicyBlock[*cfsurface.PolicyBlock](t, defPolicy, cfsurface.Name).Zones.Strings())
		},
		"config.policy.aws_role_arns": func(*spec.Config, *spec.Handoff) string {
			return list(defaultPolicyBlock[*awssurface.PolicyBlock](t, defPolicy, awssurface.Name).RoleARNs)
		},
		"config.policy.aws_ssm_read_roots": func(*spec.Config, *spec.Handoff) string {
			return list(defaultPolicyBlock[*awssurface.PolicyBlock](t, defPolicy, awssurface.Name).SSMReadRoots)
		},
		"config.policy.aws_s3_read_prefixes": func(*spec.Config, *spec.Handoff) string {
			return list(defaultPolicyBlock[*awssurface.PolicyBlock](t, defPolicy, awssurface.Name).S3Prefixes)
		},
		"config.policy.aws_sqs_send_queues": func(*spec.Config, *spec.Handoff) string {
			return list(defaultPolicyBlock[*awssurface.PolicyBlock](t, defPolicy, awssurface.Name).SQSQueues)
		},
		"config.policy.vault_read_environments": func(c *spec.Config, _ *spec.Handoff) string {
			// Computed: the policy applies the infisical block's environment
			// when the argument is omitted.
			const probeEnv = "probe-env"
			withEnv := *c
			withEnv.Vault = &infisicalvault.Config{
				Env:  spec.String{Value: probeEnv, Range: spec.FileRange(spec.ConfigFile)},
				Root: spec.String{Value: "/probe/handoffs", Range: spec.FileRange(spec.ConfigFile)},
			}
			p, diags := policy.Effective(&withEnv)
			if diags.HasErrors() {
				return diags.Error()
			}
			vp, ok := p.Surface(infsurface.Name).(*infsurface.Policy)
			if !ok {
				return fmt.Sprintf("policy of infisical is %T", p.Surface(infsurface.Name))
			}
			if got := vp.Environments.Strings(); len(got) == 1 && got[0] == probeEnv {
				return "the infisical block's environment"
			}
			return quote(strings.Join(vp.Environments.Strings(), ","))
		},
		"config.rotation.environment": func(c *spec.Config, _ *spec.Handoff) string {
			const probeEnv = "probe-env"
			withEnv := *c
			withEnv.Vault = &infisicalvault.Config{
				Env:  spec.String{Value: probeEnv, Range: spec.FileRange(spec.ConfigFile)},
				Root: spec.String{Value: "/probe/handoffs", Range: spec.FileRange(spec.ConfigFile)},
			}
			loc := reconcile.RotationLocation(&withEnv)
			switch {
			case loc == nil:
				return "no location"
			case loc.Environment == probeEnv:
				return "the infisical block's environment"
			}
			return quote(loc.Environment)
		},
		"handoff.stripe.mode":           func(_ *spec.Config, h *spec.Handoff) string { return quote(byref.Stripe().Of(h).Mode.Value) },
		"handoff.apple_iap.environment": func(_ *spec.Config, h *spec.Handoff) string { return quote(byref.AppleIAP().Of(h).Mode.Value) },
		"handoff.alpaca.mode":           func(_ *spec.Config, h *spec.Handoff) string { return quote(byref.Alpaca().Of(h).Mode.Value) },
		"handoff.aws.duration": func(_ *spec.Config, h *spec.Handoff) string {
			return quote(awssurface.Of(h).Duration.Raw)
		},
		"handoff.cloudflare.ttl": func(_ *spec.Config, h *spec.Handoff) string {
			if d := cfsurface.Of(h).TTL; d.Raw != h.TTL.Raw || h.TTL.Raw == "" {
				return quote(d.Raw)
			}
			return handoffTTL
		},
		"config.policy.heroku_apps": func(*spec.Config, *spec.Handoff) string {
			var q []string
			for _, v := range defaultPolicyBlock[*herokusurface.PolicyBlock](t, defPolicy, herokusurface.Name).Apps.Strings() {
				q = append(q, quote(v))
			}
			return "[" + strings.Join(q, ", ") + "]"
		},
		"handoff.heroku.ttl": func(_ *spec.Config, h *spec.Handoff) string {
			if d := herokusurface.Of(h).TTL; d.Raw != h.TTL.Raw || h.TTL.Raw == "" {
				return quote(d.Raw)
			}
			return handoffTTL
		},
	}
	for key, d := range descriptions {
		if d.Default != "" && checks[key] == nil {
			t.Errorf("%s documents the default %s, which no check of this test verifies: add one", key, d.Default)
		}
	}
	args, err := Args(spec.Schema())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range args {
		check, ok := checks[a.Key]
		if !ok {
			continue
		}
		t.Run(a.Key, func(t *testing.T) {
			cfg, h, diags := Parse(a.Block, ProbeSource(a.Block, "", ""))
			if diags != "" {
				t.Fatal(diags)
			}
			if got := check(cfg, h); got != descriptions[a.Key].Default {
				t.Errorf("default is %s, the reference says %s", got, descriptions[a.Key].Default)
			}
		})
		delete(checks, a.Key)
	}
	for key := range checks {
		t.Errorf("check of %s names no argument of the parser", key)
	}
}

// quoteList writes a list as HCL: ["a", "b"].
func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, v := range l {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// defaultPolicyBlock is what surface name decoded of the default policy.
func defaultPolicyBlock[T spec.Block](t *testing.T, def *spec.Config, name string) T {
	t.Helper()
	b, _ := def.Policy.Surface(name)
	v, ok := b.(T)
	if !ok {
		t.Fatalf("default policy of %s is %T", name, b)
	}
	return v
}

// list writes a policy list as the reference does.
func list(l spec.StringList) string {
	q := make([]string, len(l.Values))
	for i, v := range l.Values {
		q[i] = strconv.Quote(v.Value)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// TestEnvironmentSectionNamesRealVariables: the variables the reference
// names are those the code reads.
func TestEnvironmentSectionNamesRealVariables(t *testing.T) {
	for _, v := range []string{
		infisical.EnvSiteURL, infisical.EnvProjectID, infisical.EnvClientID, infisical.EnvClientSecret,
		infisical.EnvCFAccessID, infisical.EnvCFAccessSecret,
		workspace.EnvOrganizationID, workspace.EnvGitHubAPIURL, workspace.EnvGitHubAppID,
		github.EnvPrivateKey, github.EnvPrivateKeyFile,
		hk.EnvAPIKey, workspace.EnvHerokuAPIURL,
		cloudflare.EnvAPIToken, cloudflare.EnvAPIURL,
		workspace.EnvAWSEndpoint, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_REGION", "AWS_ENDPOINT_URL",
		workspace.EnvDevClockURL,
	} {
		if !strings.Contains(footer, "`"+v+"`") {
			t.Errorf("the Environment section does not name %s", v)
		}
	}
}
