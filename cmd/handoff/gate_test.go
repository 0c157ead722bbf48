package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/infisicalsrv"
	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/infisical"
)

// rewriteManifest edits the manifest of slug in the vault behind handoff's
// back, as someone with write access to the folder could.
func (c *gitops) rewriteManifest(slug string, edit func(m map[string]any)) {
	c.t.Helper()
	inf, err := c.provisioner()
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, folder := context.Background(), infisicalsrv.DefaultHandoffRoot+"/"+slug
	sec, err := inf.GetSecret(ctx, "staging", folder, manifest.SecretName)
	if err != nil {
		c.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(sec.Value), &m); err != nil {
		c.t.Fatal(err)
	}
	edit(m)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := inf.UpdateSecret(ctx, "staging", folder, manifest.SecretName, string(b)); err != nil {
		c.t.Fatal(err)
	}
}

// TestGateRefusesAManifestWithRewrittenDates (issue 12, item 5): a manifest
// rewritten with its expiry and its token's in 2099 was admitted 26 h later
// ("expires … in 631734h") though the token and the identity were long
// dead. The gate checks the manifest's dates against the policy's max_ttl
// and each credential's against what its vendor allows, and says what is
// wrong.
func TestGateRefusesAManifestWithRewrittenDates(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	c.must(0, "gate", iapSlug)
	const y2099 = "2099-01-01T00:00:00Z"
	c.rewriteManifest(iapSlug, func(m map[string]any) {
		m["expires_at"] = y2099
		m["surfaces"].(map[string]any)["github"].(map[string]any)["token_expires_at"] = y2099
	})
	c.s.Kit.Clock.Advance(26 * time.Hour)
	_, stderr := c.must(1, "gate", iapSlug)
	for _, want := range []string{"cannot be trusted", "beyond the policy's max_ttl of 24h", "handoff revoke " + iapSlug} {
		if !strings.Contains(stderr, want) {
			t.Errorf("gate of a rewritten manifest does not say %q:\n%s", want, stderr)
		}
	}
	if _, stderr := c.must(1, "env", iapSlug); !strings.Contains(stderr, "cannot be trusted") {
		t.Errorf("env of a rewritten manifest:\n%s", stderr)
	}

	// The token alone pushed beyond its hour, within the TTL.
	c = newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	c.rewriteManifest(iapSlug, func(m map[string]any) {
		m["surfaces"].(map[string]any)["github"].(map[string]any)["token_expires_at"] = y2099
	})
	c.s.Kit.Clock.Advance(2 * time.Hour)
	if _, stderr := c.must(1, "gate", iapSlug); !strings.Contains(stderr, "GitHub token expires at "+y2099+", more than the 1h its vendor allows") {
		t.Errorf("gate of a rewritten token expiry:\n%s", stderr)
	}
}

// TestSlugCommandsIgnoreAnotherInvalidSpec (issue 12, item 11): with an
// unrelated invalid spec on disk, gate, env and verify of a handoff depend
// only on handoff.hcl and that handoff's own spec: the other spec is a
// warning on stderr. Plan, apply and verify of every handoff still stop,
// and so does the slug's own spec, or handoff.hcl, when invalid.
func TestSlugCommandsIgnoreAnotherInvalidSpec(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	// Another spec invalid, and hostile: nesting that HCL takes seconds
	// to parse. The commands about other handoffs never read it.
	bad := filepath.Join(c.dir, "specs", "broken-task-20260621.hcl")
	deep := strings.Repeat("(", 30_000) + "1" + strings.Repeat(")", 30_000)
	if err := os.WriteFile(bad, []byte("handoff \"broken-task-20260621\" {\n  ttl = \"48h\"\n  description = "+deep+"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"gate", iapSlug}, {"env", iapSlug}, {"verify", iapSlug}, {"verify", iapSlug, stripeSlug}, {"revoke", "-surface", "stripe", stripeSlug}} {
		_, stderr := c.must(0, args...)
		if strings.Contains(stderr, "broken-task") {
			t.Errorf("handoff %s read another handoff's spec:\n%s", strings.Join(args, " "), stderr)
		}
	}
	if _, stderr := c.must(1, "validate"); !strings.Contains(stderr, "Nested too deeply") {
		t.Errorf("validate of the hostile spec:\n%s", stderr)
	}
	for _, args := range [][]string{{"plan"}, {"verify"}, {"gate", "broken-task-20260621"}} {
		if _, stderr := c.must(1, args...); !strings.Contains(stderr, "nothing remote was touched") {
			t.Errorf("handoff %s with an invalid spec:\n%s", strings.Join(args, " "), stderr)
		}
	}

	// The handoff's own spec invalid: refused.
	own := filepath.Join(c.dir, "specs", iapSlug+".hcl")
	b, _ := os.ReadFile(own)
	if err := os.WriteFile(own, []byte(strings.Replace(string(b), `ttl         = "24h"`, `ttl         = "48h"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr := c.must(1, "gate", iapSlug); !strings.Contains(stderr, "ttl above the policy's max_ttl") {
		t.Errorf("gate with its own spec invalid:\n%s", stderr)
	}
	if err := os.WriteFile(own, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// handoff.hcl invalid: refused.
	cfg := filepath.Join(c.dir, "handoff.hcl")
	cb, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, append(cb, []byte("\nbogus {}\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	c.must(1, "gate", iapSlug)
}

// TestAHandoffSeesTheOtherSlugsButNotTheirSecrets pins the accepted risk of
// issue 12, item 15 (docs/threat-model.md): as its own identity, a handoff
// lists the folder names under the handoff root, hence the other handoffs'
// slugs, because Infisical lets any project member list folders whatever
// its privileges; it reads none of the other folders' secrets, not even
// their names.
func TestAHandoffSeesTheOtherSlugsButNotTheirSecrets(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	inf, err := c.provisioner()
	if err != nil {
		t.Fatal(err)
	}
	ctx, root := context.Background(), infisicalsrv.DefaultHandoffRoot
	id, err := inf.GetSecret(ctx, "staging", root+"/"+iapSlug, "INFISICAL_CLIENT_ID")
	if err != nil {
		t.Fatal(err)
	}
	secret, err := inf.GetSecret(ctx, "staging", root+"/"+iapSlug, "INFISICAL_CLIENT_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	own, err := inf.AsIdentity(ctx, id.Value, secret.Value)
	if err != nil {
		t.Fatal(err)
	}
	folders, err := own.ListFolders(ctx, "staging", root, false)
	if err != nil {
		t.Fatalf("listing the handoff root as the handoff: %v", err)
	}
	var names []string
	for _, f := range folders {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != stripeSlug+","+iapSlug && strings.Join(names, ",") != iapSlug+","+stripeSlug {
		t.Errorf("the handoff lists %v under the root; the accepted risk is both slugs, nothing more", names)
	}
	if _, err := own.ListSecrets(ctx, "staging", root+"/"+stripeSlug, false); err == nil {
		t.Error("the handoff lists the secrets of another handoff's folder")
	}
	// Listed from the root, the secrets are filtered by its grant.
	all, err := own.ListSecrets(ctx, "staging", root, true)
	for _, s := range all {
		if !strings.HasPrefix(s.FullPath(), root+"/"+iapSlug+"/") {
			t.Errorf("the handoff lists %s from the root", s.FullPath())
		}
	}
	if err != nil && !infisical.IsForbidden(err) {
		t.Errorf("listing the root's secrets: %v", err)
	}
}

// TestGateChecksEverySurfacesTimes: an outside review edited a live
// manifest's surfaces.cloudflare.minted_at (and token_expires_at a bit
// after it), surfaces.heroku.minted_at or surfaces.aws.issued_at to hours
// in the future, and the gate admitted it, while the same edit of
// GitHub's minted_at was refused: the gate checked the mint of a
// surface whose vendor fixes the life only. For each surface with times,
// a mint in the future, an expiry after the handoff's and an expiry
// before the mint are refused, naming the surface's field; the manifest
// as applied is admitted before and after.
func TestGateChecksEverySurfacesTimes(t *testing.T) {
	const herokuSlug = "moosequest-deploy-20260621"
	c := newVendorGitOps(t, []string{iapSlug, cfSlug, awsSlug, herokuSlug}, nil)
	awsEnviron(t, c)
	c.must(0, "apply", "-auto-approve")

	surfaces := []struct {
		slug, name, title   string
		minted, expiry      string
		expiryAfterHandoffs string // what the refusal says of an expiry after the handoff's
	}{
		{iapSlug, "github", "GitHub token", "minted_at", "token_expires_at", "more than the 1h its vendor allows"},
		{cfSlug, "cloudflare", "Cloudflare API token", "minted_at", "token_expires_at", "after the handoff"},
		{herokuSlug, "heroku", "Heroku token", "minted_at", "expires_at", "after the handoff"},
		{awsSlug, "aws", "AWS session", "issued_at", "expires_at", "after the handoff"},
	}
	for _, s := range surfaces {
		c.must(0, "gate", s.slug)
		var orig map[string]any // the manifest as applied (read, written back as it was)
		c.rewriteManifest(s.slug, func(m map[string]any) { orig = m })
		b, err := json.Marshal(orig)
		if err != nil {
			t.Fatal(err)
		}
		rec := orig["surfaces"].(map[string]any)[s.name].(map[string]any)
		minted, expires, handoffExpires := parseStamp(t, rec[s.minted]), parseStamp(t, rec[s.expiry]), parseStamp(t, orig["expires_at"])
		field := func(name string) string { return "surfaces." + s.name + "." + name + ": its " + s.title }
		tests := []struct {
			name            string
			minted, expires time.Time
			want            []string
		}{
			{"minted hours in the future", minted.Add(3 * time.Hour), expires.Add(3 * time.Hour),
				[]string{field(s.minted) + " was " + strings.TrimSuffix(s.minted, "_at") + " at " + stampOf(minted.Add(3*time.Hour)) + ", in the future"}},
			{"expires after the handoff", minted, handoffExpires.Add(2 * time.Hour),
				[]string{field(s.expiry) + " expires at " + stampOf(handoffExpires.Add(2*time.Hour)) + ", " + s.expiryAfterHandoffs}},
			{"expires before its mint", minted, minted.Add(-10 * time.Minute),
				[]string{field(s.expiry) + " expires at " + stampOf(minted.Add(-10*time.Minute)) + ", before it was " + strings.TrimSuffix(s.minted, "_at") + " (" + stampOf(minted) + ")"}},
		}
		for _, tt := range tests {
			c.rewriteManifest(s.slug, func(m map[string]any) {
				r := m["surfaces"].(map[string]any)[s.name].(map[string]any)
				r[s.minted], r[s.expiry] = stampOf(tt.minted), stampOf(tt.expires)
			})
			if code, _, stderr := c.run("gate", s.slug); code != 1 {
				t.Errorf("%s, %s: gate exits %d, want 1 (refused):\n%s", s.name, tt.name, code, stderr)
			} else {
				for _, want := range append(tt.want, "cannot be trusted", "handoff revoke "+s.slug) {
					if !strings.Contains(stderr, want) {
						t.Errorf("%s, %s: the gate does not say %q:\n%s", s.name, tt.name, want, stderr)
					}
				}
			}
			c.rewriteManifest(s.slug, func(m map[string]any) {
				clear(m)
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
			})
		}
		c.must(0, "gate", s.slug)
	}
}

func parseStamp(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339, s)
	if err != nil || at.IsZero() {
		t.Fatalf("a manifest time %v: %v", v, err)
	}
	return at
}

func stampOf(at time.Time) string { return at.UTC().Format(time.RFC3339) }
