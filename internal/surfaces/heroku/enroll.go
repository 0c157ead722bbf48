package heroku

import (
	"path"
	"time"

	"github.com/raxx-app/handoff/internal/surface"
)

var _ surface.Enrollable = (*Surface)(nil)

// Credentials is the OAuth authorization's token, in the handoff's
// folder. It lives the block's ttl, else the handoff's TTL: it is enrolled
// when that is an hour or more; a shorter one is minted again by handoff
// itself, ahead of its expiry, and is not.
func (s *Surface) Credentials(in surface.EnrollInput) []surface.Credential {
	secret, ttl := SecretName, ""
	switch {
	case in.Record != nil:
		r := Decode(in.Record)
		if r == nil {
			return nil
		}
		secret, ttl = r.secretName(), r.TTL
	case in.Grant != nil:
		ttl = in.Grant.Attributes[AttrTTL]
	default:
		return nil
	}
	life := in.TTL
	if d, err := time.ParseDuration(ttl); err == nil && d > 0 && d < life {
		life = d
	}
	return []surface.Credential{{
		Environment: in.Environment,
		Path:        path.Join(in.Folder, secret),
		What:        "Heroku OAuth authorization token",
		Life:        life,
	}}
}
