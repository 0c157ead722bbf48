package herokusrv

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// world is the server's mutable state; Server.mu guards it.
type world struct {
	accounts     []*account
	accountByID  map[string]*account
	accountByKey map[string]*account // API key -> account
	teams        []*team
	teamByName   map[string]*team
	teamByID     map[string]*team
	apps         []*app
	appByName    map[string]*app
	appByID      map[string]*app
	auths        map[string]*authorization // by id
	authByFpr    map[string]*authorization // SHA-256 of the current access token
	provisioner  *account
	rate         RateLimitSettings
}

type account struct {
	ID          string
	Email       string
	Name        string
	APIKey      string
	TwoFactor   bool
	Provisioner bool
}

type team struct {
	ID      string
	Name    string
	members []*membership
}

type membership struct {
	ID      string
	Account *account
	Role    string // admin, member, collaborator
}

type app struct {
	ID            string
	Name          string
	Team          *team    // nil for a personal app
	Owner         *account // nil for a team app
	Region        string
	ConfigVars    map[string]string
	Collaborators []*collaborator
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ReleasedAt    *time.Time
}

type collaborator struct {
	ID          string
	Account     *account
	Permissions []string
	CreatedAt   time.Time
}

// authorization is an OAuth authorization. The server keeps the SHA-256 of
// its access token, never the token.
type authorization struct {
	ID          string     `json:"id"`
	AccountID   string     `json:"account_id"`
	Scope       []string   `json:"scope"`
	Description string     `json:"description"`
	TokenID     string     `json:"token_id"`
	Fingerprint string     `json:"token_sha256"`
	ExpiresIn   *int64     `json:"expires_in,omitempty"` // lifetime asked for, seconds
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

func (a *authorization) expired(now time.Time) bool {
	return a.ExpiresAt != nil && !now.Before(*a.ExpiresAt)
}

// remaining is the access token's expires_in at now (nil: no expiry).
func (a *authorization) remaining(now time.Time) *int64 {
	if a.ExpiresAt == nil {
		return nil
	}
	s := int64(a.ExpiresAt.Sub(now) / time.Second)
	if s < 0 {
		s = 0
	}
	return &s
}

// buildWorld turns a validated fixture into state.
func buildWorld(fx Fixture) (*world, error) {
	if err := fx.validate(); err != nil {
		return nil, err
	}
	w := &world{
		accountByID: map[string]*account{}, accountByKey: map[string]*account{},
		teamByName: map[string]*team{}, teamByID: map[string]*team{},
		appByName: map[string]*app{}, appByID: map[string]*app{},
		auths: map[string]*authorization{}, authByFpr: map[string]*authorization{},
		rate: fx.RateLimit,
	}
	byEmail := map[string]*account{}
	for _, fa := range fx.Accounts {
		a := &account{ID: fa.ID, Email: fa.Email, Name: fa.Name, APIKey: fa.APIKey, TwoFactor: fa.TwoFactor, Provisioner: fa.Provisioner}
		if a.ID == "" {
			a.ID = uuidFor("account", a.Email)
		}
		if a.APIKey == "" {
			a.APIKey = newAPIKey()
		}
		if w.accountByID[a.ID] != nil {
			return nil, errorf("account id %s is used twice", a.ID)
		}
		if w.accountByKey[a.APIKey] != nil {
			return nil, errorf("the API key of %s is used by another account", a.Email)
		}
		w.accounts = append(w.accounts, a)
		w.accountByID[a.ID] = a
		w.accountByKey[a.APIKey] = a
		byEmail[strings.ToLower(a.Email)] = a
		if a.Provisioner {
			w.provisioner = a
		}
	}
	for _, ft := range fx.Teams {
		t := &team{ID: ft.ID, Name: ft.Name}
		if t.ID == "" {
			t.ID = uuidFor("team", t.Name)
		}
		if w.teamByID[t.ID] != nil {
			return nil, errorf("team id %s is used twice", t.ID)
		}
		for _, m := range ft.Members {
			a := byEmail[strings.ToLower(m.Email)]
			t.members = append(t.members, &membership{ID: uuidFor("team-member", t.Name+"/"+a.Email), Account: a, Role: m.Role})
		}
		w.teams = append(w.teams, t)
		w.teamByName[t.Name] = t
		w.teamByID[t.ID] = t
	}
	for _, fa := range fx.Apps {
		a := &app{ID: fa.ID, Name: fa.Name, Region: fa.Region, ConfigVars: map[string]string{},
			CreatedAt: fixtureEpoch, UpdatedAt: fixtureEpoch}
		if a.ID == "" {
			a.ID = uuidFor("app", a.Name)
		}
		if _, err := uuid.Parse(a.ID); err != nil {
			return nil, errorf("app %s: id is not a UUID", a.Name)
		}
		if w.appByID[a.ID] != nil {
			return nil, errorf("app id %s is used twice", a.ID)
		}
		if a.Region == "" {
			a.Region = "us"
		}
		if fa.Team != "" {
			a.Team = w.teamByName[fa.Team]
		} else {
			a.Owner = byEmail[strings.ToLower(fa.Owner)]
		}
		for k, v := range fa.ConfigVars {
			a.ConfigVars[k] = v
		}
		rel := fixtureEpoch.Add(time.Hour)
		a.ReleasedAt = &rel
		for _, fc := range fa.Collaborators {
			acc := byEmail[strings.ToLower(fc.Email)]
			c := &collaborator{ID: uuidFor("collaborator", a.Name+"/"+acc.Email), Account: acc, CreatedAt: fixtureEpoch}
			if a.Team != nil {
				c.Permissions = normalizePerms(fc.Permissions)
			}
			a.Collaborators = append(a.Collaborators, c)
		}
		w.apps = append(w.apps, a)
		w.appByName[a.Name] = a
		w.appByID[a.ID] = a
	}
	return w, nil
}

// normalizePerms adds the implied view and sorts in Heroku's order.
func normalizePerms(perms []string) []string {
	set := map[string]bool{"view": true}
	for _, p := range perms {
		set[p] = true
	}
	var out []string
	for _, p := range appPermOrder {
		if set[p] {
			out = append(out, p)
		}
	}
	return out
}

// toFixture writes the world back as a fixture (ids included), for
// MarshalState.
func (w *world) toFixture() Fixture {
	var fx Fixture
	fx.RateLimit = w.rate
	for _, a := range w.accounts {
		fx.Accounts = append(fx.Accounts, FixtureAccount{ID: a.ID, Email: a.Email, Name: a.Name, APIKey: a.APIKey,
			Provisioner: a.Provisioner, TwoFactor: a.TwoFactor})
	}
	for _, t := range w.teams {
		ft := FixtureTeam{ID: t.ID, Name: t.Name, Members: []FixtureTeamMember{}}
		for _, m := range t.members {
			ft.Members = append(ft.Members, FixtureTeamMember{Email: m.Account.Email, Role: m.Role})
		}
		fx.Teams = append(fx.Teams, ft)
	}
	for _, a := range w.apps {
		fa := FixtureApp{ID: a.ID, Name: a.Name, Region: a.Region, ConfigVars: map[string]string{}}
		if a.Team != nil {
			fa.Team = a.Team.Name
		} else {
			fa.Owner = a.Owner.Email
		}
		for k, v := range a.ConfigVars {
			fa.ConfigVars[k] = v
		}
		for _, c := range a.Collaborators {
			fa.Collaborators = append(fa.Collaborators, FixtureCollaborator{Email: c.Account.Email, Permissions: append([]string(nil), c.Permissions...)})
		}
		fx.Apps = append(fx.Apps, fa)
	}
	return fx
}

// lookupApp finds an app by id or name, as the app identity allows.
func (w *world) lookupApp(ident string) *app {
	if a := w.appByName[ident]; a != nil {
		return a
	}
	return w.appByID[strings.ToLower(ident)]
}

// lookupTeam finds a team by name or id.
func (w *world) lookupTeam(ident string) *team {
	if t := w.teamByName[ident]; t != nil {
		return t
	}
	return w.teamByID[strings.ToLower(ident)]
}

// sortedAuths returns an account's authorizations, oldest first.
func (w *world) sortedAuths(accountID string) []*authorization {
	var out []*authorization
	for _, a := range w.auths {
		if accountID == "" || a.AccountID == accountID {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// addAuth records an authorization.
func (w *world) addAuth(a *authorization) {
	w.auths[a.ID] = a
	w.authByFpr[a.Fingerprint] = a
}

// removeAuth forgets an authorization and so refuses its token at once.
func (w *world) removeAuth(a *authorization) {
	delete(w.auths, a.ID)
	delete(w.authByFpr, a.Fingerprint)
}

// fingerprint is the SHA-256 of a token in hex.
func fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newAccessToken returns a token shaped like Heroku's ("HRKU-" and a UUID).
func newAccessToken() string { return "HRKU-" + uuid.NewString() }

// newAPIKey returns a long-lived API key for an account the fixture gave
// none.
func newAPIKey() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("herokusrv: crypto/rand: " + err.Error())
	}
	return "HRKU-" + hex.EncodeToString(b)
}
