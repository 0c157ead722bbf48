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
	"github.com/raxx-app/handoff/internal/provider/github"
)

// IdentityPrefix starts the name of every Infisical identity handoff
// creates: "infisical-handoff-<slug>-<YYYYMMDD>". Only identities with this
// prefix are part of the live state.
const IdentityPrefix = "infisical-handoff-"

// LockSecretName is the apply lock, a lease secret directly in the handoff
// root (package apply owns it).
const LockSecretName = "PROVISION_LOCK"

// fingerprintVersion is part of the canonical encoding hashed by
// Fingerprint; bump it when that encoding changes meaning. (2: a missing
// root no longer differs from an empty one.)
const fingerprintVersion = 2

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
	// IdentitiesKnown is false when the identities were not read; then
	// Identities is empty and says nothing about deletions.
	IdentitiesKnown bool
	// Identities are the Infisical identities whose name starts with
	// IdentityPrefix, keyed by name.
	Identities map[string]Identity
	// InstallationsKnown is false when the installations were not read (no
	// GitHub App configured).
	InstallationsKnown bool
	// Installations are the GitHub App's installations, sorted by account
	// (case-insensitively) then id.
	Installations []github.Installation
	// Problems are findings that belong to no handoff (a secret directly in
	// Root, a sub-folder in a handoff's folder, two identities with one
	// name), sorted. Plan reports them as warnings.
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

// Identity is an Infisical machine identity created by handoff.
type Identity struct {
	ID   string
	Name string
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

// IdentityName returns the name of the Infisical identity of a handoff
// created on day: "infisical-handoff-<slug>-<YYYYMMDD>" (UTC).
func IdentityName(slug string, day time.Time) string {
	return IdentityPrefix + slug + "-" + day.UTC().Format("20060102")
}

// IdentitySlug returns the slug of an identity name made by IdentityName.
func IdentitySlug(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, IdentityPrefix)
	if !ok || len(rest) < 10 || rest[len(rest)-9] != '-' {
		return "", false
	}
	for _, r := range rest[len(rest)-8:] {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return rest[:len(rest)-9], true
}

// IdentitiesOf returns the identities named for slug (whatever their date),
// sorted by name: how apply finds what a crashed or corrupt handoff left
// when no manifest names the ids. A slug that is a prefix of another does
// not match the other's identities.
func (l *Live) IdentitiesOf(slug string) []Identity {
	var out []Identity
	for name, id := range l.Identities {
		if s, ok := IdentitySlug(name); ok && s == slug {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// IdentityByID returns the handoff identity with the given id (a linear
// scan: index the ids when looking up many).
func (l *Live) IdentityByID(id string) (Identity, bool) {
	for _, x := range l.Identities {
		if x.ID == id {
			return x, true
		}
	}
	return Identity{}, false
}

// Installation returns the App's installation on account (a GitHub login,
// compared case-insensitively as GitHub does).
func (l *Live) Installation(account string) (github.Installation, bool) {
	for _, in := range l.Installations {
		if strings.EqualFold(in.Account, account) {
			return in, true
		}
	}
	return github.Installation{}, false
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
// versions, the digests of manifests and journals, the handoff identities'
// names and ids, and every installation's id, account, repository selection,
// permissions and suspension. It never covers a secret value, and it does
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
			add("secret\t%s\t%s\t%d\t%s", slug, name, m.Version, m.ID)
		}
		if h.ManifestDigest != "" {
			add("manifest\t%s\t%s", slug, h.ManifestDigest)
		}
		if h.JournalRaw != nil {
			add("journal\t%s\t%s", slug, digest(h.JournalRaw))
		}
	}
	if l.IdentitiesKnown {
		for name, id := range l.Identities {
			add("identity\t%s\t%s", name, id.ID)
		}
	}
	if l.InstallationsKnown {
		for _, in := range l.Installations {
			perms := make([]string, 0, len(in.Permissions))
			for k, v := range in.Permissions {
				perms = append(perms, k+"="+v)
			}
			sort.Strings(perms)
			suspended := ""
			if in.Suspended() {
				suspended = in.SuspendedAt.UTC().Format(time.RFC3339)
			}
			add("installation\t%d\t%s\t%s\t%s\t%s", in.ID, strings.ToLower(in.Account), in.RepositorySelection,
				strings.Join(perms, ","), suspended)
		}
	}
	sort.Strings(lines)
	h := sha256.New()
	// The header is not sorted with the rest; every field is quoted so that
	// no value can forge a line break or a field separator.
	fmt.Fprintf(h, "handoff-state v%d\nenv %s\nroot %s\nidentities %t\ninstallations %t\n",
		fingerprintVersion, strconv.Quote(l.Environment), strconv.Quote(l.Root), l.IdentitiesKnown, l.InstallationsKnown)
	for _, line := range lines {
		h.Write([]byte(strconv.Quote(line)))
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
