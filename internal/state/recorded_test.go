package state

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/vault"
)

// TestWhenRecordedReadsOnlyWhatTheFoldersNeed: a reader wrapped with
// WhenRecorded is read once, after the listing, when an active manifest
// records its surface or a journal names it, and not otherwise (a revoked
// manifest's record is not a need); a plain reader is always read.
func TestWhenRecordedReadsOnlyWhatTheFoldersNeed(t *testing.T) {
	journal := func(j *Journal) string {
		t.Helper()
		b, err := j.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	withSurface := func(slug, surface string, status manifest.Status) string {
		t.Helper()
		var m manifest.Manifest
		if err := json.Unmarshal(testManifest(t, slug), &m); err != nil {
			t.Fatal(err)
		}
		m.Surfaces = manifest.Surfaces{surface: json.RawMessage(`{"token_id":"t-1"}`)}
		m.Status = status
		if status == manifest.Revoked {
			m.Revocation = &manifest.Revocation{At: testNow, Kind: manifest.RevokedManual, Reason: "test", By: "ops"}
		}
		b, err := manifest.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name    string
		secrets []vault.Secret
		want    bool
	}{
		{"no handoff", nil, false},
		{"an active manifest records it", []vault.Secret{
			{Path: folderOf("dns"), Key: manifest.SecretName, Value: withSurface("dns", "cloudflare", manifest.Active)},
		}, true},
		{"only another surface is recorded", []vault.Secret{
			{Path: folderOf("dns"), Key: manifest.SecretName, Value: withSurface("dns", "heroku", manifest.Active)},
		}, false},
		{"a revoked manifest records it", []vault.Secret{
			{Path: folderOf("dns"), Key: manifest.SecretName, Value: withSurface("dns", "cloudflare", manifest.Revoked)},
		}, false},
		{"a journal's entry names it", []vault.Secret{
			{Path: folderOf("dns"), Key: JournalSecretName, Value: journal(&Journal{Slug: "dns", Operation: "create",
				Entries: []JournalEntry{{Step: "mint token", Surface: "cloudflare", At: testNow}}})},
		}, true},
		{"a journal's step in flight names it", []vault.Secret{
			{Path: folderOf("dns"), Key: JournalSecretName, Value: journal(&Journal{Slug: "dns", Operation: "create",
				InFlight: []InFlight{{Surface: "cloudflare", Step: "mint token", At: testNow}}})},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			always := &fakeReader{name: "infisical", lines: []string{"identity\tx"}}
			cf := &fakeReader{name: "cloudflare", lines: []string{"token\tt-1"}, problems: []string{"two tokens named x"}}
			v := &fakeVault{secrets: tt.secrets}
			live, err := Read(context.Background(), Sources{Vault: v, Readers: []LiveReader{always, WhenRecorded(cf)}},
				Options{Environment: "staging", Root: testRoot, Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatal(err)
			}
			if always.reads != 1 || v.calls != 1 {
				t.Errorf("the plain reader read %d times, the vault listed %d times; want 1 and 1", always.reads, v.calls)
			}
			want := 0
			if tt.want {
				want = 1
			}
			if cf.reads != want {
				t.Errorf("the recorded reader read %d times, want %d", cf.reads, want)
			}
			if _, ok := live.Surface("cloudflare"); ok != tt.want {
				t.Errorf("cloudflare in Live.Surfaces: %t, want %t", ok, tt.want)
			}
			if got := strings.Join(live.Problems, "|"); strings.Contains(got, "two tokens") != tt.want {
				t.Errorf("problems %q: the recorded reader's are reported only when it is read", got)
			}
		})
	}
}

// TestWhenRecordedReadError: a needed reader that fails fails the read,
// naming its surface.
func TestWhenRecordedReadError(t *testing.T) {
	var m manifest.Manifest
	if err := json.Unmarshal(testManifest(t, "dns"), &m); err != nil {
		t.Fatal(err)
	}
	m.Surfaces = manifest.Surfaces{"cloudflare": json.RawMessage(`{}`)}
	b, err := manifest.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	down := errors.New("no credentials")
	v := &fakeVault{secrets: []vault.Secret{{Path: folderOf("dns"), Key: manifest.SecretName, Value: string(b)}}}
	_, err = Read(context.Background(), Sources{Vault: v, Readers: []LiveReader{WhenRecorded(&fakeReader{name: "cloudflare", err: down})}},
		Options{Environment: "staging", Root: testRoot})
	if !errors.Is(err, down) || !strings.Contains(err.Error(), "read the live state of cloudflare") {
		t.Errorf("Read: %v", err)
	}
}
