package cloudflare_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
)

// diagLine is a diagnostic as "file:line:col: summary".
func diagLine(d *hcl.Diagnostic) string {
	loc := "?"
	if d.Subject != nil {
		loc = spec.RangeString(*d.Subject)
		if i := strings.LastIndex(loc, "/specs/"); i >= 0 {
			loc = loc[i+1:]
		} else if i := strings.LastIndex(loc, "/handoff.hcl"); i >= 0 {
			loc = loc[i+1:]
		}
	}
	return fmt.Sprintf("%s: %s", loc, d.Summary)
}

// TestPolicy: each bad cloudflare block or policy gives exactly the wanted
// errors, at their file:line:col, with a detail that says what to write
// instead.
func TestPolicy(t *testing.T) {
	t.Parallel()
	const ok = `  cloudflare_zones = ["example.com", "raxx.dev"]`
	block := func(lines ...string) string { return strings.Join(lines, "\n") }
	zones := `    zones             = ["example.com"]`
	groups := `    permission_groups = ["DNS Write"]`
	tests := []struct {
		name, policy, ttl, body string
		want                    []string // "file:line:col: summary | detail fragment"
	}{
		{"valid", ok, "2h", block(zones, groups, `    ttl               = "1h"`, `    request_ip        = ["192.0.2.0/24", "2001:db8::/32"]`), nil},
		{"zones by id and with a final dot", `  cloudflare_zones = ["Example.com.", "2ebc3b25e5b82662f032d2d540301afa"]`, "1h",
			block(`    zones             = ["example.com", "2ebc3b25e5b82662f032d2d540301afa"]`, groups), nil},
		{"default policy allows no zone", "", "1h", block(zones, groups), []string{
			`specs/demo-task.hcl:7:25: No Cloudflare zone is allowed by the policy | cloudflare_zones = ["example.com"]`}},
		{"zone not allowed", ok, "1h", block(`    zones             = ["example.com", "moosequest.app"]`, groups), []string{
			`specs/demo-task.hcl:7:41: Cloudflare zone "moosequest.app" is not allowed by the policy | allows only "example.com", "raxx.dev". Remove "moosequest.app", or add it to cloudflare_zones`}},
		{"wildcard zone", ok, "1h", block(`    zones             = ["*.example.com"]`, groups), []string{
			`specs/demo-task.hcl:7:26: Invalid Cloudflare zone | such as "example.com"`}},
		{"empty and blank zones", ok, "1h", block(`    zones             = []`, groups), []string{
			`specs/demo-task.hcl:7:25: Empty cloudflare zones | such as zones = ["example.com"]`}},
		{"duplicate zone", ok, "1h", block(`    zones             = ["example.com", "EXAMPLE.com"]`, groups), []string{
			`specs/demo-task.hcl:7:41: Duplicate Cloudflare zone | Remove one`}},
		{"forbidden groups", ok, "1h", block(zones, `    permission_groups = ["Zone Settings Write", "bot management edit", "API Tokens Write", "Billing Write", "Zone Write"]`), []string{
			`specs/demo-task.hcl:8:26: Forbidden Cloudflare permission group "Zone Settings Write" | whole zone`,
			`specs/demo-task.hcl:8:49: Forbidden Cloudflare permission group "bot management edit" | bot protection`,
			`specs/demo-task.hcl:8:72: Forbidden Cloudflare permission group "API Tokens Write" | mint itself more`,
			`specs/demo-task.hcl:8:92: Forbidden Cloudflare permission group "Billing Write" | payment methods`,
			`specs/demo-task.hcl:8:109: Forbidden Cloudflare permission group "Zone Write" | deletes, pauses`}},
		{"group above the ceiling", ok, "1h", block(zones, `    permission_groups = ["DNS Write", "Page Rules Write"]`), []string{
			`specs/demo-task.hcl:8:39: Cloudflare permission group "Page Rules Write" is above the policy ceiling | schema/default-policy.hcl:29:34) allows only "Cache Purge", "DNS Read", "DNS Write", "Zone Read"`}},
		{"group spelled otherwise", ok, "1h", block(zones, `    permission_groups = ["dns write"]`), []string{
			`specs/demo-task.hcl:8:26: Cloudflare permission group "dns write" is spelled otherwise | Cloudflare names it "DNS Write"`}},
		{"wildcard group", ok, "1h", block(zones, `    permission_groups = ["DNS *"]`), []string{
			`specs/demo-task.hcl:8:26: Wildcard Cloudflare permission group | such as "DNS Write"`}},
		{"duplicate group", ok, "1h", block(zones, `    permission_groups = ["DNS Write", "DNS Write"]`), []string{
			`specs/demo-task.hcl:8:39: Duplicate Cloudflare permission group | Remove one`}},
		{"ttl over the handoff's", ok, "1h", block(zones, groups, `    ttl               = "2h"`), []string{
			`specs/demo-task.hcl:9:25: cloudflare ttl longer than the handoff's ttl | Shorten ttl to 1h`}},
		{"request_ip problems", ok, "1h", block(zones, groups, `    request_ip        = ["192.0.2.7", "192.0.2.7/24", "::/0", "nope", "198.51.100.0/24", "198.51.100.0/24"]`), []string{
			`specs/demo-task.hcl:9:26: Invalid CIDR in cloudflare request_ip | write "192.0.2.7/32"`,
			`specs/demo-task.hcl:9:39: CIDR with host bits in cloudflare request_ip | Write "192.0.2.0/24"`,
			`specs/demo-task.hcl:9:55: cloudflare request_ip allows every address | remove request_ip`,
			`specs/demo-task.hcl:9:63: Invalid CIDR in cloudflare request_ip | such as "192.0.2.0/24" or "2001:db8::/32"`,
			`specs/demo-task.hcl:9:90: Duplicate CIDR in cloudflare request_ip | Remove one`}},
		{"empty request_ip", ok, "1h", block(zones, groups, `    request_ip        = []`), []string{
			`specs/demo-task.hcl:9:25: Empty cloudflare request_ip | such as request_ip = ["192.0.2.0/24"]`}},
		{"forbidden and wildcard groups in the ceiling", ok + "\n" + `  cloudflare_permission_groups = ["DNS Write", "Zone Settings Write", "*", "Account API Tokens Edit"]`, "1h", block(zones, groups), []string{
			`handoff.hcl:8:48: Forbidden Cloudflare permission group "Zone Settings Write" in the policy ceiling | Remove it from cloudflare_permission_groups`,
			`handoff.hcl:8:71: Wildcard Cloudflare permission group in the policy ceiling | such as "DNS Write"`,
			`handoff.hcl:8:76: Forbidden Cloudflare permission group "Account API Tokens Edit" in the policy ceiling | Remove it from cloudflare_permission_groups`}},
		{"invalid zones in the allowlist", `  cloudflare_zones = ["example.com", "*.raxx.dev", ""]`, "1h", block(zones, groups), []string{
			`handoff.hcl:7:38: Invalid Cloudflare zone | In cloudflare_zones: "*.raxx.dev"`,
			`handoff.hcl:7:52: Blank entry in cloudflare_zones | such as "example.com"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := repo(t, tt.policy, map[string]string{"demo-task": handoff("demo-task", tt.ttl, tt.body)})
			var errs []*hcl.Diagnostic
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					errs = append(errs, d)
				}
			}
			if len(errs) != len(tt.want) {
				var got []string
				for _, d := range errs {
					got = append(got, diagLine(d)+" | "+d.Detail)
				}
				t.Fatalf("got %d errors, want %d:\n%s", len(errs), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				head, frag, _ := strings.Cut(w, " | ")
				if got := diagLine(errs[i]); got != head {
					t.Errorf("error %d: %s, want %s", i, got, head)
				}
				if !strings.Contains(errs[i].Detail, frag) {
					t.Errorf("error %d detail %q does not contain %q", i, errs[i].Detail, frag)
				}
			}
		})
	}
}

// TestForbiddenGroup pins the groups no policy can allow, and that the
// groups handoffs commonly need are not among them.
func TestForbiddenGroup(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"Zone Settings Write", "Bot Management Write", "Zone Write", "API Tokens Write", "Account API Tokens Write",
		"Account Settings Write", "Billing Write", "Memberships Write", "User Details Write",
		"Access: Organizations, Identity Providers, and Groups Write", "zone  settings EDIT", "Account API Tokens Edit",
		"Billing Profile Write", "Account Memberships Write",
	} {
		if _, bad := cfsurface.ForbiddenGroup(name); !bad {
			t.Errorf("%q is not forbidden", name)
		}
	}
	for _, name := range []string{"DNS Write", "DNS Read", "Zone Read", "Cache Purge", "Zone Settings Read", "Bot Management Read",
		"Billing Read", "Page Rules Write", "Workers Routes Write", "API Tokens Read"} {
		if why, bad := cfsurface.ForbiddenGroup(name); bad {
			t.Errorf("%q is forbidden: %s", name, why)
		}
	}
}

// TestDigest: request_ip is part of the digest only when written, so the
// digests of specs written before it do not change; Canonical is the same
// struct the placeholder surface wrote.
func TestDigest(t *testing.T) {
	t.Parallel()
	body := "    zones             = [\"example.com\"]\n    permission_groups = [\"DNS Write\"]"
	h := parse(t, "digest-task", "2h", body)
	b := cfsurface.Of(h)
	got, _ := json.Marshal(b.Canonical())
	if want := `{"zones":["example.com"],"permission_groups":["DNS Write"],"ttl":"2h0m0s"}`; string(got) != want {
		t.Errorf("Canonical = %s, want %s", got, want)
	}
	withIP := parse(t, "digest-task", "2h", body+"\n    request_ip        = [\"192.0.2.0/24\"]")
	if withIP.Digest() == h.Digest() {
		t.Error("request_ip does not change the digest")
	}
	got, _ = json.Marshal(cfsurface.Of(withIP).Canonical())
	if !strings.HasSuffix(string(got), `"request_ip":["192.0.2.0/24"]}`) {
		t.Errorf("Canonical with request_ip = %s", got)
	}
}
