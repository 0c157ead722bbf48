package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"
)

// withoutAuditLog puts c's Infisical behind a proxy that answers the
// organization's audit log as a server whose plan keeps none does: 200 with
// an empty list (observed on an unlicensed self-hosted server).
func (c *gitops) withoutAuditLog() {
	c.t.Helper()
	target, err := url.Parse(c.env["INFISICAL_SITE_URL"])
	if err != nil {
		c.t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/api/v1/organization/audit-logs" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`{"auditLogs":[]}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	c.t.Cleanup(srv.Close)
	c.env["INFISICAL_SITE_URL"] = srv.URL
}

// TestAuditSaysWhenTheVaultKeepsNoAuditLog (issue 12, item 14): on a
// server whose plan keeps no audit log, audit showed no vault row and said
// nothing. It says so, on stderr and in -json, and points to handoff's own
// record. Where the vault keeps one, it says nothing.
func TestAuditSaysWhenTheVaultKeepsNoAuditLog(t *testing.T) {
	c := newGitOps(t)
	c.must(0, "apply", "-auto-approve")
	c.s.Kit.Clock.Advance(5 * time.Minute)
	c.must(0, "env", "-reveal", iapSlug) // the handoff's identity reads its folder
	c.outputs = c.outputs[:len(c.outputs)-2]

	stdout, stderr := c.must(0, "audit", iapSlug)
	if !strings.Contains(stdout, "get-secrets") || strings.Contains(stderr, "warning") {
		t.Errorf("audit with the vault's log kept:\n%s\n%s", stdout, stderr)
	}

	c.withoutAuditLog()
	stdout, stderr = c.must(0, "audit", iapSlug)
	if strings.Contains(stdout, "get-secrets") || !strings.Contains(stdout, "manifest") {
		t.Errorf("audit without the vault's log:\n%s", stdout)
	}
	for _, want := range []string{"handoff audit: warning:", "keeps no audit log", "not even the writes of handoff apply (the last at 2026-06-21T09:00:00Z)", "the manifests' history", "H5"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("audit without the vault's log does not say %q:\n%s", want, stderr)
		}
	}
	// No write of apply in the window: it cannot be sure.
	if _, stderr := c.must(0, "audit", "-since", "1m", iapSlug); !strings.Contains(stderr, "either nothing happened in the project, or this Infisical server keeps no audit log") {
		t.Errorf("audit -since 1m without the vault's log:\n%s", stderr)
	}
	stdout, _ = c.must(0, "audit", "-json")
	var doc struct {
		Records  []auditRecord `json:"records"`
		Warnings []string      `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Warnings) != 1 || !strings.Contains(doc.Warnings[0], "keeps no audit log") || len(doc.Records) == 0 {
		t.Errorf("audit -json without the vault's log: %+v", doc)
	}
}
