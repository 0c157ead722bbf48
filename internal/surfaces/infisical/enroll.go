package infisical

import (
	"path"

	"github.com/raxx-app/handoff/internal/surface"
)

var _ surface.Enrollable = (*Surface)(nil)

// Credentials is the identity's client secret, in the handoff's folder: it
// is minted for the handoff's whole TTL (a refresh mints one until the
// same expiry), so it is enrolled when that TTL is an hour or more. The
// client id is no credential (it is useless without the secret) and is
// not enrolled.
func (s *Surface) Credentials(in surface.EnrollInput) []surface.Credential {
	var r *Record
	switch {
	case in.Record != nil:
		if r = Decode(in.Record); r == nil {
			return nil
		}
	case in.Grant == nil:
		return nil
	}
	_, secret := r.secretNames()
	return []surface.Credential{{
		Environment: in.Environment,
		Path:        path.Join(in.Folder, secret),
		What:        "client secret of its Infisical identity",
		Life:        in.TTL,
	}}
}
