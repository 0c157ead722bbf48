package githubsrv

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The issue routes: list a repository's issues, read one, open one, and
// edit one (title, body, labels, state and state_reason). No contract file
// covers them (github.openapi.json has only the comment routes); they
// follow GitHub's REST documentation (docs.github.com/rest/issues/issues):
// status codes 200/201, 403 "Resource not accessible by integration" with
// X-Accepted-GitHub-Permissions for a token without `issues` (read for the
// reads, write for the writes), 404 for a repository the caller cannot see,
// 410 "Issues are disabled for this repo" (on the list too, as GitHub
// answers it: dust-tt/dust#10314), 422 for a bad body. Where the
// documentation does not say, the choices are marked "chosen".

const (
	docListRepoIssues = "https://docs.github.com/rest/issues/issues#list-repository-issues"
	docGetIssue       = "https://docs.github.com/rest/issues/issues#get-an-issue"
	docCreateIssue    = "https://docs.github.com/rest/issues/issues#create-an-issue"
	docUpdateIssue    = "https://docs.github.com/rest/issues/issues#update-an-issue"
)

// MaxIssueTitleLength is GitHub's limit on an issue title, in characters.
const MaxIssueTitleLength = 256

func (s *Server) issueRoutes() {
	s.handle("GET /repos/{owner}/{repo}/issues", endpoint{doc: docListRepoIssues, h: s.listIssues})
	s.handle("POST /repos/{owner}/{repo}/issues", endpoint{doc: docCreateIssue, auth: authToken, h: s.createIssue})
	s.handle("GET /repos/{owner}/{repo}/issues/{issue_number}", endpoint{doc: docGetIssue, h: s.getIssue})
	s.handle("PATCH /repos/{owner}/{repo}/issues/{issue_number}", endpoint{doc: docUpdateIssue, auth: authToken, h: s.updateIssue})
}

// issuesEnabled answers 410 for a repository with issues disabled.
func (c *call) issuesEnabled(r *Repository) bool {
	if r.IssuesDisabled {
		c.fail(&apiError{status: http.StatusGone, message: msgIssuesDisabled, doc: docIssuesDisabled})
		return false
	}
	return true
}

// GET /repos/{owner}/{repo}/issues: issues and pull requests, filtered by
// state (default open), labels (all of a comma-separated list), creator and
// since, sorted by created (default), updated or comments, newest first
// unless direction=asc; paginated.
func (s *Server) listIssues(c *call) {
	if c.refuseApp() {
		return
	}
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	sortBy := q.Get("sort")
	if sortBy == "" {
		sortBy = "created"
	}
	dir := q.Get("direction")
	if dir == "" {
		dir = "desc"
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			c.fail(errValidation(fieldError{Resource: "Issue", Field: "since", Code: "invalid"}))
			return
		}
		since = t
	}
	// chosen: GitHub answers 422 to a value outside each enumeration.
	switch {
	case state != "open" && state != "closed" && state != "all":
		c.fail(errValidation(fieldError{Resource: "Issue", Field: "state", Code: "invalid"}))
		return
	case sortBy != "created" && sortBy != "updated" && sortBy != "comments":
		c.fail(errValidation(fieldError{Resource: "Issue", Field: "sort", Code: "invalid"}))
		return
	case dir != "asc" && dir != "desc":
		c.fail(errValidation(fieldError{Resource: "Issue", Field: "direction", Code: "invalid"}))
		return
	}
	var labels []string
	for _, l := range strings.Split(q.Get("labels"), ",") {
		if l = strings.TrimSpace(l); l != "" {
			labels = append(labels, l)
		}
	}
	creator := q.Get("creator")
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, perms, ok := c.visibleRepo()
	if !ok || !c.issuesEnabled(r) {
		return
	}
	if !hasPerm(perms, "issues", levelRead) && !hasPerm(perms, "pull_requests", levelRead) {
		c.fail(errForbidden("issues=read", "pull_requests=read"))
		return
	}
	full := r.Owner + "/" + r.Name
	var list []*Issue
	for _, is := range s.w.issues {
		switch {
		case !strings.EqualFold(is.Repository, full),
			state != "all" && is.State != state,
			!hasLabels(is.Labels, labels),
			creator != "" && !strings.EqualFold(is.User, creator),
			is.UpdatedAt.Before(since):
			continue
		}
		// Without `issues`, only pull requests are listed (chosen: GitHub
		// filters what the token may not read).
		if is.PullRequest == nil && !hasPerm(perms, "issues", levelRead) {
			continue
		}
		list = append(list, is)
	}
	comments := func(is *Issue) int { return len(s.w.commentsByIssue[issueKey{r.ID, is.Number}]) }
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if dir == "asc" {
			a, b = b, a
		}
		switch sortBy {
		case "updated":
			if !a.UpdatedAt.Equal(b.UpdatedAt) {
				return a.UpdatedAt.After(b.UpdatedAt)
			}
		case "comments":
			if ca, cb := comments(a), comments(b); ca != cb {
				return ca > cb
			}
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.After(b.CreatedAt)
		}
		return a.Number > b.Number
	})
	lo, hi := c.pageBounds(len(list))
	out := make([]issueJSON, 0, hi-lo)
	for _, is := range list[lo:hi] {
		out = append(out, c.issueJSON(r, is))
	}
	c.ok(out)
}

// GET /repos/{owner}/{repo}/issues/{issue_number}
func (s *Server) getIssue(c *call) {
	if c.refuseApp() {
		return
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
	c.ok(c.issueJSON(r, is))
}

// issueFields is what an issue write may set; nil pointers are absent.
type issueFields struct {
	title, body *string
	clearBody   bool
	labels      []string
	hasLabels   bool
	state       *string
	stateReason *string
}

// readIssueFields reads and checks the body of an issue write (create:
// title required; update: state and state_reason allowed).
func (c *call) readIssueFields(create bool) (issueFields, *apiError) {
	var f issueFields
	obj, e, err := c.readObject(create)
	if errors.Is(err, errBodyTooLarge) {
		return f, issueTooLong("body", MaxCommentLength)
	}
	if e != nil {
		return f, e
	}
	// GitHub takes a title that is a string or an integer.
	if raw, ok := obj["title"]; ok {
		if n, isInt := integer(raw); isInt {
			t := strconv.FormatInt(n, 10)
			f.title = &t
		} else {
			t, _, e := obj.str("title", false)
			if e != nil {
				return f, notA("title", raw, "a string or integer")
			}
			f.title = &t
		}
	} else if create {
		return f, missing("title")
	}
	if f.title != nil {
		switch {
		case strings.TrimSpace(*f.title) == "":
			return f, errValidation(fieldError{Resource: "Issue", Field: "title", Code: "missing_field"})
		case utf8.RuneCountInString(*f.title) > MaxIssueTitleLength:
			return f, issueTooLong("title", MaxIssueTitleLength)
		}
	}
	if _, ok := obj["body"]; ok {
		b, e := obj.nullableStr("body")
		if e != nil {
			return f, e
		}
		if b == nil {
			f.clearBody = true
		} else if utf8.RuneCountInString(*b) > MaxCommentLength {
			return f, issueTooLong("body", MaxCommentLength)
		}
		f.body = b
	}
	if raw, ok := obj["labels"]; ok {
		// Labels are names, or objects with a name.
		list, _, e := obj.items("labels")
		if e != nil {
			return f, e
		}
		f.hasLabels = true
		for _, item := range list {
			var named struct {
				Name *string `json:"name"`
			}
			sub := object{"x": item}
			if n, _, e := sub.str("x", true); e == nil {
				f.labels = append(f.labels, n)
			} else if unmarshalObject(item, &named) && named.Name != nil {
				f.labels = append(f.labels, *named.Name)
			} else {
				return f, errInvalid(fmt.Sprintf("For 'items', %s is not a string or object.", inspect(raw)))
			}
		}
		for _, l := range f.labels {
			if strings.TrimSpace(l) == "" {
				return f, errValidation(fieldError{Resource: "Label", Field: "name", Code: "missing_field"})
			}
		}
	}
	for _, name := range []string{"state", "state_reason"} {
		if _, ok := obj[name]; !ok {
			continue
		}
		if create {
			continue // chosen: ignored on create, as GitHub ignores unknown fields
		}
		v, e := obj.nullableStr(name)
		if e != nil {
			return f, e
		}
		if name == "state" {
			if v == nil || *v != "open" && *v != "closed" {
				return f, errInvalid(fmt.Sprintf(`For 'properties/state', %s is not one of ["open", "closed"].`, inspect(obj[name])))
			}
			f.state = v
			continue
		}
		if v == nil {
			continue
		}
		// "duplicate" is GitHub's newest close reason (2025); chosen:
		// accepted as the others are.
		switch *v {
		case "completed", "not_planned", "duplicate", "reopened":
			f.stateReason = v
		default:
			return f, errInvalid(fmt.Sprintf(`For 'properties/state_reason', %s is not one of ["completed", "not_planned", "duplicate", "reopened", null].`, inspect(obj[name])))
		}
	}
	return f, nil
}

func issueTooLong(field string, max int) *apiError {
	return errValidation(fieldError{Resource: "Issue", Field: field, Code: "custom",
		Message: fmt.Sprintf("%s is too long (maximum is %d characters)", field, max)})
}

// POST /repos/{owner}/{repo}/issues: needs issues: write; the issue is
// written as the token's bot, with the labels it names (created when the
// repository lacks them).
func (s *Server) createIssue(c *call) {
	if c.refuseApp() {
		return
	}
	f, bodyErr := c.readIssueFields(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, perms, ok := c.visibleRepo()
	if !ok || !c.issuesEnabled(r) {
		return
	}
	if !hasPerm(perms, "issues", levelWrite) {
		c.fail(errForbidden("issues=write"))
		return
	}
	if !c.writable(r) {
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
	is := &Issue{Repository: r.Owner + "/" + r.Name, Number: w.nextIssueNumber(r), Title: *f.title,
		User: user, State: "open", CreatedAt: c.now, UpdatedAt: c.now, ViaApp: via}
	if f.body != nil {
		is.Body = *f.body
	}
	is.Labels = w.ensureLabels(r, f.labels)
	w.issues = append(w.issues, is)
	w.issueByKey[issueKey{r.ID, is.Number}] = is
	out := c.issueJSON(r, is)
	c.w.Header().Set("Location", out.URL)
	c.json(http.StatusCreated, out)
}

// PATCH /repos/{owner}/{repo}/issues/{issue_number}: needs issues: write
// (or pull_requests: write for a pull request). Closing sets closed_at,
// closed_by and state_reason (completed unless given); reopening clears
// closed_at and sets state_reason reopened.
func (s *Server) updateIssue(c *call) {
	if c.refuseApp() {
		return
	}
	f, bodyErr := c.readIssueFields(false)
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
	if f.title != nil {
		is.Title = *f.title
	}
	if f.body != nil {
		is.Body = *f.body
	} else if f.clearBody {
		is.Body = ""
	}
	if f.hasLabels {
		is.Labels = s.w.ensureLabels(r, f.labels)
	}
	user, _ := c.author()
	switch {
	case f.state != nil && *f.state == "closed" && is.State == "open":
		is.State = "closed"
		t := c.now
		is.ClosedAt = &t
		is.ClosedBy = user
		is.StateReason = "completed"
		if f.stateReason != nil && *f.stateReason != "reopened" {
			is.StateReason = *f.stateReason
		}
	case f.state != nil && *f.state == "open" && is.State == "closed":
		is.State = "open"
		is.ClosedAt = nil
		is.StateReason = "reopened"
	}
	// A state_reason without a change of state is ignored, as GitHub
	// documents ("Ignored unless `state` is changed"; github/docs#22914).
	is.UpdatedAt = c.now
	c.json(http.StatusOK, c.issueJSON(r, is))
}

// nextIssueNumber is the number a new issue of r gets: issues and pull
// requests share one sequence.
func (w *world) nextIssueNumber(r *Repository) int {
	n := 0
	for _, is := range w.issues {
		if strings.EqualFold(is.Repository, r.Owner+"/"+r.Name) && is.Number > n {
			n = is.Number
		}
	}
	return n + 1
}

type issuePRLinkJSON struct {
	URL      string  `json:"url"`
	HTMLURL  string  `json:"html_url"`
	DiffURL  string  `json:"diff_url"`
	PatchURL string  `json:"patch_url"`
	MergedAt *string `json:"merged_at"`
}

type issueJSON struct {
	ID                    int64            `json:"id"`
	NodeID                string           `json:"node_id"`
	URL                   string           `json:"url"`
	RepositoryURL         string           `json:"repository_url"`
	LabelsURL             string           `json:"labels_url"`
	CommentsURL           string           `json:"comments_url"`
	EventsURL             string           `json:"events_url"`
	HTMLURL               string           `json:"html_url"`
	Number                int              `json:"number"`
	State                 string           `json:"state"`
	StateReason           *string          `json:"state_reason"`
	Title                 string           `json:"title"`
	Body                  *string          `json:"body"`
	User                  userJSON         `json:"user"`
	Labels                []labelJSON      `json:"labels"`
	Assignee              *userJSON        `json:"assignee"`
	Assignees             []userJSON       `json:"assignees"`
	Milestone             *struct{}        `json:"milestone"`
	Locked                bool             `json:"locked"`
	ActiveLockReason      *string          `json:"active_lock_reason"`
	Comments              int              `json:"comments"`
	PullRequest           *issuePRLinkJSON `json:"pull_request,omitempty"`
	ClosedAt              *string          `json:"closed_at"`
	CreatedAt             string           `json:"created_at"`
	UpdatedAt             string           `json:"updated_at"`
	ClosedBy              *userJSON        `json:"closed_by,omitempty"`
	AuthorAssociation     string           `json:"author_association"`
	PerformedViaGithubApp *appJSON         `json:"performed_via_github_app"`
	Reactions             reactionsJSON    `json:"reactions"`
}

// issueID is a stable, GitHub-sized id for an issue.
func issueID(r *Repository, number int) int64 {
	return 1000000000 + (r.ID%100000)*1000 + int64(number)
}

// issueJSON renders an issue (or a pull request as the issues API shows it).
func (c *call) issueJSON(r *Repository, is *Issue) issueJSON {
	full := r.Owner + "/" + r.Name
	api := c.api + "/repos/" + full
	n := strconv.Itoa(is.Number)
	self := api + "/issues/" + n
	kind := "issues"
	if is.PullRequest != nil {
		kind = "pull"
	}
	id := issueID(r, is.Number)
	out := issueJSON{
		ID:                id,
		NodeID:            nodeID("Issue", id),
		URL:               self,
		RepositoryURL:     api,
		LabelsURL:         self + "/labels{/name}",
		CommentsURL:       self + "/comments",
		EventsURL:         self + "/events",
		HTMLURL:           c.web + "/" + full + "/" + kind + "/" + n,
		Number:            is.Number,
		State:             is.State,
		StateReason:       nonEmpty(is.StateReason),
		Title:             is.Title,
		Body:              nonEmpty(is.Body),
		User:              c.login(is.User),
		Labels:            c.labelsOf(r, is.Labels),
		Assignees:         []userJSON{},
		Comments:          len(c.s.w.commentsByIssue[issueKey{r.ID, is.Number}]),
		ClosedAt:          tsp(is.ClosedAt),
		CreatedAt:         ts(is.CreatedAt),
		UpdatedAt:         ts(is.UpdatedAt),
		AuthorAssociation: c.association(is.User, r),
		Reactions:         reactionsJSON{URL: self + "/reactions"},
	}
	if pr := is.PullRequest; pr != nil {
		html := c.web + "/" + full + "/pull/" + n
		out.PullRequest = &issuePRLinkJSON{URL: api + "/pulls/" + n, HTMLURL: html, DiffURL: html + ".diff", PatchURL: html + ".patch", MergedAt: tsp(pr.MergedAt)}
	}
	if is.ClosedBy != "" {
		u := c.login(is.ClosedBy)
		out.ClosedBy = &u
	}
	switch is.ViaApp {
	case c.s.w.app.Slug:
		a := c.app(false)
		out.PerformedViaGithubApp = &a
	case actionsAppSlug:
		a := c.actionsApp()
		out.PerformedViaGithubApp = &a
	}
	return out
}

// unmarshalObject decodes raw into v when raw is a JSON object.
func unmarshalObject(raw []byte, v any) bool {
	t := strings.TrimSpace(string(raw))
	return strings.HasPrefix(t, "{") && json.Unmarshal(raw, v) == nil
}
