package githubsrv

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// InstallationTokenLifetime is the fixed life of an installation access
// token; the caller cannot choose it.
const InstallationTokenLifetime = time.Hour

// installationToken is what the server remembers of a minted token: never the
// token itself, only its SHA-256 fingerprint and last four characters.
type installationToken struct {
	Fingerprint    string `json:"fingerprint"`
	Last4          string `json:"last4"`
	InstallationID int64  `json:"installation_id"`
	// RepositoryIDs is the narrowed set; nil means every repository the
	// installation covers at the time of use.
	RepositoryIDs       []int64           `json:"repository_ids,omitempty"`
	RepositorySelection string            `json:"repository_selection"`
	Permissions         map[string]string `json:"permissions"`
	CreatedAt           time.Time         `json:"created_at"`
	ExpiresAt           time.Time         `json:"expires_at"`
	RevokedAt           *time.Time        `json:"revoked_at,omitempty"`
}

// live reports whether the token still authenticates at now.
func (t *installationToken) live(now time.Time) bool {
	return t.RevokedAt == nil && now.Before(t.ExpiresAt)
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newToken returns "ghs_" followed by 36 random base62 characters, the
// classic shape of an installation token.
func newToken() (string, error) {
	const n = 36
	out := make([]byte, 0, 4+n)
	out = append(out, "ghs_"...)
	buf := make([]byte, 64)
	for len(out) < cap(out) {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			// Rejection sampling keeps the distribution uniform: 248 = 4*62.
			if b >= 248 {
				continue
			}
			out = append(out, base62[b%62])
			if len(out) == cap(out) {
				break
			}
		}
	}
	return string(out), nil
}

// Fingerprint is the SHA-256 of a token in hex: how the server, its state
// file and TokenInfo name a token without holding it. Tests compute it from
// the token they were given to find its TokenInfo.
func Fingerprint(token string) string { return fingerprint(token) }

func fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func last4(token string) string {
	if len(token) < 4 {
		return token
	}
	return token[len(token)-4:]
}
