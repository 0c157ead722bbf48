package spec_test

import (
	"path/filepath"
	"testing"

	"github.com/raxx-app/handoff/internal/spec"
)

// TestDigestStable pins the digests computed before the surfaces owned
// their blocks (and their parts of the canonical encoding): manifests
// record these digests, so a change of the canonical encoding would make
// every recorded handoff look changed. A deliberate change bumps
// digestVersion and updates this table.
func TestDigestStable(t *testing.T) {
	tests := []struct {
		file, digest string
	}{
		// Every block of the language, live_approval included, with
		// defaults, durations to normalise and maps to sort.
		{"testdata/digest/every-surface-20260621.hcl", "sha256:98e813bfed27974b8803854a0d8c9c4ff0e904d988df739ccdf52c5154b17dcc"},

		// The repository's spec files (paths from its root).
		{"../../cmd/handoff/testdata/repos/invalid/specs/payout-run.hcl", "sha256:244e89cd70b2860d97709bcf2009ccfeee9786d5d4d74e2c7c038ea28880cd37"},
		{"../../cmd/handoff/testdata/repos/invalid/specs/report-job.hcl.json", "sha256:ae3db28354493ddfaf52d6436550bc61bd8f73a8551ca0793c087230f9a06853"},
		{"../../cmd/handoff/testdata/repos/ok/specs/founders-checkout-20260621.hcl", "sha256:87a7151b3938955fc79a38b8a0dd1bc275eb02f0438438b35fe8781cbefb6856"},
		{"../../cmd/handoff/testdata/repos/ok/specs/iap-notif-handler-20260621.hcl", "sha256:555a23865a22f914344cb9abde4d1cb598c2c288c35d13516e66361b54df0aaa"},
		{"../../cmd/handoff/testdata/repos/unformatted/specs/json-task.hcl.json", "sha256:58c51e4ebf5c0d2f74f44080074d3b3acca921ff0e64ee928bd1d7dea096cf8c"},
		{"../../cmd/handoff/testdata/repos/unformatted/specs/messy-task.hcl", "sha256:44cd164c4015045395fa38e0f23f134a74a742fc3dabe595555daeb87e508cbd"},
		{"../../cmd/handoff/testdata/repos/unformatted/specs/tidy-task.hcl", "sha256:9aff894545df9ed38d1bb4241bac65dca17ce13ce46ea607a370b956195e26c0"},
		{"../../examples/gitops/specs/founders-checkout-20260621.hcl", "sha256:87a7151b3938955fc79a38b8a0dd1bc275eb02f0438438b35fe8781cbefb6856"},
		{"../../examples/gitops/specs/iap-notif-handler-20260621.hcl", "sha256:555a23865a22f914344cb9abde4d1cb598c2c288c35d13516e66361b54df0aaa"},
		{"../../internal/apply/testdata/repo/specs/founders-checkout-20260621.hcl", "sha256:87a7151b3938955fc79a38b8a0dd1bc275eb02f0438438b35fe8781cbefb6856"},
		{"../../internal/apply/testdata/repo/specs/iap-notif-handler-20260621.hcl", "sha256:555a23865a22f914344cb9abde4d1cb598c2c288c35d13516e66361b54df0aaa"},
		{"../../internal/policy/testdata/valid/specs/every-surface-live.hcl", "sha256:9ef1dc74b203d1ab376134e7c39861ac72992cade795c20fe073bb1c4cb6695f"},
		{"../../internal/policy/testdata/valid/specs/minimal-json.hcl.json", "sha256:6e3b360e424fd4b01e845aedb2b06dfe73182fb3e179f50237955299bcde750d"},
		{"../../internal/spec/testdata/equiv/all-surfaces.hcl", "sha256:36129ec1b7720606c26f90a21cf5c0bb22fd7e559afc0b110b1e84f7e5d8c50f"},
		{"../../internal/spec/testdata/equiv/all-surfaces.hcl.json", "sha256:36129ec1b7720606c26f90a21cf5c0bb22fd7e559afc0b110b1e84f7e5d8c50f"},
		{"../../specs/founders-checkout-20260621.hcl", "sha256:87a7151b3938955fc79a38b8a0dd1bc275eb02f0438438b35fe8781cbefb6856"},
		{"../../specs/iap-notif-handler-20260621.hcl", "sha256:555a23865a22f914344cb9abde4d1cb598c2c288c35d13516e66361b54df0aaa"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			// Syntax is all a digest needs: a spec that fails policy, or
			// has a value the parser reports, still has one.
			h := mustParseAny(t, tt.file)
			if got := h.Digest(); got != tt.digest {
				t.Errorf("Digest() = %s, want %s (the digest before the refactor)\ncanonical: %s", got, tt.digest, h.CanonicalJSON())
			}
		})
	}
}

// mustParseAny parses a spec file that may hold errors other than syntax
// errors, and fails when it yields no handoff.
func mustParseAny(t *testing.T, name string) *spec.Handoff {
	t.Helper()
	h, diags := spec.ParseHandoffFile(name, mustRead(t, name))
	if h == nil {
		t.Fatalf("ParseHandoffFile(%s) gave no handoff: %v", name, diags)
	}
	return h
}

// TestDigestIgnoresBlockOrder: the digest is of the handoff's meaning, not
// of the order in which its surfaces' blocks were set (by the parser, in
// the language's order, or by a tool with SetBlock): before the surfaces
// owned their blocks, the canonical encoding had one field per surface in
// a fixed order.
func TestDigestIgnoresBlockOrder(t *testing.T) {
	const name = "testdata/equiv/all-surfaces.hcl"
	h := mustParseHandoff(t, name, mustRead(t, name))
	want := h.Digest()
	b, _ := h.Block("github")
	h.SetBlock("github", nil)
	h.SetBlock("github", b)
	if got := h.Digest(); got != want {
		t.Errorf("setting the github block last changed the digest: %s, want %s\ncanonical: %s", got, want, h.CanonicalJSON())
	}
}
