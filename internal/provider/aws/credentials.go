package aws

import (
	"fmt"
	"log/slog"
	"time"
)

// Credentials are a role session's temporary credentials. The secret
// access key and the session token never render: String, GoString, Format
// (every fmt verb) and LogValue show only the key id, the role session and
// the expiry. Hand the secrets to the agent's environment and nowhere else.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	// AssumedRoleARN is the session's ARN
	// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION).
	AssumedRoleARN string
	// PackedPolicySize is STS's percentage of its size limit the session
	// used: SessionTokenUtilization when STS sends it, else the older
	// PackedPolicySize (session policy and tags); 0 when neither came.
	PackedPolicySize int
}

// String describes the credentials without their secrets.
func (c Credentials) String() string {
	return fmt.Sprintf("aws.Credentials{AccessKeyID: %q, SecretAccessKey: %s, SessionToken: %s, Expiration: %s, AssumedRoleARN: %q}",
		c.AccessKeyID, redacted(c.SecretAccessKey), redacted(c.SessionToken), c.Expiration.UTC().Format(time.RFC3339), c.AssumedRoleARN)
}

// GoString is String: %#v shows no secret either.
func (c Credentials) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue keeps the secrets out of structured logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", c.AccessKeyID), slog.String("assumed_role_arn", c.AssumedRoleARN),
		slog.Time("expiration", c.Expiration))
}

// MarshalText keeps the secrets out of encoders that honour it
// (encoding/json prints the String form).
func (c Credentials) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// redacted shows whether a secret is set, never what it holds.
func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}

// AssumeInput is one handoff's session request.
type AssumeInput struct {
	// RoleARN is the role prepared for handoffs.
	RoleARN string
	// SessionName and SourceIdentity name the handoff (its slug), so that
	// CloudTrail records it and the revocation Deny can match it.
	SessionName    string
	SourceIdentity string
	// Tags are session tags (handoff=<slug>).
	Tags map[string]string
	// SessionPolicy is the compiled inline session policy (compact JSON);
	// empty passes none.
	SessionPolicy []byte
	// Duration is the session length; zero asks for STS's default (1 h).
	// handoff never asks for more than an hour.
	Duration time.Duration
}
