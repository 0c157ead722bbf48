package infisicalsrv

import (
	"fmt"
	"strings"
)

// Fixture is the starting content of the server: one organization, its
// projects with environments, folders and secrets, and machine identities.
// The top-level devserver package loads it from a JSON file; the zero value
// of each optional field takes the documented default.
type Fixture struct {
	Organization FixtureOrganization `json:"organization"`
	Projects     []FixtureProject    `json:"projects"`
	Identities   []FixtureIdentity   `json:"identities"`
	Settings     Settings            `json:"settings,omitempty"`
}

// FixtureOrganization names the organization every identity belongs to.
type FixtureOrganization struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// FixtureProject is a secret-manager project. Folders listed (and the
// folders of listed secrets) are created with their parents.
type FixtureProject struct {
	ID           string               `json:"id"`
	Name         string               `json:"name"`
	Slug         string               `json:"slug"`
	Environments []FixtureEnvironment `json:"environments"`
	Folders      []FixtureFolder      `json:"folders,omitempty"`
	Secrets      []FixtureSecret      `json:"secrets,omitempty"`
}

// FixtureEnvironment is an environment of a project (e.g. "staging").
type FixtureEnvironment struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// FixtureFolder is a folder path in one environment, e.g. "/MooseQuest/handoffs".
type FixtureFolder struct {
	Environment string `json:"environment"`
	Path        string `json:"path"`
}

// FixtureSecret is a shared secret at Path (its folder) in Environment.
type FixtureSecret struct {
	Environment string `json:"environment"`
	Path        string `json:"path"`
	Key         string `json:"key"`
	Value       string `json:"value"`
	Comment     string `json:"comment,omitempty"`
}

// FixtureIdentity is a machine identity with an organization role, optional
// universal auth and project roles.
type FixtureIdentity struct {
	// ID defaults to a random UUID.
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
	// OrgRole is admin, member or no-access (default no-access).
	OrgRole string `json:"org_role,omitempty"`
	// Provisioner marks the identity whose credentials
	// Server.ProvisionerCredentials returns; at most one may be marked.
	Provisioner bool `json:"provisioner,omitempty"`
	// UniversalAuth, when set, attaches universal auth with one client
	// secret.
	UniversalAuth *FixtureUniversalAuth `json:"universal_auth,omitempty"`
	// ProjectRoles maps a project id to a project role (admin, member,
	// viewer, no-access).
	ProjectRoles map[string]string `json:"project_roles,omitempty"`
}

// FixtureUniversalAuth configures universal auth for a fixture identity.
// Empty ClientID and ClientSecret are generated at New.
type FixtureUniversalAuth struct {
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// AccessTokenTTL and AccessTokenMaxTTL are seconds (default 2592000,
	// Infisical's default).
	AccessTokenTTL    int64 `json:"access_token_ttl,omitempty"`
	AccessTokenMaxTTL int64 `json:"access_token_max_ttl,omitempty"`
	// TrustedIPs restricts both login and token use (default: anywhere).
	TrustedIPs []string `json:"trusted_ips,omitempty"`
}

// Settings tune behaviours that a real Infisical instance takes from its
// configuration or licence.
type Settings struct {
	// RateLimits chooses the limiter: Infisical Cloud's per-route limits
	// on its default plan when zero, ProfileSelfHosted for none at all, or
	// per-class maxima of a higher plan.
	RateLimits RateLimits `json:"rate_limits,omitempty"`
	// PermissionCacheSeconds reproduces Infisical's cache of computed
	// permissions (about 10 s on a real server: a read denied just before a
	// grant stays denied that long). Zero, the default, turns it off.
	PermissionCacheSeconds int `json:"permission_cache_seconds,omitempty"`
	// NoIPAllowlisting answers as an unlicensed instance does when trusted
	// IPs other than 0.0.0.0/0 and ::/0 are configured (400). By default the
	// server behaves as a licensed one and enforces any trusted IPs.
	NoIPAllowlisting bool `json:"no_ip_allowlisting,omitempty"`
	// AuditLogCapacity caps the audit events kept (default 20000; the
	// oldest are dropped first).
	AuditLogCapacity int `json:"audit_log_capacity,omitempty"`
}

// Defaults of DefaultFixture.
const (
	DefaultOrganizationID   = "org-raxx"
	DefaultOrganizationSlug = "raxx-app"
	DefaultProjectID        = "proj-moosequest"
	DefaultProjectSlug      = "moosequest"
	DefaultProvisionerName  = "handoff-provisioner"
	DefaultHandoffRoot      = "/MooseQuest/handoffs"
	DefaultQueuePath        = "/MooseQuest/queue/staging"
	defaultAuditCapacity    = 20000
	defaultAccessTokenTTL   = 2592000
)

// DefaultFixture is the organization "raxx-app" (id org-raxx) with the
// project "moosequest" (id proj-moosequest; environments dev, staging,
// prod), the folders /MooseQuest/queue/staging and /MooseQuest/handoffs in
// staging, dev values for the queue's Apple IAP and Stripe secrets, and the
// provisioner identity "handoff-provisioner" (organization admin, project
// admin, universal auth with generated client id and secret).
func DefaultFixture() Fixture {
	sec := func(key, value string) FixtureSecret {
		return FixtureSecret{Environment: "staging", Path: DefaultQueuePath, Key: key, Value: value}
	}
	return Fixture{
		Organization: FixtureOrganization{ID: DefaultOrganizationID, Name: "Raxx", Slug: DefaultOrganizationSlug},
		Projects: []FixtureProject{{
			ID: DefaultProjectID, Name: "MooseQuest", Slug: DefaultProjectSlug,
			Environments: []FixtureEnvironment{
				{Name: "Development", Slug: "dev"},
				{Name: "Staging", Slug: "staging"},
				{Name: "Production", Slug: "prod"},
			},
			Folders: []FixtureFolder{
				{Environment: "staging", Path: DefaultQueuePath},
				{Environment: "staging", Path: DefaultHandoffRoot},
			},
			Secrets: []FixtureSecret{
				sec("APPLE_IAP_KEY_ID", "DEVKEY1234"),
				sec("APPLE_IAP_ISSUER_ID", "00000000-0000-4000-8000-000000000dev"),
				sec("APPLE_IAP_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\ndev-only-not-a-real-key\n-----END PRIVATE KEY-----\n"),
				sec("STRIPE_TEST_SECRET_KEY", "sk_test_dev_0000000000000000"),
				sec("STRIPE_WEBHOOK_SECRET", "whsec_dev_0000000000000000"),
			},
		}},
		Identities: []FixtureIdentity{{
			Name: DefaultProvisionerName, OrgRole: roleAdmin, Provisioner: true,
			UniversalAuth: &FixtureUniversalAuth{},
			ProjectRoles:  map[string]string{DefaultProjectID: roleAdmin},
		}},
	}
}

// validate reports the first structural problem of a fixture.
func (fx *Fixture) validate() error {
	if fx.Organization.ID == "" {
		return fmt.Errorf("fixture: organization.id is required")
	}
	if err := fx.Settings.RateLimits.validate(); err != nil {
		return fmt.Errorf("fixture: settings: %w", err)
	}
	seen := map[string]bool{}
	slugs := map[string]bool{}
	for _, p := range fx.Projects {
		if p.ID == "" || p.Slug == "" {
			return fmt.Errorf("fixture: every project needs an id and a slug")
		}
		if seen[p.ID] || slugs[p.Slug] {
			return fmt.Errorf("fixture: project %q is listed twice", p.ID)
		}
		seen[p.ID], slugs[p.Slug] = true, true
		envs := map[string]bool{}
		for _, e := range p.Environments {
			if e.Slug == "" {
				return fmt.Errorf("fixture: project %s: an environment has no slug", p.ID)
			}
			envs[e.Slug] = true
		}
		for _, f := range p.Folders {
			if !envs[f.Environment] {
				return fmt.Errorf("fixture: project %s: folder %s: unknown environment %q", p.ID, f.Path, f.Environment)
			}
			for _, seg := range pathSegments(f.Path) {
				if !folderNameRe.MatchString(seg) {
					return fmt.Errorf("fixture: project %s: folder %s: invalid folder name %q", p.ID, f.Path, seg)
				}
			}
		}
		for _, s := range p.Secrets {
			if !envs[s.Environment] {
				return fmt.Errorf("fixture: project %s: secret %s: unknown environment %q", p.ID, s.Key, s.Environment)
			}
			if s.Key == "" || strings.ContainsAny(s.Key, "/:") {
				return fmt.Errorf("fixture: project %s: invalid secret name %q", p.ID, s.Key)
			}
		}
	}
	provisioners := 0
	for _, id := range fx.Identities {
		if id.Name == "" {
			return fmt.Errorf("fixture: every identity needs a name")
		}
		if id.OrgRole != "" && !isOrgRole(id.OrgRole) {
			return fmt.Errorf("fixture: identity %s: unknown organization role %q", id.Name, id.OrgRole)
		}
		for pid, role := range id.ProjectRoles {
			if !seen[pid] {
				return fmt.Errorf("fixture: identity %s: unknown project %q", id.Name, pid)
			}
			if !isProjectRole(role) {
				return fmt.Errorf("fixture: identity %s: unknown project role %q", id.Name, role)
			}
		}
		if id.Provisioner {
			provisioners++
			if id.UniversalAuth == nil {
				return fmt.Errorf("fixture: provisioner %s needs universal_auth", id.Name)
			}
		}
	}
	if provisioners > 1 {
		return fmt.Errorf("fixture: %d identities are marked provisioner; at most one may be", provisioners)
	}
	return nil
}
