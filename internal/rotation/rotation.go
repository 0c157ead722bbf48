package rotation

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// SchemaVersion is the version of the document's shape this build writes
// and reads. A document of a later version is another build's: it is never
// overwritten (see Live.State).
const SchemaVersion = 1

// ManagedBy is the document's managed_by: a document that says otherwise is
// not handoff's, and is never overwritten.
const ManagedBy = "handoff"

// The constant fields of every entry handoff writes.
const (
	// UpdateMethod says the service pushes an update by writing the
	// credential's vault secret (update_endpoint, in env).
	UpdateMethod = "INFISICAL_WRITE"
	// CapabilityUpdate is the one capability a handoff declares: it takes
	// an updated credential where it reads it.
	CapabilityUpdate = "update"
	// ConsumerPrefix starts every consumer_id: "handoff-<slug>".
	ConsumerPrefix = "handoff-"
)

// MinLife is the shortest life of an enrolled credential: a shorter one
// (a GitHub installation token, an STS session, a token whose spec asks
// for a short ttl) ends, or is minted again by handoff itself, before a
// rotation would matter.
const MinLife = time.Hour

// Consumer is the consumer_id of a handoff.
func Consumer(slug string) string { return ConsumerPrefix + slug }

// Location is where the document lives: the secret Secret of folder Folder
// in the vault environment Environment.
type Location struct {
	Environment string
	Folder      string
	Secret      string
}

// Path is the secret's vault path, folder and name joined.
func (l Location) Path() string { return path.Join(l.Folder, l.Secret) }

// String names the location for messages: "/a/b/NAME (environment prod)".
func (l Location) String() string {
	return fmt.Sprintf("%s (environment %s)", l.Path(), l.Environment)
}

// Entry is one subscription: a credential of one handoff that the service
// may update. It names where the credential lives, never its value. The
// JSON keys are the service's; their order is this struct's.
type Entry struct {
	// TokenName is the credential's name: the name of the vault secret
	// that holds it.
	TokenName string `json:"token_name"`
	// ConsumerID is "handoff-<slug>".
	ConsumerID string `json:"consumer_id"`
	// Env is the vault environment of the credential's secret.
	Env string `json:"env"`
	// Active is true: handoff lists only the credentials of active
	// handoffs, and removes an entry rather than deactivating it.
	Active bool `json:"active"`
	// UpdateEndpoint is the credential's vault path (folder and secret).
	UpdateEndpoint string `json:"update_endpoint"`
	// UpdateMethod is UpdateMethod.
	UpdateMethod string `json:"update_method"`
	// Required is false: a handoff works until its expiry without any
	// update.
	Required bool `json:"required"`
	// Capabilities are [CapabilityUpdate].
	Capabilities []string `json:"capabilities"`
	// Description says which handoff and what credential, in a phrase.
	Description string `json:"description"`
	// AutoRevokeAfter is the handoff's expiry: the service drops the entry
	// then, whether or not an apply ran.
	AutoRevokeAfter time.Time `json:"auto_revoke_after"`
}

// NewEntry returns the entry of a credential of handoff slug, held in the
// vault secret at endpoint (an absolute path) in env, that ends with the
// handoff at expires; what says what it is ("client secret of its
// Infisical identity").
func NewEntry(slug, env, endpoint, what string, expires time.Time) Entry {
	return Entry{
		TokenName:       path.Base(endpoint),
		ConsumerID:      Consumer(slug),
		Env:             env,
		Active:          true,
		UpdateEndpoint:  endpoint,
		UpdateMethod:    UpdateMethod,
		Required:        false,
		Capabilities:    []string{CapabilityUpdate},
		Description:     "handoff " + slug + ": " + what,
		AutoRevokeAfter: expires.UTC(),
	}
}

// Key identifies an entry within a document: its consumer, environment
// and endpoint. Two entries with one key are one subscription (the later
// one is dropped).
func (e Entry) Key() string {
	return e.ConsumerID + "\x00" + e.Env + "\x00" + e.UpdateEndpoint + "\x00" + e.TokenName
}

// Equal reports whether two entries are the same in every field.
func (e Entry) Equal(o Entry) bool {
	return e.TokenName == o.TokenName && e.ConsumerID == o.ConsumerID && e.Env == o.Env && e.Active == o.Active &&
		e.UpdateEndpoint == o.UpdateEndpoint && e.UpdateMethod == o.UpdateMethod && e.Required == o.Required &&
		slices.Equal(e.Capabilities, o.Capabilities) && e.Description == o.Description && e.AutoRevokeAfter.Equal(o.AutoRevokeAfter)
}

// compare orders entries: by consumer, environment, endpoint, name, then
// the rest, so that a document's order never depends on how it was built.
func compare(a, b Entry) int {
	return cmp.Or(
		strings.Compare(a.ConsumerID, b.ConsumerID),
		strings.Compare(a.Env, b.Env),
		strings.Compare(a.UpdateEndpoint, b.UpdateEndpoint),
		strings.Compare(a.TokenName, b.TokenName),
		a.AutoRevokeAfter.Compare(b.AutoRevokeAfter),
		strings.Compare(a.Description, b.Description),
	)
}

// Sort sorts entries in the document's order and drops repeated keys
// (keeping the first), in place; it returns the result.
func Sort(entries []Entry) []Entry {
	slices.SortStableFunc(entries, compare)
	return slices.CompactFunc(entries, func(a, b Entry) bool { return a.Key() == b.Key() })
}

// Document is the subscription document.
type Document struct {
	SchemaVersion int `json:"schema_version"`
	// ManagedBy is ManagedBy.
	ManagedBy string `json:"managed_by"`
	// Environment and HandoffRoot say whose handoffs the document lists:
	// two repositories of handoffs cannot share one document (each would
	// remove the other's entries), so a document of another root is never
	// overwritten.
	Environment string `json:"environment"`
	HandoffRoot string `json:"handoff_root"`
	// Subscriptions are the entries, sorted; [] when none.
	Subscriptions []Entry `json:"subscriptions"`
}

// New returns the document of the handoffs under root in env with entries
// (sorted, repeated keys dropped; the slice is not kept).
func New(env, root string, entries []Entry) *Document {
	subs := Sort(slices.Clone(entries))
	if subs == nil {
		subs = []Entry{}
	}
	return &Document{SchemaVersion: SchemaVersion, ManagedBy: ManagedBy, Environment: env, HandoffRoot: root, Subscriptions: subs}
}

// Owner says whose handoffs d lists, for messages: "handoffs under /r in
// environment e".
func (d *Document) Owner() string {
	return fmt.Sprintf("handoffs under %s in environment %s", d.HandoffRoot, d.Environment)
}

// Consumers returns the consumer ids of d's entries, sorted, without
// repeats.
func (d *Document) Consumers() []string {
	var out []string
	for _, e := range d.Subscriptions {
		out = append(out, e.ConsumerID)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Of returns d's entries of one consumer.
func (d *Document) Of(consumer string) []Entry {
	var out []Entry
	for _, e := range d.Subscriptions {
		if e.ConsumerID == consumer {
			out = append(out, e)
		}
	}
	return out
}

// Marshal encodes d deterministically: keys in struct order, indented by
// two spaces, no HTML escaping, one trailing newline. The same document
// always gives the same bytes.
func (d *Document) Marshal() []byte {
	n := *d
	n.Subscriptions = Sort(slices.Clone(d.Subscriptions))
	if n.Subscriptions == nil {
		n.Subscriptions = []Entry{}
	}
	for i := range n.Subscriptions {
		n.Subscriptions[i].AutoRevokeAfter = n.Subscriptions[i].AutoRevokeAfter.UTC()
		if n.Subscriptions[i].Capabilities == nil {
			n.Subscriptions[i].Capabilities = []string{}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&n); err != nil {
		panic(err) // strings, booleans and times only
	}
	return b.Bytes()
}

// Digest is "sha256:<hex>" of b: how two documents are compared.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ErrNotDocument is wrapped by Parse's error for a value that is not a
// rotation document.
var ErrNotDocument = errors.New("not a rotation document")

// Parse decodes a document. Fields it does not know are ignored (they are
// not written back: the next write drops them). Its error never quotes the
// value: the secret at a configured path may hold anything, a credential
// included, until it is known to be a document.
func Parse(b []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("%w: %d bytes that are not JSON (at byte %d)", ErrNotDocument, len(b), se.Offset)
		case errors.As(err, &te):
			return nil, fmt.Errorf("%w: %s holds a JSON %s", ErrNotDocument, cmp.Or(te.Field, "the value"), te.Value)
		}
		return nil, fmt.Errorf("%w: %d bytes that do not decode", ErrNotDocument, len(b))
	}
	if d.SchemaVersion < 1 {
		return nil, fmt.Errorf("%w: no schema_version", ErrNotDocument)
	}
	return &d, nil
}

// Diff compares two lists of entries whole: add are the entries of to that
// from lacks, remove those of from that to lacks, each sorted. An entry
// that changed (a new auto_revoke_after, a description edited by hand) is
// in both.
func Diff(from, to []Entry) (add, remove []Entry) {
	index := func(list []Entry) map[string][]Entry {
		m := make(map[string][]Entry, len(list))
		for _, e := range list {
			m[e.Key()] = append(m[e.Key()], e)
		}
		return m
	}
	has := func(m map[string][]Entry, e Entry) bool {
		return slices.ContainsFunc(m[e.Key()], e.Equal)
	}
	fromIdx, toIdx := index(from), index(to)
	for _, e := range to {
		if !has(fromIdx, e) {
			add = append(add, e)
		}
	}
	for _, e := range from {
		if !has(toIdx, e) {
			remove = append(remove, e)
		}
	}
	return Sort(add), Sort(remove)
}
