package state_test

import (
	"context"
	"encoding/json"
	"fmt"
	ghsurface "github.com/raxx-app/handoff/internal/surfaces/github"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/vault/infisicalvault"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/state/statetest"
)

// budget is the most requests a read of N handoffs may make: one listing of
// the root, one of the installations, and ⌈N/100⌉ for the identities.
func budget(n int) int64 { return 2 + int64((n+99)/100) }

// TestReadRequestCount reads N seeded handoffs through the real clients and
// counts the requests the dev servers received.
func TestReadRequestCount(t *testing.T) {
	for _, n := range []int{1, 100, 1000} {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			w := statetest.Start(t, n)
			stats := w.Servers.Kit.Stats
			stats.Reset()
			start := time.Now()
			live, err := state.Read(context.Background(), w.Sources(), w.Options())
			elapsed := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			got := stats.Total()
			t.Logf("N=%d: %d requests (budget %d) in %s: %v", n, got, budget(n), elapsed.Round(time.Millisecond), stats.Snapshot())
			if got > budget(n) {
				t.Errorf("N=%d: %d requests, want at most %d: %v", n, got, budget(n), stats.Snapshot())
			}

			ids := infsurface.LiveOf(live)
			if len(live.Handoffs) != n || ids == nil || len(ids.ByName) != n || len(live.Problems) != 0 {
				t.Fatalf("read %d handoffs, identities %v, problems %q; want %d", len(live.Handoffs), ids, live.Problems, n)
			}
			for _, slug := range w.Slugs {
				h := live.Handoffs[slug]
				if h == nil || h.Manifest == nil || h.ManifestErr != nil || len(h.Secrets) != 4 {
					t.Fatalf("%s: %+v", slug, h)
				}
				if rec := infsurface.Decode(h.Manifest.Surfaces[infsurface.Name]); !ids.HasID(rec.IdentityID) {
					t.Fatalf("%s: identity %s not read", slug, rec.IdentityID)
				}
			}
			if _, ok := ghsurface.LiveOf(live).Find("raxx-app"); !ok {
				t.Errorf("installation on raxx-app not read: %+v", ghsurface.LiveOf(live))
			}

			// The state holds no seeded secret value.
			assertNoValue(t, w, live)

			// Reading again changes nothing, and costs the same.
			stats.Reset()
			again, err := state.Read(context.Background(), w.Sources(), w.Options())
			if err != nil {
				t.Fatal(err)
			}
			if again.Fingerprint() != live.Fingerprint() {
				t.Error("two reads of an unchanged world have different fingerprints")
			}
			if stats.Total() != got {
				t.Errorf("second read: %d requests, first %d", stats.Total(), got)
			}
		})
	}
}

// TestReadCold counts a read by a client that has not logged in yet: the
// login is the only extra request.
func TestReadCold(t *testing.T) {
	w := statetest.Start(t, 10)
	clientID, clientSecret := w.Servers.Infisical.ProvisionerCredentials()
	cold, err := infisical.New(infisical.Config{
		SiteURL: w.Servers.InfisicalURL, ClientID: clientID, ClientSecret: clientSecret,
		OrganizationID: w.Servers.Infisical.OrganizationID(), ProjectID: w.Servers.Infisical.ProjectID(),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Servers.Kit.Stats.Reset()
	if _, err := state.Read(context.Background(), state.Sources{Vault: infisicalvault.New(cold), Readers: w.Sources().Readers}, w.Options()); err != nil {
		t.Fatal(err)
	}
	if got := w.Servers.Kit.Stats.Total(); got > budget(10)+1 {
		t.Errorf("cold read: %d requests, want at most %d (login included): %v", got, budget(10)+1, w.Servers.Kit.Stats.Snapshot())
	}
}

// TestReadThroughTheClient writes handoff folders as apply does, through
// the provisioner's client (a manifest, a corrupt one, a journal, an
// identity), and reads them back.
func TestReadThroughTheClient(t *testing.T) {
	w := statetest.Start(t, 0)
	ctx := context.Background()
	c := w.Infisical

	// A fresh root: nothing under it yet.
	empty, err := state.Read(ctx, w.Sources(), state.Options{Environment: "staging", Root: "/MooseQuest/not-yet"})
	if err != nil {
		t.Fatalf("a missing root is not an empty state: %v", err)
	}
	if len(empty.Handoffs) != 0 {
		t.Fatalf("missing root: %+v", empty.Handoffs)
	}

	slug := statetest.Slug(7)
	folder := statetest.Root + "/" + slug
	if err := c.EnsureFolder(ctx, "staging", folder); err != nil {
		t.Fatal(err)
	}
	id, err := c.CreateIdentity(ctx, infsurface.IdentityName(slug, w.Now), "no-access")
	if err != nil {
		t.Fatal(err)
	}
	sp := mustSpec(t, 7)
	m, err := manifest.Marshal(statetest.Manifest(sp, w.Now.Add(-time.Hour), w.Now.Add(time.Hour), id.ID))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{manifest.SecretName: string(m), "GH_HANDOFF_TOKEN": "ghs_THROUGHCLIENT"} {
		if _, err := c.UpsertSecret(ctx, "staging", folder, k, v); err != nil {
			t.Fatal(err)
		}
	}
	broken := statetest.Root + "/" + statetest.Slug(8)
	if err := c.EnsureFolder(ctx, "staging", broken); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpsertSecret(ctx, "staging", broken, manifest.SecretName, `{"schema_version": 1}`); err != nil {
		t.Fatal(err)
	}
	crashed := statetest.Root + "/" + statetest.Slug(9)
	if err := c.EnsureFolder(ctx, "staging", crashed); err != nil {
		t.Fatal(err)
	}
	j, _ := (&state.Journal{Slug: statetest.Slug(9), Operation: "create", Entries: []state.JournalEntry{{Step: "create-identity", Surface: "infisical", At: w.Now}}}).Marshal()
	if _, err := c.UpsertSecret(ctx, "staging", crashed, state.JournalSecretName, string(j)); err != nil {
		t.Fatal(err)
	}

	live, err := state.Read(ctx, w.Sources(), w.Options())
	if err != nil {
		t.Fatal(err)
	}
	got := live.Handoffs[slug]
	if got == nil || got.Manifest == nil || got.Secrets["GH_HANDOFF_TOKEN"].Version < 1 {
		t.Fatalf("%s: %+v", slug, got)
	}
	if x, ok := infsurface.LiveOf(live).ByName[infsurface.IdentityName(slug, w.Now)]; !ok || x.ID != id.ID {
		t.Errorf("identity %s not read: %+v", id.ID, infsurface.LiveOf(live))
	}
	if b := live.Handoffs[statetest.Slug(8)]; b == nil || b.ManifestErr == nil || !strings.Contains(b.ManifestErr.Error(), broken+"/PROVISION_MANIFEST") {
		t.Errorf("corrupt manifest: %+v", b)
	}
	if cr := live.Handoffs[statetest.Slug(9)]; cr == nil || cr.Journal == nil || cr.HasManifest() {
		t.Errorf("journal: %+v", cr)
	}
	if strings.Contains(fmt.Sprintf("%+v %+v", live, *got), "ghs_THROUGHCLIENT") {
		t.Error("a token value survived the read")
	}
	if empty.RootMissing != true || live.RootMissing {
		t.Errorf("RootMissing: %v for a missing root, %v for the seeded one", empty.RootMissing, live.RootMissing)
	}

	// An unknown environment is an error, not an empty state.
	if _, err := state.Read(ctx, w.Sources(), state.Options{Environment: "nope", Root: statetest.Root}); err == nil {
		t.Error("an unknown environment read as an empty state")
	} else if _, ok := infisical.APIError(err); !ok {
		t.Errorf("the error does not wrap the provider's APIError: %v", err)
	}
}

// assertNoValue fails when any seeded value appears in the state, dumped
// every way a careless caller might.
func assertNoValue(t *testing.T, w *statetest.World, live *state.Live) {
	t.Helper()
	dump, _ := json.Marshal(live)
	var b strings.Builder
	b.Write(dump)
	fmt.Fprintf(&b, "%+v %#v", live, live)
	for _, h := range live.Handoffs {
		fmt.Fprintf(&b, "%+v %#v %s", *h, *h, h.JournalRaw)
	}
	text := b.String()
	// Every seeded value starts with one of these; only look further when
	// one shows up.
	for _, prefix := range statetest.ValuePrefixes {
		if !strings.Contains(text, prefix) {
			continue
		}
		for _, v := range w.Values {
			if strings.Contains(text, v) {
				t.Fatalf("secret value %s… survived the read", v[:8])
			}
		}
	}
}

func mustSpec(t *testing.T, i int) *spec.Handoff {
	t.Helper()
	h, diags := spec.ParseHandoffFile(statetest.Slug(i)+".hcl", []byte(statetest.SpecSource(i)))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return h
}

// BenchmarkReadState reads N seeded handoffs with 0 and 20 ms of latency
// added to every request by the dev servers.
func BenchmarkReadState(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
			b.Run(fmt.Sprintf("N=%d/latency=%s", n, lat), func(b *testing.B) {
				w := statetest.Start(b, n)
				w.Servers.Kit.Faults.SetLatency(lat, 0)
				ctx := context.Background()
				w.Servers.Kit.Stats.Reset()
				b.ResetTimer()
				for b.Loop() {
					if _, err := state.Read(ctx, w.Sources(), w.Options()); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(w.Servers.Kit.Stats.Total())/float64(b.N), "requests/op")
			})
		}
	}
}
