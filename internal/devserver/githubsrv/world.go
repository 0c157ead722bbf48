package githubsrv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The GitHub Actions app and its bot, as github.com has them.
const (
	actionsAppID     int64 = 15368
	actionsAppSlug         = "github-actions"
	actionsBotLogin        = "github-actions[bot]"
	actionsBotUserID int64 = 41898282
	githubOrgID      int64 = 9919
)

// issueKey names an issue: repository id and number.
type issueKey struct {
	repo   int64
	number int
}

// world is the server's whole state with its indexes. Every field is guarded
// by Server.mu; rate-limit windows live apart in the limiter.
type world struct {
	web string

	app    App
	key    *rsa.PrivateKey
	keyPEM []byte

	accounts       []*Account
	accountByLogin map[string]*Account // lower-case login

	repos      []*Repository
	repoByName map[string]*Repository // lower-case "owner/name"
	repoByID   map[int64]*Repository

	installs         []*Installation
	installByID      map[int64]*Installation
	installByAccount map[string]*Installation // lower-case login
	installRepoIDs   map[int64]map[int64]bool // for "selected" installations
	installRepos     map[int64][]*Repository  // every repository an installation covers, by id
	reposByOwner     map[string][]*Repository // lower-case login, by id

	issues     []*Issue
	issueByKey map[issueKey]*Issue

	// labels are each repository's labels, by repository id and lower-case
	// name (GitHub compares label names without case).
	labels      map[int64]map[string]*label
	nextLabelID int64

	comments        []*Comment
	commentByID     map[int64]*Comment
	commentsByIssue map[issueKey][]*Comment
	nextCommentID   int64

	pats       []*PersonalAccessToken
	patByID    map[int64]*PersonalAccessToken
	patReqs    []*PersonalAccessTokenRequest
	patReqByID map[int64]*PersonalAccessTokenRequest
	nextPATID  int64

	actions       []*ActionsToken
	actionsByHash map[string]*ActionsToken

	tokens     []*installationToken
	tokenByFpr map[string]*installationToken

	limits RateLimits
}

func lower(s string) string { return strings.ToLower(s) }

// buildWorld validates fx and indexes it. The fixture's slices are copied, so
// the caller's fixture is never changed.
func buildWorld(fx Fixture) (*world, error) {
	w := &world{
		web:              strings.TrimSuffix(fx.WebURL, "/"),
		app:              fx.App,
		accountByLogin:   map[string]*Account{},
		repoByName:       map[string]*Repository{},
		repoByID:         map[int64]*Repository{},
		installByID:      map[int64]*Installation{},
		installByAccount: map[string]*Installation{},
		installRepoIDs:   map[int64]map[int64]bool{},
		installRepos:     map[int64][]*Repository{},
		reposByOwner:     map[string][]*Repository{},
		issueByKey:       map[issueKey]*Issue{},
		labels:           map[int64]map[string]*label{},
		nextLabelID:      5000000001,
		commentByID:      map[int64]*Comment{},
		commentsByIssue:  map[issueKey][]*Comment{},
		patByID:          map[int64]*PersonalAccessToken{},
		patReqByID:       map[int64]*PersonalAccessTokenRequest{},
		actionsByHash:    map[string]*ActionsToken{},
		tokenByFpr:       map[string]*installationToken{},
		limits:           resolveLimits(fx.RateLimits),
	}
	for _, load := range []func(Fixture) error{
		w.loadApp,
		w.loadAccounts,
		w.loadRepositories,
		w.loadInstallations,
		w.loadIssues,
		w.loadComments,
		w.loadPATs,
		w.loadActionsTokens,
	} {
		if err := load(fx); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// loadApp checks and indexes the App and its key of fx.
func (w *world) loadApp(fx Fixture) error {
	a := &w.app
	if a.ID <= 0 || a.Slug == "" {
		return fixtureErr("app needs a positive id and a slug")
	}
	if a.Name == "" {
		a.Name = a.Slug
	}
	if a.BotUserID == 0 {
		a.BotUserID = 190000000 + a.ID%10000000
	}
	a.Permissions = clonePerms(a.Permissions)
	if err := checkPermissionSet("app", a.Permissions); err != nil {
		return fixtureErr("%v", err)
	}
	if err := w.loadKey(a.PrivateKeyPEM); err != nil {
		return fixtureErr("app private key: %v", err)
	}
	a.PrivateKeyPEM = string(w.keyPEM)
	return nil
}

// loadAccounts checks and indexes the accounts, with the two bots implied by the App and by Actions of fx.
func (w *world) loadAccounts(fx Fixture) error {
	a := &w.app
	addAccount := func(acc Account) error {
		if acc.Login == "" || acc.ID <= 0 {
			return fmt.Errorf("account %q needs a login and a positive id", acc.Login)
		}
		switch acc.Type {
		case "User", "Organization", "Bot":
		default:
			return fmt.Errorf("account %s: type %q is not User, Organization or Bot", acc.Login, acc.Type)
		}
		if w.accountByLogin[lower(acc.Login)] != nil {
			return fmt.Errorf("account %s listed twice", acc.Login)
		}
		for _, other := range w.accounts {
			if other.ID == acc.ID {
				return fmt.Errorf("accounts %s and %s share id %d", other.Login, acc.Login, acc.ID)
			}
		}
		p := acc
		w.accounts = append(w.accounts, &p)
		w.accountByLogin[lower(acc.Login)] = &p
		return nil
	}
	for _, acc := range fx.Accounts {
		if err := addAccount(acc); err != nil {
			return fixtureErr("%v", err)
		}
	}
	for _, bot := range []Account{
		{Login: a.Slug + "[bot]", ID: a.BotUserID, Type: "Bot"},
		{Login: actionsBotLogin, ID: actionsBotUserID, Type: "Bot"},
	} {
		if w.accountByLogin[lower(bot.Login)] == nil {
			if err := addAccount(bot); err != nil {
				return fixtureErr("%v", err)
			}
		}
	}
	if w.accountByLogin[lower(a.Owner)] == nil {
		return fixtureErr("app owner %q is not an account", a.Owner)
	}
	return nil
}

// loadRepositories checks and indexes the repositories of fx.
func (w *world) loadRepositories(fx Fixture) error {
	for _, r := range fx.Repositories {
		p := r
		p.Topics = append([]string(nil), r.Topics...)
		owner := w.accountByLogin[lower(p.Owner)]
		if owner == nil {
			return fixtureErr("repository %s/%s: owner is not an account", p.Owner, p.Name)
		}
		p.Owner = owner.Login
		if p.ID <= 0 || p.Name == "" {
			return fixtureErr("repository %s/%s needs a positive id and a name", p.Owner, p.Name)
		}
		if p.DefaultBranch == "" {
			p.DefaultBranch = "main"
		}
		full := lower(p.Owner + "/" + p.Name)
		if w.repoByName[full] != nil || w.repoByID[p.ID] != nil {
			return fixtureErr("repository %s/%s (id %d) listed twice", p.Owner, p.Name, p.ID)
		}
		w.repos = append(w.repos, &p)
		w.repoByName[full] = &p
		w.repoByID[p.ID] = &p
	}
	sort.SliceStable(w.repos, func(i, j int) bool { return w.repos[i].ID < w.repos[j].ID })
	for _, r := range w.repos {
		w.reposByOwner[lower(r.Owner)] = append(w.reposByOwner[lower(r.Owner)], r)
	}
	return nil
}

// loadInstallations checks and indexes the installations and their repositories of fx.
func (w *world) loadInstallations(fx Fixture) error {
	a := &w.app
	for _, in := range fx.Installations {
		p := in
		p.Repositories = append([]string(nil), in.Repositories...)
		p.Permissions = clonePerms(in.Permissions)
		p.Events = append([]string(nil), in.Events...)
		acc := w.accountByLogin[lower(p.Account)]
		if acc == nil {
			return fixtureErr("installation %d: account %q is not an account", p.ID, p.Account)
		}
		p.Account = acc.Login
		if p.ID <= 0 || w.installByID[p.ID] != nil {
			return fixtureErr("installation %d: id must be positive and unique", p.ID)
		}
		if w.installByAccount[lower(acc.Login)] != nil {
			return fixtureErr("installation %d: account %s already has an installation", p.ID, acc.Login)
		}
		if err := checkPermissionSet(fmt.Sprintf("installation %d", p.ID), p.Permissions); err != nil {
			return fixtureErr("%v", err)
		}
		if !within(p.Permissions, a.Permissions) {
			return fixtureErr("installation %d grants more than the app's permissions", p.ID)
		}
		switch p.RepositorySelection {
		case "all":
			w.installRepos[p.ID] = w.reposByOwner[lower(acc.Login)]
		case "selected":
			set := map[int64]bool{}
			for _, name := range p.Repositories {
				r := w.repoByName[lower(acc.Login+"/"+name)]
				if r == nil {
					return fixtureErr("installation %d: repository %s/%s does not exist", p.ID, acc.Login, name)
				}
				set[r.ID] = true
			}
			w.installRepoIDs[p.ID] = set
			for _, r := range w.reposByOwner[lower(acc.Login)] {
				if set[r.ID] {
					w.installRepos[p.ID] = append(w.installRepos[p.ID], r)
				}
			}
		default:
			return fixtureErr("installation %d: repository_selection %q is not all or selected", p.ID, p.RepositorySelection)
		}
		w.installs = append(w.installs, &p)
		w.installByID[p.ID] = &p
		w.installByAccount[lower(acc.Login)] = &p
	}
	sort.SliceStable(w.installs, func(i, j int) bool { return w.installs[i].ID < w.installs[j].ID })
	return nil
}

// loadIssues checks and indexes the issues and pull requests of fx.
func (w *world) loadIssues(fx Fixture) error {
	a := &w.app
	for _, is := range fx.Issues {
		p := is
		if p.PullRequest != nil {
			pr := *p.PullRequest
			p.PullRequest = &pr
		}
		r := w.repoByName[lower(p.Repository)]
		if r == nil {
			return fixtureErr("issue %s#%d: repository does not exist", p.Repository, p.Number)
		}
		p.Repository = r.Owner + "/" + r.Name
		if p.Number <= 0 {
			return fixtureErr("issue %s#%d: number must be positive", p.Repository, p.Number)
		}
		if w.accountByLogin[lower(p.User)] == nil {
			return fixtureErr("issue %s#%d: user %q is not an account", p.Repository, p.Number, p.User)
		}
		if p.State != "open" && p.State != "closed" {
			return fixtureErr("issue %s#%d: state %q is not open or closed", p.Repository, p.Number, p.State)
		}
		if pr := p.PullRequest; pr != nil && pr.MergedBy != "" && w.accountByLogin[lower(pr.MergedBy)] == nil {
			return fixtureErr("pull request %s#%d: merged_by %q is not an account", p.Repository, p.Number, pr.MergedBy)
		}
		k := issueKey{r.ID, p.Number}
		if w.issueByKey[k] != nil {
			return fixtureErr("issue %s#%d listed twice", p.Repository, p.Number)
		}
		if p.ClosedBy != "" && w.accountByLogin[lower(p.ClosedBy)] == nil {
			return fixtureErr("issue %s#%d: closed_by %q is not an account", p.Repository, p.Number, p.ClosedBy)
		}
		switch p.StateReason {
		case "", "completed", "not_planned", "duplicate", "reopened":
		default:
			return fixtureErr("issue %s#%d: state_reason %q is not completed, not_planned, duplicate or reopened", p.Repository, p.Number, p.StateReason)
		}
		if p.ViaApp != "" && p.ViaApp != a.Slug && p.ViaApp != actionsAppSlug {
			return fixtureErr("issue %s#%d: via_app %q is neither %q nor %q", p.Repository, p.Number, p.ViaApp, a.Slug, actionsAppSlug)
		}
		p.Labels = w.ensureLabels(r, p.Labels)
		w.issues = append(w.issues, &p)
		w.issueByKey[k] = &p
	}
	return nil
}

// loadComments checks and indexes the comments of fx.
func (w *world) loadComments(fx Fixture) error {
	a := &w.app
	for _, c := range fx.Comments {
		p := c
		r := w.repoByName[lower(p.Repository)]
		if r == nil || w.issueByKey[issueKey{r.ID, p.IssueNumber}] == nil {
			return fixtureErr("comment %d: issue %s#%d does not exist", p.ID, p.Repository, p.IssueNumber)
		}
		p.Repository = r.Owner + "/" + r.Name
		if p.ID <= 0 || w.commentByID[p.ID] != nil {
			return fixtureErr("comment %d: id must be positive and unique", p.ID)
		}
		if w.accountByLogin[lower(p.User)] == nil {
			return fixtureErr("comment %d: user %q is not an account", p.ID, p.User)
		}
		if p.ViaApp != "" && p.ViaApp != a.Slug && p.ViaApp != actionsAppSlug {
			return fixtureErr("comment %d: via_app %q is neither %q nor %q", p.ID, p.ViaApp, a.Slug, actionsAppSlug)
		}
		w.addComment(&p, r.ID)
	}
	sort.SliceStable(w.comments, func(i, j int) bool { return w.comments[i].ID < w.comments[j].ID })
	w.nextCommentID = 2400000001
	for _, c := range w.comments {
		if c.ID >= w.nextCommentID {
			w.nextCommentID = c.ID + 1
		}
	}
	return nil
}

// loadPATs checks and indexes the fine-grained PATs and their requests of fx.
func (w *world) loadPATs(fx Fixture) error {
	checkPAT := func(what, org, owner, selection string, repos []string, perms PATPermissions) (string, string, error) {
		o := w.accountByLogin[lower(org)]
		if o == nil || o.Type != "Organization" {
			return "", "", fmt.Errorf("%s: organization %q is not an organization account", what, org)
		}
		u := w.accountByLogin[lower(owner)]
		if u == nil {
			return "", "", fmt.Errorf("%s: owner %q is not an account", what, owner)
		}
		switch selection {
		case "none", "all", "subset":
		default:
			return "", "", fmt.Errorf("%s: repository_selection %q is not none, all or subset", what, selection)
		}
		for _, name := range repos {
			if w.repoByName[lower(o.Login+"/"+name)] == nil {
				return "", "", fmt.Errorf("%s: repository %s/%s does not exist", what, o.Login, name)
			}
		}
		for kind, m := range map[string]map[string]string{"organization": perms.Organization, "repository": perms.Repository, "other": perms.Other} {
			for name, level := range m {
				if permLevel(level) == levelNone {
					return "", "", fmt.Errorf("%s: %s permission %s has level %q", what, kind, name, level)
				}
			}
		}
		return o.Login, u.Login, nil
	}
	w.nextPATID = 1
	for _, t := range fx.PersonalAccessTokens {
		p := t
		p.Repositories = append([]string(nil), t.Repositories...)
		p.Permissions = clonePATPerms(t.Permissions)
		org, owner, err := checkPAT(fmt.Sprintf("personal access token %d", p.ID), p.Organization, p.Owner, p.RepositorySelection, p.Repositories, p.Permissions)
		if err != nil {
			return fixtureErr("%v", err)
		}
		p.Organization, p.Owner = org, owner
		if p.ID <= 0 || w.patByID[p.ID] != nil {
			return fixtureErr("personal access token %d: id must be positive and unique", p.ID)
		}
		w.pats = append(w.pats, &p)
		w.patByID[p.ID] = &p
		if p.ID >= w.nextPATID {
			w.nextPATID = p.ID + 1
		}
	}
	for _, t := range fx.PersonalAccessTokenRequests {
		p := t
		p.Repositories = append([]string(nil), t.Repositories...)
		p.Permissions = clonePATPerms(t.Permissions)
		org, owner, err := checkPAT(fmt.Sprintf("personal access token request %d", p.ID), p.Organization, p.Owner, p.RepositorySelection, p.Repositories, p.Permissions)
		if err != nil {
			return fixtureErr("%v", err)
		}
		p.Organization, p.Owner = org, owner
		if p.Status == "" {
			p.Status = "pending"
		}
		if p.Status != "pending" && p.Status != "approved" && p.Status != "denied" {
			return fixtureErr("personal access token request %d: status %q is not pending, approved or denied", p.ID, p.Status)
		}
		if p.ID <= 0 || w.patReqByID[p.ID] != nil {
			return fixtureErr("personal access token request %d: id must be positive and unique", p.ID)
		}
		w.patReqs = append(w.patReqs, &p)
		w.patReqByID[p.ID] = &p
	}
	return nil
}

// loadActionsTokens checks and indexes the Actions tokens of fx.
func (w *world) loadActionsTokens(fx Fixture) error {
	for i, t := range fx.ActionsTokens {
		p := t
		p.Permissions = clonePerms(t.Permissions)
		r := w.repoByName[lower(p.Repository)]
		if r == nil {
			return fixtureErr("actions token %d: repository %q does not exist", i, p.Repository)
		}
		p.Repository = r.Owner + "/" + r.Name
		if p.Permissions == nil {
			p.Permissions = map[string]string{"contents": "read", "issues": "write", "metadata": "read", "pull_requests": "write"}
		}
		if err := checkPermissionSet(fmt.Sprintf("actions token %d", i), p.Permissions); err != nil {
			return fixtureErr("%v", err)
		}
		if p.InstallationID == 0 {
			p.InstallationID = 50000000 + r.ID%10000000
		}
		if p.Token == "" {
			tok, err := newToken()
			if err != nil {
				return err
			}
			p.Token = tok
		}
		h := fingerprint(p.Token)
		if w.actionsByHash[h] != nil {
			return fixtureErr("actions token %d: token listed twice", i)
		}
		w.actions = append(w.actions, &p)
		w.actionsByHash[h] = &p
	}
	return nil
}

func fixtureErr(format string, args ...any) error {
	return fmt.Errorf("githubsrv: fixture: "+format, args...)
}

func clonePATPerms(p PATPermissions) PATPermissions {
	return PATPermissions{Organization: clonePerms(p.Organization), Repository: clonePerms(p.Repository), Other: clonePerms(p.Other)}
}

// loadKey parses pemText, or generates a 2048-bit key when it is empty.
// processKey is the App key of every server of this process that was given
// none: generating a 2048-bit RSA key costs about 100 ms of CPU, which the
// tests paid once per server (over half of the apply tests' CPU). The key
// never leaves the process unless a server saves its state.
var processKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

func (w *world) loadKey(pemText string) error {
	if pemText == "" {
		key, err := processKey()
		if err != nil {
			return err
		}
		w.key = key
		w.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		return nil
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(pemText))
	if err != nil {
		return err
	}
	if key.N.BitLen() < 2048 {
		return errors.New("GitHub App keys are at least 2048 bits")
	}
	w.key = key
	w.keyPEM = []byte(pemText)
	return nil
}

func (w *world) addComment(c *Comment, repoID int64) {
	k := issueKey{repoID, c.IssueNumber}
	w.comments = append(w.comments, c)
	w.commentByID[c.ID] = c
	w.commentsByIssue[k] = append(w.commentsByIssue[k], c)
}

// repo finds a repository by owner and name, case-insensitively.
func (w *world) repo(owner, name string) *Repository {
	return w.repoByName[lower(owner+"/"+name)]
}

// owner returns a repository's owning account.
func (w *world) owner(r *Repository) *Account { return w.accountByLogin[lower(r.Owner)] }

// installationFor returns the installation covering r, if any.
func (w *world) installationFor(r *Repository) *Installation {
	in := w.installByAccount[lower(r.Owner)]
	if in == nil || !w.covers(in, r) {
		return nil
	}
	return in
}

// covers reports whether installation in can reach repository r.
func (w *world) covers(in *Installation, r *Repository) bool {
	if !strings.EqualFold(in.Account, r.Owner) {
		return false
	}
	if in.RepositorySelection == "all" {
		return true
	}
	return w.installRepoIDs[in.ID][r.ID]
}

// openIssues counts a repository's open issues and pull requests, as GitHub's
// open_issues_count does.
func (w *world) openIssues(r *Repository) int {
	n := 0
	for _, is := range w.issues {
		if is.State == "open" && strings.EqualFold(is.Repository, r.Owner+"/"+r.Name) {
			n++
		}
	}
	return n
}

// toFixture returns the fixture as the server has changed it.
func (w *world) toFixture() Fixture {
	fx := Fixture{WebURL: w.web, App: w.app, RateLimits: w.limits}
	fx.App.Permissions = clonePerms(w.app.Permissions)
	fx.App.PrivateKeyPEM = string(w.keyPEM)
	for _, a := range w.accounts {
		fx.Accounts = append(fx.Accounts, *a)
	}
	for _, r := range w.repos {
		fx.Repositories = append(fx.Repositories, *r)
	}
	for _, in := range w.installs {
		fx.Installations = append(fx.Installations, *in)
	}
	for _, is := range w.issues {
		fx.Issues = append(fx.Issues, *is)
	}
	for _, c := range w.comments {
		fx.Comments = append(fx.Comments, *c)
	}
	for _, p := range w.pats {
		fx.PersonalAccessTokens = append(fx.PersonalAccessTokens, *p)
	}
	for _, p := range w.patReqs {
		fx.PersonalAccessTokenRequests = append(fx.PersonalAccessTokenRequests, *p)
	}
	for _, t := range w.actions {
		fx.ActionsTokens = append(fx.ActionsTokens, *t)
	}
	return fx
}

// expired reports whether t is set and not after now.
func expired(t *time.Time, now time.Time) bool { return t != nil && !t.After(now) }
