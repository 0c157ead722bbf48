package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/alert"
	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/workspace"
)

// verify -alert: the scheduled workflow's wake-up call. Runs are stateless,
// so what must survive from one run to the next (when a vendor began to
// fail) lives in the open alert issue's hidden marker (package alert).

// Defaults of verify's alert flags: the runbook wakes the operator after
// five minutes of vendor 5xx.
const (
	defaultVendorFailureAfter = 5 * time.Minute
	defaultProbeEvery         = 30 * time.Second
)

func alertFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "alert", Usage: "open, update or close one GitHub issue per scope violation or failing vendor"},
		&cli.StringFlag{Name: "repo", Usage: "`OWNER/NAME` of the repository the alert issues go to (default: GITHUB_REPOSITORY)"},
		&cli.StringFlag{Name: "alert-label", Value: alert.DefaultLabel, Usage: "`LABEL` of the alert issues"},
		&cli.DurationFlag{Name: "vendor-failure-after", Value: defaultVendorFailureAfter, Usage: "alert when a vendor has answered 5xx for longer than `DURATION`"},
		&cli.DurationFlag{Name: "probe-every", Value: defaultProbeEvery, Usage: "ask a failing vendor again every `DURATION` until the alert is due"},
	}
}

// alertClock is the time verify -alert waits on: the wall clock, or the dev
// servers' clock under `handoff dev` (a wait advances it: no wall time
// passes in a test).
type alertClock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type wallClock struct{ now func() time.Time }

func (w wallClock) Now() time.Time { return w.now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// devClock is the /_dev/clock endpoint of the local servers.
type devClock struct {
	url      string
	fallback func() time.Time
}

func (d devClock) do(ctx context.Context, method string, body []byte) (time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, method, d.url, bytes.NewReader(body))
	if err != nil {
		return time.Time{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer res.Body.Close()
	var out struct {
		Now time.Time `json:"now"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("the dev clock answered %d", res.StatusCode)
	}
	return out.Now, nil
}

func (d devClock) Now() time.Time {
	t, err := d.do(context.Background(), http.MethodGet, nil)
	if err != nil {
		return d.fallback()
	}
	return t
}

func (d devClock) Sleep(ctx context.Context, dur time.Duration) error {
	_, err := d.do(ctx, http.MethodPost, []byte(`{"advance":"`+dur.String()+`"}`))
	return err
}

func (e *env) alertClock(ws *workspace.Workspace) alertClock {
	if u := e.getenv(workspace.EnvDevClockURL); u != "" {
		return devClock{url: u, fallback: ws.Now}
	}
	return wallClock{now: ws.Now}
}

// vendorFailure names the vendor of a 5xx that stopped verify.
func vendorFailure(err error) (string, *httpx.APIError, bool) {
	var ae *httpx.APIError
	if errors.As(err, &ae) && ae.Status >= 500 && ae.Surface != "" {
		return ae.Surface, ae, true
	}
	return "", nil, false
}

// alertIssues is the alert tracker of -repo (or GITHUB_REPOSITORY) with the
// workflow's GITHUB_TOKEN.
func (e *env) alertIssues(c *cli.Context, ws *workspace.Workspace) (*alert.GitHubIssues, error) {
	repo := c.String("repo")
	if repo == "" {
		repo = e.getenv("GITHUB_REPOSITORY")
	}
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" {
		return nil, errors.New("no repository: pass -repo OWNER/NAME or set GITHUB_REPOSITORY")
	}
	token := e.getenv("GITHUB_TOKEN")
	if token == "" {
		return nil, errors.New("GITHUB_TOKEN is not set: give the workflow `issues: write` and pass its token")
	}
	gh, err := ws.GitHub()
	if err != nil {
		return nil, err
	}
	return &alert.GitHubIssues{Client: gh, Token: token, Owner: owner, Repo: name}, nil
}

// verifyOutcome is verify's result (vs, err) and, with -alert, what kept
// the alert issues from being written (alertErr).
type verifyOutcome struct {
	vs       []apply.Verification
	err      error
	alertErr error
}

// verifyAndAlert runs verify; with -alert it keeps asking a failing vendor
// until -vendor-failure-after has passed (or at once when an open alert
// says the vendor was failing already), then brings the alert issues in
// line with what it found. Verify runs even when the issues cannot be
// reached (no token, no issues: write): its findings are printed, and the
// alert failure is reported beside them.
func (e *env) verifyAndAlert(c *cli.Context, ws *workspace.Workspace, deps apply.Deps, slugs []string) verifyOutcome {
	plain := func(alertErr error) verifyOutcome {
		vs, err := apply.Verify(c.Context, slugs, deps)
		return verifyOutcome{vs: vs, err: err, alertErr: alertErr}
	}
	if !c.Bool("alert") {
		return plain(nil)
	}
	issues, err := e.alertIssues(c, ws)
	if err != nil {
		return plain(err)
	}
	label := c.String("alert-label")
	open, err := issues.Open(c.Context, label)
	if err != nil {
		return plain(err)
	}
	firstSeen := alert.FirstSeen(open)
	clock := e.alertClock(ws)
	after, every := c.Duration("vendor-failure-after"), c.Duration("probe-every")
	if every <= 0 {
		every = defaultProbeEvery
	}

	vs, verr := apply.Verify(c.Context, slugs, deps)
	var failing *httpx.APIError
	var vendor string
	if v, ae, ok := vendorFailure(verr); ok {
		vendor, failing = v, ae
		start := clock.Now()
		if t, ok := firstSeen["vendor/"+v]; ok {
			start = t
		}
		for clock.Now().Sub(start) < after {
			fmt.Fprintf(e.stderr, "handoff verify: %s answered %d; asking again in %s\n", v, failing.Status, every)
			if err := clock.Sleep(c.Context, every); err != nil {
				return verifyOutcome{vs: vs, err: verr, alertErr: err}
			}
			vs, verr = apply.Verify(c.Context, slugs, deps)
			_, ae2, still := vendorFailure(verr)
			if !still {
				fmt.Fprintf(e.stderr, "handoff verify: %s recovered within %s: no alert\n", v, after)
				vendor, failing = "", nil
				break
			}
			failing = ae2
		}
		if failing != nil {
			firstSeen["vendor/"+v] = start
		}
	}

	var findings []alert.Finding
	var checked func(string) bool
	switch {
	case failing != nil:
		// No request id: it changes every run, and the digest must not.
		line := fmt.Sprintf("%s: %s %s answered %d %s", failing.Op, failing.Method, failing.Path, failing.Status, http.StatusText(failing.Status))
		findings = append(findings, alert.Finding{Kind: alert.KindVendor, Subject: vendor, Lines: []string{line}, Since: firstSeen["vendor/"+vendor]})
		checked = func(string) bool { return false } // nothing else could be checked
	case verr != nil:
		// Another error: verify says so; the alerts stay as they are.
		return verifyOutcome{vs: vs, err: verr}
	default:
		verified := map[string]bool{}
		for _, v := range vs {
			verified["scope/"+v.Slug] = true
			var lines []string
			for _, x := range v.Violations {
				if x.Scope {
					lines = append(lines, x.String())
				}
			}
			if len(lines) > 0 {
				findings = append(findings, alert.Finding{Kind: alert.KindScope, Subject: v.Slug, Lines: lines})
			}
		}
		checked = func(key string) bool {
			// Every vendor answered; a slug left out of a partial verify
			// was not checked.
			return strings.HasPrefix(key, "vendor/") || verified[key] || len(slugs) == 0 && strings.HasPrefix(key, "scope/")
		}
	}
	var runURL string
	if srv, id := e.getenv("GITHUB_SERVER_URL"), e.getenv("GITHUB_RUN_ID"); srv != "" && id != "" {
		runURL = fmt.Sprintf("%s/%s/%s/actions/runs/%s", strings.TrimRight(srv, "/"), issues.Owner, issues.Repo, id)
	}
	acts, err := alert.Sync(c.Context, issues, findings, checked, alert.Options{Label: label, Now: clock.Now(), RunURL: runURL})
	for _, a := range acts {
		fmt.Fprintf(e.stderr, "handoff verify: %s alert issue %s/%s#%d (%s)\n", a.Verb, issues.Owner, issues.Repo, a.Number, a.Key)
	}
	return verifyOutcome{vs: vs, err: verr, alertErr: err}
}
