package githubsrv

import (
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
)

// MaxCommentLength is GitHub's limit on an issue comment's body, in
// characters.
const MaxCommentLength = 65536

// visibleRepo finds the path's repository and the caller's permissions on
// it; a repository the caller may not see is a 404, as on GitHub. The
// caller holds s.mu.
func (c *call) visibleRepo() (*Repository, map[string]string, bool) {
	w := c.s.w
	r := w.repo(c.r.PathValue("owner"), c.r.PathValue("repo"))
	if r == nil {
		c.fail(errNotFound())
		return nil, nil, false
	}
	perms := c.cred.repoPerms(w, r)
	if perms == nil {
		c.fail(errNotFound())
		return nil, nil, false
	}
	return r, perms, true
}

// GET /repos/{owner}/{repo}
func (s *Server) getRepo(c *call) {
	if c.refuseApp() {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, perms, ok := c.visibleRepo()
	if !ok {
		return
	}
	var callerPerms map[string]string
	if c.cred.kind != anonymous {
		callerPerms = perms
	}
	c.ok(c.repo(r, callerPerms, true))
}

// GET /repos/{owner}/{repo}/pulls/{pull_number}
func (s *Server) getPull(c *call) {
	if c.refuseApp() {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, perms, ok := c.visibleRepo()
	if !ok {
		return
	}
	n, ok := c.pathInt("pull_number")
	is := s.w.issueByKey[issueKey{r.ID, int(n)}]
	if !ok || n > 1<<31 || is == nil || is.PullRequest == nil {
		c.fail(errNotFound())
		return
	}
	if !hasPerm(perms, "pull_requests", levelRead) && !hasPerm(perms, "contents", levelRead) {
		c.fail(errForbidden("pull_requests=read", "contents=read"))
		return
	}
	var callerPerms map[string]string
	if c.cred.kind != anonymous {
		callerPerms = perms
	}
	c.ok(c.pull(r, is, callerPerms))
}

// issue finds the path's issue (or pull request) in r: 404 when it does not
// exist, 410 when it is an issue of a repository with issues disabled.
func (c *call) issue(r *Repository) (*Issue, bool) {
	n, ok := c.pathInt("issue_number")
	is := c.s.w.issueByKey[issueKey{r.ID, int(n)}]
	if !ok || n > 1<<31 || is == nil {
		c.fail(errNotFound())
		return nil, false
	}
	if r.IssuesDisabled && is.PullRequest == nil {
		c.fail(&apiError{status: http.StatusGone, message: msgIssuesDisabled, doc: docIssuesDisabled})
		return nil, false
	}
	return is, true
}

// writable refuses writes to an archived repository, as GitHub does.
func (c *call) writable(r *Repository) bool {
	if r.Archived {
		c.fail(newError(http.StatusForbidden, msgArchived))
		return false
	}
	return true
}

// canComment checks the permission to read (min levelRead) or write (min
// levelWrite) the comments of an issue: issues, or for a pull request
// issues or pull_requests.
func (c *call) canComment(perms map[string]string, is *Issue, min int) bool {
	level := "read"
	if min == levelWrite {
		level = "write"
	}
	if hasPerm(perms, "issues", min) || is.PullRequest != nil && hasPerm(perms, "pull_requests", min) {
		return true
	}
	if is.PullRequest != nil {
		c.fail(errForbidden("issues="+level, "pull_requests="+level))
	} else {
		c.fail(errForbidden("issues=" + level))
	}
	return false
}

// GET /repos/{owner}/{repo}/issues/{issue_number}/comments: oldest first.
func (s *Server) listComments(c *call) {
	if c.refuseApp() {
		return
	}
	var since time.Time
	if v := c.r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			c.fail(errValidation(fieldError{Resource: "IssueComment", Field: "since", Code: "invalid"}))
			return
		}
		since = t
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, perms, ok := c.visibleRepo()
	if !ok {
		return
	}
	is, ok := c.issue(r)
	if !ok || !c.canComment(perms, is, levelRead) {
		return
	}
	var list []*Comment
	for _, cm := range s.w.commentsByIssue[issueKey{r.ID, is.Number}] {
		if !cm.UpdatedAt.Before(since) {
			list = append(list, cm)
		}
	}
	lo, hi := c.pageBounds(len(list))
	out := make([]commentJSON, 0, hi-lo)
	for _, cm := range list[lo:hi] {
		out = append(out, c.comment(cm))
	}
	c.ok(out)
}

// commentBody reads and checks the `body` of a comment write. The body is
// read before the lock is taken; its errors are reported after the checks
// GitHub makes first (repository, issue, permission).
func (c *call) commentBody() (string, *apiError) {
	obj, e, err := c.readObject(true)
	if errors.Is(err, errBodyTooLarge) {
		return "", commentTooLong()
	}
	if e != nil {
		return "", e
	}
	body, _, e := obj.str("body", true)
	if e != nil {
		return "", e
	}
	if body == "" {
		return "", errValidation(fieldError{Resource: "IssueComment", Field: "body", Code: "missing_field"})
	}
	if utf8.RuneCountInString(body) > MaxCommentLength {
		return "", commentTooLong()
	}
	return body, nil
}

func commentTooLong() *apiError {
	return errValidation(fieldError{Resource: "IssueComment", Field: "body", Code: "custom",
		Message: fmt.Sprintf("body is too long (maximum is %d characters)", MaxCommentLength)})
}

// author is who a token's comments are written as: the App's bot, or
// github-actions[bot] for an Actions token.
func (c *call) author() (login, viaApp string) {
	if c.cred.kind == actionsToken {
		return actionsBotLogin, actionsAppSlug
	}
	return c.s.w.app.Slug + "[bot]", c.s.w.app.Slug
}

// secondaryLimit applies the limits on content creation (per minute and
// per hour): 429 with Retry-After once a credential writes too much.
func (c *call) secondaryLimit() bool {
	lim := c.s.w.limits
	win, ok := c.s.lim.contentUse(c.cred.rateKey, lim.SecondaryLimitPerMinute, lim.ContentCreationPerHour, c.now)
	if ok {
		return true
	}
	c.fail(c.secondaryError(http.StatusTooManyRequests, win.Reset-c.now.Unix()))
	return false
}

// POST /repos/{owner}/{repo}/issues/{issue_number}/comments
func (s *Server) createComment(c *call) {
	if c.refuseApp() {
		return
	}
	body, bodyErr := c.commentBody()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, perms, ok := c.visibleRepo()
	if !ok {
		return
	}
	is, ok := c.issue(r)
	if !ok || !c.canComment(perms, is, levelWrite) || !c.writable(r) {
		return
	}
	if bodyErr != nil {
		c.fail(bodyErr)
		return
	}
	if !c.secondaryLimit() {
		return
	}
	w := s.w
	user, via := c.author()
	cm := &Comment{ID: w.nextCommentID, Repository: r.Owner + "/" + r.Name, IssueNumber: is.Number,
		User: user, Body: body, CreatedAt: c.now, UpdatedAt: c.now, ViaApp: via}
	w.nextCommentID++
	w.addComment(cm, r.ID)
	is.UpdatedAt = c.now
	out := c.comment(cm)
	c.w.Header().Set("Location", out.URL)
	c.json(http.StatusCreated, out)
}

// PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}
func (s *Server) updateComment(c *call) {
	if c.refuseApp() {
		return
	}
	body, bodyErr := c.commentBody()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, perms, ok := c.visibleRepo()
	if !ok {
		return
	}
	id, ok := c.pathInt("comment_id")
	cm := s.w.commentByID[id]
	if !ok || cm == nil || lower(cm.Repository) != lower(r.Owner+"/"+r.Name) {
		c.fail(errNotFound())
		return
	}
	is := s.w.issueByKey[issueKey{r.ID, cm.IssueNumber}]
	if !c.canComment(perms, is, levelWrite) || !c.writable(r) {
		return
	}
	if bodyErr != nil {
		c.fail(bodyErr)
		return
	}
	if !c.secondaryLimit() {
		return
	}
	cm.Body = body
	cm.UpdatedAt = c.now
	c.json(http.StatusOK, c.comment(cm))
}
