package byref

import (
	"strings"

	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces/infisical"
)

var _ surface.Enrollable = (*Surface)(nil)

// Credentials are the pre-provisioned keys the handoff reads by
// reference, at their own vault paths: long-lived and shared, they are
// what a rotation service rotates, and the handoff subscribes to them as a
// consumer (their life is not handoff's: zero). Only a key path that names
// one secret is enrolled: a path ending in a wildcard (STRIPE_*) names no
// single credential, and which keys it reaches is known only by reading
// the vault, which the document, a function of the manifests, never does.
// Nothing is enrolled once the handoff's identity, through which the keys
// are read, is killed.
func (s *Surface) Credentials(in surface.EnrollInput) []surface.Credential {
	var keys []string
	var env string
	switch {
	case in.Record != nil:
		r := Decode(in.Record)
		m := in.Manifest
		if r == nil || m == nil || m.Killed()[infisical.Name] {
			return nil
		}
		id := infisical.Decode(m.Surfaces[infisical.Name])
		if id == nil {
			return nil
		}
		keys, env = r.KeyPaths, id.Environment
	case in.Grant != nil:
		keys, env = s.keyPaths(in.Spec), in.Environment
		if b := infisical.Of(in.Spec); b != nil && b.Environment.Valid() && b.Environment.Value != "" {
			env = b.Environment.Value
		}
	}
	var out []surface.Credential
	for _, p := range keys {
		if strings.Contains(p, "*") {
			continue
		}
		out = append(out, surface.Credential{Environment: env, Path: p, What: s.k.title + " key, read by reference"})
	}
	return out
}
