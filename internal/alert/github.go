package alert

import (
	"context"

	"github.com/raxx-app/handoff/internal/provider/github"
)

// GitHubIssues is Issues on owner/repo with token (a workflow's
// GITHUB_TOKEN, which needs `issues: write`).
type GitHubIssues struct {
	Client      *github.Client
	Token       string
	Owner, Repo string
}

// String names the repository, never the token.
func (g *GitHubIssues) String() string { return "GitHub issues of " + g.Owner + "/" + g.Repo }

// Open lists the open issues labelled label.
func (g *GitHubIssues) Open(ctx context.Context, label string) ([]Issue, error) {
	list, err := g.Client.ListIssues(ctx, g.Token, g.Owner, g.Repo, github.IssueFilter{Labels: []string{label}, State: "open"})
	if err != nil {
		return nil, err
	}
	out := make([]Issue, 0, len(list))
	for _, is := range list {
		out = append(out, Issue{Number: is.Number, Title: is.Title, Body: is.Body, URL: is.HTMLURL})
	}
	return out, nil
}

// Create opens an issue.
func (g *GitHubIssues) Create(ctx context.Context, title, body string, labels []string) (Issue, error) {
	is, err := g.Client.CreateIssue(ctx, g.Token, g.Owner, g.Repo, title, body, labels)
	if err != nil {
		return Issue{}, err
	}
	return Issue{Number: is.Number, Title: is.Title, Body: is.Body, URL: is.HTMLURL}, nil
}

// Update replaces an issue's title and body.
func (g *GitHubIssues) Update(ctx context.Context, number int, title, body string) error {
	_, err := g.Client.EditIssue(ctx, g.Token, g.Owner, g.Repo, number, github.IssueEdit{Title: title, Body: body})
	return err
}

// Comment comments on an issue.
func (g *GitHubIssues) Comment(ctx context.Context, number int, body string) error {
	_, err := g.Client.CreateComment(ctx, g.Token, g.Owner, g.Repo, number, body)
	return err
}

// Close closes an issue as completed.
func (g *GitHubIssues) Close(ctx context.Context, number int) error {
	_, err := g.Client.EditIssue(ctx, g.Token, g.Owner, g.Repo, number, github.IssueEdit{State: "closed", StateReason: "completed"})
	return err
}
