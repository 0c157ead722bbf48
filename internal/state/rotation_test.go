package state

import (
	"context"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/vault"
)

// docVault is fakeVault with one secret to get: the rotation document.
type docVault struct {
	fakeVault
	doc  *vault.Secret
	gets int
}

func (d *docVault) GetSecret(_ context.Context, env, folder, key string) (vault.Secret, error) {
	d.gets++
	if d.doc == nil || env != "prod" || folder != "/Platform/rotation" || key != "HANDOFF_SUBSCRIPTIONS" {
		return vault.Secret{}, vault.ErrNotFound
	}
	return *d.doc, nil
}

// TestReadRotation: with a location the document is read with one request
// and enters the fingerprint; without one, nothing is read and the
// fingerprint is the one of a build without enrollment.
func TestReadRotation(t *testing.T) {
	secrets, ids, insts := world(t)
	loc := &rotation.Location{Environment: "prod", Folder: "/Platform/rotation", Secret: "HANDOFF_SUBSCRIPTIONS"}
	readWith := func(v *docVault, loc *rotation.Location) *Live {
		t.Helper()
		live, err := Read(context.Background(), Sources{Vault: v, Readers: []LiveReader{ids, insts}},
			Options{Environment: "staging", Root: testRoot, Now: func() time.Time { return testNow }, Rotation: loc})
		if err != nil {
			t.Fatal(err)
		}
		return live
	}
	doc := string(rotation.New("staging", testRoot, nil).Marshal())

	off := &docVault{fakeVault: fakeVault{secrets: secrets}, doc: &vault.Secret{Value: doc, Version: 2}}
	base := readWith(off, nil)
	if off.gets != 0 || base.Rotation != nil {
		t.Fatalf("enrollment off: %d reads, %+v", off.gets, base.Rotation)
	}
	if base.Fingerprint() != read(t, &fakeVault{secrets: secrets}, ids, insts).Fingerprint() {
		t.Error("enrollment off changes the fingerprint")
	}

	on := &docVault{fakeVault: fakeVault{secrets: secrets}, doc: &vault.Secret{Value: doc, Version: 2}}
	live := readWith(on, loc)
	if on.gets != 1 || live.Rotation == nil || live.Rotation.State != rotation.StateValid {
		t.Fatalf("enrollment on: %d reads, %+v", on.gets, live.Rotation)
	}
	if live.Fingerprint() == base.Fingerprint() {
		t.Error("the document is not in the fingerprint")
	}
	edited := &docVault{fakeVault: fakeVault{secrets: secrets}, doc: &vault.Secret{Value: doc + " ", Version: 3}}
	if readWith(edited, loc).Fingerprint() == live.Fingerprint() {
		t.Error("an edited document does not change the fingerprint")
	}
	missing := readWith(&docVault{fakeVault: fakeVault{secrets: secrets}}, loc)
	if missing.Rotation.State != rotation.StateMissing || missing.Fingerprint() == live.Fingerprint() {
		t.Errorf("missing: %+v", missing.Rotation)
	}
	// A vault that cannot get one secret: the read goes on, unread.
	plain, err := Read(context.Background(), Sources{Vault: &fakeVault{secrets: secrets}},
		Options{Environment: "staging", Root: testRoot, Rotation: loc})
	if err != nil || plain.Rotation.State != rotation.StateUnread {
		t.Errorf("a vault without GetSecret: %v, %+v", err, plain.Rotation)
	}
}
