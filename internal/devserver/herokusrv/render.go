package herokusrv

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// The JSON shapes below carry every property of the contract's resource
// definitions (Heroku marks them strictProperties: its answers hold exactly
// these keys), in the contract's order.

type idName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type accountJSON struct {
	AllowTracking           bool      `json:"allow_tracking"`
	Beta                    bool      `json:"beta"`
	CreatedAt               time.Time `json:"created_at"`
	Email                   string    `json:"email"`
	Federated               bool      `json:"federated"`
	ID                      string    `json:"id"`
	IdentityProvider        any       `json:"identity_provider"`
	LastLogin               *string   `json:"last_login"`
	Name                    *string   `json:"name"`
	SMSNumber               *string   `json:"sms_number"`
	SuspendedAt             *string   `json:"suspended_at"`
	DelinquentAt            *string   `json:"delinquent_at"`
	TwoFactorAuthentication bool      `json:"two_factor_authentication"`
	UpdatedAt               time.Time `json:"updated_at"`
	Verified                bool      `json:"verified"`
	CountryOfResidence      *string   `json:"country_of_residence"`
	DefaultOrganization     *idName   `json:"default_organization"`
	DefaultTeam             *idName   `json:"default_team"`
}

func renderAccount(a *account, now time.Time) accountJSON {
	var name *string
	if a.Name != "" {
		n := a.Name
		name = &n
	}
	login := now.Add(-time.Hour).Truncate(time.Second).Format(time.RFC3339)
	return accountJSON{
		AllowTracking: true, CreatedAt: fixtureEpoch, Email: a.Email, ID: a.ID, LastLogin: &login, Name: name,
		TwoFactorAuthentication: a.TwoFactor, UpdatedAt: fixtureEpoch, Verified: true,
	}
}

type ownerJSON struct {
	Email string `json:"email"`
	ID    string `json:"id"`
}

type appJSON struct {
	ACM                          bool       `json:"acm"`
	ArchivedAt                   *time.Time `json:"archived_at"`
	BuildpackProvidedDescription *string    `json:"buildpack_provided_description"`
	BuildStack                   idName     `json:"build_stack"`
	CreatedAt                    time.Time  `json:"created_at"`
	Generation                   idName     `json:"generation"`
	GitURL                       string     `json:"git_url"`
	ID                           string     `json:"id"`
	InternalRouting              *bool      `json:"internal_routing"`
	Maintenance                  bool       `json:"maintenance"`
	Name                         string     `json:"name"`
	Owner                        ownerJSON  `json:"owner"`
	Organization                 *idName    `json:"organization"`
	Team                         *idName    `json:"team"`
	Region                       idName     `json:"region"`
	ReleasedAt                   *time.Time `json:"released_at"`
	RepoSize                     *int64     `json:"repo_size"`
	SlugSize                     *int64     `json:"slug_size"`
	Space                        any        `json:"space"`
	Stack                        idName     `json:"stack"`
	UpdatedAt                    time.Time  `json:"updated_at"`
	WebURL                       string     `json:"web_url"`
}

var (
	stackHeroku24 = idName{ID: "ee582d3c-717d-4a57-ba5f-8b3a39f3a817", Name: "heroku-24"}
	generationCed = idName{ID: "a1b2c3d4-0000-4000-8000-00000000ced4", Name: "cedar"}
	regions       = map[string]idName{
		"us": {ID: "59accabd-516d-4f0e-83e6-6e3757701145", Name: "us"},
		"eu": {ID: "ed30241c-ed8c-4bb6-9714-61953675d0b4", Name: "eu"},
	}
)

// renderApp shapes an app as GET /apps/{app} does. A team app's owner is
// the team's pseudo-account "<team>@herokumanager.com" (which Heroku's CLI
// uses to tell team apps apart), with the team's id.
func renderApp(a *app) appJSON {
	desc := "Node.js"
	sum := sha256.Sum256([]byte(a.ID))
	out := appJSON{
		BuildpackProvidedDescription: &desc, BuildStack: stackHeroku24, CreatedAt: a.CreatedAt, Generation: generationCed,
		GitURL: "https://git.heroku.com/" + a.Name + ".git", ID: a.ID, Name: a.Name, Region: regions[a.Region],
		ReleasedAt: a.ReleasedAt, Stack: stackHeroku24, UpdatedAt: a.UpdatedAt,
		WebURL: "https://" + a.Name + "-" + hex.EncodeToString(sum[:6]) + ".herokuapp.com/",
	}
	if a.Team != nil {
		t := &idName{ID: a.Team.ID, Name: a.Team.Name}
		out.Team, out.Organization = t, t
		out.Owner = ownerJSON{Email: a.Team.Name + "@herokumanager.com", ID: a.Team.ID}
		f := false
		out.InternalRouting = &f
	} else {
		out.Owner = ownerJSON{Email: a.Owner.Email, ID: a.Owner.ID}
	}
	return out
}

type permJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// permDescriptions are the team app permissions as GET /teams/permissions
// lists them. Heroku's exact descriptions are not documented; these
// summarise its app permission matrix.
var permDescriptions = map[string]string{
	"view":    "Can view the app's basic information, activity, dynos and access list.",
	"deploy":  "Can deploy code, view and edit config vars, run one-off dynos, roll back releases and manage free add-ons.",
	"operate": "Can restart, scale and resize dynos, roll back releases and toggle maintenance mode.",
	"manage":  "Can manage app settings, config vars, paid add-ons, access and permissions, and rename, delete or transfer the app.",
}

func renderPerms(perms []string) []permJSON {
	out := []permJSON{}
	for _, p := range perms {
		out = append(out, permJSON{Name: p, Description: permDescriptions[p]})
	}
	return out
}

type collaboratorJSON struct {
	App         idName     `json:"app"`
	CreatedAt   time.Time  `json:"created_at"`
	ID          string     `json:"id"`
	Permissions []permJSON `json:"permissions"`
	Role        *string    `json:"role"`
	UpdatedAt   time.Time  `json:"updated_at"`
	User        userJSON   `json:"user"`
}

type userJSON struct {
	Email     string `json:"email"`
	Federated bool   `json:"federated"`
	ID        string `json:"id"`
}

type teamMemberJSON struct {
	CreatedAt               time.Time      `json:"created_at"`
	Email                   string         `json:"email"`
	Federated               bool           `json:"federated"`
	ID                      string         `json:"id"`
	IdentityProvider        any            `json:"identity_provider"`
	Role                    string         `json:"role"`
	TwoFactorAuthentication bool           `json:"two_factor_authentication"`
	UpdatedAt               time.Time      `json:"updated_at"`
	User                    memberUserJSON `json:"user"`
}

type memberUserJSON struct {
	Email string  `json:"email"`
	ID    string  `json:"id"`
	Name  *string `json:"name"`
}

type tokenJSON struct {
	ExpiresIn *int64 `json:"expires_in"`
	ID        string `json:"id"`
	Token     string `json:"token,omitempty"`
}

type authUserJSON struct {
	ID       string  `json:"id"`
	Email    string  `json:"email"`
	FullName *string `json:"full_name"`
}

type authorizationJSON struct {
	AccessToken  *tokenJSON   `json:"access_token"`
	Client       any          `json:"client"`
	CreatedAt    time.Time    `json:"created_at"`
	Description  string       `json:"description"`
	Grant        any          `json:"grant"`
	ID           string       `json:"id"`
	RefreshToken any          `json:"refresh_token"`
	Scope        []string     `json:"scope"`
	Session      any          `json:"session"`
	UpdatedAt    time.Time    `json:"updated_at"`
	User         authUserJSON `json:"user"`
}

// renderAuthorization shapes an authorization. token is the access token's
// value, given only in the answers to create and regenerate; every other
// answer omits it (Heroku no longer returns tokens after creation).
func renderAuthorization(a *authorization, acc *account, now time.Time, token string) authorizationJSON {
	var name *string
	if acc.Name != "" {
		n := acc.Name
		name = &n
	}
	return authorizationJSON{
		AccessToken: &tokenJSON{ExpiresIn: a.remaining(now), ID: a.TokenID, Token: token},
		CreatedAt:   a.CreatedAt, Description: a.Description, ID: a.ID,
		Scope: append([]string{}, a.Scope...), UpdatedAt: a.UpdatedAt,
		User: authUserJSON{ID: acc.ID, Email: acc.Email, FullName: name},
	}
}
