package manifest_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/surfaces"
	"github.com/raxx-app/handoff/internal/surfaces/byref"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/surfaces/mcp"
)

// The records of sample, by surface.
var (
	sampleGitHub = func() *ghsurface.Record {
		t0 := time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC)
		return &ghsurface.Record{
			InstallationID: 1001, Repository: "raxx-app/TradeMasterAPI", RepositoryID: 5001,
			Permissions: map[string]string{"contents": "write", "issues": "write", "pull_requests": "write"},
			Secret:      "GH_HANDOFF_TOKEN", TokenExpiresAt: t0.Add(time.Hour), TokenFingerprint: manifest.Fingerprint("ghs_x"), MintedAt: t0,
		}
	}
	sampleInfisical = func() *infsurface.Record {
		return &infsurface.Record{
			IdentityID: "id-1", IdentityName: "infisical-handoff-iap-notif-handler-20260621-20260621",
			ClientSecretID: "cs-1", PrivilegeID: "priv-1", Environment: "staging",
			ReadPaths: []string{"/MooseQuest/handoffs/iap-notif-handler-20260621/**", "/MooseQuest/queue/staging/APPLE_IAP_*"},
		}
	}
	sampleMCP = func() *mcp.Record {
		return &mcp.Record{Allow: []string{"github_pr_create"}, Exclude: []string{"stripe_charge"}}
	}
	sampleAppleIAP = func() *byref.Record { return &byref.Record{Environment: "sandbox"} }
)

func sample() *manifest.Manifest {
	t0 := time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC)
	m := &manifest.Manifest{
		SchemaVersion: manifest.SchemaVersion,
		Slug:          "iap-notif-handler-20260621",
		Card:          3629,
		SpecFile:      "specs/iap-notif-handler-20260621.hcl",
		SpecDigest:    "sha256:" + strings.Repeat("ab", 32),
		GitCommit:     "0123456789abcdef0123456789abcdef01234567",
		ApprovedBy:    "ops",
		CreatedAt:     t0,
		UpdatedAt:     t0,
		ExpiresAt:     t0.Add(24 * time.Hour),
		Status:        manifest.Active,
		Secrets:       []string{"GH_HANDOFF_TOKEN", "INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET"},
		History:       []manifest.Event{{At: t0, Action: manifest.EventCreate, Surface: "github", Fingerprint: manifest.Fingerprint("ghs_x")}},
	}
	for name, rec := range map[string]any{
		"github": sampleGitHub(), "infisical": sampleInfisical(), "mcp": sampleMCP(), "apple_iap": sampleAppleIAP(),
	} {
		if err := m.Surfaces.Put(name, rec); err != nil {
			panic(err)
		}
	}
	return m
}

func TestRoundTripMatchesGolden(t *testing.T) {
	b, err := manifest.Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	golden := "testdata/manifest.golden.json"
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(b)+"\n" {
		t.Errorf("manifest encoding changed; rerun with UPDATE_GOLDEN=1 if intended\n%s", b)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := manifest.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(b) {
		t.Errorf("round trip differs:\n%s\n---\n%s", b, again)
	}
	// Names lists the entries by name; the registry of surfaces puts them
	// in the language's order where that matters.
	if got := m.Surfaces.Names(); strings.Join(got, ",") != "apple_iap,github,infisical,mcp" {
		t.Errorf("Names() = %v", got)
	}
	if got := surfaces.Default.SortNames(m.Surfaces.Names()); strings.Join(got, ",") != "github,infisical,mcp,apple_iap" {
		t.Errorf("Names() in the language's order = %v", got)
	}
	// Each surface reads its entry back as it was written.
	decoded := []struct {
		name      string
		got, want any
	}{
		{"github", ghsurface.Decode(m.Surfaces["github"]), sampleGitHub()},
		{"infisical", infsurface.Decode(m.Surfaces["infisical"]), sampleInfisical()},
		{"mcp", mcp.Decode(m.Surfaces["mcp"]), sampleMCP()},
		{"apple_iap", byref.Decode(m.Surfaces["apple_iap"]), sampleAppleIAP()},
	}
	for _, d := range decoded {
		if !reflect.DeepEqual(d.got, d.want) {
			t.Errorf("surfaces.%s read back as %+v, want %+v", d.name, d.got, d.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	mutate := func(f func(map[string]any)) []byte {
		b, err := manifest.Marshal(sample())
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	surf := func(m map[string]any, name string) map[string]any {
		return m["surfaces"].(map[string]any)[name].(map[string]any)
	}
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"not json", []byte(`{"slug":`), "not JSON"},
		{"truncated write", []byte(`{"schema_version":1,"slug":"abc"}`), "missing properties"},
		{"future version", mutate(func(m map[string]any) { m["schema_version"] = 2 }), "/schema_version"},
		{"bad status", mutate(func(m map[string]any) { m["status"] = "paused" }), "/status"},
		{"revoked without record", mutate(func(m map[string]any) { m["status"] = "revoked" }), "revocation"},
		{"unknown field", mutate(func(m map[string]any) { m["token"] = "ghs_leak" }), "additional properties"},
		{"secret value in github", mutate(func(m map[string]any) { surf(m, "github")["token"] = "ghs_leak" }), "/surfaces/github"},
		{"bad slug", mutate(func(m map[string]any) { m["slug"] = "Bad_Slug" }), "/slug"},
		{"bad digest", mutate(func(m map[string]any) { m["spec_digest"] = "md5:00" }), "/spec_digest"},
		{"bad time", mutate(func(m map[string]any) { m["expires_at"] = "tomorrow" }), "/expires_at"},
		{"admin level", mutate(func(m map[string]any) {
			surf(m, "github")["permissions"] = map[string]any{"administration": "admin"}
		}), "/surfaces/github/permissions"},
		{"bad untombstoned_at", mutate(func(m map[string]any) {
			m["status"] = "revoked"
			m["revocation"] = map[string]any{"at": "2026-06-21T10:00:00Z", "kind": "manual", "reason": "drill", "untombstoned_at": "later"}
		}), "/revocation/untombstoned_at"},
		{"unknown event", mutate(func(m map[string]any) {
			m["history"] = []any{map[string]any{"at": "2026-06-21T10:00:00Z", "action": "resurrect"}}
		}), "/history/0/action"},
		{"expires before created", mutate(func(m map[string]any) { m["expires_at"] = "2026-06-20T00:00:00Z" }), "expires_at is before"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := manifest.Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse accepted %s", tc.in)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "ghs_leak") {
				t.Errorf("error echoes a value: %v", err)
			}
		})
	}
}

func TestMarshalRefusesInvalid(t *testing.T) {
	m := sample()
	m.Status = manifest.Revoked
	if _, err := manifest.Marshal(m); err == nil {
		t.Fatal("Marshal wrote a revoked manifest without a revocation record")
	}
}

func TestFingerprint(t *testing.T) {
	fp := manifest.Fingerprint("ghs_secret")
	if len(fp) != len("sha256:")+12 || strings.Contains(fp, "secret") {
		t.Errorf("Fingerprint = %q", fp)
	}
	if fp == manifest.Fingerprint("ghs_secreT") {
		t.Error("different secrets share a fingerprint")
	}
}

// TestUntombstoned: handoff untombstone keeps the revoked manifest and
// marks its revocation lifted; the schema takes the field and the event,
// and a manifest written before them still reads.
func TestUntombstoned(t *testing.T) {
	m := sample()
	at := m.CreatedAt.Add(2 * time.Hour)
	m.Status = manifest.Revoked
	m.Revocation = &manifest.Revocation{At: at, Kind: manifest.RevokedManual, Reason: "drill", By: "ops"}
	if !m.Tombstoned() || m.Untombstoned() {
		t.Fatalf("tombstone: Tombstoned %v, Untombstoned %v", m.Tombstoned(), m.Untombstoned())
	}
	b, err := manifest.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "untombstoned_at") {
		t.Errorf("a tombstone writes untombstoned_at:\n%s", b)
	}
	m.Revocation.UntombstonedAt = at.Add(time.Hour)
	m.History = append(m.History, manifest.Event{At: at.Add(time.Hour), Action: manifest.EventUntombstone, Detail: "tombstone lifted"})
	b, err = manifest.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := manifest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tombstoned() || !got.Untombstoned() || !got.Revocation.UntombstonedAt.Equal(at.Add(time.Hour)) {
		t.Errorf("after the round trip: Tombstoned %v, Untombstoned %v, %s", got.Tombstoned(), got.Untombstoned(), got.Revocation.UntombstonedAt)
	}
	// Only a manual revocation is lifted; an expired one never is.
	got.Revocation.Kind = manifest.RevokedExpired
	if got.Untombstoned() {
		t.Error("an expired revocation reads as untombstoned")
	}
	// An active manifest is not untombstoned, whatever its record says.
	m.Status = manifest.Active
	if m.Untombstoned() || m.Tombstoned() {
		t.Error("an active manifest is tombstoned or untombstoned")
	}
}
