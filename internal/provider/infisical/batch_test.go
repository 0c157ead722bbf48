package infisical

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

var batchValues = []string{"value-one-DO-NOT-PRINT", "value-two-DO-NOT-PRINT", "value-three-DO-NOT-PRINT", "value-four-DO-NOT-PRINT"}

// noValue fails the test when err's text (remedy included) holds a value.
func noValue(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		assertNoSecret(t, err.Error(), batchValues...)
	}
}

func writes(keys ...string) []SecretWrite {
	out := make([]SecretWrite, len(keys))
	for i, k := range keys {
		out[i] = SecretWrite{Key: k, Value: batchValues[i%len(batchValues)], Comment: "handoff checkout: written by handoff apply"}
	}
	return out
}

func TestBatchSecrets(t *testing.T) {
	s, c, _ := newRealServer(t)
	folder := fakeEnv + ":" + fakeFolder
	keysOf := func(ss []Secret) string {
		var ks []string
		for _, x := range ss {
			ks = append(ks, x.Key)
		}
		return strings.Join(ks, ",")
	}

	// Create: one request, in the caller's order, each with its comment.
	got, err := c.CreateSecrets(ctx, fakeEnv, fakeFolder, writes("A_KEY", "C_KEY", "B_KEY"))
	noValue(t, err)
	if err != nil || keysOf(got) != "A_KEY,C_KEY,B_KEY" || got[0].Value != batchValues[0] || got[0].Path != fakeFolder {
		t.Fatalf("created %v, %v", got, err)
	}
	if n := s.count("POST /api/v4/secrets/batch"); n != 1 {
		t.Errorf("%d requests", n)
	}
	if sec := s.secrets[folder]["C_KEY"]; sec.comment != "handoff checkout: written by handoff apply" || sec.value != batchValues[1] {
		t.Errorf("C_KEY on the server: %+v", sec)
	}
	body := s.bodies["POST /api/v4/secrets/batch"][0]
	if body["projectId"] != fakeProject || body["environment"] != fakeEnv || body["secretPath"] != fakeFolder || body["mode"] != nil {
		t.Errorf("create body %v", body)
	}

	// All or nothing: one existing name, nothing created.
	_, err = c.CreateSecrets(ctx, fakeEnv, fakeFolder, writes("D_KEY", "B_KEY"))
	noValue(t, err)
	if !IsAlreadyExists(err) || !strings.Contains(err.Error(), "Secret already exists: B_KEY") || !strings.Contains(err.Error(), "nothing in the batch was written") {
		t.Errorf("create over an existing name: %v", err)
	}
	if e, _ := APIError(err); e == nil || e.Temporary() {
		t.Errorf("not an API error, or temporary: %v", err)
	}
	if s.secrets[folder]["D_KEY"] != nil {
		t.Error("D_KEY was created")
	}

	// Update: one missing name, nothing updated.
	_, err = c.UpdateSecrets(ctx, fakeEnv, fakeFolder, UpdateExisting, writes("A_KEY", "D_KEY"))
	noValue(t, err)
	if !IsNotFound(err) || !strings.Contains(err.Error(), "Secret does not exist: D_KEY in path "+fakeFolder) || strings.Contains(err.Error(), "the folder") {
		t.Errorf("update of a missing name: %v", err)
	}
	if v := s.secrets[folder]["A_KEY"].version; v != 1 {
		t.Errorf("A_KEY version %d after a refused batch", v)
	}

	// Upsert creates the missing name; IgnoreMissing skips it.
	up := writes("A_KEY", "E_KEY")
	up[0].Value, up[0].Comment = batchValues[3], ""
	got, err = c.UpdateSecrets(ctx, fakeEnv, fakeFolder, Upsert, up)
	noValue(t, err)
	if err != nil || keysOf(got) != "A_KEY,E_KEY" || s.secrets[folder]["A_KEY"].value != batchValues[3] || s.secrets[folder]["E_KEY"] == nil {
		t.Errorf("upsert: %v %v", got, err)
	}
	if s.secrets[folder]["A_KEY"].comment != "handoff checkout: written by handoff apply" {
		t.Error("an update without a comment changed the comment")
	}
	if b := s.bodies["PATCH /api/v4/secrets/batch"]; b[len(b)-1]["mode"] != "upsert" {
		t.Errorf("upsert body %v", b[len(b)-1])
	}
	got, err = c.UpdateSecrets(ctx, fakeEnv, fakeFolder, IgnoreMissing, writes("F_KEY", "B_KEY"))
	noValue(t, err)
	if err != nil || keysOf(got) != "B_KEY" || s.secrets[folder]["F_KEY"] != nil {
		t.Errorf("ignore: %v %v", got, err)
	}

	// Delete: one missing name, nothing deleted; then all of them.
	err = c.DeleteSecrets(ctx, fakeEnv, fakeFolder, []string{"A_KEY", "NOPE"})
	if !IsNotFound(err) || s.secrets[folder]["A_KEY"] == nil {
		t.Errorf("delete with a missing name: %v", err)
	}
	if err := c.DeleteSecrets(ctx, fakeEnv, fakeFolder, []string{"A_KEY", "B_KEY"}); err != nil || s.secrets[folder]["A_KEY"] != nil {
		t.Errorf("delete: %v", err)
	}

	// A missing folder is the folder's remedy, not a name's.
	_, err = c.CreateSecrets(ctx, fakeEnv, "/handoffs/missing", writes("A_KEY"))
	noValue(t, err)
	if !IsNotFound(err) || !strings.Contains(err.Error(), "the folder /handoffs/missing does not exist") {
		t.Errorf("missing folder: %v", err)
	}
}

func TestBatchRefusedBeforeSending(t *testing.T) {
	s, c, _ := newRealServer(t)
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"no secrets", func() error { _, err := c.CreateSecrets(ctx, fakeEnv, fakeFolder, nil); return err }, "no secrets"},
		{"a name twice", func() error {
			_, err := c.UpdateSecrets(ctx, fakeEnv, fakeFolder, Upsert, writes("A_KEY", "A_KEY"))
			return err
		}, "A_KEY is named twice"},
		{"a bad name", func() error { return c.DeleteSecrets(ctx, fakeEnv, fakeFolder, []string{"A:B"}) }, `invalid secret name "A:B"`},
		{"a relative folder", func() error { _, err := c.CreateSecrets(ctx, fakeEnv, "handoffs", writes("A")); return err }, "is not absolute"},
		{"an unknown mode", func() error { _, err := c.UpdateSecrets(ctx, fakeEnv, fakeFolder, "merge", writes("A")); return err }, `unknown mode "merge"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			noValue(t, err)
		})
	}
	if len(s.bodies) != 0 {
		t.Errorf("requests were sent: %v", len(s.bodies))
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assertNoSecret(t, fmt.Sprintf(verb, writes("A_KEY", "B_KEY")), batchValues...)
	}
}

// TestUpdatePrivilegeSendsWhatARealServerRequires: slug, permissions and
// type, the temporary window kept.
func TestUpdatePrivilegeSendsWhatARealServerRequires(t *testing.T) {
	s, c, _ := newRealServer(t)
	start := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	rules := ReadRules("dev", "/handoffs/checkout", []string{"/queue/dev/APPLE_IAP_*"})
	p, err := c.UpdatePrivilege(ctx, fakePrivID, "handoff-checkout", rules, &Temporary{Start: start, Range: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if p.Slug != "handoff-checkout" || !p.Temporary || !p.Start.Equal(start) || p.Range != 2*time.Hour || len(p.Rules) != 2 {
		t.Errorf("privilege %+v", p)
	}
	body := s.bodies["PATCH /api/v2/identity-project-additional-privilege/{id}"][0]
	typ, _ := body["type"].(map[string]any)
	perms, _ := body["permissions"].([]any)
	if body["slug"] != "handoff-checkout" || len(perms) != 2 || typ["isTemporary"] != true || typ["temporaryMode"] != "relative" ||
		typ["temporaryRange"] != "2h" || typ["temporaryAccessStartTime"] != "2026-12-05T09:00:00Z" {
		t.Errorf("body %v", body)
	}
	if _, err := c.UpdatePrivilege(ctx, fakePrivID, "", rules, nil); err == nil || !strings.Contains(err.Error(), "slug is required") {
		t.Errorf("an update without the slug: %v", err)
	}
	if _, err := c.UpdatePrivilege(ctx, "priv-gone", "handoff-checkout", rules, nil); !IsNotFound(err) {
		t.Errorf("unknown id: %v", err)
	}
}

// TestValidationFailureIsFinal: a 422 names the missing fields, is not
// repeated (even for an idempotent PATCH) and does not ask for a rerun.
func TestValidationFailureIsFinal(t *testing.T) {
	cases := []struct {
		name   string
		demand []string
		body   map[string]any // sent as is when set: the old client's body
		fields []string
	}{
		{"the old body", nil, map[string]any{"permissions": []any{}, "type": map[string]any{"isTemporary": false}}, []string{"slug"}},
		{"an empty body", nil, map[string]any{}, []string{"slug", "permissions", "type"}},
		{"a half temporary type", nil, map[string]any{"slug": "s", "permissions": []any{}, "type": map[string]any{"isTemporary": true}},
			[]string{"type.temporaryMode", "type.temporaryRange", "type.temporaryAccessStartTime"}},
		{"a newer server", []string{"projectId"}, nil, []string{"projectId"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c, _ := newRealServer(t)
			s.demand = tc.demand
			var err error
			if tc.body != nil {
				err = c.do(ctx, &call{op: "update privilege", method: http.MethodPatch, path: privilegePath(fakePrivID), body: tc.body, idempotent: true}, nil)
			} else {
				_, err = c.UpdatePrivilege(ctx, fakePrivID, "handoff-checkout", ReadRules("dev", "/a", nil), nil)
			}
			e, ok := APIError(err)
			if !ok || e.Status != 422 || e.Temporary() {
				t.Fatalf("err = %v", err)
			}
			msg := err.Error()
			for _, f := range tc.fields {
				if !strings.Contains(e.Remedy, f) || !strings.Contains(e.Message, f) {
					t.Errorf("%q not named: %s", f, msg)
				}
			}
			for _, bad := range []string{"rerun", "run it again", "run handoff"} {
				if strings.Contains(msg, bad) {
					t.Errorf("the error asks for a rerun: %s", msg)
				}
			}
			if n := s.count("PATCH /api/v2/identity-project-additional-privilege/{id}"); n != 1 {
				t.Errorf("sent %d times", n)
			}
		})
	}
}

// TestPacedToCloudLimits: on Infisical Cloud's model the 41st write to one
// route in a minute waits for the next window, and says so; another route
// does not wait.
func TestPacedToCloudLimits(t *testing.T) {
	_, c, clock := newRealServer(t)
	var waits []string
	p := pace.New(pace.Config{Clock: clock, OnWait: func(w pace.Wait) { waits = append(waits, w.String()) }})
	cfg := c.Config()
	cfg.HTTP.Pacer = p
	cfg.RateLimits = RateLimits{Profile: ProfileCloud}
	cc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t0 := clock.Now()
	for i := range 41 {
		if _, err := cc.UpdateSecrets(ctx, fakeEnv, fakeFolder, Upsert, writes(fmt.Sprintf("K%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.Now().Sub(t0); got != 61*time.Second {
		t.Errorf("the 41st write went out after %s", got)
	}
	if len(waits) != 1 || waits[0] != "waiting 1 min 1 s for Infisical's limit on secret writes, 40/min" {
		t.Errorf("waits %q", waits)
	}
	if _, err := cc.CreateSecrets(ctx, fakeEnv, fakeFolder, writes("NEW_ONE")); err != nil || clock.Now().Sub(t0) != 61*time.Second {
		t.Errorf("another route waited: %v", err)
	}
	stats := map[string]pace.Counts{}
	for _, st := range p.Stats() {
		stats[st.Route] = st.Counts
	}
	if st := stats["PATCH /api/v4/secrets/batch"]; st.Requests != 41 || st.Waits != 1 || st.Waited != 61*time.Second {
		t.Errorf("PATCH stats %+v", st)
	}
	if st := stats["POST /api/v1/auth/universal-auth/login"]; st.Requests != 1 {
		t.Errorf("login stats %+v", st)
	}
	if cs := p.ClassStats(); len(cs) != 2 || cs[0].Class != ClassSecrets || cs[0].Requests != 42 || cs[1].Class != ClassWrite || cs[1].Requests != 1 {
		t.Errorf("class stats %+v", cs)
	}
}
