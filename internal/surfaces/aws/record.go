package aws

import (
	"encoding/json"
	"time"

	"github.com/raxx-app/handoff/internal/surface"
)

// Folder secrets the surface writes, under the names the AWS SDKs and CLI
// read.
const (
	SecretAccessKeyID     = "AWS_ACCESS_KEY_ID"
	SecretSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	SecretSessionToken    = "AWS_SESSION_TOKEN"
	SecretRegion          = "AWS_REGION"
)

// secretNames are the folder secrets, in the order they are written.
var secretNames = []string{SecretAccessKeyID, SecretSecretAccessKey, SecretSessionToken, SecretRegion}

// RevocationPolicy is the inline policy of each role that holds the
// handoffs' revocations (package provider/aws writes it).
const RevocationPolicy = "handoff-revocations"

// Record is the surface's entry in the manifest: the session minted for a
// handoff and the grant it was minted with; never a key, a secret or a
// token (the access key id is recorded as a fingerprint).
type Record struct {
	RoleARN string `json:"role_arn"`
	// Region, SSMRead, S3Read, SQSSend, SessionPolicy and Duration are the
	// grant as the spec wrote it (Grant).
	Region        string   `json:"region,omitempty"`
	SSMRead       []string `json:"ssm_read,omitempty"`
	S3Read        []string `json:"s3_read,omitempty"`
	SQSSend       []string `json:"sqs_send,omitempty"`
	SessionPolicy string   `json:"session_policy,omitempty"`
	Duration      string   `json:"duration"`
	// CompiledPolicy is the session policy STS was given.
	CompiledPolicy string `json:"compiled_policy"`
	// SessionName and SourceIdentity are the slug; AssumedRoleARN is the
	// session's ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SLUG).
	SessionName    string `json:"session_name"`
	SourceIdentity string `json:"source_identity"`
	AssumedRoleARN string `json:"assumed_role_arn,omitempty"`
	// SessionRegion is the AWS_REGION written to the folder.
	SessionRegion string `json:"session_region"`
	// IssuedAt is when AWS issued the session (its expiry less its
	// length, on AWS's clock, to the second); ExpiresAt when it ends.
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// KeyFingerprint identifies the session's access key id
	// (manifest.Fingerprint).
	KeyFingerprint string `json:"access_key_fingerprint"`
	// PackedPolicySize is the share of STS's packed-size limit the session
	// policy and tags used, in percent, as STS reported it.
	PackedPolicySize int `json:"packed_policy_size,omitempty"`
	// Revocations is the inline policy of the role that revokes the
	// handoff's sessions (RevocationPolicy).
	Revocations string `json:"revocation_policy"`
}

// Decode reads a record; nil (or one that does not decode) gives nil.
func Decode(rec surface.Record) *Record {
	if len(rec) == 0 {
		return nil
	}
	var r Record
	if json.Unmarshal(rec, &r) != nil || r.RoleARN == "" {
		return nil
	}
	return &r
}

// Grant is the grant r was minted with.
func (r *Record) Grant() Grant {
	d, err := time.ParseDuration(r.Duration)
	if err != nil || d <= 0 {
		d = time.Hour
	}
	return Grant{RoleARN: r.RoleARN, Region: r.Region, SSMRead: r.SSMRead, S3Read: r.S3Read, SQSSend: r.SQSSend,
		SessionPolicy: r.SessionPolicy, Duration: d}
}
