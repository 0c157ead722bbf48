package githubsrv

import "time"

// Fixture is everything the server knows at start: the App, the accounts,
// repositories, installations, issues and pull requests, comments, the
// organizations' fine-grained PATs and the Actions tokens. It is also the
// persistent part of the server's state: MarshalState writes the fixture as
// the server has changed it (new comments, revoked PATs, reviewed requests)
// beside the minted tokens and rate-limit windows.
//
// Accounts, repositories and installations are referred to by login, by
// "owner/name" and by id, case-insensitively, as GitHub does. New rejects a
// fixture whose references do not resolve.
type Fixture struct {
	// WebURL is the base of every html_url, clone_url and the like, e.g.
	// "https://github.com". Empty means the address the request came to, as a
	// GitHub Enterprise Server would answer.
	WebURL string `json:"web_url,omitempty"`
	// App is the one GitHub App whose JWTs the server accepts.
	App App `json:"app"`
	// Accounts are the users, organizations and bots. The App's bot user
	// ("<slug>[bot]") and github-actions[bot] need not be listed.
	Accounts []Account `json:"accounts"`
	// Repositories are all repositories, in or out of an installation.
	Repositories []Repository `json:"repositories"`
	// Installations are the App's installations, one per account at most.
	Installations []Installation `json:"installations"`
	// Issues are issues and pull requests (an Issue with a PullRequest part);
	// numbers are unique per repository across both, as on GitHub.
	Issues []Issue `json:"issues"`
	// Comments are issue and pull-request conversation comments.
	Comments []Comment `json:"comments"`
	// PersonalAccessTokens are fine-grained PATs approved to access an
	// organization, as an owner made them by hand in GitHub's web UI.
	PersonalAccessTokens []PersonalAccessToken `json:"personal_access_tokens"`
	// PersonalAccessTokenRequests are PATs waiting for an organization's
	// approval.
	PersonalAccessTokenRequests []PersonalAccessTokenRequest `json:"personal_access_token_requests"`
	// ActionsTokens behave like a workflow's GITHUB_TOKEN: an installation
	// token of the GitHub Actions app for one repository.
	ActionsTokens []ActionsToken `json:"actions_tokens"`
	// RateLimits sets the primary and secondary limits; zero values take
	// GitHub's defaults.
	RateLimits RateLimits `json:"rate_limits"`
}

// App is a GitHub App registration.
type App struct {
	// ID is the App id, the `iss` of its JWTs.
	ID int64 `json:"id"`
	// ClientID is also accepted as `iss`, as GitHub now recommends.
	ClientID string `json:"client_id"`
	// Slug is the URL name; the App's bot user is "<slug>[bot]".
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Owner is the login of the account that registered the App.
	Owner       string `json:"owner"`
	ExternalURL string `json:"external_url"`
	// Permissions are the App's registered permissions, the ceiling of every
	// installation's.
	Permissions map[string]string `json:"permissions"`
	Events      []string          `json:"events"`
	CreatedAt   time.Time         `json:"created_at"`
	// BotUserID is the id of the "<slug>[bot]" user that authors what the
	// App's installation tokens write.
	BotUserID int64 `json:"bot_user_id"`
	// PrivateKeyPEM is the App's RSA private key (PKCS #1 or PKCS #8). Empty
	// means New generates a 2048-bit key; AppPrivateKeyPEM returns it.
	PrivateKeyPEM string `json:"private_key_pem,omitempty"`
}

// Account is a user, an organization or a bot.
type Account struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	// Type is "User", "Organization" or "Bot".
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

// Repository is a repository of an account.
type Repository struct {
	ID int64 `json:"id"`
	// Owner is the login of the owning account.
	Owner       string `json:"owner"`
	Name        string `json:"name"`
	Private     bool   `json:"private"`
	Description string `json:"description,omitempty"`
	Homepage    string `json:"homepage,omitempty"`
	Language    string `json:"language,omitempty"`
	// DefaultBranch defaults to "main".
	DefaultBranch string   `json:"default_branch,omitempty"`
	Topics        []string `json:"topics,omitempty"`
	// IssuesDisabled turns issues off: comments on an issue (not on a pull
	// request) get 410 Gone, as on GitHub.
	IssuesDisabled bool `json:"issues_disabled,omitempty"`
	// Archived repositories are read-only: comment writes get 403.
	Archived  bool      `json:"archived,omitempty"`
	Size      int       `json:"size,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	PushedAt  time.Time `json:"pushed_at"`
}

// Installation is the App installed on an account.
type Installation struct {
	ID int64 `json:"id"`
	// Account is the login of the organization (or user) it is installed on.
	Account string `json:"account"`
	// RepositorySelection is "selected" (only Repositories) or "all" (every
	// repository of the account).
	RepositorySelection string `json:"repository_selection"`
	// Repositories are names within the account, for "selected".
	Repositories []string `json:"repositories,omitempty"`
	// Permissions the installation grants; a token can be narrowed from
	// them, never widened.
	Permissions map[string]string `json:"permissions"`
	Events      []string          `json:"events"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	// SuspendedAt, when set, makes token creation fail with 403.
	SuspendedAt *time.Time `json:"suspended_at,omitempty"`
}

// Issue is an issue or, with PullRequest set, a pull request.
type Issue struct {
	// Repository is "owner/name".
	Repository string `json:"repository"`
	Number     int    `json:"number"`
	Title      string `json:"title"`
	Body       string `json:"body,omitempty"`
	// User is the author's login.
	User string `json:"user"`
	// State is "open" or "closed".
	State       string       `json:"state"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	ClosedAt    *time.Time   `json:"closed_at,omitempty"`
	PullRequest *PullRequest `json:"pull_request,omitempty"`
	// Labels are label names; a name no label of the repository has yet
	// creates one, as GitHub does.
	Labels []string `json:"labels,omitempty"`
	// StateReason is "completed", "not_planned", "duplicate" or "reopened", once the
	// issue was closed or reopened.
	StateReason string `json:"state_reason,omitempty"`
	// ClosedBy is the login that closed it last.
	ClosedBy string `json:"closed_by,omitempty"`
	// ViaApp is the slug of the App that opened it ("" for a person).
	ViaApp string `json:"via_app,omitempty"`
}

// PullRequest is what a pull request has beyond its issue.
type PullRequest struct {
	HeadRef        string     `json:"head_ref"`
	HeadSHA        string     `json:"head_sha"`
	BaseRef        string     `json:"base_ref"`
	BaseSHA        string     `json:"base_sha"`
	Draft          bool       `json:"draft,omitempty"`
	MergedAt       *time.Time `json:"merged_at,omitempty"`
	MergedBy       string     `json:"merged_by,omitempty"`
	MergeCommitSHA string     `json:"merge_commit_sha,omitempty"`
	Commits        int        `json:"commits"`
	Additions      int        `json:"additions"`
	Deletions      int        `json:"deletions"`
	ChangedFiles   int        `json:"changed_files"`
}

// Comment is an issue comment (a pull request's conversation comment too).
type Comment struct {
	ID int64 `json:"id"`
	// Repository is "owner/name".
	Repository  string `json:"repository"`
	IssueNumber int    `json:"issue_number"`
	// User is the author's login.
	User      string    `json:"user"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// ViaApp is the slug of the GitHub App that wrote it ("" for a person,
	// "github-actions" for a workflow's GITHUB_TOKEN).
	ViaApp string `json:"via_app,omitempty"`
}

// PATPermissions are a fine-grained PAT's permissions by kind.
type PATPermissions struct {
	Organization map[string]string `json:"organization,omitempty"`
	Repository   map[string]string `json:"repository,omitempty"`
	Other        map[string]string `json:"other,omitempty"`
}

// PersonalAccessToken is a fine-grained PAT's grant of access to an
// organization. Its ID is the `pat_id` of the organization endpoints.
type PersonalAccessToken struct {
	ID int64 `json:"id"`
	// Organization is the login of the organization the grant is for.
	Organization string `json:"organization"`
	// Owner is the login of the user who made the token.
	Owner     string `json:"owner"`
	TokenID   int64  `json:"token_id"`
	TokenName string `json:"token_name"`
	// RepositorySelection is "none", "all" or "subset".
	RepositorySelection string `json:"repository_selection"`
	// Repositories are names within the organization, for "subset".
	Repositories    []string       `json:"repositories,omitempty"`
	Permissions     PATPermissions `json:"permissions"`
	AccessGrantedAt time.Time      `json:"access_granted_at"`
	// TokenExpiresAt nil means the token never expires.
	TokenExpiresAt  *time.Time `json:"token_expires_at,omitempty"`
	TokenLastUsedAt *time.Time `json:"token_last_used_at,omitempty"`
	// RevokedAt is set once the organization revoked the grant; the PAT then
	// disappears from every listing.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// PersonalAccessTokenRequest is a PAT's pending request to access an
// organization.
type PersonalAccessTokenRequest struct {
	ID                  int64          `json:"id"`
	Organization        string         `json:"organization"`
	Owner               string         `json:"owner"`
	Reason              *string        `json:"reason,omitempty"`
	TokenID             int64          `json:"token_id"`
	TokenName           string         `json:"token_name"`
	RepositorySelection string         `json:"repository_selection"`
	Repositories        []string       `json:"repositories,omitempty"`
	Permissions         PATPermissions `json:"permissions"`
	CreatedAt           time.Time      `json:"created_at"`
	TokenExpiresAt      *time.Time     `json:"token_expires_at,omitempty"`
	TokenLastUsedAt     *time.Time     `json:"token_last_used_at,omitempty"`
	// Status is "pending" (the default), "approved" or "denied"; reviewed
	// requests leave the listing, an approved one becomes a
	// PersonalAccessToken.
	Status     string     `json:"status,omitempty"`
	ReviewedAt *time.Time `json:"reviewed_at,omitempty"`
}

// ActionsToken is a static token that behaves like a workflow's GITHUB_TOKEN:
// a `ghs_` installation token of the GitHub Actions app, valid for one
// repository, with which a CLI running in a workflow can comment on pull
// requests.
type ActionsToken struct {
	// Token is the secret. Empty means New generates one; ActionsToken
	// returns it.
	Token string `json:"token,omitempty"`
	// Repository is "owner/name".
	Repository string `json:"repository"`
	// Permissions default to contents read, issues and pull_requests write,
	// metadata read.
	Permissions map[string]string `json:"permissions,omitempty"`
	// InstallationID names the token's rate-limit bucket in error messages.
	// Zero means a fixed id derived from the repository id.
	InstallationID int64 `json:"installation_id,omitempty"`
	// ExpiresAt nil means the token does not expire.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// RevokedAt is set once the token revoked itself with
	// DELETE /installation/token; it then gets 401.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// RateLimits configures GitHub's primary limits (requests per hour, per
// credential) and its secondary limits (docs.github.com, "About secondary
// rate limits"). Zero takes GitHub's value in parentheses; a negative value
// turns the limit off (NoRateLimits turns them all off).
//
// The secondary limits answer as GitHub documents it, "403 or 429" with the
// secondary-rate-limit message, the credential's x-ratelimit-* headers
// (not exhausted) and, when there is one, Retry-After. GitHub does not say
// which limit gets which answer; this server gives each of the documented
// answers to one limit, so that a client meets them all: content creation
// 429 with Retry-After; endpoint points 403 with Retry-After; concurrency
// 403 with no Retry-After (the client must then wait at least a minute).
type RateLimits struct {
	// InstallationPerHour is shared by every token of an installation (5000).
	InstallationPerHour int `json:"installation_per_hour,omitempty"`
	// AppPerHour applies to requests made with the App's JWT (5000).
	AppPerHour int `json:"app_per_hour,omitempty"`
	// ActionsPerHour applies per Actions token repository (1000).
	ActionsPerHour int `json:"actions_per_hour,omitempty"`
	// UnauthenticatedPerHour applies per client address (60).
	UnauthenticatedPerHour int `json:"unauthenticated_per_hour,omitempty"`
	// SecondaryLimitPerMinute caps content-generating requests (comment
	// creations and updates) per credential per minute (80).
	SecondaryLimitPerMinute int `json:"secondary_limit_per_minute,omitempty"`
	// ContentCreationPerHour caps the same requests per credential per
	// hour (500).
	ContentCreationPerHour int `json:"content_creation_per_hour,omitempty"`
	// EndpointPointsPerMinute caps the points a credential spends on one
	// REST endpoint (method and route) per minute (900): GET, HEAD and
	// OPTIONS cost 1 point, POST, PATCH, PUT and DELETE 5.
	EndpointPointsPerMinute int `json:"endpoint_points_per_minute,omitempty"`
	// ConcurrentRequests caps a credential's requests in flight (100).
	ConcurrentRequests int `json:"concurrent_requests,omitempty"`
}

// NoRateLimits returns limits that are all off: no primary, no secondary
// limit is ever reached.
func NoRateLimits() RateLimits {
	return RateLimits{InstallationPerHour: -1, AppPerHour: -1, ActionsPerHour: -1, UnauthenticatedPerHour: -1,
		SecondaryLimitPerMinute: -1, ContentCreationPerHour: -1, EndpointPointsPerMinute: -1, ConcurrentRequests: -1}
}

// Default rate limits, GitHub's.
const (
	DefaultInstallationPerHour     = 5000
	DefaultAppPerHour              = 5000
	DefaultActionsPerHour          = 1000
	DefaultUnauthenticatedPerHour  = 60
	DefaultSecondaryLimitPerMinute = 80
	DefaultContentCreationPerHour  = 500
	DefaultEndpointPointsPerMinute = 900
	DefaultConcurrentRequests      = 100
)

// Ids and names of DefaultFixture, for tests and the dev command.
const (
	DefaultAppID                  int64 = 424242
	DefaultAppClientID                  = "Iv23liRaxxHandoffDev"
	DefaultAppSlug                      = "handoff-dev"
	DefaultOrg                          = "raxx-app"
	DefaultInstallationID         int64 = 1001
	DefaultSecondOrg                    = "moose-labs"
	DefaultSecondInstallationID   int64 = 1002
	DefaultTradeMasterRepoID      int64 = 812345601
	DefaultMooseQuestRepoID       int64 = 812345602
	DefaultPrivateVaultRepoID     int64 = 812345603
	DefaultSandboxRepoID          int64 = 812345701
	DefaultWebsiteRepoID          int64 = 812345702
	DefaultPullRequestNumber            = 42
	DefaultActionsTokenRepository       = "raxx-app/TradeMasterAPI"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func atp(s string) *time.Time { t := at(s); return &t }

func strp(s string) *string { return &s }

// DefaultFixture returns the fixture `handoff dev` starts with:
//
//   - App 424242 "handoff-dev" (client id Iv23liRaxxHandoffDev), owned by
//     raxx-app, its RSA key generated at New;
//   - installation 1001 on organization raxx-app, repository_selection
//     "selected": raxx-app/TradeMasterAPI (812345601) and raxx-app/MooseQuest
//     (812345602), permissions contents, pull_requests, issues,
//     organization_personal_access_tokens and
//     organization_personal_access_token_requests write, metadata read;
//     raxx-app/PrivateVault (812345603) exists outside the installation;
//   - installation 1002 on moose-labs, all repositories (moose-labs/sandbox
//     with issues disabled, moose-labs/website), for pagination and 410s;
//   - issue TradeMasterAPI#41, open pull request TradeMasterAPI#42 with one
//     comment, merged pull request MooseQuest#7, issue sandbox#2 (410: issues
//     are disabled there) and pull request sandbox#3;
//   - four fine-grained PATs on raxx-app made by alice-raxx, bob-raxx and
//     carol-raxx (one of them expired) and two pending PAT requests;
//   - one Actions token for raxx-app/TradeMasterAPI, generated at New.
func DefaultFixture() Fixture {
	repoPerms := map[string]string{
		"contents":                            "write",
		"pull_requests":                       "write",
		"issues":                              "write",
		"metadata":                            "read",
		"organization_personal_access_tokens": "write",
		"organization_personal_access_token_requests": "write",
	}
	clone := func(m map[string]string) map[string]string {
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return Fixture{
		App: App{
			ID:          DefaultAppID,
			ClientID:    DefaultAppClientID,
			Slug:        DefaultAppSlug,
			Name:        "Handoff Dev",
			Description: "Mints least-privilege, time-bound credentials for unattended agents (local development App).",
			Owner:       DefaultOrg,
			ExternalURL: "https://github.com/raxx-app/handoff",
			Permissions: clone(repoPerms),
			Events:      []string{"issue_comment", "issues", "pull_request"},
			CreatedAt:   at("2026-01-12T09:14:03Z"),
			BotUserID:   190424242,
		},
		Accounts: []Account{
			{Login: DefaultOrg, ID: 143256789, Type: "Organization", Name: "Raxx"},
			{Login: DefaultSecondOrg, ID: 143256790, Type: "Organization", Name: "Moose Labs"},
			{Login: "alice-raxx", ID: 5550101, Type: "User", Name: "Alice Raxx"},
			{Login: "bob-raxx", ID: 5550102, Type: "User", Name: "Bob Raxx"},
			{Login: "carol-raxx", ID: 5550103, Type: "User", Name: "Carol Raxx"},
			{Login: "dave-moose", ID: 5550104, Type: "User", Name: "Dave Moose"},
		},
		Repositories: []Repository{
			{ID: DefaultTradeMasterRepoID, Owner: DefaultOrg, Name: "TradeMasterAPI", Private: true,
				Description: "Trading and in-app purchase backend", Language: "Go", Topics: []string{"api", "storekit"},
				Size: 18342, CreatedAt: at("2024-03-18T10:02:11Z"), UpdatedAt: at("2026-11-20T16:41:09Z"), PushedAt: at("2026-11-21T08:30:55Z")},
			{ID: DefaultMooseQuestRepoID, Owner: DefaultOrg, Name: "MooseQuest", Private: true,
				Description: "MooseQuest iOS game", Language: "Swift", Topics: []string{"ios", "game"},
				Size: 254117, CreatedAt: at("2023-07-02T19:45:00Z"), UpdatedAt: at("2026-11-19T12:00:03Z"), PushedAt: at("2026-11-19T12:00:01Z")},
			{ID: DefaultPrivateVaultRepoID, Owner: DefaultOrg, Name: "PrivateVault", Private: true,
				Description: "Break-glass material; never in a handoff", Language: "HCL",
				Size: 412, CreatedAt: at("2025-02-01T08:00:00Z"), UpdatedAt: at("2026-10-02T09:10:11Z"), PushedAt: at("2026-10-02T09:10:10Z")},
			{ID: DefaultSandboxRepoID, Owner: DefaultSecondOrg, Name: "sandbox", Private: false, IssuesDisabled: true,
				Description: "Scratch repository", Language: "Shell",
				Size: 12, CreatedAt: at("2025-05-05T05:05:05Z"), UpdatedAt: at("2026-09-09T09:09:09Z"), PushedAt: at("2026-09-09T09:09:08Z")},
			{ID: DefaultWebsiteRepoID, Owner: DefaultSecondOrg, Name: "website", Private: false,
				Description: "moose-labs.example", Homepage: "https://moose-labs.example", Language: "TypeScript",
				Size: 2048, CreatedAt: at("2025-06-01T12:00:00Z"), UpdatedAt: at("2026-11-01T12:00:00Z"), PushedAt: at("2026-11-01T11:59:58Z")},
		},
		Installations: []Installation{
			{ID: DefaultInstallationID, Account: DefaultOrg, RepositorySelection: "selected",
				Repositories: []string{"TradeMasterAPI", "MooseQuest"},
				Permissions:  clone(repoPerms),
				Events:       []string{"issue_comment", "issues", "pull_request"},
				CreatedAt:    at("2026-01-15T11:20:42Z"), UpdatedAt: at("2026-06-02T08:00:00Z")},
			{ID: DefaultSecondInstallationID, Account: DefaultSecondOrg, RepositorySelection: "all",
				Permissions: map[string]string{"contents": "read", "issues": "write", "metadata": "read", "pull_requests": "write"},
				Events:      []string{"pull_request"},
				CreatedAt:   at("2026-02-03T14:00:00Z"), UpdatedAt: at("2026-02-03T14:00:00Z")},
		},
		Issues: []Issue{
			{Repository: "raxx-app/TradeMasterAPI", Number: 41, Title: "Handle App Store Server Notifications V2",
				Body: "StoreKit 2 sends signed notifications; we need a handler.", User: "alice-raxx", State: "open",
				CreatedAt: at("2026-06-18T09:00:00Z"), UpdatedAt: at("2026-06-19T10:00:00Z")},
			{Repository: "raxx-app/TradeMasterAPI", Number: DefaultPullRequestNumber, Title: "Add StoreKit 2 server notification handler",
				Body: "Closes #41. Adds specs/iap-notif-handler-20260621.hcl.", User: "alice-raxx", State: "open",
				CreatedAt: at("2026-06-21T08:12:30Z"), UpdatedAt: at("2026-06-21T09:40:00Z"),
				PullRequest: &PullRequest{HeadRef: "feat/iap-notif-handler", HeadSHA: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
					BaseRef: "main", BaseSHA: "a2f1c4b1e7a9d3f0c8b6e5d4c3b2a1f0e9d8c7b6", Commits: 3, Additions: 212, Deletions: 9, ChangedFiles: 6}},
			{Repository: "raxx-app/MooseQuest", Number: 7, Title: "Queue staging secrets layout",
				User: "bob-raxx", State: "closed",
				CreatedAt: at("2026-05-02T10:00:00Z"), UpdatedAt: at("2026-05-03T15:30:00Z"), ClosedAt: atp("2026-05-03T15:30:00Z"),
				PullRequest: &PullRequest{HeadRef: "queue-layout", HeadSHA: "e5bd3914e2e596debea16f433f57875b5b90bcd6",
					BaseRef: "main", BaseSHA: "3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e", MergedAt: atp("2026-05-03T15:30:00Z"), MergedBy: "carol-raxx",
					MergeCommitSHA: "c0ffee0ddba11c0ffee0ddba11c0ffee0ddba11c", Commits: 1, Additions: 40, Deletions: 2, ChangedFiles: 2}},
			{Repository: "moose-labs/sandbox", Number: 2, Title: "Opened before issues were disabled",
				User: "dave-moose", State: "open",
				CreatedAt: at("2025-05-06T09:00:00Z"), UpdatedAt: at("2025-05-06T09:00:00Z")},
			{Repository: "moose-labs/sandbox", Number: 3, Title: "Try the handoff plan comment",
				User: "dave-moose", State: "open",
				CreatedAt: at("2026-10-10T10:10:10Z"), UpdatedAt: at("2026-10-10T10:10:10Z"),
				PullRequest: &PullRequest{HeadRef: "try-plan", HeadSHA: "0123456789abcdef0123456789abcdef01234567",
					BaseRef: "main", BaseSHA: "89abcdef0123456789abcdef0123456789abcdef", Commits: 1, Additions: 1, ChangedFiles: 1}},
		},
		Comments: []Comment{
			{ID: 2400000001, Repository: "raxx-app/TradeMasterAPI", IssueNumber: DefaultPullRequestNumber, User: "bob-raxx",
				Body: "LGTM once the handoff is provisioned.", CreatedAt: at("2026-06-21T09:40:00Z"), UpdatedAt: at("2026-06-21T09:40:00Z")},
		},
		PersonalAccessTokens: []PersonalAccessToken{
			{ID: 25381, Organization: DefaultOrg, Owner: "alice-raxx", TokenID: 98716, TokenName: "terraform-plan-alice",
				RepositorySelection: "subset", Repositories: []string{"TradeMasterAPI"},
				Permissions:     PATPermissions{Repository: map[string]string{"contents": "read", "metadata": "read", "pull_requests": "write"}},
				AccessGrantedAt: at("2026-03-02T10:00:00Z"), TokenExpiresAt: atp("2027-03-01T10:00:00Z"), TokenLastUsedAt: atp("2026-11-20T07:45:12Z")},
			{ID: 25382, Organization: DefaultOrg, Owner: "bob-raxx", TokenID: 98717, TokenName: "moosequest-ci",
				RepositorySelection: "subset", Repositories: []string{"MooseQuest"},
				Permissions: PATPermissions{
					Organization: map[string]string{"members": "read"},
					Repository:   map[string]string{"contents": "write", "metadata": "read"}},
				AccessGrantedAt: at("2026-04-11T15:30:00Z"), TokenExpiresAt: atp("2027-01-15T00:00:00Z")},
			{ID: 25383, Organization: DefaultOrg, Owner: "carol-raxx", TokenID: 98718, TokenName: "vault-break-glass",
				RepositorySelection: "all",
				Permissions:         PATPermissions{Repository: map[string]string{"contents": "read", "metadata": "read", "secrets": "read"}},
				AccessGrantedAt:     at("2026-05-20T08:00:00Z"), TokenLastUsedAt: atp("2026-05-20T08:05:00Z")},
			{ID: 25384, Organization: DefaultOrg, Owner: "alice-raxx", TokenID: 98719, TokenName: "old-migration-token",
				RepositorySelection: "subset", Repositories: []string{"PrivateVault", "TradeMasterAPI"},
				Permissions:     PATPermissions{Repository: map[string]string{"contents": "write", "metadata": "read"}},
				AccessGrantedAt: at("2026-01-20T12:00:00Z"), TokenExpiresAt: atp("2026-09-01T00:00:00Z"), TokenLastUsedAt: atp("2026-08-30T23:10:00Z")},
		},
		PersonalAccessTokenRequests: []PersonalAccessTokenRequest{
			{ID: 7301, Organization: DefaultOrg, Owner: "carol-raxx", Reason: strp("Hotfix on TradeMasterAPI during the freeze"),
				TokenID: 98720, TokenName: "hotfix-carol", RepositorySelection: "subset", Repositories: []string{"TradeMasterAPI"},
				Permissions: PATPermissions{Repository: map[string]string{"contents": "write", "metadata": "read", "pull_requests": "write"}},
				CreatedAt:   at("2026-11-18T17:02:00Z"), TokenExpiresAt: atp("2026-12-18T17:00:00Z")},
			{ID: 7302, Organization: DefaultOrg, Owner: "bob-raxx",
				TokenID: 98721, TokenName: "issues-triage", RepositorySelection: "subset", Repositories: []string{"MooseQuest"},
				Permissions: PATPermissions{Repository: map[string]string{"issues": "write", "metadata": "read"}},
				CreatedAt:   at("2026-11-21T08:00:00Z"), TokenExpiresAt: atp("2027-02-21T08:00:00Z")},
		},
		ActionsTokens: []ActionsToken{
			{Repository: DefaultActionsTokenRepository},
		},
	}
}
