package heroku

import "github.com/raxx-app/handoff/internal/surface"

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
	return surface.TokenCredential(in, secret, ttl, 0, "Heroku OAuth authorization token")
}
