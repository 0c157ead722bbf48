package awssrv

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/awssrv/iameval"
)

// state is everything the server holds. Maps are keyed by lower-cased name
// where IAM names are case-insensitive (users, roles), by access key id for
// keys and sessions, by name for parameters. Fields are exported for the
// JSON snapshot only.
type state struct {
	AccountID   string                `json:"accountId"`
	Region      string                `json:"region"`
	Provisioner string                `json:"provisioner"` // user key
	Users       map[string]*user      `json:"users"`
	Keys        map[string]*accessKey `json:"keys"`
	Roles       map[string]*role      `json:"roles"`
	Sessions    map[string]*session   `json:"sessions"`
	Params      map[string]*parameter `json:"parameters"`
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type inlinePolicy struct {
	Name     string          `json:"name"`
	Document string          `json:"document"`
	parsed   *iameval.Policy // derived
}

type user struct {
	Name       string          `json:"name"`
	Path       string          `json:"path"`
	UserID     string          `json:"userId"`
	CreateDate time.Time       `json:"createDate"`
	Policies   []*inlinePolicy `json:"policies"` // sorted by name
	Tags       []tag           `json:"tags"`
}

type accessKey struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	User            string `json:"user"` // user key
}

type role struct {
	Name               string          `json:"name"`
	Path               string          `json:"path"`
	RoleID             string          `json:"roleId"`
	CreateDate         time.Time       `json:"createDate"`
	TrustPolicy        string          `json:"trustPolicy"`
	Description        string          `json:"description,omitempty"`
	MaxSessionDuration int             `json:"maxSessionDuration"`
	Tags               []tag           `json:"tags"`
	Policies           []*inlinePolicy `json:"policies"` // sorted by name
	LastUsed           *time.Time      `json:"lastUsed,omitempty"`
	LastUsedRegion     string          `json:"lastUsedRegion,omitempty"`
	trust              *iameval.Policy // derived
}

// session is an STS role session, keyed by its ASIA access key id.
type session struct {
	AccessKeyID       string    `json:"accessKeyId"`
	SecretAccessKey   string    `json:"secretAccessKey"`
	SessionToken      string    `json:"sessionToken"`
	Role              string    `json:"role"` // role key
	RoleARN           string    `json:"roleArn"`
	RoleID            string    `json:"roleId"`
	SessionName       string    `json:"sessionName"`
	SourceIdentity    string    `json:"sourceIdentity,omitempty"`
	Tags              []tag     `json:"tags,omitempty"`
	TransitiveTagKeys []string  `json:"transitiveTagKeys,omitempty"`
	Policy            string    `json:"policy,omitempty"`
	IssuedAt          time.Time `json:"issuedAt"`
	Expiration        time.Time `json:"expiration"`
	PackedPolicySize  int       `json:"packedPolicySize"`
	Caller            string    `json:"caller"` // ARN of who assumed the role
	Chained           bool      `json:"chained,omitempty"`
	policy            *iameval.Policy
}

type parameter struct {
	Name         string    `json:"name"`
	Type         string    `json:"type"`
	Value        string    `json:"value"`
	Version      int64     `json:"version"`
	LastModified time.Time `json:"lastModified"`
	// Ciphertext is what GetParameter returns for a SecureString read
	// without decryption (an opaque KMS-looking blob).
	Ciphertext string `json:"ciphertext,omitempty"`
}

func (u *user) arn(acct string) string { return "arn:aws:iam::" + acct + ":user" + u.Path + u.Name }
func (r *role) arn(acct string) string { return "arn:aws:iam::" + acct + ":role" + r.Path + r.Name }

func (ss *session) arn(acct string) string {
	name := ss.RoleARN[strings.LastIndex(ss.RoleARN, "/")+1:]
	return "arn:aws:sts::" + acct + ":assumed-role/" + name + "/" + ss.SessionName
}

// principal is an authenticated caller: an IAM user or a role session.
type principal struct {
	user *user
	sess *session
}

func (p *principal) arn(acct string) string {
	if p.sess != nil {
		return p.sess.arn(acct)
	}
	return p.user.arn(acct)
}

// lookupKey finds the caller of an access key id with its secret and, for
// sessions, the session token. Callers hold s.mu.
func (st *state) lookupKey(akid string) (*principal, string, string) {
	if k := st.Keys[akid]; k != nil {
		if u := st.Users[k.User]; u != nil {
			return &principal{user: u}, k.SecretAccessKey, ""
		}
		return nil, "", ""
	}
	if ss := st.Sessions[akid]; ss != nil {
		return &principal{sess: ss}, ss.SecretAccessKey, ss.SessionToken
	}
	return nil, "", ""
}

func buildState(fx Fixture, now time.Time) (*state, error) {
	st := &state{AccountID: fx.AccountID, Region: fx.Region, Users: map[string]*user{}, Keys: map[string]*accessKey{},
		Roles: map[string]*role{}, Sessions: map[string]*session{}, Params: map[string]*parameter{}}
	if st.AccountID == "" {
		st.AccountID = DefaultAccountID
	}
	if st.Region == "" {
		st.Region = DefaultRegion
	}
	for _, fu := range fx.Users {
		u := &user{Name: fu.Name, Path: orSlash(fu.Path), UserID: newID("AIDA"), CreateDate: now, Tags: tagsFromMap(fu.Tags)}
		for name, doc := range fu.Policies {
			u.Policies = append(u.Policies, &inlinePolicy{Name: name, Document: doc})
		}
		sortPolicies(u.Policies)
		key := strings.ToLower(u.Name)
		st.Users[key] = u
		ak := &accessKey{AccessKeyID: fu.AccessKeyID, SecretAccessKey: fu.SecretAccessKey, User: key}
		if ak.AccessKeyID == "" {
			ak.AccessKeyID = newKeyID("AKIA")
		}
		if ak.SecretAccessKey == "" {
			ak.SecretAccessKey = newSecret()
		}
		if st.Keys[ak.AccessKeyID] != nil {
			return nil, fmt.Errorf("fixture: access key of %s is used twice", fu.Name)
		}
		st.Keys[ak.AccessKeyID] = ak
		if fu.Provisioner {
			st.Provisioner = key
		}
	}
	for _, fr := range fx.Roles {
		r := &role{Name: fr.Name, Path: orSlash(fr.Path), RoleID: newID("AROA"), CreateDate: now, TrustPolicy: fr.TrustPolicy,
			Description: fr.Description, MaxSessionDuration: fr.MaxSessionDuration, Tags: tagsFromMap(fr.Tags)}
		if r.MaxSessionDuration == 0 {
			r.MaxSessionDuration = 3600
		}
		for name, doc := range fr.Policies {
			r.Policies = append(r.Policies, &inlinePolicy{Name: name, Document: doc})
		}
		sortPolicies(r.Policies)
		st.Roles[strings.ToLower(r.Name)] = r
	}
	for _, fp := range fx.Parameters {
		p := &parameter{Name: fp.Name, Type: fp.Type, Value: fp.Value, Version: 1, LastModified: now}
		if p.Type == "" {
			p.Type = "String"
		}
		if p.Type == "SecureString" {
			p.Ciphertext = newCiphertext()
		}
		st.Params[p.Name] = p
	}
	return st, st.compile()
}

// compile parses every stored policy document (after a build or restore).
func (st *state) compile() error {
	for _, u := range st.Users {
		for _, p := range u.Policies {
			parsed, err := iameval.Parse(p.Document, iameval.Identity)
			if err != nil {
				return fmt.Errorf("user %s: policy %s: %v", u.Name, p.Name, err)
			}
			p.parsed = parsed
		}
	}
	for _, r := range st.Roles {
		trust, err := iameval.Parse(r.TrustPolicy, iameval.Trust)
		if err != nil {
			return fmt.Errorf("role %s: trust policy: %v", r.Name, err)
		}
		r.trust = trust
		for _, p := range r.Policies {
			parsed, err := iameval.Parse(p.Document, iameval.Identity)
			if err != nil {
				return fmt.Errorf("role %s: policy %s: %v", r.Name, p.Name, err)
			}
			p.parsed = parsed
		}
	}
	for _, ss := range st.Sessions {
		if ss.Policy != "" {
			parsed, err := iameval.Parse(ss.Policy, iameval.Session)
			if err != nil {
				return fmt.Errorf("session %s: policy: %v", ss.SessionName, err)
			}
			ss.policy = parsed
		}
	}
	return nil
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func tagsFromMap(m map[string]string) []tag {
	out := make([]tag, 0, len(m))
	for k, v := range m {
		out = append(out, tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func sortPolicies(ps []*inlinePolicy) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
}

func findPolicy(ps []*inlinePolicy, name string) (int, *inlinePolicy) {
	for i, p := range ps {
		if p.Name == name {
			return i, p
		}
	}
	return -1, nil
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("awssrv: crypto/rand: %v", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// newKeyID is an access key id: AKIA or ASIA and 16 characters.
func newKeyID(prefix string) string { return prefix + randomString(idAlphabet, 16) }

// newID is a unique id of a user (AIDA) or role (AROA): 21 characters.
func newID(prefix string) string { return prefix + randomString(idAlphabet, 17) }

// newSecret is a 40-character secret access key.
func newSecret() string {
	return randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)
}

// newSessionToken is an opaque session token of the length STS hands out.
func newSessionToken() string {
	b := make([]byte, 300)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("awssrv: crypto/rand: %v", err))
	}
	return "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString(b)
}

func newCiphertext() string {
	b := make([]byte, 120)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("awssrv: crypto/rand: %v", err))
	}
	return "AQICAH" + base64.StdEncoding.EncodeToString(b)
}
