package herokusrv

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Fixture is what the server knows at start: the accounts (with their
// long-lived API keys), the teams and their memberships, the apps with their
// config vars and collaborators, and the rate-limit settings. The top-level
// devserver package loads it from a JSON file; New rejects a fixture whose
// references do not resolve.
type Fixture struct {
	Accounts []FixtureAccount `json:"accounts"`
	Teams    []FixtureTeam    `json:"teams"`
	Apps     []FixtureApp     `json:"apps"`
	// RateLimit sets the per-account request budget; the zero value is
	// Heroku's (4,500 per hour, refilled continuously).
	RateLimit RateLimitSettings `json:"rate_limit,omitempty"`
}

// FixtureAccount is a Heroku user account.
type FixtureAccount struct {
	// ID is the account's UUID (default: derived from the email).
	ID    string `json:"id,omitempty"`
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	// APIKey is the account's long-lived API key (the dashboard's "API Key",
	// a global credential). Empty means New generates one.
	APIKey string `json:"api_key,omitempty"`
	// Provisioner marks the account handoff runs as (its API key is
	// ProvisionerAPIKey); at most one account may be marked.
	Provisioner bool `json:"provisioner,omitempty"`
	// TwoFactor is whether the account has two-factor authentication on.
	TwoFactor bool `json:"two_factor,omitempty"`
}

// FixtureTeam is a Heroku team and the accounts in it.
type FixtureTeam struct {
	ID      string              `json:"id,omitempty"`
	Name    string              `json:"name"`
	Members []FixtureTeamMember `json:"members"`
}

// FixtureTeamMember is an account's role in a team: "admin" (every
// permission on every team app), "member" (view on every team app) or
// "collaborator" (only the apps it is a collaborator on).
type FixtureTeamMember struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// FixtureApp is an app owned by a team (Team set) or by an account (Owner
// set).
type FixtureApp struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name"`
	Team  string `json:"team,omitempty"`
	Owner string `json:"owner,omitempty"`
	// Region is "us" (default) or "eu".
	Region string `json:"region,omitempty"`
	// ConfigVars are the app's config vars; their values are secrets.
	ConfigVars map[string]string `json:"config_vars,omitempty"`
	// Collaborators are accounts given access to this app explicitly.
	Collaborators []FixtureCollaborator `json:"collaborators,omitempty"`
}

// FixtureCollaborator gives an account access to one app. On a team app
// Permissions are team app permissions (view, deploy, operate, manage; view
// is implied); on a personal app they are ignored, as Heroku gives personal
// collaborators everything but deleting and transferring the app.
type FixtureCollaborator struct {
	Email       string   `json:"email"`
	Permissions []string `json:"permissions,omitempty"`
}

// RateLimitSettings tune Heroku's per-account rate limit.
type RateLimitSettings struct {
	// Disabled turns the limit off (RateLimit-Remaining then stays at the
	// capacity). It is on by default.
	Disabled bool `json:"disabled,omitempty"`
	// PerHour is the capacity of the bucket and its refill per hour
	// (default 4,500).
	PerHour int `json:"per_hour,omitempty"`
}

// Names of the default fixture, for tests of other packages and for the
// lead's wiring of `handoff dev`.
const (
	// DefaultProvisionerEmail is the dedicated handoff account: a
	// collaborator of team raxx with view and deploy on moosequest-staging
	// only.
	DefaultProvisionerEmail = "handoff@raxx.app"
	// DefaultProvisionerAPIKey is its long-lived API key in DefaultFixture.
	DefaultProvisionerAPIKey = "HRKU-dev0handoff-provisioner-0000-api-key"
	// DefaultOwnerEmail is a human admin of team raxx who owns personal
	// apps as well.
	DefaultOwnerEmail = "alice@raxx.app"
	// DefaultOwnerAPIKey is the owner's API key in DefaultFixture.
	DefaultOwnerAPIKey = "HRKU-dev0alice-owner-00000000-0000-api-key"
	// DefaultMemberEmail is a plain member of team raxx.
	DefaultMemberEmail = "bob@raxx.app"
	// DefaultMemberAPIKey is the member's API key in DefaultFixture.
	DefaultMemberAPIKey = "HRKU-dev0bob-member-000000000-0000-api-key"
	// DefaultOutsiderEmail belongs to the second team only.
	DefaultOutsiderEmail = "carol@moose-labs.dev"
	// DefaultOutsiderAPIKey is the outsider's API key in DefaultFixture.
	DefaultOutsiderAPIKey = "HRKU-dev0carol-outsider-00000-0000-api-key"

	// DefaultTeam is the team the handoff account works in.
	DefaultTeam = "raxx"
	// DefaultSecondTeam is a team the handoff account is not in.
	DefaultSecondTeam = "moose-labs"

	// DefaultAllowedApp is the one app the provisioner can reach (view and
	// deploy, so it reads and writes config vars).
	DefaultAllowedApp = "moosequest-staging"
	// DefaultProductionApp is a team app beyond the provisioner's reach
	// (in WideReachFixture it can view it).
	DefaultProductionApp = "moosequest-production"
	// DefaultViewOnlyApp is a team app the provisioner can view but whose
	// config vars it cannot read (view permission only).
	DefaultViewOnlyApp = "trademaster-api"
	// DefaultOwnerPersonalApp is an app of the owner's own account.
	DefaultOwnerPersonalApp = "alice-scratchpad"
	// DefaultSecondTeamApp is an app of the second team.
	DefaultSecondTeamApp = "moose-labs-sandbox"
)

// DefaultFixture is a dedicated handoff account (the provisioner) that is a
// collaborator of team raxx with view+deploy on moosequest-staging and view
// on trademaster-api; a human admin of the team with personal apps; a
// member; a second team with its own app and member. Its reach (the apps
// the provisioner's credentials see) is moosequest-staging and
// trademaster-api.
func DefaultFixture() Fixture {
	return Fixture{
		Accounts: []FixtureAccount{
			{Email: DefaultProvisionerEmail, Name: "handoff provisioner", APIKey: DefaultProvisionerAPIKey, Provisioner: true},
			{Email: DefaultOwnerEmail, Name: "Alice Raxx", APIKey: DefaultOwnerAPIKey, TwoFactor: true},
			{Email: DefaultMemberEmail, Name: "Bob Raxx", APIKey: DefaultMemberAPIKey},
			{Email: DefaultOutsiderEmail, Name: "Carol Moose", APIKey: DefaultOutsiderAPIKey},
		},
		Teams: []FixtureTeam{
			{Name: DefaultTeam, Members: []FixtureTeamMember{
				{Email: DefaultOwnerEmail, Role: "admin"},
				{Email: DefaultMemberEmail, Role: "member"},
				{Email: DefaultProvisionerEmail, Role: "collaborator"},
			}},
			{Name: DefaultSecondTeam, Members: []FixtureTeamMember{
				{Email: DefaultOutsiderEmail, Role: "admin"},
			}},
		},
		Apps: []FixtureApp{
			{Name: DefaultAllowedApp, Team: DefaultTeam,
				ConfigVars: map[string]string{
					"DATABASE_URL":     "postgres://moosequest:staging-db-pass-7f3a@ec2-10-0-0-1.compute-1.amazonaws.com:5432/d1",
					"STRIPE_API_KEY":   "sk_test_moosequest_staging_51Hx",
					"RAILS_ENV":        "staging",
					"IAP_NOTIF_SECRET": "iap-staging-secret-4c1e",
				},
				Collaborators: []FixtureCollaborator{{Email: DefaultProvisionerEmail, Permissions: []string{"view", "deploy"}}}},
			{Name: DefaultProductionApp, Team: DefaultTeam,
				ConfigVars: map[string]string{
					"DATABASE_URL":   "postgres://moosequest:prod-db-pass-91be@ec2-10-0-0-2.compute-1.amazonaws.com:5432/d2",
					"STRIPE_API_KEY": "sk_live_moosequest_production_51Hx",
					"RAILS_ENV":      "production",
				}},
			{Name: DefaultViewOnlyApp, Team: DefaultTeam,
				ConfigVars:    map[string]string{"TRADEMASTER_TOKEN": "tm-view-only-secret-22d0"},
				Collaborators: []FixtureCollaborator{{Email: DefaultProvisionerEmail, Permissions: []string{"view"}}}},
			{Name: DefaultOwnerPersonalApp, Owner: DefaultOwnerEmail, Region: "eu",
				ConfigVars:    map[string]string{"SCRATCH_SECRET": "alice-personal-secret-0b9e"},
				Collaborators: []FixtureCollaborator{{Email: DefaultMemberEmail}}},
			{Name: DefaultSecondTeamApp, Team: DefaultSecondTeam,
				ConfigVars: map[string]string{"SANDBOX_KEY": "moose-labs-sandbox-secret-6a6a"}},
		},
	}
}

// WideReachFixture is DefaultFixture where the provisioner is a "member"
// of team raxx instead of a collaborator, a common misconfiguration: a team
// member views every team app, so the provisioner's reach includes
// moosequest-production, an app no spec allows. plan must refuse to run
// with such a credential.
func WideReachFixture() Fixture {
	fx := DefaultFixture()
	for i := range fx.Teams[0].Members {
		if fx.Teams[0].Members[i].Email == DefaultProvisionerEmail {
			fx.Teams[0].Members[i].Role = "member"
		}
	}
	return fx
}

var (
	appNameRE    = regexp.MustCompile(`^[a-z][a-z0-9-]{1,28}[a-z0-9]$`)
	configVarRE  = regexp.MustCompile(`^\w+$`)
	teamRoles    = map[string]bool{"admin": true, "member": true, "collaborator": true}
	appPermOrder = []string{"view", "deploy", "operate", "manage"}
)

// uuidFor derives a stable UUID from a kind and a name, so that default
// fixtures have the same ids in every process.
func uuidFor(kind, name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://herokusrv.invalid/"+kind+"/"+strings.ToLower(name))).String()
}

// fixtureEpoch is when fixture objects were created.
var fixtureEpoch = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

func (fx *Fixture) validate() error {
	emails := map[string]bool{}
	provisioners := 0
	for _, a := range fx.Accounts {
		e := strings.ToLower(a.Email)
		if e == "" || !strings.Contains(e, "@") {
			return fmt.Errorf("herokusrv: fixture: account email %q is not an email address", a.Email)
		}
		if emails[e] {
			return fmt.Errorf("herokusrv: fixture: account %s listed twice", a.Email)
		}
		emails[e] = true
		if a.ID != "" {
			if _, err := uuid.Parse(a.ID); err != nil {
				return fmt.Errorf("herokusrv: fixture: account %s: id is not a UUID", a.Email)
			}
		}
		if a.Provisioner {
			provisioners++
		}
	}
	if provisioners > 1 {
		return fmt.Errorf("herokusrv: fixture: %d accounts are marked provisioner, want at most one", provisioners)
	}
	teams := map[string]bool{}
	for _, t := range fx.Teams {
		if t.Name == "" || teams[t.Name] {
			return fmt.Errorf("herokusrv: fixture: team name %q is empty or listed twice", t.Name)
		}
		teams[t.Name] = true
		seen := map[string]bool{}
		for _, m := range t.Members {
			e := strings.ToLower(m.Email)
			if !emails[e] {
				return fmt.Errorf("herokusrv: fixture: team %s: member %s is not an account", t.Name, m.Email)
			}
			if !teamRoles[m.Role] {
				return fmt.Errorf("herokusrv: fixture: team %s: role %q of %s is not admin, member or collaborator", t.Name, m.Role, m.Email)
			}
			if seen[e] {
				return fmt.Errorf("herokusrv: fixture: team %s: %s listed twice", t.Name, m.Email)
			}
			seen[e] = true
		}
	}
	apps := map[string]bool{}
	for _, a := range fx.Apps {
		if !appNameRE.MatchString(a.Name) || apps[a.Name] {
			return fmt.Errorf("herokusrv: fixture: app name %q is not a Heroku app name or is listed twice", a.Name)
		}
		apps[a.Name] = true
		if (a.Team == "") == (a.Owner == "") {
			return fmt.Errorf("herokusrv: fixture: app %s: set exactly one of team and owner", a.Name)
		}
		if a.Team != "" && !teams[a.Team] {
			return fmt.Errorf("herokusrv: fixture: app %s: unknown team %s", a.Name, a.Team)
		}
		if a.Owner != "" && !emails[strings.ToLower(a.Owner)] {
			return fmt.Errorf("herokusrv: fixture: app %s: owner %s is not an account", a.Name, a.Owner)
		}
		switch a.Region {
		case "", "us", "eu":
		default:
			return fmt.Errorf("herokusrv: fixture: app %s: region %q is not us or eu", a.Name, a.Region)
		}
		for k := range a.ConfigVars {
			if !configVarRE.MatchString(k) {
				return fmt.Errorf("herokusrv: fixture: app %s: config var name %q is not \\w+", a.Name, k)
			}
		}
		for _, c := range a.Collaborators {
			if !emails[strings.ToLower(c.Email)] {
				return fmt.Errorf("herokusrv: fixture: app %s: collaborator %s is not an account", a.Name, c.Email)
			}
			for _, p := range c.Permissions {
				if !validPerm(p) {
					return fmt.Errorf("herokusrv: fixture: app %s: permission %q is not view, deploy, operate or manage", a.Name, p)
				}
			}
		}
	}
	if fx.RateLimit.PerHour < 0 {
		return fmt.Errorf("herokusrv: fixture: rate_limit.per_hour must not be negative")
	}
	return nil
}

func validPerm(p string) bool { return slices.Contains(appPermOrder, p) }
