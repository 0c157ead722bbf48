package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	gh "github.com/google/go-github/v62/github"

	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// issueRoutes are the issue operations handoff's alerts use. They are in
// no contract file (github.openapi.json has the comment routes only), so
// they are listed here by hand, with the classes GitHub's secondary limit
// gives them (a read costs 1 point, a write 5).
var issueRoutes = []pace.Route{
	{Method: "GET", Path: "/repos/{owner}/{repo}/issues", Class: "reads"},
	{Method: "POST", Path: "/repos/{owner}/{repo}/issues", Class: "writes"},
	{Method: "PATCH", Path: "/repos/{owner}/{repo}/issues/{issue_number}", Class: "writes"},
}

// MaxIssueTitleChars is GitHub's limit on an issue title, in characters.
const MaxIssueTitleChars = 256

// Issue is what handoff reads of an issue.
type Issue struct {
	Number int
	Title  string
	Body   string
	// State is "open" or "closed"; StateReason "completed", "not_planned",
	// "reopened" or "".
	State       string
	StateReason string
	Labels      []string
	Author      string
	HTMLURL     string
}

// IssueFilter selects the issues ListIssues returns.
type IssueFilter struct {
	// Labels: issues with every one of them.
	Labels []string
	// State is "open" (the default), "closed" or "all".
	State string
	// Creator is a login ("github-actions[bot]"); "" is anyone.
	Creator string
}

// IssueEdit is a change to an issue; empty fields are left as they are.
type IssueEdit struct {
	Title, Body string
	// State is "open" or "closed"; StateReason goes with a close
	// ("completed" or "not_planned").
	State, StateReason string
}

// issueRemedy says what to do about a refused issue request.
func issueRemedy(owner, repo string) func(*httpx.APIError) {
	return func(ae *httpx.APIError) {
		switch ae.Status {
		case http.StatusForbidden:
			if !strings.Contains(strings.ToLower(ae.Message), "rate limit") {
				ae.Remedy = fmt.Sprintf("the token cannot open or edit issues on %s/%s: it needs issues: write (in GitHub Actions: permissions: issues: write)", owner, repo)
			}
		case http.StatusNotFound:
			ae.Remedy = fmt.Sprintf("check %s/%s, and that the token reaches that repository", owner, repo)
		case http.StatusGone:
			ae.Remedy = fmt.Sprintf("issues are disabled on %s/%s: enable them (Settings → General → Features) or alert elsewhere", owner, repo)
		}
	}
}

func checkIssueText(title, body string) error {
	if n := utf8.RuneCountInString(title); n > MaxIssueTitleChars {
		return fmt.Errorf("github: the issue title is %d characters, GitHub's limit is %d", n, MaxIssueTitleChars)
	}
	if n := utf8.RuneCountInString(body); n > MaxCommentChars {
		return fmt.Errorf("%w: the issue body is %d characters, GitHub's limit is %d", ErrCommentTooLong, n, MaxCommentChars)
	}
	return nil
}

func fromGitHubIssue(is *gh.Issue) Issue {
	out := Issue{Number: is.GetNumber(), Title: is.GetTitle(), Body: is.GetBody(), State: is.GetState(),
		StateReason: is.GetStateReason(), HTMLURL: is.GetHTMLURL()}
	if is.User != nil {
		out.Author = is.User.GetLogin()
	}
	for _, l := range is.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

// ListIssues returns the issues of owner/repo that filter selects (GET
// /repos/{owner}/{repo}/issues, 100 a page, newest first), pull requests
// left out.
func (c *Client) ListIssues(ctx context.Context, token, owner, repo string, filter IssueFilter) ([]Issue, error) {
	if err := checkOwnerRepo(owner, repo); err != nil {
		return nil, err
	}
	s, err := c.withToken(token)
	if err != nil {
		return nil, err
	}
	state := filter.State
	if state == "" {
		state = "open"
	}
	list, err := paginate(ctx, c, s, fmt.Sprintf("list the issues of %s/%s", owner, repo), issueRemedy(owner, repo),
		func(ctx context.Context, g *gh.Client, opts gh.ListOptions) ([]*gh.Issue, *gh.Response, error) {
			return g.Issues.ListByRepo(ctx, owner, repo, &gh.IssueListByRepoOptions{
				State: state, Labels: filter.Labels, Creator: filter.Creator, ListOptions: opts})
		})
	if err != nil {
		return nil, err
	}
	var out []Issue
	for _, is := range list {
		if is.IsPullRequest() {
			continue
		}
		out = append(out, fromGitHubIssue(is))
	}
	return out, nil
}

// CreateIssue opens an issue on owner/repo with title, body and labels.
func (c *Client) CreateIssue(ctx context.Context, token, owner, repo, title, body string, labels []string) (Issue, error) {
	if err := checkOwnerRepo(owner, repo); err != nil {
		return Issue{}, err
	}
	if strings.TrimSpace(title) == "" {
		return Issue{}, errors.New("github: create issue: the title is empty")
	}
	if err := checkIssueText(title, body); err != nil {
		return Issue{}, err
	}
	s, err := c.withToken(token)
	if err != nil {
		return Issue{}, err
	}
	req := &gh.IssueRequest{Title: gh.String(title), Body: gh.String(body)}
	if len(labels) > 0 {
		req.Labels = &labels
	}
	var is *gh.Issue
	err = c.call(ctx, s, fmt.Sprintf("open an issue on %s/%s", owner, repo), issueRemedy(owner, repo),
		func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
			var resp *gh.Response
			var err error
			is, resp, err = g.Issues.Create(ctx, owner, repo, req)
			return resp, err
		})
	if err != nil {
		return Issue{}, err
	}
	return fromGitHubIssue(is), nil
}

// EditIssue changes issue number of owner/repo (PATCH
// /repos/{owner}/{repo}/issues/{n}): its title, body, state and
// state_reason.
func (c *Client) EditIssue(ctx context.Context, token, owner, repo string, number int, edit IssueEdit) (Issue, error) {
	if err := checkOwnerRepo(owner, repo); err != nil {
		return Issue{}, err
	}
	if number <= 0 {
		return Issue{}, fmt.Errorf("github: edit issue: %d is not an issue number", number)
	}
	if err := checkIssueText(edit.Title, edit.Body); err != nil {
		return Issue{}, err
	}
	s, err := c.withToken(token)
	if err != nil {
		return Issue{}, err
	}
	req := &gh.IssueRequest{}
	if edit.Title != "" {
		req.Title = gh.String(edit.Title)
	}
	if edit.Body != "" {
		req.Body = gh.String(edit.Body)
	}
	if edit.State != "" {
		req.State = gh.String(edit.State)
	}
	if edit.StateReason != "" {
		req.StateReason = gh.String(edit.StateReason)
	}
	var is *gh.Issue
	err = c.call(ctx, s, fmt.Sprintf("edit issue %s/%s#%d", owner, repo, number), issueRemedy(owner, repo),
		func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
			var resp *gh.Response
			var err error
			is, resp, err = g.Issues.Edit(ctx, owner, repo, number, req)
			return resp, err
		})
	if err != nil {
		return Issue{}, err
	}
	return fromGitHubIssue(is), nil
}
