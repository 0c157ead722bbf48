package state

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/rotation"
	"github.com/raxx-app/handoff/internal/vault"
)

// LockSecretName is the apply lock, a lease secret directly in the handoff
// root (package apply owns it).
const LockSecretName = "PROVISION_LOCK"

// fingerprintVersion is part of the canonical encoding hashed by
// Fingerprint; bump it when that encoding changes meaning. (2: a missing
// root no longer differs from an empty one. 3: the surfaces' own
// live state, by surface.)
const fingerprintVersion = 3

// Live is the state of every handoff as the remote services report it.
//
// It is a snapshot: nothing in it is refreshed, and apply of a saved plan
// compares Fingerprint of a fresh read with the one the plan recorded. It
// never holds a secret value.
type Live struct {
	// ReadAt is when the read started (by the caller's clock).
	ReadAt time.Time
	// Environment and Root are the vault environment and handoff root that
	// were listed.
	Environment string
	Root        string
	// RootMissing is true when Root does not exist yet in Environment (a
	// fresh project): Handoffs is then empty, and apply creates the root.
	// It is not part of Fingerprint: a missing root is an empty one.
	RootMissing bool
	// Locked is true when the lease of an apply, LockSecretName, lies in
	// Root (an apply is running, or crashed and its lease has not been
	// taken over yet). The lease is neither a handoff nor a problem, and
	// not part of Fingerprint.
	Locked bool
	// Handoffs has one entry per folder found under Root, keyed by folder
	// name (the slug). A handoff whose folder does not exist is absent.
	Handoffs map[string]*Handoff
	// Surfaces holds what each surface with a LiveReader read, by surface
	// name; a surface that was not read (no client configured) is absent,
	// and nothing is concluded from its absence.
	Surfaces map[string]SurfaceLive
	// Rotation is what a read of the rotation service's subscription
	// document found (Options.Rotation); nil when enrollment is off.
	Rotation *rotation.Live
	// Limits are the rate limits of the vault's server, by kind of
	// request, as the vault knows them (vault.Limited); empty when it
	// knows none (a self-hosted Infisical). The planner reads them to cap
	// the refreshes a run takes on. Not part of Fingerprint.
	Limits map[vault.Op]vault.Limit
	// Problems are findings that belong to no handoff (a secret directly in
	// Root, a sub-folder in a handoff's folder, and the surfaces' own, such
	// as two identities with one name), sorted. Plan reports them as
	// warnings.
	Problems []string
}

// Handoff is what the vault holds in one handoff's folder.
type Handoff struct {
	// Slug is the folder's name.
	Slug string
	// Folder is the vault path <Root>/<Slug>.
	Folder string
	// Manifest is the parsed PROVISION_MANIFEST; nil when there is none or
	// it is corrupt.
	Manifest *manifest.Manifest
	// ManifestErr is set, as a *ManifestError, when a PROVISION_MANIFEST
	// exists but cannot be used (not JSON, not valid against the schema, or
	// naming another slug). The remote ids it recorded are then unknown:
	// apply finds what exists by deterministic names (IdentitiesOf).
	ManifestErr error
	// ManifestDigest is "sha256:<hex>" of the manifest's bytes as stored
	// (corrupt or not); empty when there is no manifest.
	ManifestDigest string
	// Secrets are every secret in the folder (the manifest and the journal
	// included), by name: versions and ids only, never values.
	Secrets map[string]SecretMeta
	// JournalRaw is the value of PROVISION_JOURNAL as stored, nil when
	// there is none: apply's record of an operation under way. It names
	// remote ids, never secrets.
	JournalRaw []byte
	// Journal is JournalRaw parsed; nil when there is no journal or it does
	// not parse (JournalErr says why). A journal that does not parse still
	// means an apply did not finish.
	Journal    *Journal
	JournalErr error
}

// HasJournal reports whether a PROVISION_JOURNAL exists in the folder, which
// means an apply started on this handoff and did not finish.
func (h *Handoff) HasJournal() bool { return h.JournalRaw != nil }

// HasManifest reports whether a PROVISION_MANIFEST exists, valid or not.
func (h *Handoff) HasManifest() bool { return h.Manifest != nil || h.ManifestErr != nil }

// SecretNames returns the names of the folder's secrets, sorted.
func (h *Handoff) SecretNames() []string {
	out := make([]string, 0, len(h.Secrets))
	for k := range h.Secrets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ManifestPath is the vault path of the handoff's manifest.
func (h *Handoff) ManifestPath() string { return path.Join(h.Folder, manifest.SecretName) }

// SecretMeta is what the state keeps of one secret: never its value.
type SecretMeta struct {
	Version   int
	ID        string
	UpdatedAt time.Time
}

// ManifestError is a PROVISION_MANIFEST that exists but cannot be used.
type ManifestError struct {
	// Path is the vault path of the manifest, in Environment.
	Path        string
	Environment string
	Err         error
}

func (e *ManifestError) Error() string {
	return fmt.Sprintf("corrupt manifest %s (environment %s): %v", e.Path, e.Environment, e.Err)
}

func (e *ManifestError) Unwrap() error { return e.Err }

// SurfaceLive is what a surface read of the live state: its own data,
// which only its package reads, with what the state's fingerprint covers
// and what it found wrong.
type SurfaceLive interface {
	// FingerprintLines are canonical lines (no secret value, any order)
	// that change whenever what the surface read changes in a way a plan
	// depends on.
	FingerprintLines() []string
	// Problems are findings that belong to no handoff.
	Problems() []string
}

// Surface returns what surface name read, and whether it was read.
func (l *Live) Surface(name string) (SurfaceLive, bool) {
	if l == nil {
		return nil, false
	}
	s, ok := l.Surfaces[name]
	return s, ok
}

// Slugs returns the keys of Handoffs, sorted.
func (l *Live) Slugs() []string {
	out := make([]string, 0, len(l.Handoffs))
	for k := range l.Handoffs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Fingerprint returns "sha256:" and the hex SHA-256 of a canonical encoding
// of the state: environment and root, every folder's secret names and
// versions, the digests of manifests and journals, and the fingerprint
// lines of every surface's live state (the handoff identities, the App's
// installations, …). It never covers a secret value, and it does
// not depend on map order or on ReadAt: two reads of an unchanged world give
// the same fingerprint, and any write by apply (a new secret version, a
// rewritten manifest, a new identity) changes it.
//
// What plans the same has one fingerprint: the apply lock in the root
// (Locked) is not covered, and a root that does not exist yet (RootMissing)
// has the fingerprint of an empty one, so that the lock creating the root
// of a fresh project does not make the plan stale. Problems are not
// covered either.
func (l *Live) Fingerprint() string {
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	for slug, h := range l.Handoffs {
		for name, m := range h.Secrets {
			// fmt's "secret\t%s\t%s\t%d\t%s", without fmt: one line a secret.
			lines = append(lines, "secret\t"+slug+"\t"+name+"\t"+strconv.Itoa(m.Version)+"\t"+m.ID)
		}
		if h.ManifestDigest != "" {
			lines = append(lines, "manifest\t"+slug+"\t"+h.ManifestDigest)
		}
		if h.JournalRaw != nil {
			add("journal\t%s\t%s", slug, digest(h.JournalRaw))
		}
	}
	names := make([]string, 0, len(l.Surfaces))
	for name, sl := range l.Surfaces {
		names = append(names, name)
		for _, line := range sl.FingerprintLines() {
			add("%s\t%s", name, line)
		}
	}
	if l.Rotation != nil {
		// Only when enrollment is on: the fingerprints of a state read
		// without it stay what they were.
		lines = append(lines, l.Rotation.FingerprintLine())
	}
	sort.Strings(names)
	sort.Strings(lines)
	h := sha256.New()
	// The header is not sorted with the rest; every field is quoted so that
	// no value can forge a line break or a field separator.
	fmt.Fprintf(h, "handoff-state v%d\nenv %s\nroot %s\nread %s\n",
		fingerprintVersion, strconv.Quote(l.Environment), strconv.Quote(l.Root), strconv.Quote(strings.Join(names, ",")))
	var buf []byte
	for _, line := range lines {
		buf = append(strconv.AppendQuote(buf[:0], line), '\n') // strconv.Quote(line) + "\n"
		h.Write(buf)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
