package awssrv

import (
	"sort"
	"strings"
	"time"
)

// Read-only inspection for tests and for `handoff dev`. None of these change
// state; only ProvisionerCredentials, Credentials and Env return secrets.

// AccountID is the account every ARN names.
func (s *Server) AccountID() string { return s.accountID() }

// Region is the region the SSM parameters live in.
func (s *Server) Region() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.Region
}

// ProvisionerCredentials returns the long-term access key of the fixture's
// provisioner user (generated at New unless the fixture gave it). Hand it
// to a child process or a 0600 file; never print it.
func (s *Server) ProvisionerCredentials() (accessKeyID, secretAccessKey string) {
	return s.Credentials(s.provisionerName())
}

func (s *Server) provisionerName() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u := s.st.Users[s.st.Provisioner]; u != nil {
		return u.Name
	}
	return ""
}

// Credentials returns the long-term access key of an IAM user, or empty
// strings when there is no such user.
func (s *Server) Credentials(userName string) (accessKeyID, secretAccessKey string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	key := strings.ToLower(userName)
	ids := make([]string, 0, len(s.st.Keys))
	for id, k := range s.st.Keys {
		if k.User == key {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return "", ""
	}
	sort.Strings(ids)
	return ids[0], s.st.Keys[ids[0]].SecretAccessKey
}

// Environment variable names Env fills. The AWS SDKs and CLI read them all
// (AWS_ENDPOINT_URL points every service at the local server).
const (
	EnvAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvRegion          = "AWS_REGION"
	EnvEndpointURL     = "AWS_ENDPOINT_URL"
	EnvNoIMDS          = "AWS_EC2_METADATA_DISABLED"
)

// Env is the environment that makes the AWS SDKs talk to this server as the
// provisioner: its key, the region and AWS_ENDPOINT_URL=baseURL (and no
// instance-metadata lookups). It holds a secret key: never print it.
func (s *Server) Env(baseURL string) map[string]string {
	id, secret := s.ProvisionerCredentials()
	return map[string]string{
		EnvAccessKeyID:     id,
		EnvSecretAccessKey: secret,
		EnvRegion:          s.Region(),
		EnvEndpointURL:     baseURL,
		EnvNoIMDS:          "true",
	}
}

// RoleARN is the ARN of a role (path included), or "" when it does not
// exist.
func (s *Server) RoleARN(name string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r := s.st.Roles[strings.ToLower(name)]; r != nil {
		return r.arn(s.st.AccountID)
	}
	return ""
}

// RolePolicies returns a role's inline policies by name (documents as
// stored, not URL-encoded), or nil when the role does not exist.
func (s *Server) RolePolicies(roleName string) map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.st.Roles[strings.ToLower(roleName)]
	if r == nil {
		return nil
	}
	out := make(map[string]string, len(r.Policies))
	for _, p := range r.Policies {
		out[p.Name] = p.Document
	}
	return out
}

// SessionInfo describes an STS session the server issued, without its
// secret key or token.
type SessionInfo struct {
	AccessKeyID      string
	RoleARN          string
	AssumedRoleARN   string
	SessionName      string
	SourceIdentity   string
	Tags             map[string]string
	TransitiveTags   []string
	Policy           string
	PackedPolicySize int
	Caller           string
	IssuedAt         time.Time
	Expiration       time.Time
}

// Sessions lists every session issued (expired ones included, until they
// are a day past expiry), oldest first.
func (s *Server) Sessions() []SessionInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]SessionInfo, 0, len(s.st.Sessions))
	for _, ss := range s.st.Sessions {
		info := SessionInfo{AccessKeyID: ss.AccessKeyID, RoleARN: ss.RoleARN, AssumedRoleARN: ss.arn(s.st.AccountID),
			SessionName: ss.SessionName, SourceIdentity: ss.SourceIdentity, TransitiveTags: ss.TransitiveTagKeys,
			Policy: ss.Policy, PackedPolicySize: ss.PackedPolicySize, Caller: ss.Caller, IssuedAt: ss.IssuedAt,
			Expiration: ss.Expiration, Tags: map[string]string{}}
		for _, t := range ss.Tags {
			info.Tags[t.Key] = t.Value
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].IssuedAt.Equal(out[j].IssuedAt) {
			return out[i].IssuedAt.Before(out[j].IssuedAt)
		}
		return out[i].AccessKeyID < out[j].AccessKeyID
	})
	return out
}

// Decisions returns the authorization decisions made so far, oldest first
// (the most recent few thousand).
func (s *Server) Decisions() []Decision {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]Decision(nil), s.decisions...)
}

// RequestCount is how many requests reached an operation since the kit's
// counters were last reset, e.g. RequestCount("sts", "AssumeRole"). The
// kit's /_dev/stats shows the same counters as "POST /sts/AssumeRole".
func (s *Server) RequestCount(service, op string) int64 {
	return s.kit.Stats.Count("POST /" + service + "/" + op)
}

// Parameter returns an SSM parameter's value and type.
func (s *Server) Parameter(name string) (value, typ string, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.st.Params[name]
	if p == nil {
		return "", "", false
	}
	return p.Value, p.Type, true
}
