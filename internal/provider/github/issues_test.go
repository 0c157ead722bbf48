package github_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/githubsrv"
	"github.com/raxx-app/handoff/internal/provider/github"
)

func withIssues(n int, label string) func(*githubsrv.Fixture) {
	return func(fx *githubsrv.Fixture) {
		start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		for i := range n {
			at := start.Add(time.Duration(i) * time.Minute)
			fx.Issues = append(fx.Issues, githubsrv.Issue{Repository: org + "/" + tradeMaster, Number: 1000 + i,
				Title: fmt.Sprintf("issue %d", i), User: "bob-raxx", State: "open", Labels: []string{label},
				CreatedAt: at, UpdatedAt: at})
		}
	}
}

// newIssuesEnv is a server and client without the contract validator: the
// issue routes are in no contract file.
func newIssuesEnv(t *testing.T, fixture func(*githubsrv.Fixture)) *env {
	e := newEnv(t, options{fixture: fixture, config: func(cfg *github.Config) {
		cfg.HTTP.Transport = http.DefaultTransport
	}})
	return e
}

func TestIssues(t *testing.T) {
	ctx := context.Background()

	t.Run("list across pages, pull requests left out", func(t *testing.T) {
		e := newIssuesEnv(t, withIssues(230, "bulk"))
		list, err := e.c.ListIssues(ctx, e.actionsToken(), org, tradeMaster, github.IssueFilter{Labels: []string{"bulk"}})
		if e.errOf(err) != nil || len(list) != 230 || list[0].Number != 1229 {
			t.Fatalf("ListIssues = %d issues, %v", len(list), err)
		}
		all, err := e.c.ListIssues(ctx, e.actionsToken(), org, tradeMaster, github.IssueFilter{State: "all"})
		for _, is := range all {
			if is.Number == prNumber {
				t.Errorf("pull request #%d listed as an issue", prNumber)
			}
		}
		if e.errOf(err) != nil || len(all) != 231 {
			t.Errorf("state=all: %d issues, %v", len(all), err)
		}
	})

	t.Run("open, edit, close", func(t *testing.T) {
		e := newIssuesEnv(t, nil)
		tok := e.actionsToken()
		is, err := e.c.CreateIssue(ctx, tok, org, tradeMaster, "handoff: x", "<!-- m -->", []string{"handoff-alert"})
		if e.errOf(err) != nil || is.Number == 0 || is.Author != "github-actions[bot]" || len(is.Labels) != 1 {
			t.Fatalf("CreateIssue = %+v, %v", is, err)
		}
		got, err := e.c.EditIssue(ctx, tok, org, tradeMaster, is.Number, github.IssueEdit{Body: "changed"})
		if e.errOf(err) != nil || got.Body != "changed" || got.State != "open" {
			t.Fatalf("EditIssue body = %+v, %v", got, err)
		}
		got, err = e.c.EditIssue(ctx, tok, org, tradeMaster, is.Number, github.IssueEdit{State: "closed", StateReason: "completed"})
		if e.errOf(err) != nil || got.State != "closed" || got.StateReason != "completed" {
			t.Fatalf("EditIssue close = %+v, %v", got, err)
		}
		open, err := e.c.ListIssues(ctx, tok, org, tradeMaster, github.IssueFilter{Labels: []string{"handoff-alert"}, Creator: "github-actions[bot]"})
		if e.errOf(err) != nil || len(open) != 0 {
			t.Errorf("open alerts after the close: %+v, %v", open, err)
		}
	})

	t.Run("refusals say what to do", func(t *testing.T) {
		e := newIssuesEnv(t, nil)
		tok := e.mint([]string{tradeMaster}, map[string]string{"metadata": "read"})
		_, err := e.c.CreateIssue(ctx, tok.Value, org, tradeMaster, "x", "y", nil)
		ae := apiError(t, e.errOf(err), http.StatusForbidden)
		if !strings.Contains(ae.Remedy, "permissions: issues: write") {
			t.Errorf("403 remedy %q", ae.Remedy)
		}
		_, err = e.c.CreateIssue(ctx, e.actionsToken(), org, "Nope", "x", "y", nil)
		apiError(t, e.errOf(err), http.StatusNotFound)
		_, err = e.c.CreateIssue(ctx, tok.Value, org, tradeMaster, strings.Repeat("t", github.MaxIssueTitleChars+1), "y", nil)
		if err == nil {
			t.Error("a title over GitHub's limit was sent")
		}
	})
}
