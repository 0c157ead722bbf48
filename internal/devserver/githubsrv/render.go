package githubsrv

import (
	"encoding/base64"
	"html"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// This file renders the world as GitHub's JSON objects, with every field the
// contract's schemas require and GitHub's own URL shapes. Each renderer
// reads the world: callers hold Server.mu.

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func tsp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// nodeID is GitHub's legacy global node id: base64 of "0<len>:<Type><id>",
// e.g. MDQ6VXNlcjE= for user 1.
func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte("0" + strconv.Itoa(len(kind)) + ":" + kind + strconv.FormatInt(id, 10)))
}

type userJSON struct {
	Login             string `json:"login"`
	ID                int64  `json:"id"`
	NodeID            string `json:"node_id"`
	AvatarURL         string `json:"avatar_url"`
	GravatarID        string `json:"gravatar_id"`
	URL               string `json:"url"`
	HTMLURL           string `json:"html_url"`
	FollowersURL      string `json:"followers_url"`
	FollowingURL      string `json:"following_url"`
	GistsURL          string `json:"gists_url"`
	StarredURL        string `json:"starred_url"`
	SubscriptionsURL  string `json:"subscriptions_url"`
	OrganizationsURL  string `json:"organizations_url"`
	ReposURL          string `json:"repos_url"`
	EventsURL         string `json:"events_url"`
	ReceivedEventsURL string `json:"received_events_url"`
	Type              string `json:"type"`
	UserViewType      string `json:"user_view_type"`
	SiteAdmin         bool   `json:"site_admin"`
}

// user renders an account as GitHub's simple-user.
func (c *call) user(a *Account) userJSON {
	api := c.api + "/users/" + url.PathEscape(a.Login)
	u := userJSON{
		Login:             a.Login,
		ID:                a.ID,
		NodeID:            nodeID(a.Type, a.ID),
		AvatarURL:         "https://avatars.githubusercontent.com/u/" + strconv.FormatInt(a.ID, 10) + "?v=4",
		URL:               api,
		HTMLURL:           c.web + "/" + url.PathEscape(a.Login),
		FollowersURL:      api + "/followers",
		FollowingURL:      api + "/following{/other_user}",
		GistsURL:          api + "/gists{/gist_id}",
		StarredURL:        api + "/starred{/owner}{/repo}",
		SubscriptionsURL:  api + "/subscriptions",
		OrganizationsURL:  api + "/orgs",
		ReposURL:          api + "/repos",
		EventsURL:         api + "/events{/privacy}",
		ReceivedEventsURL: api + "/received_events",
		Type:              a.Type,
		UserViewType:      "public",
	}
	if a.Type == "Bot" {
		if slug, id, ok := c.botApp(a); ok {
			u.HTMLURL = c.web + "/apps/" + slug
			u.AvatarURL = "https://avatars.githubusercontent.com/in/" + strconv.FormatInt(id, 10) + "?v=4"
		}
	}
	return u
}

// botApp returns the App a bot account acts for.
func (c *call) botApp(a *Account) (string, int64, bool) {
	w := c.s.w
	switch {
	case strings.EqualFold(a.Login, w.app.Slug+"[bot]"):
		return w.app.Slug, w.app.ID, true
	case strings.EqualFold(a.Login, actionsBotLogin):
		return actionsAppSlug, actionsAppID, true
	}
	return "", 0, false
}

// login renders the account with a login, or a ghost if it vanished.
func (c *call) login(login string) userJSON {
	if a := c.s.w.accountByLogin[lower(login)]; a != nil {
		return c.user(a)
	}
	return c.user(&Account{Login: "ghost", ID: 10137, Type: "User"})
}

// installationAccountJSON is an installation's account. The contract's list
// of installations types the account as all of simple-user and enterprise,
// so it carries the enterprise's name, slug and dates too.
type installationAccountJSON struct {
	userJSON
	Name      string  `json:"name"`
	Slug      string  `json:"slug"`
	CreatedAt *string `json:"created_at"`
	UpdatedAt *string `json:"updated_at"`
}

type installationJSON struct {
	ID                     int64                   `json:"id"`
	ClientID               string                  `json:"client_id"`
	Account                installationAccountJSON `json:"account"`
	RepositorySelection    string                  `json:"repository_selection"`
	AccessTokensURL        string                  `json:"access_tokens_url"`
	RepositoriesURL        string                  `json:"repositories_url"`
	HTMLURL                string                  `json:"html_url"`
	AppID                  int64                   `json:"app_id"`
	AppSlug                string                  `json:"app_slug"`
	TargetID               int64                   `json:"target_id"`
	TargetType             string                  `json:"target_type"`
	Permissions            map[string]string       `json:"permissions"`
	Events                 []string                `json:"events"`
	CreatedAt              string                  `json:"created_at"`
	UpdatedAt              string                  `json:"updated_at"`
	SingleFileName         *string                 `json:"single_file_name"`
	HasMultipleSingleFiles bool                    `json:"has_multiple_single_files"`
	SingleFilePaths        []string                `json:"single_file_paths"`
	SuspendedBy            *userJSON               `json:"suspended_by"`
	SuspendedAt            *string                 `json:"suspended_at"`
}

func (c *call) installation(in *Installation) installationJSON {
	w := c.s.w
	acc := w.accountByLogin[lower(in.Account)]
	name := acc.Name
	if name == "" {
		name = acc.Login
	}
	htmlURL := c.web + "/settings/installations/" + strconv.FormatInt(in.ID, 10)
	if acc.Type == "Organization" {
		htmlURL = c.web + "/organizations/" + url.PathEscape(acc.Login) + "/settings/installations/" + strconv.FormatInt(in.ID, 10)
	}
	events := in.Events
	if events == nil {
		events = []string{}
	}
	out := installationJSON{
		ID:                  in.ID,
		ClientID:            w.app.ClientID,
		Account:             installationAccountJSON{userJSON: c.user(acc), Name: name, Slug: lower(acc.Login)},
		RepositorySelection: in.RepositorySelection,
		AccessTokensURL:     c.api + "/app/installations/" + strconv.FormatInt(in.ID, 10) + "/access_tokens",
		RepositoriesURL:     c.api + "/installation/repositories",
		HTMLURL:             htmlURL,
		AppID:               w.app.ID,
		AppSlug:             w.app.Slug,
		TargetID:            acc.ID,
		TargetType:          acc.Type,
		Permissions:         in.Permissions,
		Events:              events,
		CreatedAt:           ts(in.CreatedAt),
		UpdatedAt:           ts(in.UpdatedAt),
		SingleFilePaths:     []string{},
		SuspendedAt:         tsp(in.SuspendedAt),
	}
	if in.SuspendedAt != nil {
		owner := c.user(w.accountByLogin[lower(w.app.Owner)])
		out.SuspendedBy = &owner
	}
	return out
}

type appJSON struct {
	ID                 int64             `json:"id"`
	Slug               string            `json:"slug"`
	NodeID             string            `json:"node_id"`
	ClientID           string            `json:"client_id"`
	Owner              userJSON          `json:"owner"`
	Name               string            `json:"name"`
	Description        *string           `json:"description"`
	ExternalURL        string            `json:"external_url"`
	HTMLURL            string            `json:"html_url"`
	CreatedAt          string            `json:"created_at"`
	UpdatedAt          string            `json:"updated_at"`
	Permissions        map[string]string `json:"permissions"`
	Events             []string          `json:"events"`
	InstallationsCount *int              `json:"installations_count,omitempty"`
}

// app renders the server's App (GitHub's "integration").
func (c *call) app(withCount bool) appJSON {
	w := c.s.w
	a := w.app
	ext := a.ExternalURL
	if ext == "" {
		ext = c.web + "/apps/" + a.Slug
	}
	events := a.Events
	if events == nil {
		events = []string{}
	}
	perms := a.Permissions
	if perms == nil {
		perms = map[string]string{}
	}
	out := appJSON{
		ID:          a.ID,
		Slug:        a.Slug,
		NodeID:      nodeID("App", a.ID),
		ClientID:    a.ClientID,
		Owner:       c.user(w.accountByLogin[lower(a.Owner)]),
		Name:        a.Name,
		Description: nonEmpty(a.Description),
		ExternalURL: ext,
		HTMLURL:     c.web + "/apps/" + a.Slug,
		CreatedAt:   ts(a.CreatedAt),
		UpdatedAt:   ts(a.CreatedAt),
		Permissions: perms,
		Events:      events,
	}
	if withCount {
		n := len(w.installs)
		out.InstallationsCount = &n
	}
	return out
}

// actionsApp renders the GitHub Actions app, the author of what a
// workflow's GITHUB_TOKEN writes.
func (c *call) actionsApp() appJSON {
	return appJSON{
		ID:          actionsAppID,
		Slug:        actionsAppSlug,
		NodeID:      nodeID("App", actionsAppID),
		Owner:       c.user(&Account{Login: "github", ID: githubOrgID, Type: "Organization"}),
		Name:        "GitHub Actions",
		Description: nonEmpty("Automate your workflow from idea to production"),
		ExternalURL: "https://help.github.com/en/actions",
		HTMLURL:     c.web + "/apps/github-actions",
		CreatedAt:   "2018-07-30T09:30:17Z",
		UpdatedAt:   "2019-12-10T19:04:12Z",
		Permissions: map[string]string{"actions": "write", "checks": "write", "contents": "write", "deployments": "write", "issues": "write", "metadata": "read", "packages": "write", "pull_requests": "write", "statuses": "write"},
		Events:      []string{"check_run", "check_suite", "issue_comment", "issues", "pull_request", "push", "release", "workflow_dispatch"},
	}
}

type repoPermsJSON struct {
	Admin    bool `json:"admin"`
	Maintain bool `json:"maintain"`
	Push     bool `json:"push"`
	Triage   bool `json:"triage"`
	Pull     bool `json:"pull"`
}

type repoJSON struct {
	ID               int64          `json:"id"`
	NodeID           string         `json:"node_id"`
	Name             string         `json:"name"`
	FullName         string         `json:"full_name"`
	Private          bool           `json:"private"`
	Owner            userJSON       `json:"owner"`
	HTMLURL          string         `json:"html_url"`
	Description      *string        `json:"description"`
	Fork             bool           `json:"fork"`
	URL              string         `json:"url"`
	ForksURL         string         `json:"forks_url"`
	KeysURL          string         `json:"keys_url"`
	CollaboratorsURL string         `json:"collaborators_url"`
	TeamsURL         string         `json:"teams_url"`
	HooksURL         string         `json:"hooks_url"`
	IssueEventsURL   string         `json:"issue_events_url"`
	EventsURL        string         `json:"events_url"`
	AssigneesURL     string         `json:"assignees_url"`
	BranchesURL      string         `json:"branches_url"`
	TagsURL          string         `json:"tags_url"`
	BlobsURL         string         `json:"blobs_url"`
	GitTagsURL       string         `json:"git_tags_url"`
	GitRefsURL       string         `json:"git_refs_url"`
	TreesURL         string         `json:"trees_url"`
	StatusesURL      string         `json:"statuses_url"`
	LanguagesURL     string         `json:"languages_url"`
	StargazersURL    string         `json:"stargazers_url"`
	ContributorsURL  string         `json:"contributors_url"`
	SubscribersURL   string         `json:"subscribers_url"`
	SubscriptionURL  string         `json:"subscription_url"`
	CommitsURL       string         `json:"commits_url"`
	GitCommitsURL    string         `json:"git_commits_url"`
	CommentsURL      string         `json:"comments_url"`
	IssueCommentURL  string         `json:"issue_comment_url"`
	ContentsURL      string         `json:"contents_url"`
	CompareURL       string         `json:"compare_url"`
	MergesURL        string         `json:"merges_url"`
	ArchiveURL       string         `json:"archive_url"`
	DownloadsURL     string         `json:"downloads_url"`
	IssuesURL        string         `json:"issues_url"`
	PullsURL         string         `json:"pulls_url"`
	MilestonesURL    string         `json:"milestones_url"`
	NotificationsURL string         `json:"notifications_url"`
	LabelsURL        string         `json:"labels_url"`
	ReleasesURL      string         `json:"releases_url"`
	DeploymentsURL   string         `json:"deployments_url"`
	CreatedAt        string         `json:"created_at"`
	UpdatedAt        string         `json:"updated_at"`
	PushedAt         string         `json:"pushed_at"`
	GitURL           string         `json:"git_url"`
	SSHURL           string         `json:"ssh_url"`
	CloneURL         string         `json:"clone_url"`
	SvnURL           string         `json:"svn_url"`
	Homepage         *string        `json:"homepage"`
	Size             int            `json:"size"`
	StargazersCount  int            `json:"stargazers_count"`
	WatchersCount    int            `json:"watchers_count"`
	Language         *string        `json:"language"`
	HasIssues        bool           `json:"has_issues"`
	HasProjects      bool           `json:"has_projects"`
	HasDownloads     bool           `json:"has_downloads"`
	HasWiki          bool           `json:"has_wiki"`
	HasPages         bool           `json:"has_pages"`
	HasDiscussions   bool           `json:"has_discussions"`
	ForksCount       int            `json:"forks_count"`
	MirrorURL        *string        `json:"mirror_url"`
	Archived         bool           `json:"archived"`
	Disabled         bool           `json:"disabled"`
	OpenIssuesCount  int            `json:"open_issues_count"`
	License          *struct{}      `json:"license"`
	AllowForking     bool           `json:"allow_forking"`
	IsTemplate       bool           `json:"is_template"`
	WebCommitSignoff bool           `json:"web_commit_signoff_required"`
	Topics           []string       `json:"topics"`
	Visibility       string         `json:"visibility"`
	Forks            int            `json:"forks"`
	OpenIssues       int            `json:"open_issues"`
	Watchers         int            `json:"watchers"`
	DefaultBranch    string         `json:"default_branch"`
	Permissions      *repoPermsJSON `json:"permissions,omitempty"`

	// What only GET /repos/{owner}/{repo} (full-repository) adds.
	CustomProperties    map[string]any `json:"custom_properties,omitempty"`
	Organization        *userJSON      `json:"organization,omitempty"`
	AllowRebaseMerge    *bool          `json:"allow_rebase_merge,omitempty"`
	AllowSquashMerge    *bool          `json:"allow_squash_merge,omitempty"`
	AllowMergeCommit    *bool          `json:"allow_merge_commit,omitempty"`
	AllowAutoMerge      *bool          `json:"allow_auto_merge,omitempty"`
	DeleteBranchOnMerge *bool          `json:"delete_branch_on_merge,omitempty"`
	NetworkCount        *int           `json:"network_count,omitempty"`
	SubscribersCount    *int           `json:"subscribers_count,omitempty"`
}

// repo renders a repository. perms, when set, are the caller's permissions
// on it; full adds what GitHub's full-repository has.
func (c *call) repo(r *Repository, perms map[string]string, full bool) repoJSON {
	w := c.s.w
	owner := w.owner(r)
	fullName := r.Owner + "/" + r.Name
	api := c.api + "/repos/" + fullName
	web := c.web + "/" + fullName
	host := strings.TrimPrefix(strings.TrimPrefix(c.web, "https://"), "http://")
	visibility := "public"
	if r.Private {
		visibility = "private"
	}
	topics := r.Topics
	if topics == nil {
		topics = []string{}
	}
	open := w.openIssues(r)
	pushed := r.PushedAt
	if pushed.IsZero() {
		pushed = r.CreatedAt
	}
	updated := r.UpdatedAt
	if updated.IsZero() {
		updated = r.CreatedAt
	}
	out := repoJSON{
		ID:               r.ID,
		NodeID:           nodeID("Repository", r.ID),
		Name:             r.Name,
		FullName:         fullName,
		Private:          r.Private,
		Owner:            c.user(owner),
		HTMLURL:          web,
		Description:      nonEmpty(r.Description),
		URL:              api,
		ForksURL:         api + "/forks",
		KeysURL:          api + "/keys{/key_id}",
		CollaboratorsURL: api + "/collaborators{/collaborator}",
		TeamsURL:         api + "/teams",
		HooksURL:         api + "/hooks",
		IssueEventsURL:   api + "/issues/events{/number}",
		EventsURL:        api + "/events",
		AssigneesURL:     api + "/assignees{/user}",
		BranchesURL:      api + "/branches{/branch}",
		TagsURL:          api + "/tags",
		BlobsURL:         api + "/git/blobs{/sha}",
		GitTagsURL:       api + "/git/tags{/sha}",
		GitRefsURL:       api + "/git/refs{/sha}",
		TreesURL:         api + "/git/trees{/sha}",
		StatusesURL:      api + "/statuses/{sha}",
		LanguagesURL:     api + "/languages",
		StargazersURL:    api + "/stargazers",
		ContributorsURL:  api + "/contributors",
		SubscribersURL:   api + "/subscribers",
		SubscriptionURL:  api + "/subscription",
		CommitsURL:       api + "/commits{/sha}",
		GitCommitsURL:    api + "/git/commits{/sha}",
		CommentsURL:      api + "/comments{/number}",
		IssueCommentURL:  api + "/issues/comments{/number}",
		ContentsURL:      api + "/contents/{+path}",
		CompareURL:       api + "/compare/{base}...{head}",
		MergesURL:        api + "/merges",
		ArchiveURL:       api + "/{archive_format}{/ref}",
		DownloadsURL:     api + "/downloads",
		IssuesURL:        api + "/issues{/number}",
		PullsURL:         api + "/pulls{/number}",
		MilestonesURL:    api + "/milestones{/number}",
		NotificationsURL: api + "/notifications{?since,all,participating}",
		LabelsURL:        api + "/labels{/name}",
		ReleasesURL:      api + "/releases{/id}",
		DeploymentsURL:   api + "/deployments",
		CreatedAt:        ts(r.CreatedAt),
		UpdatedAt:        ts(updated),
		PushedAt:         ts(pushed),
		GitURL:           "git://" + host + "/" + fullName + ".git",
		SSHURL:           "git@" + host + ":" + fullName + ".git",
		CloneURL:         web + ".git",
		SvnURL:           web,
		Homepage:         nonEmpty(r.Homepage),
		Size:             r.Size,
		Language:         nonEmpty(r.Language),
		HasIssues:        !r.IssuesDisabled,
		HasProjects:      true,
		HasDownloads:     true,
		HasWiki:          !r.Private,
		Archived:         r.Archived,
		OpenIssuesCount:  open,
		AllowForking:     !r.Private,
		Topics:           topics,
		Visibility:       visibility,
		OpenIssues:       open,
		DefaultBranch:    r.DefaultBranch,
	}
	if perms != nil {
		out.Permissions = &repoPermsJSON{
			Push:   hasPerm(perms, "contents", levelWrite),
			Triage: hasPerm(perms, "issues", levelWrite) || hasPerm(perms, "pull_requests", levelWrite),
			Pull:   true,
		}
	}
	if full {
		zero, t, f := 0, true, false
		out.CustomProperties = map[string]any{}
		if owner.Type == "Organization" {
			o := c.user(owner)
			out.Organization = &o
		}
		out.AllowRebaseMerge, out.AllowSquashMerge, out.AllowMergeCommit = &t, &t, &t
		out.AllowAutoMerge, out.DeleteBranchOnMerge = &f, &t
		out.NetworkCount, out.SubscribersCount = &zero, &zero
	}
	return out
}

type reactionsJSON struct {
	URL        string `json:"url"`
	TotalCount int    `json:"total_count"`
	PlusOne    int    `json:"+1"`
	MinusOne   int    `json:"-1"`
	Laugh      int    `json:"laugh"`
	Hooray     int    `json:"hooray"`
	Confused   int    `json:"confused"`
	Heart      int    `json:"heart"`
	Rocket     int    `json:"rocket"`
	Eyes       int    `json:"eyes"`
}

type commentJSON struct {
	ID                    int64         `json:"id"`
	NodeID                string        `json:"node_id"`
	URL                   string        `json:"url"`
	HTMLURL               string        `json:"html_url"`
	Body                  *string       `json:"body,omitempty"`
	BodyText              *string       `json:"body_text,omitempty"`
	BodyHTML              *string       `json:"body_html,omitempty"`
	User                  userJSON      `json:"user"`
	CreatedAt             string        `json:"created_at"`
	UpdatedAt             string        `json:"updated_at"`
	IssueURL              string        `json:"issue_url"`
	AuthorAssociation     string        `json:"author_association"`
	PerformedViaGithubApp *appJSON      `json:"performed_via_github_app"`
	Reactions             reactionsJSON `json:"reactions"`
}

// comment renders an issue comment in the media type the client asked for
// (raw, text, html or full, as GitHub's Accept header selects).
func (c *call) comment(cm *Comment) commentJSON {
	w := c.s.w
	r := w.repoByName[lower(cm.Repository)]
	kind := "issues"
	if is := w.issueByKey[issueKey{r.ID, cm.IssueNumber}]; is != nil && is.PullRequest != nil {
		kind = "pull"
	}
	api := c.api + "/repos/" + cm.Repository
	id := strconv.FormatInt(cm.ID, 10)
	out := commentJSON{
		ID:                cm.ID,
		NodeID:            nodeID("IssueComment", cm.ID),
		URL:               api + "/issues/comments/" + id,
		HTMLURL:           c.web + "/" + cm.Repository + "/" + kind + "/" + strconv.Itoa(cm.IssueNumber) + "#issuecomment-" + id,
		User:              c.login(cm.User),
		CreatedAt:         ts(cm.CreatedAt),
		UpdatedAt:         ts(cm.UpdatedAt),
		IssueURL:          api + "/issues/" + strconv.Itoa(cm.IssueNumber),
		AuthorAssociation: c.association(cm.User, r),
		Reactions:         reactionsJSON{URL: api + "/issues/comments/" + id + "/reactions"},
	}
	switch cm.ViaApp {
	case w.app.Slug:
		a := c.app(false)
		out.PerformedViaGithubApp = &a
	case actionsAppSlug:
		a := c.actionsApp()
		out.PerformedViaGithubApp = &a
	}
	body := cm.Body
	accept := c.r.Header.Get("Accept")
	switch {
	case strings.Contains(accept, "vnd.github.full"), strings.Contains(accept, "vnd.github.v3.full"):
		text, htm := body, renderHTML(body)
		out.Body, out.BodyText, out.BodyHTML = &body, &text, &htm
	case strings.Contains(accept, "vnd.github.text"), strings.Contains(accept, "vnd.github.v3.text"):
		out.BodyText = &body
	case strings.Contains(accept, "vnd.github.html"), strings.Contains(accept, "vnd.github.v3.html"):
		htm := renderHTML(body)
		out.BodyHTML = &htm
	default:
		out.Body = &body
	}
	return out
}

// renderHTML is a minimal stand-in for GitHub's Markdown rendering: one
// escaped paragraph per blank-line-separated block.
func renderHTML(body string) string {
	var b strings.Builder
	for _, para := range strings.Split(body, "\n\n") {
		if strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString("<p dir=\"auto\">")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>\n"))
		b.WriteString("</p>\n")
	}
	return b.String()
}

// association is GitHub's author_association of a user on a repository.
func (c *call) association(login string, r *Repository) string {
	a := c.s.w.accountByLogin[lower(login)]
	switch {
	case a == nil || a.Type == "Bot":
		return "NONE"
	case strings.EqualFold(a.Login, r.Owner):
		return "OWNER"
	case c.s.w.owner(r).Type == "Organization":
		return "MEMBER"
	}
	return "CONTRIBUTOR"
}

type linkJSON struct {
	Href string `json:"href"`
}

type prLinksJSON struct {
	Self           linkJSON `json:"self"`
	HTML           linkJSON `json:"html"`
	Issue          linkJSON `json:"issue"`
	Comments       linkJSON `json:"comments"`
	ReviewComments linkJSON `json:"review_comments"`
	ReviewComment  linkJSON `json:"review_comment"`
	Commits        linkJSON `json:"commits"`
	Statuses       linkJSON `json:"statuses"`
}

type prRefJSON struct {
	Label string   `json:"label"`
	Ref   string   `json:"ref"`
	SHA   string   `json:"sha"`
	User  userJSON `json:"user"`
	Repo  repoJSON `json:"repo"`
}

type prJSON struct {
	URL                 string      `json:"url"`
	ID                  int64       `json:"id"`
	NodeID              string      `json:"node_id"`
	HTMLURL             string      `json:"html_url"`
	DiffURL             string      `json:"diff_url"`
	PatchURL            string      `json:"patch_url"`
	IssueURL            string      `json:"issue_url"`
	Number              int         `json:"number"`
	State               string      `json:"state"`
	Locked              bool        `json:"locked"`
	Title               string      `json:"title"`
	User                userJSON    `json:"user"`
	Body                *string     `json:"body"`
	CreatedAt           string      `json:"created_at"`
	UpdatedAt           string      `json:"updated_at"`
	ClosedAt            *string     `json:"closed_at"`
	MergedAt            *string     `json:"merged_at"`
	MergeCommitSHA      *string     `json:"merge_commit_sha"`
	Assignee            *userJSON   `json:"assignee"`
	Assignees           []userJSON  `json:"assignees"`
	RequestedReviewers  []userJSON  `json:"requested_reviewers"`
	RequestedTeams      []struct{}  `json:"requested_teams"`
	Labels              []struct{}  `json:"labels"`
	Milestone           *struct{}   `json:"milestone"`
	Draft               bool        `json:"draft"`
	CommitsURL          string      `json:"commits_url"`
	ReviewCommentsURL   string      `json:"review_comments_url"`
	ReviewCommentURL    string      `json:"review_comment_url"`
	CommentsURL         string      `json:"comments_url"`
	StatusesURL         string      `json:"statuses_url"`
	Head                prRefJSON   `json:"head"`
	Base                prRefJSON   `json:"base"`
	Links               prLinksJSON `json:"_links"`
	AuthorAssociation   string      `json:"author_association"`
	AutoMerge           *struct{}   `json:"auto_merge"`
	ActiveLockReason    *string     `json:"active_lock_reason"`
	Merged              bool        `json:"merged"`
	Mergeable           *bool       `json:"mergeable"`
	Rebaseable          *bool       `json:"rebaseable"`
	MergeableState      string      `json:"mergeable_state"`
	MergedBy            *userJSON   `json:"merged_by"`
	Comments            int         `json:"comments"`
	ReviewComments      int         `json:"review_comments"`
	MaintainerCanModify bool        `json:"maintainer_can_modify"`
	Commits             int         `json:"commits"`
	Additions           int         `json:"additions"`
	Deletions           int         `json:"deletions"`
	ChangedFiles        int         `json:"changed_files"`
}

// pullID is a stable, GitHub-sized id for a pull request.
func pullID(r *Repository, number int) int64 {
	return 2000000000 + (r.ID%100000)*1000 + int64(number)
}

// pull renders a pull request; perms are the caller's on its repository.
func (c *call) pull(r *Repository, is *Issue, perms map[string]string) prJSON {
	w := c.s.w
	pr := is.PullRequest
	full := r.Owner + "/" + r.Name
	api := c.api + "/repos/" + full
	n := strconv.Itoa(is.Number)
	self := api + "/pulls/" + n
	htmlURL := c.web + "/" + full + "/pull/" + n
	id := pullID(r, is.Number)
	repo := c.repo(r, perms, false)
	ownerUser := c.user(w.owner(r))
	out := prJSON{
		URL:                self,
		ID:                 id,
		NodeID:             nodeID("PullRequest", id),
		HTMLURL:            htmlURL,
		DiffURL:            htmlURL + ".diff",
		PatchURL:           htmlURL + ".patch",
		IssueURL:           api + "/issues/" + n,
		Number:             is.Number,
		State:              is.State,
		Title:              is.Title,
		User:               c.login(is.User),
		Body:               nonEmpty(is.Body),
		CreatedAt:          ts(is.CreatedAt),
		UpdatedAt:          ts(is.UpdatedAt),
		ClosedAt:           tsp(is.ClosedAt),
		MergedAt:           tsp(pr.MergedAt),
		MergeCommitSHA:     nonEmpty(pr.MergeCommitSHA),
		Assignees:          []userJSON{},
		RequestedReviewers: []userJSON{},
		RequestedTeams:     []struct{}{},
		Labels:             []struct{}{},
		Draft:              pr.Draft,
		CommitsURL:         self + "/commits",
		ReviewCommentsURL:  self + "/comments",
		ReviewCommentURL:   api + "/pulls/comments{/number}",
		CommentsURL:        api + "/issues/" + n + "/comments",
		StatusesURL:        api + "/statuses/" + pr.HeadSHA,
		Head:               prRefJSON{Label: r.Owner + ":" + pr.HeadRef, Ref: pr.HeadRef, SHA: pr.HeadSHA, User: ownerUser, Repo: repo},
		Base:               prRefJSON{Label: r.Owner + ":" + pr.BaseRef, Ref: pr.BaseRef, SHA: pr.BaseSHA, User: ownerUser, Repo: repo},
		AuthorAssociation:  c.association(is.User, r),
		Merged:             pr.MergedAt != nil,
		MergeableState:     "unknown",
		Comments:           len(w.commentsByIssue[issueKey{r.ID, is.Number}]),
		Commits:            pr.Commits,
		Additions:          pr.Additions,
		Deletions:          pr.Deletions,
		ChangedFiles:       pr.ChangedFiles,
	}
	out.Links = prLinksJSON{
		Self:           linkJSON{self},
		HTML:           linkJSON{htmlURL},
		Issue:          linkJSON{api + "/issues/" + n},
		Comments:       linkJSON{api + "/issues/" + n + "/comments"},
		ReviewComments: linkJSON{self + "/comments"},
		ReviewComment:  linkJSON{api + "/pulls/comments{/number}"},
		Commits:        linkJSON{self + "/commits"},
		Statuses:       linkJSON{api + "/statuses/" + pr.HeadSHA},
	}
	if is.State == "open" {
		t := true
		out.Mergeable, out.Rebaseable = &t, &t
		out.MergeableState = "clean"
		if pr.Draft {
			out.MergeableState = "draft"
		}
		out.MaintainerCanModify = false
	}
	if pr.MergedBy != "" {
		u := c.login(pr.MergedBy)
		out.MergedBy = &u
	}
	return out
}

type patPermsJSON struct {
	Organization map[string]string `json:"organization"`
	Repository   map[string]string `json:"repository"`
	Other        map[string]string `json:"other"`
}

func patPerms(p PATPermissions) patPermsJSON {
	orEmpty := func(m map[string]string) map[string]string {
		if m == nil {
			return map[string]string{}
		}
		return m
	}
	return patPermsJSON{Organization: orEmpty(p.Organization), Repository: orEmpty(p.Repository), Other: orEmpty(p.Other)}
}

type patGrantJSON struct {
	ID                  int64        `json:"id"`
	Owner               userJSON     `json:"owner"`
	RepositorySelection string       `json:"repository_selection"`
	RepositoriesURL     string       `json:"repositories_url"`
	Permissions         patPermsJSON `json:"permissions"`
	AccessGrantedAt     string       `json:"access_granted_at"`
	TokenID             int64        `json:"token_id"`
	TokenName           string       `json:"token_name"`
	TokenExpired        bool         `json:"token_expired"`
	TokenExpiresAt      *string      `json:"token_expires_at"`
	TokenLastUsedAt     *string      `json:"token_last_used_at"`
}

func (c *call) patGrant(p *PersonalAccessToken) patGrantJSON {
	return patGrantJSON{
		ID:                  p.ID,
		Owner:               c.login(p.Owner),
		RepositorySelection: p.RepositorySelection,
		RepositoriesURL:     c.api + "/orgs/" + p.Organization + "/personal-access-tokens/" + strconv.FormatInt(p.ID, 10) + "/repositories",
		Permissions:         patPerms(p.Permissions),
		AccessGrantedAt:     ts(p.AccessGrantedAt),
		TokenID:             p.TokenID,
		TokenName:           p.TokenName,
		TokenExpired:        expired(p.TokenExpiresAt, c.now),
		TokenExpiresAt:      tsp(p.TokenExpiresAt),
		TokenLastUsedAt:     tsp(p.TokenLastUsedAt),
	}
}

type patRequestJSON struct {
	ID                  int64        `json:"id"`
	Reason              *string      `json:"reason"`
	Owner               userJSON     `json:"owner"`
	RepositorySelection string       `json:"repository_selection"`
	RepositoriesURL     string       `json:"repositories_url"`
	Permissions         patPermsJSON `json:"permissions"`
	CreatedAt           string       `json:"created_at"`
	TokenID             int64        `json:"token_id"`
	TokenName           string       `json:"token_name"`
	TokenExpired        bool         `json:"token_expired"`
	TokenExpiresAt      *string      `json:"token_expires_at"`
	TokenLastUsedAt     *string      `json:"token_last_used_at"`
}

func (c *call) patRequest(p *PersonalAccessTokenRequest) patRequestJSON {
	return patRequestJSON{
		ID:                  p.ID,
		Reason:              p.Reason,
		Owner:               c.login(p.Owner),
		RepositorySelection: p.RepositorySelection,
		RepositoriesURL:     c.api + "/orgs/" + p.Organization + "/personal-access-token-requests/" + strconv.FormatInt(p.ID, 10) + "/repositories",
		Permissions:         patPerms(p.Permissions),
		CreatedAt:           ts(p.CreatedAt),
		TokenID:             p.TokenID,
		TokenName:           p.TokenName,
		TokenExpired:        expired(p.TokenExpiresAt, c.now),
		TokenExpiresAt:      tsp(p.TokenExpiresAt),
		TokenLastUsedAt:     tsp(p.TokenLastUsedAt),
	}
}
