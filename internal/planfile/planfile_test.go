package planfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC)

// samplePlan has a create and a replace with an escalation: every kind of
// field a plan file carries.
func samplePlan() *plan.Plan {
	p := &plan.Plan{
		FormatVersion:    plan.FormatVersion,
		HandoffVersion:   "0.1.0",
		CreatedAt:        t0,
		GitCommit:        "8c3f1e2d4b5a69788796a5b4c3d2e1f0a9b8c7d6",
		Environment:      "staging",
		HandoffRoot:      "/MooseQuest/handoffs",
		StateFingerprint: "sha256:" + strings.Repeat("a1", 32),
		SpecsDigest:      "sha256:" + strings.Repeat("b2", 32),
		Policy:           plan.PolicyResult{Passed: true, Checks: []string{"slug", "ttl"}, Warnings: []string{"ttl is the maximum"}},
		Handoffs: []plan.Handoff{
			{
				Slug: "iap-notif-handler-20260621", Card: 3629, SpecFile: "specs/iap-notif-handler-20260621.hcl",
				SpecDigest: "sha256:" + strings.Repeat("c3", 32), ExpiresAt: t0.Add(24 * time.Hour),
				Changes: []plan.Change{{
					Surface: "github", Action: plan.Replace, Reason: "spec changed", Resource: "installation token for raxx-app/TradeMasterAPI",
					Before:      &plan.Grant{Repository: "raxx-app/TradeMasterAPI", Permissions: map[string]string{"contents": "read"}, ExpiresAt: t0.Add(40 * time.Minute)},
					After:       &plan.Grant{Repository: "raxx-app/TradeMasterAPI", Permissions: map[string]string{"contents": "write"}},
					Escalations: []string{"contents: read → write"},
					Secrets:     []string{"GH_HANDOFF_TOKEN"},
				}},
			},
			{
				Slug: "founders-checkout-20260621", Card: 3206, SpecFile: "specs/founders-checkout-20260621.hcl",
				Changes: []plan.Change{{
					Surface: "stripe", Action: plan.Create, Reason: "new spec", Resource: "restricted key (test mode)",
					After:   &plan.Grant{Mode: "test", Permissions: map[string]string{"checkout_sessions": "write"}, Attributes: map[string]string{"note": "<&>"}},
					Secrets: []string{"STRIPE_RESTRICTED_KEY"},
				}},
			},
		},
	}
	p.Finalize()
	return p
}

func marshal(t *testing.T, p *plan.Plan) []byte {
	t.Helper()
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGoldenFile(t *testing.T) {
	got := marshal(t, samplePlan())
	path := filepath.Join("testdata", "sample.plan.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/planfile -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("plan file encoding changed; rerun with -update if intended:\n%s", got)
	}
	// The golden file itself still reads: files written by this version
	// stay readable.
	if _, err := Unmarshal(want); err != nil {
		t.Errorf("golden plan file does not read: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	for name, p := range map[string]*plan.Plan{
		"sample": samplePlan(),
		"empty":  {FormatVersion: plan.FormatVersion, CreatedAt: t0},
		"zero":   {},
		"local times": func() *plan.Plan {
			p := samplePlan()
			loc := time.FixedZone("CEST", 2*3600)
			p.CreatedAt = p.CreatedAt.In(loc)
			p.Handoffs[0].ExpiresAt = p.Handoffs[0].ExpiresAt.In(loc)
			return p
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, p); err != nil {
				t.Fatal(err)
			}
			got, err := Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			want := p.Canonical()
			if want.FormatVersion == 0 {
				want.FormatVersion = plan.FormatVersion
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("round trip differs:\n got %s\nwant %s", g, w)
			}
			if !bytes.Equal(marshal(t, got), marshal(t, p)) {
				t.Error("writing the plan read back gives another file")
			}
		})
	}
}

// rewrite decodes a plan file, lets f change its envelope, and encodes it
// again, recomputing the checksum over the (changed) plan when fix is true.
func rewrite(t *testing.T, b []byte, fix bool, f func(env map[string]any)) []byte {
	t.Helper()
	var env map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		t.Fatal(err)
	}
	f(env)
	if fix {
		raw, err := json.Marshal(env["plan"])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		env["checksum"] = "sha256:" + hex.EncodeToString(sum[:])
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func planOf(env map[string]any) map[string]any { return env["plan"].(map[string]any) }

func TestReadRejects(t *testing.T) {
	good := marshal(t, samplePlan())
	planJSON := func() []byte {
		var buf bytes.Buffer
		if err := plan.RenderJSON(&buf, samplePlan()); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}()
	for _, tc := range []struct {
		name  string
		input []byte
		kind  error
		want  string // substring of the message
	}{
		{"empty", nil, ErrCorrupt, "plan file is empty"},
		{"blank", []byte("  \n"), ErrCorrupt, "plan file is empty"},
		{"binary", []byte("PK\x03\x04\x14\x00"), ErrNotPlanFile, "not a handoff plan file"},
		{"array", []byte(`[1, 2]`), ErrNotPlanFile, "not a JSON object"},
		{"plan -json output", planJSON, ErrNotPlanFile, "output of handoff plan -json"},
		{"other JSON object", []byte(`{"hello": "world"}`), ErrNotPlanFile, "no handoff_plan_file field"},
		{"truncated in the plan", good[:len(good)/2], ErrCorrupt, "plan file is truncated"},
		{"truncated before the checksum", good[:bytes.Index(good, []byte(`"checksum"`))], ErrCorrupt, "plan file is truncated"},
		{"truncated inside the checksum", good[:len(good)-20], ErrCorrupt, "plan file is truncated"},
		{"garbage in the middle", bytes.Replace(good, []byte(`"handoffs": [`), []byte(`"handoffs": [[[}`), 1), ErrCorrupt, "not valid JSON"},
		{"newer version", rewrite(t, good, false, func(e map[string]any) { e["handoff_plan_file"] = 2 }),
			ErrUnsupportedVersion, "plan file version 2 is newer than this handoff (max 1): upgrade handoff"},
		{"much newer version with new fields", rewrite(t, good, false, func(e map[string]any) {
			e["handoff_plan_file"] = 17
			e["signature"] = "x"
			delete(e, "checksum")
		}), ErrUnsupportedVersion, "plan file version 17 is newer than this handoff (max 1): upgrade handoff"},
		{"version zero", rewrite(t, good, false, func(e map[string]any) { e["handoff_plan_file"] = 0 }), ErrCorrupt, "version 0 is not valid"},
		{"version as a string", rewrite(t, good, false, func(e map[string]any) { e["handoff_plan_file"] = "1" }), ErrCorrupt, "is not a number"},
		{"unknown envelope field", rewrite(t, good, false, func(e map[string]any) { e["extra"] = true }), ErrCorrupt, `unknown field "extra"`},
		{"no checksum", rewrite(t, good, false, func(e map[string]any) { delete(e, "checksum") }), ErrCorrupt, "no checksum"},
		{"malformed checksum", rewrite(t, good, false, func(e map[string]any) { e["checksum"] = "md5:abc" }), ErrCorrupt, "not of the form sha256:"},
		{"no plan", rewrite(t, good, false, func(e map[string]any) { delete(e, "plan") }), ErrCorrupt, "holds no plan"},
		{"null plan", rewrite(t, good, false, func(e map[string]any) { e["plan"] = nil }), ErrCorrupt, "holds no plan"},
		{"tampered permission", bytes.Replace(good, []byte(`"contents": "write"`), []byte(`"contents": "admin"`), 1),
			ErrCorrupt, "checksum mismatch"},
		{"tampered action", rewrite(t, good, false, func(e map[string]any) {
			planOf(e)["handoffs"].([]any)[1].(map[string]any)["action"] = "no-op"
		}), ErrCorrupt, "checksum mismatch"},
		{"tampered checksum", rewrite(t, good, false, func(e map[string]any) {
			e["checksum"] = "sha256:" + strings.Repeat("0", 64)
		}), ErrCorrupt, "checksum mismatch"},
		{"removed handoff", rewrite(t, good, false, func(e map[string]any) {
			planOf(e)["handoffs"] = planOf(e)["handoffs"].([]any)[:1]
		}), ErrCorrupt, "checksum mismatch"},
		{"unknown plan field, checksum recomputed", rewrite(t, good, true, func(e map[string]any) { planOf(e)["force"] = true }),
			ErrCorrupt, `unknown field "force"`},
		{"wrong plan field type, checksum recomputed", rewrite(t, good, true, func(e map[string]any) { planOf(e)["handoffs"] = "none" }),
			ErrCorrupt, "cannot read"},
		{"newer plan format, checksum recomputed", rewrite(t, good, true, func(e map[string]any) {
			planOf(e)["format_version"] = plan.FormatVersion + 1
			planOf(e)["new_field"] = 1
		}), ErrUnsupportedVersion, fmt.Sprintf("plan format_version %d is newer than this handoff (max %d): upgrade handoff",
			plan.FormatVersion+1, plan.FormatVersion)},
		{"no plan format, checksum recomputed", rewrite(t, good, true, func(e map[string]any) { delete(planOf(e), "format_version") }),
			ErrCorrupt, "without a format_version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Read(bytes.NewReader(tc.input))
			if err == nil {
				t.Fatalf("read succeeded: %+v", p)
			}
			if p != nil {
				t.Error("a plan was returned with the error")
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %q is not %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestEveryTruncationRejected: no prefix of a plan file reads as a plan.
func TestEveryTruncationRejected(t *testing.T) {
	good := marshal(t, samplePlan())
	trimmed := bytes.TrimSpace(good)
	for n := 0; n < len(trimmed); n++ {
		if _, err := Unmarshal(trimmed[:n]); err == nil {
			t.Fatalf("a plan file cut after %d of %d bytes reads", n, len(trimmed))
		} else if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotPlanFile) {
			t.Fatalf("cut after %d bytes: %v", n, err)
		}
	}
}

// TestWhitespaceTolerated: reformatting the file (an editor, jq .) does not
// change the plan, so it still reads.
func TestWhitespaceTolerated(t *testing.T) {
	good := marshal(t, samplePlan())
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.ReplaceAll(good, []byte("\n"), []byte(" ")), "", "\t"); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(&buf); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, good); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(&compact); err != nil {
		t.Fatal(err)
	}
}

func TestReadTooLarge(t *testing.T) {
	defer func(old int64) { maxSize = old }(maxSize)
	good := marshal(t, samplePlan())
	maxSize = int64(len(good)) - 1
	if _, err := Read(bytes.NewReader(good)); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v", err)
	}
	maxSize = int64(len(good))
	if _, err := Read(bytes.NewReader(good)); err != nil {
		t.Errorf("a file of exactly the limit: %v", err)
	}
}

func TestMarshalRejects(t *testing.T) {
	if _, err := Marshal(nil); err == nil {
		t.Error("nil plan accepted")
	}
	p := samplePlan()
	p.FormatVersion = plan.FormatVersion + 1
	if _, err := Marshal(p); err == nil || !strings.Contains(err.Error(), "format_version") {
		t.Errorf("err = %v", err)
	}
}

func TestWriteDoesNotModifyPlan(t *testing.T) {
	p := samplePlan()
	p.FormatVersion = 0
	before, _ := json.Marshal(p)
	marshal(t, p)
	if after, _ := json.Marshal(p); !bytes.Equal(before, after) {
		t.Error("Marshal modified the plan")
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.out")
	if err := os.WriteFile(path, []byte("old content"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := samplePlan()
	if err := WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p.Canonical()) {
		t.Error("ReadFile does not return the plan written")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	// A failed write leaves nothing behind and names the path.
	missing := filepath.Join(dir, "no-such-dir", "plan.out")
	if err := WriteFile(missing, p); err == nil || !strings.Contains(err.Error(), "no-such-dir") {
		t.Errorf("err = %v", err)
	}
	if err := WriteFile(filepath.Join(dir, "bad.out"), nil); err == nil {
		t.Error("nil plan written")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left behind after failures: %v", entries)
	}

	// ReadFile names the file in its errors.
	if err := os.WriteFile(path, []byte(`{"handoff_plan_file": 9}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.HasPrefix(err.Error(), path+": plan file version 9 is newer") || !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("err = %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "absent.out")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}
