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
)

// MaxCommentChars is GitHub's limit on a comment body, in characters.
const MaxCommentChars = 65536

// PullRequest is what handoff reads of a pull request.
type PullRequest struct {
	Number int
	Title  string
	// State is "open" or "closed".
	State   string
	Draft   bool
	Merged  bool
	Author  string
	HeadRef string
	HeadSHA string
	BaseRef string
	HTMLURL string
}

func checkBody(body string) error {
	if strings.TrimSpace(body) == "" {
		return errors.New("github: the comment body is empty")
	}
	if n := utf8.RuneCountInString(body); n > MaxCommentChars {
		return fmt.Errorf("%w: the body is %d characters, GitHub's limit is %d: summarise it or link to the full text", ErrCommentTooLong, n, MaxCommentChars)
	}
	return nil
}

func commentRemedy(owner, repo string) func(*httpx.APIError) {
	return func(ae *httpx.APIError) {
		switch ae.Status {
		case http.StatusForbidden:
			if !strings.Contains(strings.ToLower(ae.Message), "rate limit") {
				ae.Remedy = fmt.Sprintf("the token cannot comment on %s/%s: it needs pull_requests: write or issues: write (in GitHub Actions: permissions: pull-requests: write)", owner, repo)
			}
		case http.StatusNotFound:
			ae.Remedy = fmt.Sprintf("check %s/%s and the pull request number, and that the token reaches that repository", owner, repo)
		case http.StatusGone:
			ae.Remedy = fmt.Sprintf("issues are disabled on %s/%s", owner, repo)
		}
	}
}

// FindComment looks through every comment of issue or pull request number
// (GET /repos/{owner}/{repo}/issues/{n}/comments, 100 a page) for the first,
// oldest, whose body contains marker (a hidden HTML comment that identifies
// handoff's plan comment). found is false when there is none.
func (c *Client) FindComment(ctx context.Context, token, owner, repo string, number int, marker string) (id int64, found bool, err error) {
	if err := checkOwnerRepo(owner, repo); err != nil {
		return 0, false, err
	}
	if strings.TrimSpace(marker) == "" {
		return 0, false, errors.New("github: find comment: the marker is empty")
	}
	if number <= 0 {
		return 0, false, fmt.Errorf("github: find comment: %d is not an issue number", number)
	}
	s, err := c.withToken(token)
	if err != nil {
		return 0, false, err
	}
	comments, err := paginate(ctx, c, s, fmt.Sprintf("list the comments of %s/%s#%d", owner, repo, number), commentRemedy(owner, repo),
		func(ctx context.Context, g *gh.Client, opts gh.ListOptions) ([]*gh.IssueComment, *gh.Response, error) {
			return g.Issues.ListComments(ctx, owner, repo, number, &gh.IssueListCommentsOptions{ListOptions: opts})
		})
	if err != nil {
		return 0, false, err
	}
	for _, cm := range comments {
		if strings.Contains(cm.GetBody(), marker) {
			return cm.GetID(), true, nil
		}
	}
	return 0, false, nil
}

// CreateComment posts body on issue or pull request number and returns the
// comment's id. A body over MaxCommentChars fails before any request with an
// error matching ErrCommentTooLong. A failed post is an error, never
// silently ignored.
func (c *Client) CreateComment(ctx context.Context, token, owner, repo string, number int, body string) (int64, error) {
	if err := checkOwnerRepo(owner, repo); err != nil {
		return 0, err
	}
	if number <= 0 {
		return 0, fmt.Errorf("github: create comment: %d is not an issue number", number)
	}
	if err := checkBody(body); err != nil {
		return 0, err
	}
	s, err := c.withToken(token)
	if err != nil {
		return 0, err
	}
	var cm *gh.IssueComment
	err = c.call(ctx, s, fmt.Sprintf("comment on %s/%s#%d", owner, repo, number), commentRemedy(owner, repo),
		func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
			var resp *gh.Response
			var err error
			cm, resp, err = g.Issues.CreateComment(ctx, owner, repo, number, &gh.IssueComment{Body: gh.String(body)})
			return resp, err
		})
	if err != nil {
		return 0, err
	}
	return cm.GetID(), nil
}

// UpdateComment replaces the body of comment id (PATCH
// /repos/{owner}/{repo}/issues/comments/{id}), with the same length check as
// CreateComment.
func (c *Client) UpdateComment(ctx context.Context, token, owner, repo string, id int64, body string) error {
	if err := checkOwnerRepo(owner, repo); err != nil {
		return err
	}
	if id <= 0 {
		return fmt.Errorf("github: update comment: %d is not a comment id", id)
	}
	if err := checkBody(body); err != nil {
		return err
	}
	s, err := c.withToken(token)
	if err != nil {
		return err
	}
	return c.call(ctx, s, fmt.Sprintf("update comment %d on %s/%s", id, owner, repo), commentRemedy(owner, repo),
		func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
			_, resp, err := g.Issues.EditComment(ctx, owner, repo, id, &gh.IssueComment{Body: gh.String(body)})
			return resp, err
		})
}

// PullRequest reads pull request number of owner/repo with token.
func (c *Client) PullRequest(ctx context.Context, token, owner, repo string, number int) (PullRequest, error) {
	if err := checkOwnerRepo(owner, repo); err != nil {
		return PullRequest{}, err
	}
	if number <= 0 {
		return PullRequest{}, fmt.Errorf("github: read pull request: %d is not a pull request number", number)
	}
	s, err := c.withToken(token)
	if err != nil {
		return PullRequest{}, err
	}
	var pr *gh.PullRequest
	err = c.call(ctx, s, fmt.Sprintf("read pull request %s/%s#%d", owner, repo, number), commentRemedy(owner, repo),
		func(ctx context.Context, g *gh.Client) (*gh.Response, error) {
			var resp *gh.Response
			var err error
			pr, resp, err = g.PullRequests.Get(ctx, owner, repo, number)
			return resp, err
		})
	if err != nil {
		return PullRequest{}, err
	}
	out := PullRequest{
		Number:  pr.GetNumber(),
		Title:   pr.GetTitle(),
		State:   pr.GetState(),
		Draft:   pr.GetDraft(),
		Merged:  pr.GetMerged(),
		HTMLURL: pr.GetHTMLURL(),
	}
	if pr.User != nil {
		out.Author = pr.User.GetLogin()
	}
	if pr.Head != nil {
		out.HeadRef, out.HeadSHA = pr.Head.GetRef(), pr.Head.GetSHA()
	}
	if pr.Base != nil {
		out.BaseRef = pr.Base.GetRef()
	}
	return out, nil
}
