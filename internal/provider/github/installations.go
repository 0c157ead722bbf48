package github

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/raxx-app/handoff/internal/provider/httpx"
)

// App is the GitHub App handoff authenticates as.
type App struct {
	ID       int64
	Slug     string
	Name     string
	ClientID string
	// Owner is the login of the account that registered the App.
	Owner string
	// Permissions are the App's registered permissions: the ceiling of what
	// any installation, hence any token, can hold.
	Permissions map[string]string
}

// Installation is the App installed on an organization or user account.
type Installation struct {
	ID int64
	// Account is the login of the account the App is installed on.
	Account string
	// TargetType is "Organization" or "User".
	TargetType string
	// RepositorySelection is "all" or "selected" (only the repositories the
	// owner picked).
	RepositorySelection string
	// Permissions are what the installation can grant a token: permission
	// name → "read", "write" or "admin".
	Permissions map[string]string
	// SuspendedAt is zero unless the installation is suspended, in which case
	// GitHub refuses to mint tokens from it.
	SuspendedAt time.Time
}

// Suspended reports whether the installation is suspended.
func (i Installation) Suspended() bool { return !i.SuspendedAt.IsZero() }

// wireInstallation decodes GitHub's installation object. go-github's own
// struct would drop permissions it does not know (organization_personal_access_tokens).
type wireInstallation struct {
	ID      int64 `json:"id"`
	Account *struct {
		Login string `json:"login"`
		Slug  string `json:"slug"` // enterprise installations
	} `json:"account"`
	TargetType          string            `json:"target_type"`
	RepositorySelection string            `json:"repository_selection"`
	Permissions         map[string]string `json:"permissions"`
	SuspendedAt         *time.Time        `json:"suspended_at"`
}

func (w wireInstallation) installation() Installation {
	inst := Installation{
		ID:                  w.ID,
		TargetType:          w.TargetType,
		RepositorySelection: w.RepositorySelection,
		Permissions:         w.Permissions,
	}
	if inst.Permissions == nil {
		inst.Permissions = map[string]string{}
	}
	if w.Account != nil {
		inst.Account = w.Account.Login
		if inst.Account == "" {
			inst.Account = w.Account.Slug
		}
	}
	if w.SuspendedAt != nil {
		inst.SuspendedAt = *w.SuspendedAt
	}
	return inst
}

// App returns the authenticated App (GET /app).
func (c *Client) App(ctx context.Context) (App, error) {
	var w struct {
		ID       int64  `json:"id"`
		Slug     string `json:"slug"`
		Name     string `json:"name"`
		ClientID string `json:"client_id"`
		Owner    *struct {
			Login string `json:"login"`
		} `json:"owner"`
		Permissions map[string]string `json:"permissions"`
	}
	err := c.call(ctx, c.appSession(), "read the App", nil, func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
		return getJSON(ctx, g, "app", &w)
	})
	if err != nil {
		return App{}, err
	}
	app := App{ID: w.ID, Slug: w.Slug, Name: w.Name, ClientID: w.ClientID, Permissions: w.Permissions}
	if w.Owner != nil {
		app.Owner = w.Owner.Login
	}
	return app, nil
}

// Installations lists every installation of the App (GET
// /app/installations, 100 a page: one request for up to 100 installations).
func (c *Client) Installations(ctx context.Context) ([]Installation, error) {
	ws, err := paginate(ctx, c, c.appSession(), "list the App's installations", nil,
		func(ctx context.Context, g *gh.Client, opts gh.ListOptions) ([]wireInstallation, *gh.Response, error) {
			var page []wireInstallation
			resp, err := getJSON(ctx, g, fmt.Sprintf("app/installations?per_page=%d&page=%d", opts.PerPage, opts.Page), &page)
			return page, resp, err
		})
	if err != nil {
		return nil, err
	}
	out := make([]Installation, len(ws))
	for i, w := range ws {
		out[i] = w.installation()
	}
	return out, nil
}

// InstallationByID returns one installation of the App (GET
// /app/installations/{id}).
func (c *Client) InstallationByID(ctx context.Context, id int64) (Installation, error) {
	var w wireInstallation
	err := c.call(ctx, c.appSession(), fmt.Sprintf("read installation %d", id), func(ae *httpx.APIError) {
		if ae.Status == http.StatusNotFound {
			ae.Remedy = fmt.Sprintf("installation %d does not exist or the App was uninstalled: find it again by repository or organization", id)
		}
	}, func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
		return getJSON(ctx, g, fmt.Sprintf("app/installations/%d", id), &w)
	})
	if err != nil {
		return Installation{}, err
	}
	return w.installation(), nil
}

// InstallationForRepo finds the installation that covers owner/repo (GET
// /repos/{owner}/{repo}/installation). A 404 (the App is not installed on the
// repository, or the repository does not exist) matches ErrNotFound.
func (c *Client) InstallationForRepo(ctx context.Context, owner, repo string) (Installation, error) {
	if err := checkOwnerRepo(owner, repo); err != nil {
		return Installation{}, err
	}
	var w wireInstallation
	err := c.call(ctx, c.appSession(), fmt.Sprintf("find the App installation for %s/%s", owner, repo), func(ae *httpx.APIError) {
		if ae.Status == http.StatusNotFound {
			ae.Remedy = fmt.Sprintf("install the App on %s/%s (organization settings → GitHub Apps → Configure → Repository access), or check the repository name", owner, repo)
		}
	}, func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
		return getJSON(ctx, g, fmt.Sprintf("repos/%s/%s/installation", owner, repo), &w)
	})
	if err != nil {
		return Installation{}, err
	}
	return w.installation(), nil
}

// InstallationForOrg finds the App's installation on an organization (GET
// /orgs/{org}/installation). A 404 matches ErrNotFound.
func (c *Client) InstallationForOrg(ctx context.Context, org string) (Installation, error) {
	if err := checkName("organization", org); err != nil {
		return Installation{}, err
	}
	var w wireInstallation
	err := c.call(ctx, c.appSession(), fmt.Sprintf("find the App installation on %s", org), func(ae *httpx.APIError) {
		if ae.Status == http.StatusNotFound {
			ae.Remedy = fmt.Sprintf("install the App on the organization %s", org)
		}
	}, func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
		return getJSON(ctx, g, fmt.Sprintf("orgs/%s/installation", org), &w)
	})
	if err != nil {
		return Installation{}, err
	}
	return w.installation(), nil
}

// Permission levels in increasing order; a level includes the ones below.
var levelRank = map[string]int{"read": 1, "write": 2, "admin": 3}

// CheckGrant returns, sorted, what inst cannot grant of perms: one line per
// permission, such as "contents: write > installation's read" or
// "administration: write > installation's none", plus a line when the
// installation is suspended. An empty result means a token narrowed to perms
// can be minted from inst (repositories aside). It makes no request: plan
// uses it to catch at plan time the 422 that apply would meet.
func CheckGrant(inst Installation, perms map[string]string) []string {
	var out []string
	for name, want := range perms {
		w, ok := levelRank[want]
		if !ok {
			out = append(out, fmt.Sprintf("%s: %q is not a permission level (want read, write or admin)", name, want))
			continue
		}
		have := inst.Permissions[name]
		if levelRank[have] < w {
			if have == "" {
				have = "none"
			}
			out = append(out, fmt.Sprintf("%s: %s > installation's %s", name, want, have))
		}
	}
	sort.Strings(out)
	if inst.Suspended() {
		out = append(out, fmt.Sprintf("installation %d on %s is suspended since %s", inst.ID, inst.Account, inst.SuspendedAt.UTC().Format(time.RFC3339)))
	}
	return out
}

// GitHub logins, organization and repository names: letters, digits, '-',
// '_' and '.', never "." or "..". Checked before they go into a URL path,
// where go-github does not escape them.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

func checkName(what, s string) error {
	if !namePattern.MatchString(s) || s == "." || s == ".." {
		return fmt.Errorf("github: %q is not a valid %s name", s, what)
	}
	return nil
}

func checkOwnerRepo(owner, repo string) error {
	if err := checkName("owner", owner); err != nil {
		return err
	}
	return checkName("repository", repo)
}
