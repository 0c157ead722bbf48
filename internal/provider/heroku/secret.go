package heroku

import (
	"fmt"
	"log/slog"

	"github.com/raxx-app/handoff/internal/manifest"
)

// Secret is a credential (an OAuth access token or an API key). It prints
// as "[redacted]" with every fmt verb, in slog and in JSON; Reveal is the
// only way to its value. The zero Secret is empty.
type Secret struct{ v string }

// NewSecret wraps a credential.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the credential, for the one place that must send or store
// it (the Authorization header, the vault).
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// Fingerprint identifies the secret in manifests and logs without revealing
// it ("sha256:" and 12 hex digits); empty for an empty secret.
func (s Secret) Fingerprint() string {
	if s.v == "" {
		return ""
	}
	return manifest.Fingerprint(s.v)
}

// String is "[redacted]" ("" for an empty secret).
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "[redacted]"
}

// GoString is String.
func (s Secret) GoString() string { return s.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, …).
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue keeps the value out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes the redacted form: a Secret never reaches JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText writes the redacted form too (encoding/xml, maps keys, …).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
