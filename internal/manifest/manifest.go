// Package manifest owns the PROVISION_MANIFEST: the JSON record that apply
// writes last into a handoff's vault folder, naming every remote id needed to
// refresh and revoke what was minted, and never a secret value.
//
// The wire shape is schema/manifest.schema.json. Parse validates against that
// schema before it decodes, so a corrupt or half-written manifest is an error
// naming what is wrong, never a value read as valid.
package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/raxx-app/handoff/schema"
)

// SchemaVersion is the version of the manifest shape this build writes and
// reads.
const SchemaVersion = 1

// SecretName is the name of the manifest secret in a handoff's folder.
const SecretName = "PROVISION_MANIFEST"

// JournalSecretName is the secret beside the manifest in which apply
// records its intent while it works on a handoff (see package apply).
const JournalSecretName = "PROVISION_JOURNAL"

// Status says whether a handoff's credentials may be in use.
type Status string

// The statuses of a manifest.
const (
	// Active: every credential named is live (or due for refresh) and the gate
	// may dispatch the handoff.
	Active Status = "active"
	// Revoked: everything was revoked; the manifest stays as the record. A
	// revoked slug is never minted again unless untombstoned (a manual
	// revocation whose Revocation.UntombstonedAt is set).
	Revoked Status = "revoked"
)

// RevocationKind says why a handoff was revoked.
type RevocationKind string

// The kinds of revocation.
const (
	RevokedExpired RevocationKind = "expired" // past its TTL
	RevokedDeleted RevocationKind = "deleted" // its spec was removed
	RevokedManual  RevocationKind = "manual"  // `handoff revoke`: a tombstone
)

// Manifest is a decoded PROVISION_MANIFEST.
type Manifest struct {
	SchemaVersion int         `json:"schema_version"`
	Slug          string      `json:"slug"`
	Card          int         `json:"card,omitempty"`
	SpecFile      string      `json:"spec_file"`
	SpecDigest    string      `json:"spec_digest"`
	GitCommit     string      `json:"git_commit,omitempty"`
	ApprovedBy    string      `json:"approved_by"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
	ExpiresAt     time.Time   `json:"expires_at"`
	Status        Status      `json:"status"`
	Revocation    *Revocation `json:"revocation,omitempty"`
	// Secrets names every secret written in the handoff's folder besides the
	// manifest itself, sorted.
	Secrets  []string `json:"secrets"`
	Surfaces Surfaces `json:"surfaces"`
	History  []Event  `json:"history,omitempty"`
}

// Revocation records when and why a handoff was revoked.
type Revocation struct {
	At     time.Time      `json:"at"`
	Kind   RevocationKind `json:"kind"`
	Reason string         `json:"reason"`
	By     string         `json:"by,omitempty"`
	// Surfaces revoked; empty means all of them.
	Surfaces []string `json:"surfaces,omitempty"`
	// UntombstonedAt is when `handoff untombstone` lifted a manual
	// revocation of the whole handoff: the manifest stays revoked (nothing
	// is live) as the record, and the next apply mints the slug again,
	// writing a new manifest that carries this one's history. Zero while
	// the tombstone stands.
	UntombstonedAt time.Time `json:"untombstoned_at,omitzero"`
}

// Tombstoned reports whether apply must refuse to mint this slug again: a
// manual revocation stands until `handoff untombstone`.
func (m *Manifest) Tombstoned() bool {
	return m.Status == Revoked && m.Revocation != nil && m.Revocation.Kind == RevokedManual && m.Revocation.UntombstonedAt.IsZero()
}

// Untombstoned reports whether m is a lifted tombstone: revoked by hand,
// then untombstoned, so that apply may mint the slug again.
func (m *Manifest) Untombstoned() bool {
	return m.Status == Revoked && m.Revocation != nil && m.Revocation.Kind == RevokedManual && !m.Revocation.UntombstonedAt.IsZero()
}

// Surfaces holds one entry per credential surface the handoff has, by
// surface name: each surface's package owns its entry's shape (remote ids,
// expiries, grants, fingerprints; never a secret value) and decodes it.
type Surfaces map[string]json.RawMessage

// Names lists the surfaces present, sorted by name (the registry of
// surfaces sorts them in the language's order where that matters).
func (s Surfaces) Names() []string {
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Has reports whether surface name has an entry.
func (s Surfaces) Has(name string) bool {
	_, ok := s[name]
	return ok
}

// Put sets the entry of surface name to the JSON encoding of v (nil
// removes it).
func (s *Surfaces) Put(name string, v any) error {
	if v == nil {
		delete(*s, name)
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("manifest: surfaces.%s: %w", name, err)
	}
	if *s == nil {
		*s = Surfaces{}
	}
	(*s)[name] = b
	return nil
}

// Decode decodes the entry of surface name into v, refusing unknown
// fields; it reports false when there is none.
func (s Surfaces) Decode(name string, v any) (bool, error) {
	raw, ok := s[name]
	if !ok {
		return false, nil
	}
	if err := strictUnmarshal(raw, v); err != nil {
		return true, fmt.Errorf("manifest: surfaces.%s: %w", name, err)
	}
	return true, nil
}

// MarshalJSON writes the entries in the order of their names, and an empty
// object for none.
func (s Surfaces) MarshalJSON() ([]byte, error) {
	if len(s) == 0 {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]json.RawMessage(s)) // encoding/json sorts map keys
}

// EventAction names what happened to a handoff in its history.
type EventAction string

// The actions of a history event.
const (
	EventCreate  EventAction = "create"
	EventRefresh EventAction = "refresh"
	EventReplace EventAction = "replace"
	EventRevoke  EventAction = "revoke"
	EventAdopt   EventAction = "adopt"
	// EventUntombstone: `handoff untombstone` lifted a manual revocation.
	EventUntombstone EventAction = "untombstone"
)

// Event is one entry of a manifest's history.
type Event struct {
	At          time.Time   `json:"at"`
	Action      EventAction `json:"action"`
	Surface     string      `json:"surface,omitempty"`
	Detail      string      `json:"detail,omitempty"`
	Fingerprint string      `json:"fingerprint,omitempty"`
	GitCommit   string      `json:"git_commit,omitempty"`
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Marshal encodes m as indented JSON after checking it against the schema, so
// that apply can never write a manifest that a later read would reject.
func Marshal(m *Manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := validateSchema(b); err != nil {
		return nil, fmt.Errorf("manifest %s: refusing to write an invalid manifest: %w", m.Slug, err)
	}
	return b, nil
}

// Parse validates b against schema/manifest.schema.json and decodes it. The
// error names every violation with its JSON pointer. A manifest the fast
// check (fastValid) vouches for skips the generic schema validator; any
// other goes through it.
func Parse(b []byte) (*Manifest, error) {
	doc, ok := decodeAnyFast(b) // json.Unmarshal's value, or false
	var m Manifest
	if (ok || json.Unmarshal(b, &doc) == nil) && fastValid(doc) {
		// b is one JSON value whose every key is a property of the schema
		// (additionalProperties is false wherever the struct has fields),
		// each of them a field of the struct (TestSchemaPropertiesAreFields):
		// the decoder's check of unknown fields cannot fail, and
		// Unmarshal decodes the same value without its stream buffer.
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
	} else {
		if err := validateSchema(b); err != nil {
			return nil, err
		}
		if err := strictUnmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
	}
	if m.ExpiresAt.Before(m.CreatedAt) {
		return nil, errors.New("manifest: expires_at is before created_at")
	}
	return &m, nil
}

var englishPrinter = message.NewPrinter(language.English)

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	compileErr  error
)

func manifestSchema() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.ManifestJSONSchema))
		if err != nil {
			compileErr = fmt.Errorf("manifest schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		const url = "https://github.com/raxx-app/handoff/schema/manifest.schema.json"
		if err := c.AddResource(url, doc); err != nil {
			compileErr = fmt.Errorf("manifest schema: %w", err)
			return
		}
		compiled, compileErr = c.Compile(url)
	})
	return compiled, compileErr
}

func validateSchema(b []byte) error {
	sch, err := manifestSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("manifest is not JSON: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("manifest does not match schema_version %d: %s", SchemaVersion, flattenValidation(ve))
		}
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

// flattenValidation turns the validation tree into "at /path: message" lines.
func flattenValidation(ve *jsonschema.ValidationError) string {
	var lines []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := "/" + strings.Join(e.InstanceLocation, "/")
			lines = append(lines, fmt.Sprintf("at %s: %s", loc, e.ErrorKind.LocalizedString(englishPrinter)))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(lines, "; ")
}

// Fingerprint returns "sha256:" and the first 12 hex digits of the SHA-256 of
// a credential: enough to correlate records, useless to replay.
func Fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])[:12]
}
