package heroku_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/herokusrv"
	hk "github.com/raxx-app/handoff/internal/provider/heroku"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces/heroku"
)

// lyingMint rewrites Heroku's answer to a create with edit.
func lyingMint(edit func(m map[string]any)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/oauth/authorizations" {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var m map[string]any
			body := rec.Body.Bytes()
			if rec.Code == http.StatusCreated && json.Unmarshal(body, &m) == nil {
				edit(m)
				body, _ = json.Marshal(m)
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		})
	}
}

// TestGrantCheckedOnWhatHerokuMinted: an authorization wider or longer
// than asked is revoked at once, and the error names no value.
func TestGrantCheckedOnWhatHerokuMinted(t *testing.T) {
	tests := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"wider scope", func(m map[string]any) { m["scope"] = []string{"read", "global"} }, `holds scope "global", beyond the spec's read`},
		{"never expires", func(m map[string]any) { m["access_token"].(map[string]any)["expires_in"] = nil }, "never expires"},
		{"longer life", func(m map[string]any) { m["access_token"].(map[string]any)["expires_in"] = 9 * 3600 }, "longer than the 8h0m0s asked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var token string
			w := newWorldWrapped(t, herokusrv.DefaultFixture(), lyingMint(func(m map[string]any) {
				token, _ = m["access_token"].(map[string]any)["token"].(string)
				tt.edit(m)
			}))
			res, err := w.s.Create(context.Background(), w.request(specOf(t, herokusrv.DefaultAllowedApp, "read"), nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "(the authorization was revoked)") {
				t.Fatalf("Create: %v", err)
			}
			if len(res.Secrets) != 0 || res.Compensate != nil || len(w.srv.Authorizations("")) != 0 {
				t.Errorf("result %v; %d authorizations left", res, len(w.srv.Authorizations("")))
			}
			assertHidden(t, "error", renderings(err)+err.Error(), token, w.srv.ProvisionerAPIKey())
		})
	}
}

// TestNoValueInOutputs runs every operation, its failures and the plan's
// view, and scans every error, record, detail, step id, violation, live
// fingerprint line and rendering of a Result for the tokens, the account's
// API key and the apps' config vars.
func TestNoValueInOutputs(t *testing.T) {
	w := newWorld(t, herokusrv.DefaultFixture())
	ctx := context.Background()
	var outputs []string
	var secrets []string
	secrets = append(secrets, w.srv.ProvisionerAPIKey(), "HRKU-not-the-key-0000")
	for _, app := range []string{herokusrv.DefaultAllowedApp, herokusrv.DefaultViewOnlyApp} {
		vars, _ := w.srv.ConfigVars(app)
		for _, v := range vars {
			if len(v) > 8 {
				secrets = append(secrets, v)
			}
		}
	}
	collect := func(what string, v any) {
		outputs = append(outputs, what+": "+renderings(v))
	}
	req := func(h bool) *surface.Request {
		var r *surface.Request
		if h {
			r = w.request(specOf(t, herokusrv.DefaultAllowedApp, "read-protected"), w.live())
		} else {
			r = w.request(nil, w.live())
		}
		r.Step = func(_ context.Context, name string, ids map[string]string) error {
			collect("step "+name, ids)
			return nil
		}
		return r
	}
	result := func(what string, res surface.Result, err error) surface.Record {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		secrets = append(secrets, res.Secrets[heroku.SecretName])
		w.write(res)
		collect(what+" result", res)
		collect(what+" result pointer", &res)
		collect(what+" record", res.Record)
		collect(what+" detail", res.Detail)
		return recordOf(t, res)
	}

	res, err := w.s.Create(ctx, req(true))
	rec := result("create", res, err)
	w.kit.Clock.Advance(time.Hour)
	res, err = w.s.Refresh(ctx, req(true), rec)
	rec = result("refresh", res, err)
	// A leftover, found by its description.
	res, err = w.s.Create(ctx, req(true))
	_ = result("leftover", res, err)

	for _, v := range w.s.Verify(ctx, req(true), rec) {
		collect("violation", v)
	}
	live := w.live()
	collect("live", heroku.LiveOf(live))
	collect("fingerprint", heroku.LiveOf(live).FingerprintLines())
	collect("leftovers", w.s.Leftovers(slug, live))
	collect("describe", w.s.DescribeRevoke(rec, false))
	tgt := surface.Target{Slug: slug, Spec: specOf(t, herokusrv.DefaultAllowedApp, "read-protected"), Now: testNow, ExpiresAt: testNow.Add(8 * time.Hour), Live: live}
	collect("desired", w.s.Desired(tgt))
	collect("recorded", w.s.Recorded(rec, nil))

	// Failures with values around: a revoked token's client, a rate limit.
	tc := w.tokenClient(secrets[len(secrets)-1])
	if err := w.s.Revoke(ctx, req(false), rec); err != nil {
		t.Fatal(err)
	}
	_, err = tc.ConfigVars(ctx, herokusrv.DefaultAllowedApp)
	collect("revoked token error", err)
	collect("token client", tc)
	for _, v := range w.s.Verify(ctx, req(true), rec) {
		collect("violation after revoke", v)
	}
	bad := heroku.New(func() (*hk.Client, error) { return w.client("HRKU-not-the-key-0000"), nil })
	_, err = bad.Create(ctx, req(true))
	collect("wrong key error", err)
	if _, err := bad.ReadLive(ctx); err != nil {
		collect("wrong key read", err)
	}

	text := strings.Join(outputs, "\n")
	for _, s := range secrets {
		if s == "" {
			t.Fatal("a secret is empty: the scan would prove nothing")
		}
	}
	assertHidden(t, "outputs", text, secrets...)
	if !strings.Contains(text, "sha256:") || !strings.Contains(text, "handoff "+slug) {
		t.Error("the scan saw no fingerprint or description: it scanned nothing useful")
	}
	t.Logf("%d outputs scanned", len(outputs))
}
