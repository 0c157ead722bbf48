package awssrv

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/raxx-app/handoff/internal/devserver/awssrv/iameval"
)

// Fixture is the starting content of the server: one account with IAM users
// (with long-term access keys and inline policies), roles (trust policy,
// inline policies, MaxSessionDuration) and SSM parameters. The zero value of
// each optional field takes the documented default.
type Fixture struct {
	// AccountID is the 12-digit account (default 123456789012).
	AccountID string `json:"account_id,omitempty"`
	// Region is where SSM parameters live and the region ARNs name
	// (default us-east-1).
	Region     string             `json:"region,omitempty"`
	Users      []FixtureUser      `json:"users"`
	Roles      []FixtureRole      `json:"roles"`
	Parameters []FixtureParameter `json:"parameters,omitempty"`
	Settings   Settings           `json:"settings,omitempty"`
}

// FixtureUser is an IAM user with one long-term access key.
type FixtureUser struct {
	Name string `json:"name"`
	// Path defaults to "/".
	Path string `json:"path,omitempty"`
	// AccessKeyID (AKIA...) and SecretAccessKey are generated when empty.
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	// Policies are inline policies by name (JSON documents).
	Policies map[string]string `json:"policies,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
	// Provisioner marks the user whose key Server.ProvisionerCredentials
	// returns; at most one may be marked.
	Provisioner bool `json:"provisioner,omitempty"`
}

// FixtureRole is an IAM role.
type FixtureRole struct {
	Name string `json:"name"`
	// Path defaults to "/".
	Path string `json:"path,omitempty"`
	// TrustPolicy is the AssumeRolePolicyDocument.
	TrustPolicy string `json:"trust_policy"`
	// Policies are inline policies by name.
	Policies map[string]string `json:"policies,omitempty"`
	// MaxSessionDuration is in seconds (default 3600).
	MaxSessionDuration int               `json:"max_session_duration,omitempty"`
	Description        string            `json:"description,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
}

// FixtureParameter is an SSM parameter (version 1).
type FixtureParameter struct {
	Name string `json:"name"`
	// Type is String, StringList or SecureString (default String).
	Type  string `json:"type,omitempty"`
	Value string `json:"value"`
}

// Settings tune behaviours a real account takes from its quotas.
type Settings struct {
	// NoThrottling turns the per-account request rate limits off (they are
	// on by default, at the rates of throttle.go).
	NoThrottling bool `json:"no_throttling,omitempty"`
}

// Defaults of DefaultFixture.
const (
	DefaultAccountID       = "123456789012"
	DefaultRegion          = "us-east-1"
	DefaultProvisionerName = "handoff-provisioner"
	// DefaultAdminName is a user with every permission, for tests and the
	// operator's own steps (creating roles) in `handoff dev`.
	DefaultAdminName = "dev-admin"
	// DefaultRolePath is the path of the roles prepared for handoffs; the
	// provisioner's policy covers every role under it.
	DefaultRolePath = "/handoff/"
	// DefaultAgentRole reads SSM parameters under /raxx/, sends to the jobs
	// queue and reads the artifacts bucket.
	DefaultAgentRole = "raxx-handoff-agent"
	// DefaultReaderRole only reads SSM parameters under /raxx/.
	DefaultReaderRole = "raxx-handoff-reader"
	// DefaultQueueRole only sends to the jobs queue.
	DefaultQueueRole = "raxx-handoff-queue"
	// DefaultDenyPolicyName is the inline policy that holds the per-handoff
	// revocation statements (none at start).
	DefaultDenyPolicyName = "handoff-revocations"
	// DefaultQueueName and DefaultBucket are what the roles' permission
	// policies name (no SQS or S3 is served: Server.Simulate checks them).
	DefaultQueueName = "raxx-handoff-jobs"
	DefaultBucket    = "raxx-handoff-artifacts"
)

// DefaultFixture is account 123456789012 in us-east-1 with:
//   - user "handoff-provisioner" (the provisioner; generated AKIA key) whose
//     only inline policy allows sts:AssumeRole, sts:TagSession and
//     sts:SetSourceIdentity on the roles under /handoff/, and
//     iam:GetRole, PutRolePolicy, GetRolePolicy, ListRolePolicies and
//     DeleteRolePolicy on them;
//   - user "dev-admin" allowed everything;
//   - roles /handoff/raxx-handoff-agent (ssm:GetParameter* on /raxx/*,
//     sqs:SendMessage on raxx-handoff-jobs, s3:GetObject in
//     raxx-handoff-artifacts), /handoff/raxx-handoff-reader
//     (ssm:GetParameter* on /raxx/*) and /handoff/raxx-handoff-queue
//     (sqs:SendMessage on raxx-handoff-jobs), each trusting the provisioner
//     for AssumeRole, TagSession and SetSourceIdentity, MaxSessionDuration
//     3600;
//   - SSM parameters under /raxx/moosequest-queue/ (String, SecureString and
//     a nested config/ level), /raxx/trademaster-api/, and outside /raxx/
//     (/prod/payments/STRIPE_LIVE_KEY, /shared/feature-flags).
func DefaultFixture() Fixture {
	acct := DefaultAccountID
	prov := "arn:aws:iam::" + acct + ":user/" + DefaultProvisionerName
	rolesARN := "arn:aws:iam::" + acct + ":role" + DefaultRolePath + "*"
	trust := `{"Version":"2012-10-17","Statement":[{"Sid":"Provisioner","Effect":"Allow","Principal":{"AWS":"` + prov +
		`"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`
	ssmRead := `{"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters","ssm:GetParametersByPath"],` +
		`"Resource":["arn:aws:ssm:*:` + acct + `:parameter/raxx","arn:aws:ssm:*:` + acct + `:parameter/raxx/*"]}`
	sqsSend := `{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:` + DefaultRegion + `:` + acct + `:` + DefaultQueueName + `"}`
	s3Get := `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + DefaultBucket + `/*"}`
	policy := func(stmts ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	}
	role := func(name string, stmts ...string) FixtureRole {
		return FixtureRole{Name: name, Path: DefaultRolePath, TrustPolicy: trust, MaxSessionDuration: 3600,
			Description: "Prepared for handoff sessions", Policies: map[string]string{"permissions": policy(stmts...)}}
	}
	return Fixture{
		AccountID: acct,
		Region:    DefaultRegion,
		Users: []FixtureUser{
			{
				Name: DefaultProvisionerName, Provisioner: true,
				Policies: map[string]string{"handoff-provisioner": policy(
					`{"Sid":"AssumeHandoffRoles","Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Resource":"`+rolesARN+`"}`,
					`{"Sid":"RevokeHandoffSessions","Effect":"Allow","Action":["iam:GetRole","iam:PutRolePolicy","iam:GetRolePolicy","iam:ListRolePolicies","iam:DeleteRolePolicy"],"Resource":"`+rolesARN+`"}`,
				)},
			},
			{Name: DefaultAdminName, Policies: map[string]string{"admin": policy(`{"Effect":"Allow","Action":"*","Resource":"*"}`)}},
		},
		Roles: []FixtureRole{
			role(DefaultAgentRole, ssmRead, sqsSend, s3Get),
			role(DefaultReaderRole, ssmRead),
			role(DefaultQueueRole, sqsSend),
		},
		Parameters: []FixtureParameter{
			{Name: "/raxx/moosequest-queue/STRIPE_TEST_SECRET_KEY", Type: "SecureString", Value: "sk_test_dev_0000000000000000"},
			{Name: "/raxx/moosequest-queue/APPLE_IAP_KEY_ID", Value: "DEVKEY1234"},
			{Name: "/raxx/moosequest-queue/config/REGION", Value: "us-east-1"},
			{Name: "/raxx/trademaster-api/DATABASE_URL", Type: "SecureString", Value: "postgres://dev:dev@localhost/trademaster"},
			{Name: "/prod/payments/STRIPE_LIVE_KEY", Type: "SecureString", Value: "sk_live_dev_not_real_0000000000"},
			{Name: "/shared/feature-flags", Type: "StringList", Value: "queue-v2,iap-sandbox"},
		},
	}
}

var (
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	nameRe    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	pathRe    = regexp.MustCompile(`^(/|/[\x21-\x7e]+/)$`)
)

// validate reports the first structural problem of a fixture.
func (fx *Fixture) validate() error {
	if fx.AccountID != "" && !accountRe.MatchString(fx.AccountID) {
		return fmt.Errorf("fixture: account_id %q is not 12 digits", fx.AccountID)
	}
	provisioners := 0
	seen := map[string]bool{}
	for _, u := range fx.Users {
		if !nameRe.MatchString(u.Name) {
			return fmt.Errorf("fixture: user name %q is not a valid IAM name", u.Name)
		}
		if seen[strings.ToLower(u.Name)] {
			return fmt.Errorf("fixture: user %s listed twice", u.Name)
		}
		seen[strings.ToLower(u.Name)] = true
		if u.Path != "" && !pathRe.MatchString(u.Path) {
			return fmt.Errorf("fixture: user %s: path %q must start and end with /", u.Name, u.Path)
		}
		if u.AccessKeyID != "" && !strings.HasPrefix(u.AccessKeyID, "AKIA") {
			return fmt.Errorf("fixture: user %s: access_key_id must start with AKIA", u.Name)
		}
		for name, doc := range u.Policies {
			if _, err := iameval.Parse(doc, iameval.Identity); err != nil {
				return fmt.Errorf("fixture: user %s: policy %s: %v", u.Name, name, err)
			}
		}
		if u.Provisioner {
			provisioners++
		}
	}
	if provisioners > 1 {
		return fmt.Errorf("fixture: %d users are marked provisioner; at most one may be", provisioners)
	}
	seen = map[string]bool{}
	for _, r := range fx.Roles {
		if !nameRe.MatchString(r.Name) {
			return fmt.Errorf("fixture: role name %q is not a valid IAM name", r.Name)
		}
		if seen[strings.ToLower(r.Name)] {
			return fmt.Errorf("fixture: role %s listed twice", r.Name)
		}
		seen[strings.ToLower(r.Name)] = true
		if r.Path != "" && !pathRe.MatchString(r.Path) {
			return fmt.Errorf("fixture: role %s: path %q must start and end with /", r.Name, r.Path)
		}
		if _, err := iameval.Parse(r.TrustPolicy, iameval.Trust); err != nil {
			return fmt.Errorf("fixture: role %s: trust policy: %v", r.Name, err)
		}
		for name, doc := range r.Policies {
			if _, err := iameval.Parse(doc, iameval.Identity); err != nil {
				return fmt.Errorf("fixture: role %s: policy %s: %v", r.Name, name, err)
			}
		}
		if d := r.MaxSessionDuration; d != 0 && (d < 3600 || d > 43200) {
			return fmt.Errorf("fixture: role %s: max_session_duration must be 3600..43200", r.Name)
		}
	}
	seen = map[string]bool{}
	for _, p := range fx.Parameters {
		if p.Name == "" || seen[p.Name] {
			return fmt.Errorf("fixture: parameter %q is empty or listed twice", p.Name)
		}
		seen[p.Name] = true
		switch p.Type {
		case "", "String", "StringList", "SecureString":
		default:
			return fmt.Errorf("fixture: parameter %s: type %q is not String, StringList or SecureString", p.Name, p.Type)
		}
	}
	return nil
}
