package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/vault"
)

const testRoot = "/MooseQuest/handoffs"

var testNow = time.Date(2026, 6, 21, 12, 0, 0, 0, time.UTC)

// fakeVault answers ListSecrets from a fixed listing (copied, as a client
// decodes a fresh one on every call).
type fakeVault struct {
	secrets  []vault.Secret
	err      error
	probeErr error // answer of the listing of "/" (names only)
	calls    int
	probes   int
	got      []vault.Secret // the slice handed out, to check it was scrubbed
}

func (f *fakeVault) ListSecretNames(_ context.Context, env, path string, recursive bool) ([]vault.Secret, error) {
	f.probes++
	if path != "/" || recursive {
		return nil, fmt.Errorf("unexpected probe %s %s %v", env, path, recursive)
	}
	return nil, f.probeErr
}

func (f *fakeVault) ListSecrets(_ context.Context, env, path string, recursive bool) ([]vault.Secret, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	if env != "staging" || path != testRoot || !recursive {
		return nil, fmt.Errorf("unexpected listing %s %s %v", env, path, recursive)
	}
	f.got = append([]vault.Secret(nil), f.secrets...)
	return f.got, nil
}

// fakeReader is a surface's live state: fingerprint lines and problems.
type fakeReader struct {
	name     string
	lines    []string
	problems []string
	err      error
	reads    int
}

func (f *fakeReader) Name() string { return f.name }

func (f *fakeReader) ReadLive(context.Context) (SurfaceLive, error) {
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	return &fakeLive{lines: append([]string(nil), f.lines...), problems: f.problems}, nil
}

type fakeLive struct{ lines, problems []string }

func (f *fakeLive) FingerprintLines() []string { return f.lines }
func (f *fakeLive) Problems() []string         { return f.problems }

func testManifest(t *testing.T, slug string) []byte {
	t.Helper()
	m := &manifest.Manifest{
		SchemaVersion: manifest.SchemaVersion, Slug: slug, SpecFile: "specs/" + slug + ".hcl",
		SpecDigest: "sha256:" + strings.Repeat("ab", 32), ApprovedBy: "ops",
		CreatedAt: testNow, UpdatedAt: testNow, ExpiresAt: testNow.Add(24 * time.Hour),
		Status: manifest.Active, Secrets: []string{"GH_HANDOFF_TOKEN"},
		Surfaces: manifest.Surfaces{"github": json.RawMessage(`{"installation_id":1001,"repository":"raxx-app/TradeMasterAPI","permissions":{"contents":"write"},"secret":"GH_HANDOFF_TOKEN","token_expires_at":"2026-06-21T13:00:00Z","token_fingerprint":"sha256:9f31e9044fb9"}`)},
	}
	b, err := manifest.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func folderOf(slug string) string { return testRoot + "/" + slug }

// world is a listing with two healthy handoffs, one corrupt manifest, one
// journal without a manifest and some stray secrets, every value marked
// with the canary string so that a leak is easy to find.
func world(t *testing.T) ([]vault.Secret, *fakeReader, *fakeReader) {
	t.Helper()
	j, err := (&Journal{Slug: "crashed", Operation: "create", Entries: []JournalEntry{{Step: "create-identity", Surface: "infisical", At: testNow}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	secrets := []vault.Secret{
		{Path: folderOf("alpha"), Key: manifest.SecretName, Value: string(testManifest(t, "alpha")), Version: 3, ID: "s1"},
		{Path: folderOf("alpha"), Key: "GH_HANDOFF_TOKEN", Value: "ghs_CANARY_alpha", Version: 7, ID: "s2"},
		{Path: folderOf("beta"), Key: manifest.SecretName, Value: string(testManifest(t, "beta")), Version: 1, ID: "s3"},
		{Path: folderOf("beta"), Key: "INFISICAL_CLIENT_SECRET", Value: "CANARY_beta_client_secret", Version: 1, ID: "s4"},
		{Path: folderOf("broken"), Key: manifest.SecretName, Value: `{"schema_version": 1, "slug": "broken"`, Version: 2, ID: "s5"},
		{Path: folderOf("broken"), Key: "GH_HANDOFF_TOKEN", Value: "ghs_CANARY_broken", Version: 1, ID: "s6"},
		{Path: folderOf("elsewhere"), Key: manifest.SecretName, Value: string(testManifest(t, "alpha")), Version: 1, ID: "s7"},
		{Path: folderOf("crashed"), Key: JournalSecretName, Value: string(j), Version: 1, ID: "s8"},
		{Path: testRoot, Key: "STRAY", Value: "CANARY_stray", Version: 1, ID: "s9"},
		{Path: folderOf("alpha") + "/sub", Key: "NESTED", Value: "CANARY_nested", Version: 1, ID: "s10"},
	}
	ids := &fakeReader{name: "identities", lines: []string{"identity\ta\tid-a", "identity\tc\tid-c"}, problems: []string{"two identities named x"}}
	insts := &fakeReader{name: "installations", lines: []string{"installation\t2\tzeta", "installation\t1\traxx-app"}}
	return secrets, ids, insts
}

func read(t *testing.T, v Vault, readers ...*fakeReader) *Live {
	t.Helper()
	var rs []LiveReader
	for _, r := range readers {
		if r != nil {
			rs = append(rs, r)
		}
	}
	live, err := Read(context.Background(), Sources{Vault: v, Readers: rs},
		Options{Environment: "staging", Root: testRoot + "/", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return live
}

func TestRead(t *testing.T) {
	secrets, ids, insts := world(t)
	v := &fakeVault{secrets: secrets}
	live := read(t, v, ids, insts)

	if v.calls != 1 {
		t.Errorf("%d listings, want 1", v.calls)
	}
	if live.Root != testRoot || live.Environment != "staging" || !live.ReadAt.Equal(testNow) {
		t.Errorf("header %q %q %s", live.Root, live.Environment, live.ReadAt)
	}
	if got := strings.Join(live.Slugs(), ","); got != "alpha,beta,broken,crashed,elsewhere" {
		t.Errorf("slugs %s", got)
	}
	a := live.Handoffs["alpha"]
	if a.Manifest == nil || a.Manifest.Slug != "alpha" || a.ManifestErr != nil {
		t.Fatalf("alpha: manifest %v, err %v", a.Manifest, a.ManifestErr)
	}
	if a.Secrets["GH_HANDOFF_TOKEN"].Version != 7 || a.Secrets[manifest.SecretName].Version != 3 || len(a.Secrets) != 2 {
		t.Errorf("alpha secrets %+v", a.Secrets)
	}
	if a.Folder != folderOf("alpha") || a.ManifestPath() != folderOf("alpha")+"/PROVISION_MANIFEST" || !strings.HasPrefix(a.ManifestDigest, "sha256:") {
		t.Errorf("alpha folder %s digest %s", a.Folder, a.ManifestDigest)
	}

	for slug, want := range map[string]string{
		"broken":    "manifest is not JSON",
		"elsewhere": `manifest names slug "alpha" but lies in folder /MooseQuest/handoffs/elsewhere`,
	} {
		h := live.Handoffs[slug]
		var me *ManifestError
		if h.Manifest != nil || !errors.As(h.ManifestErr, &me) {
			t.Errorf("%s: manifest %v err %v, want a ManifestError", slug, h.Manifest, h.ManifestErr)
			continue
		}
		if me.Path != folderOf(slug)+"/PROVISION_MANIFEST" || !strings.Contains(me.Error(), want) || !strings.Contains(me.Error(), me.Path) {
			t.Errorf("%s: %v (path %s), want it to name the path and %q", slug, me, me.Path, want)
		}
		if !h.HasManifest() {
			t.Errorf("%s: HasManifest false for a corrupt manifest", slug)
		}
	}

	c := live.Handoffs["crashed"]
	if !c.HasJournal() || c.Journal == nil || c.JournalErr != nil || c.Journal.Entries[0].Step != "create-identity" || c.HasManifest() {
		t.Errorf("crashed: journal %v err %v", c.Journal, c.JournalErr)
	}

	if sl, ok := live.Surface("identities"); !ok || len(sl.FingerprintLines()) != 2 {
		t.Errorf("the identities reader's state: %v %v", sl, ok)
	}
	if _, ok := live.Surface("nothing"); ok {
		t.Error("a surface that was not read is there")
	}

	if len(live.Problems) != 3 || !strings.Contains(live.Problems[1], "sub-folder of handoff alpha") ||
		!strings.Contains(live.Problems[0], "STRAY lies directly in the handoff root") || live.Problems[2] != "two identities named x" {
		t.Errorf("problems %q", live.Problems)
	}
}

// TestReadKeepsNoSecretValue: no value but those of manifests and journals
// survives the read, neither in the state nor in the listing it was given.
func TestReadKeepsNoSecretValue(t *testing.T) {
	secrets, ids, insts := world(t)
	v := &fakeVault{secrets: secrets}
	live := read(t, v, ids, insts)
	b, err := json.Marshal(live)
	if err != nil {
		t.Fatal(err)
	}
	dump := string(b) + fmt.Sprintf("%+v %#v", live, live)
	for _, h := range live.Handoffs {
		dump += fmt.Sprintf("%+v %#v %s", *h, *h, h.JournalRaw)
	}
	if strings.Contains(dump, "CANARY") {
		t.Errorf("a secret value survived the read:\n%s", dump)
	}
	for _, s := range v.got {
		if s.Value != "" {
			t.Errorf("the listing still holds the value of %s", s.FullPath())
		}
	}
}

// errNotFoundFolder is Infisical's answer for a folder that does not exist, and for
// an environment that does not exist either.
var errNotFoundFolder = fmt.Errorf("list secrets: folder with path '/MooseQuest/handoffs' in environment 'staging' was not found: %w",
	errors.Join(vault.ErrNotFound, vault.ErrFolderNotFound))

func TestReadFreshProject(t *testing.T) {
	for name, v := range map[string]*fakeVault{
		"404 folder": {err: errNotFoundFolder},
		"empty":      {},
	} {
		t.Run(name, func(t *testing.T) {
			live := read(t, v)
			if len(live.Handoffs) != 0 || len(live.Problems) != 0 {
				t.Errorf("fresh project: %+v", live)
			}
			if live.RootMissing != (v.err != nil) || v.probes != map[bool]int{true: 1, false: 0}[v.err != nil] {
				t.Errorf("RootMissing %v after %d probes", live.RootMissing, v.probes)
			}
			if !strings.HasPrefix(live.Fingerprint(), "sha256:") {
				t.Errorf("fingerprint %q", live.Fingerprint())
			}
		})
	}
}

func TestReadErrorsWrapTheVaultsError(t *testing.T) {
	envMissing := fmt.Errorf("environment with slug 'nope' not found: %w", vault.ErrNotFound)
	probe404 := fmt.Errorf("folder with path '/' not found: %w", errors.Join(vault.ErrNotFound, vault.ErrFolderNotFound))
	forbidden := errors.New("you are not allowed to describeSecret on secrets")
	ghDown := errors.New("503 Service Unavailable")
	for name, tc := range map[string]struct {
		src  Sources
		want error
		text string
	}{
		"unknown environment":                 {Sources{Vault: &fakeVault{err: envMissing}}, envMissing, "read the handoff folders under /MooseQuest/handoffs"},
		"unknown environment, folder message": {Sources{Vault: &fakeVault{err: errNotFoundFolder, probeErr: probe404}}, errNotFoundFolder, "environment staging"},
		"denied":                              {Sources{Vault: &fakeVault{err: forbidden}}, forbidden, "environment staging"},
		"a surface's read":                    {Sources{Vault: &fakeVault{}, Readers: []LiveReader{&fakeReader{name: "github", err: ghDown}}}, ghDown, "read the live state of github"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Read(context.Background(), tc.src, Options{Environment: "staging", Root: testRoot})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("err %v, want it to wrap %v and say %q", err, tc.want, tc.text)
			}
		})
	}
	if _, err := Read(context.Background(), Sources{Vault: &fakeVault{}}, Options{Environment: "staging", Root: "relative"}); err == nil {
		t.Error("a relative root was accepted")
	}
	if _, err := Read(context.Background(), Sources{Vault: &fakeVault{}}, Options{Environment: "staging", Root: "/"}); err == nil {
		t.Error("the vault root was accepted as handoff root")
	}
}

func TestFingerprint(t *testing.T) {
	secrets, ids, insts := world(t)
	base := read(t, &fakeVault{secrets: secrets}, ids, insts).Fingerprint()

	// Stable across reads and across the order of every listing.
	for i := 0; i < 20; i++ {
		s := append([]vault.Secret(nil), secrets...)
		rand.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		id := *ids
		id.lines = append([]string(nil), ids.lines...)
		rand.Shuffle(len(id.lines), func(i, j int) { id.lines[i], id.lines[j] = id.lines[j], id.lines[i] })
		if got := read(t, &fakeVault{secrets: s}, &id, insts).Fingerprint(); got != base {
			t.Fatalf("fingerprint changed with the listing order: %s vs %s", got, base)
		}
	}

	// A value alone does not enter the fingerprint (Infisical bumps the
	// version when a value changes, and that does).
	s := append([]vault.Secret(nil), secrets...)
	s[1].Value = "ghs_other"
	if read(t, &fakeVault{secrets: s}, ids, insts).Fingerprint() != base {
		t.Error("the fingerprint depends on a secret value")
	}

	changes := map[string]func(s []vault.Secret, id, in *fakeReader){
		"secret version":         func(s []vault.Secret, _, _ *fakeReader) { s[1].Version++ },
		"secret removed":         func(s []vault.Secret, _, _ *fakeReader) { s[1].Key = "RENAMED" },
		"manifest rewritten":     func(s []vault.Secret, _, _ *fakeReader) { s[0].Value += " " },
		"a surface's line gone":  func(_ []vault.Secret, id, _ *fakeReader) { id.lines = id.lines[:1] },
		"a surface's line other": func(_ []vault.Secret, _, in *fakeReader) { in.lines[0] += "x" },
	}
	for name, change := range changes {
		s := append([]vault.Secret(nil), secrets...)
		id, in := *ids, *insts
		id.lines, in.lines = append([]string(nil), ids.lines...), append([]string(nil), insts.lines...)
		change(s, &id, &in)
		if read(t, &fakeVault{secrets: s}, &id, &in).Fingerprint() == base {
			t.Errorf("%s: the fingerprint did not change", name)
		}
	}
	// Knowing less is not the same state.
	if read(t, &fakeVault{secrets: secrets}, nil, insts).Fingerprint() == base {
		t.Error("a read without identities has the fingerprint of one with them")
	}
	// Lines of one surface are not another's.
	swapped := *ids
	swapped.name = "other"
	if read(t, &fakeVault{secrets: secrets}, &swapped, insts).Fingerprint() == base {
		t.Error("the fingerprint does not say which surface a line is of")
	}
}

func TestJournal(t *testing.T) {
	j := &Journal{Slug: "s", Entries: []JournalEntry{{Step: "a", Surface: "github"}, {Step: "b", Surface: "infisical"}, {Step: "c", Surface: "github"}}}
	b, err := j.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseJournal(b)
	if err != nil || got.Slug != "s" || strings.Join(got.Surfaces(), ",") != "github,infisical" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := ParseJournal([]byte(`{"version": 9, "slug": "s"}`)); err == nil {
		t.Error("a journal of an unknown version parsed")
	}
	if _, err := ParseJournal([]byte(`{"version": 1, "slug": "s", "extra": true}`)); err != nil {
		t.Errorf("a journal with a newer field did not parse: %v", err)
	}
}

// TestReadSkipsTheLock: the apply lock, a lease secret directly in the
// handoff root, is neither a handoff nor a problem, and its presence does
// not change the fingerprint.
func TestReadSkipsTheLock(t *testing.T) {
	secrets, ids, insts := world(t)
	base := read(t, &fakeVault{secrets: secrets}, ids, insts)

	locked := append(append([]vault.Secret(nil), secrets...),
		vault.Secret{Path: testRoot, Key: LockSecretName, Value: `{"owner":"CANARY_host:1:ab"}`, Version: 4, ID: "s-lock"})
	live := read(t, &fakeVault{secrets: locked}, ids, insts)
	if strings.Join(live.Slugs(), ",") != strings.Join(base.Slugs(), ",") {
		t.Errorf("slugs with a lock %v, without %v", live.Slugs(), base.Slugs())
	}
	if strings.Join(live.Problems, "\n") != strings.Join(base.Problems, "\n") {
		t.Errorf("the lock is reported as a problem: %q", live.Problems)
	}
	if !live.Locked || base.Locked {
		t.Errorf("Locked %v with a lock, %v without", live.Locked, base.Locked)
	}
	if live.Fingerprint() != base.Fingerprint() {
		t.Error("the fingerprint changes when an apply holds the lock")
	}
	// A lock in a handoff's folder is no lock: it is that folder's secret.
	stray := append(append([]vault.Secret(nil), secrets...),
		vault.Secret{Path: folderOf("alpha"), Key: LockSecretName, Value: "x", Version: 1, ID: "s-x"})
	if live := read(t, &fakeVault{secrets: stray}, ids, insts); live.Locked || live.Fingerprint() == base.Fingerprint() {
		t.Errorf("a PROVISION_LOCK in a handoff's folder: Locked %v, fingerprint unchanged %v", live.Locked, live.Fingerprint() == base.Fingerprint())
	}
}

// TestFingerprintMissingRootIsEmptyRoot: a root that does not exist yet and
// one that exists empty (or holds only the lock) plan the same, so they
// have one fingerprint: the lock creating the root of a fresh project does
// not make the plan stale.
func TestFingerprintMissingRootIsEmptyRoot(t *testing.T) {
	missing := read(t, &fakeVault{err: errNotFoundFolder})
	empty := read(t, &fakeVault{})
	lockOnly := read(t, &fakeVault{secrets: []vault.Secret{{Path: testRoot, Key: LockSecretName, Value: "{}", Version: 1, ID: "l"}}})
	if !missing.RootMissing || empty.RootMissing || lockOnly.RootMissing {
		t.Fatalf("RootMissing: %v %v %v", missing.RootMissing, empty.RootMissing, lockOnly.RootMissing)
	}
	if missing.Fingerprint() != empty.Fingerprint() || empty.Fingerprint() != lockOnly.Fingerprint() {
		t.Errorf("fingerprints differ: missing %s, empty %s, lock only %s", missing.Fingerprint(), empty.Fingerprint(), lockOnly.Fingerprint())
	}
	// Another root or environment is another state.
	other, err := Read(context.Background(), Sources{Vault: &fakeVault{err: errNotFoundFolder}}, Options{Environment: "prod", Root: testRoot})
	if err != nil {
		t.Fatal(err)
	}
	if other.Fingerprint() == missing.Fingerprint() {
		t.Error("the environment is not in the fingerprint")
	}
}
