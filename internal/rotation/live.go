package rotation

import (
	"context"
	"fmt"
	"strings"

	"github.com/raxx-app/handoff/internal/vault"
)

// Getter reads one secret with its value: vault.Vault's GetSecret.
type Getter interface {
	GetSecret(ctx context.Context, env, folder, key string) (vault.Secret, error)
}

// State says what the secret at a document's location holds.
type State string

// The states of a live document.
const (
	// StateMissing: no such secret, or an empty one. Apply writes it (the
	// folder must exist: handoff creates no folder outside its root).
	StateMissing State = "missing"
	// StateValid: a document of these handoffs. Apply rewrites it when it
	// differs from what the manifests say.
	StateValid State = "valid"
	// StateInvalid: a value that is not a document. It is never
	// overwritten: the location may name a secret that is not handoff's.
	StateInvalid State = "invalid"
	// StateForeign: a document that is not these handoffs' (another
	// handoff root or environment, a later schema_version, another
	// managed_by). It is never overwritten.
	StateForeign State = "foreign"
	// StateUnread: the read failed (Problem says why); nothing is known,
	// and nothing is written.
	StateUnread State = "unread"
)

// Live is what a read of a document's location found. It holds no value:
// the document, once parsed, names paths and never a secret, and anything
// else at the location is dropped unread beyond its digest.
type Live struct {
	Location Location
	State    State
	// Version is the secret's version (0 when missing or unread).
	Version int
	// Digest is Digest of the value as stored; "" when missing or unread.
	Digest string
	// Doc is the parsed document when State is StateValid, or StateForeign
	// for a document of another owner; nil otherwise.
	Doc *Document
	// Problem says in a phrase why the state is invalid, foreign or
	// unread; it never quotes the value.
	Problem string
}

// Writable reports whether apply may write the document at the location:
// it is missing, or these handoffs' own.
func (l *Live) Writable() bool {
	return l != nil && (l.State == StateMissing || l.State == StateValid)
}

// Matches reports whether the live document holds exactly want.
func (l *Live) Matches(want []byte) bool {
	return l != nil && l.State == StateValid && l.Digest == Digest(want)
}

// Entries are the live document's entries (none unless valid).
func (l *Live) Entries() []Entry {
	if l == nil || l.State != StateValid || l.Doc == nil {
		return nil
	}
	return l.Doc.Subscriptions
}

// FingerprintLine is the live state's line for a plan's state
// fingerprint: the location, the state and the digest (never a read's
// error text, which may change from one read to the next).
func (l *Live) FingerprintLine() string {
	return fmt.Sprintf("rotation\t%s\t%s\t%s\t%s", l.Location.Environment, l.Location.Path(), l.State, l.Digest)
}

// Read reads the document at loc, classifying it for the handoffs under
// root in env (the document's owner). It never fails: a failed read is
// StateUnread, with the error as Problem.
func Read(ctx context.Context, g Getter, loc Location, env, root string) *Live {
	l := &Live{Location: loc}
	if g == nil {
		l.State, l.Problem = StateUnread, "the vault cannot read one secret"
		return l
	}
	sec, err := g.GetSecret(ctx, loc.Environment, loc.Folder, loc.Secret)
	if vault.IsNotFound(err) {
		l.State = StateMissing
		return l
	}
	if err != nil {
		l.State, l.Problem = StateUnread, err.Error()
		return l
	}
	raw := []byte(sec.Value)
	sec.Value = ""
	l.Classify(raw, sec.Version, env, root)
	return l
}

// Classify sets l's state from the value raw (version v) read at its
// location, for the handoffs under root in env.
func (l *Live) Classify(raw []byte, v int, env, root string) {
	l.Version = v
	if strings.TrimSpace(string(raw)) == "" {
		l.State, l.Digest = StateMissing, ""
		return
	}
	l.Digest = Digest(raw)
	d, err := Parse(raw)
	switch {
	case err != nil:
		l.State, l.Problem = StateInvalid, err.Error()
	case d.SchemaVersion > SchemaVersion:
		l.State, l.Doc = StateForeign, d
		l.Problem = fmt.Sprintf("schema_version %d, written by a later build of handoff (this one writes %d)", d.SchemaVersion, SchemaVersion)
	case d.ManagedBy != ManagedBy:
		l.State, l.Doc = StateForeign, d
		l.Problem = fmt.Sprintf("its managed_by is not %q", ManagedBy)
	case d.HandoffRoot != root || d.Environment != env:
		l.State, l.Doc = StateForeign, d
		l.Problem = "it lists the " + d.Owner()
	default:
		l.State, l.Doc = StateValid, d
	}
}
