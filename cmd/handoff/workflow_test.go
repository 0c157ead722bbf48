package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rhysd/actionlint"
	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/devserver"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// The GitOps template users copy: its workflow must lint, run the right jobs
// on the right events with the least permissions, call only commands and
// flags this CLI has, and work end to end against the dev servers.
const (
	wfGitOpsDir = "../../examples/gitops"
	wfPath      = wfGitOpsDir + "/.github/workflows/handoff.yml"
)

func wfLoad(t *testing.T) (*actionlint.Workflow, []byte) {
	t.Helper()
	src, err := os.ReadFile(wfPath)
	if err != nil {
		t.Fatal(err)
	}
	wf, errs := actionlint.Parse(src)
	if len(errs) > 0 || wf == nil {
		t.Fatalf("%s does not parse: %v", wfPath, errs)
	}
	return wf, src
}

// TestWorkflowLints runs actionlint as a library, every rule but the
// external shellcheck and pyflakes: any finding fails.
func TestWorkflowLints(t *testing.T) {
	_, src := wfLoad(t)
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{Oneline: true, LogWriter: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(wfPath, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("actionlint: %d finding(s):\n%s", len(errs), out.String())
	}

	// The linter is not vacuous: a broken copy is reported.
	broken := bytes.Replace(src, []byte("runs-on: ubuntu-latest"), []byte("runs-on: ubuntu-latest\n    timeout-minutes: soon"), 1)
	if errs, err := l.Lint("broken.yml", broken, nil); err != nil || len(errs) == 0 {
		t.Errorf("actionlint accepted a workflow with timeout-minutes: soon (%v)", err)
	}
}

// TestWorkflowTriggers: pull requests touching the specs or handoff.hcl,
// pushes to main, and a schedule every 15 minutes.
func TestWorkflowTriggers(t *testing.T) {
	wf, _ := wfLoad(t)
	hooks := map[string]*actionlint.WebhookEvent{}
	var crons []string
	for _, ev := range wf.On {
		switch e := ev.(type) {
		case *actionlint.WebhookEvent:
			hooks[e.Hook.Value] = e
		case *actionlint.ScheduledEvent:
			for _, s := range e.Schedules {
				crons = append(crons, s.Cron.Value)
			}
		}
	}
	filter := func(f *actionlint.WebhookEventFilter) []string {
		if f == nil {
			return nil
		}
		var out []string
		for _, v := range f.Values {
			out = append(out, v.Value)
		}
		return out
	}
	tests := []struct {
		name string
		got  func() []string
		want []string // each must be present
	}{
		{"pull_request paths", func() []string {
			if hooks["pull_request"] == nil {
				return nil
			}
			return filter(hooks["pull_request"].Paths)
		}, []string{"specs/**", "handoff.hcl"}},
		{"push branches", func() []string {
			if hooks["push"] == nil {
				return nil
			}
			return filter(hooks["push"].Branches)
		}, []string{"main"}},
		{"schedule", func() []string { return crons }, []string{"*/15 * * * *"}},
	}
	for _, tt := range tests {
		got := tt.got()
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: %q missing from %q", tt.name, w, got)
			}
		}
	}
	if h := hooks["pull_request_target"]; h != nil {
		t.Error("pull_request_target runs with secrets on code from forks; use pull_request")
	}
	if h := hooks["pull_request"]; h != nil && h.PathsIgnore != nil {
		t.Error("pull_request has paths-ignore as well as paths")
	}
}

// TestWorkflowJobsPerEvent evaluates each job's if: for each event: plan on
// pull requests only, apply on main only.
func TestWorkflowJobsPerEvent(t *testing.T) {
	wf, _ := wfLoad(t)
	tests := []struct {
		event, ref string
		want       []string
	}{
		{"pull_request", "refs/pull/42/merge", []string{"plan"}},
		{"push", "refs/heads/main", []string{"apply"}},
		{"schedule", "refs/heads/main", []string{"apply"}},
		{"workflow_dispatch", "refs/heads/main", []string{"apply"}},
		{"workflow_dispatch", "refs/heads/feature", nil},
		{"push", "refs/heads/feature", nil},
	}
	for _, tt := range tests {
		got := wfJobsFor(t, wf, tt.event, tt.ref)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s on %s runs %q, want %q", tt.event, tt.ref, got, tt.want)
		}
	}
}

// wfJobsFor returns the sorted ids of the jobs whose if: holds for event
// and ref.
func wfJobsFor(t *testing.T, wf *actionlint.Workflow, event, ref string) []string {
	t.Helper()
	ctx := map[string]string{"github.event_name": event, "github.ref": ref}
	var out []string
	for id, j := range wf.Jobs {
		cond := ""
		if j.If != nil {
			cond = j.If.Value
		}
		if wfEvalIf(t, cond, ctx) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// wfEvalIf evaluates the subset of GitHub's expression language that job
// conditions here use: ==, !=, &&, ||, !, string literals and the context
// values in ctx. Anything else fails the test rather than guess.
func wfEvalIf(t *testing.T, cond string, ctx map[string]string) bool {
	t.Helper()
	cond = strings.TrimSpace(cond)
	if cond == "" {
		return true
	}
	cond = strings.TrimSuffix(strings.TrimPrefix(cond, "${{"), "}}")
	node, perr := actionlint.NewExprParser().Parse(actionlint.NewExprLexer(cond + "}}"))
	if perr != nil {
		t.Fatalf("if: %s: %v", cond, perr)
	}
	var eval func(n actionlint.ExprNode) any
	eval = func(n actionlint.ExprNode) any {
		switch n := n.(type) {
		case *actionlint.StringNode:
			return n.Value
		case *actionlint.BoolNode:
			return n.Value
		case *actionlint.ObjectDerefNode:
			name := wfExprName(n)
			v, ok := ctx[name]
			if !ok {
				t.Fatalf("if: %s: the test knows no value of %s", cond, name)
			}
			return v
		case *actionlint.NotOpNode:
			return !wfTruthy(eval(n.Operand))
		case *actionlint.LogicalOpNode:
			l := wfTruthy(eval(n.Left))
			if n.Kind == actionlint.LogicalOpNodeKindAnd {
				return l && wfTruthy(eval(n.Right))
			}
			return l || wfTruthy(eval(n.Right))
		case *actionlint.CompareOpNode:
			l, r := fmt.Sprint(eval(n.Left)), fmt.Sprint(eval(n.Right))
			switch n.Kind {
			case actionlint.CompareOpNodeKindEq:
				return strings.EqualFold(l, r)
			case actionlint.CompareOpNodeKindNotEq:
				return !strings.EqualFold(l, r)
			}
		}
		t.Fatalf("if: %s: the test cannot evaluate %T", cond, n)
		return nil
	}
	return wfTruthy(eval(node))
}

func wfExprName(n actionlint.ExprNode) string {
	switch n := n.(type) {
	case *actionlint.VariableNode:
		return n.Name
	case *actionlint.ObjectDerefNode:
		return wfExprName(n.Receiver) + "." + n.Property
	}
	return fmt.Sprintf("<%T>", n)
}

func wfTruthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v != ""
	}
	return v != nil
}

// wfStep is a run: step with the handoff invocations of its script.
type wfStep struct {
	job   string
	step  *actionlint.Step
	run   string
	calls [][]string // argument lists after "handoff"
}

// wfRunSteps lists the run: steps of every job, in job id then step order.
func wfRunSteps(wf *actionlint.Workflow) []wfStep {
	var ids []string
	for id := range wf.Jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []wfStep
	for _, id := range ids {
		for _, s := range wf.Jobs[id].Steps {
			r, ok := s.Exec.(*actionlint.ExecRun)
			if !ok || r.Run == nil {
				continue
			}
			out = append(out, wfStep{job: id, step: s, run: r.Run.Value, calls: wfHandoffCalls(r.Run.Value)})
		}
	}
	return out
}

// wfJobRuns reports whether a job's steps invoke handoff with command cmd.
func wfJobRuns(wf *actionlint.Workflow, job, cmd string) bool {
	for _, s := range wfRunSteps(wf) {
		if s.job != job {
			continue
		}
		for _, c := range s.calls {
			if wfCommandOf(c) == cmd {
				return true
			}
		}
	}
	return false
}

// wfCommandOf returns the command of an invocation: the first word that is
// not a global flag.
func wfCommandOf(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

// TestWorkflowPermissions: nothing at the top, contents: read in each job,
// and pull-requests: write only in the job that posts the plan comment.
func TestWorkflowPermissions(t *testing.T) {
	wf, _ := wfLoad(t)
	if wf.Permissions == nil {
		t.Fatal("no top-level permissions: the default GITHUB_TOKEN may be read-write")
	}
	if wf.Permissions.All != nil {
		t.Errorf("top-level permissions: %s; want {} (each job asks for its own)", wf.Permissions.All.Value)
	}
	for name, s := range wf.Permissions.Scopes {
		if s.Value.Value != "read" && s.Value.Value != "none" {
			t.Errorf("top-level permission %s: %s", name, s.Value.Value)
		}
	}
	commenters := 0
	for id, j := range wf.Jobs {
		posts := false
		for _, s := range wfRunSteps(wf) {
			for _, c := range s.calls {
				if s.job == id && slices.Contains(c, "-pr-comment") {
					posts = true
				}
			}
		}
		if posts {
			commenters++
		}
		if j.Permissions == nil {
			t.Errorf("job %s has no permissions block", id)
			continue
		}
		if j.Permissions.All != nil {
			t.Errorf("job %s: permissions: %s; list scopes instead", id, j.Permissions.All.Value)
		}
		for name, s := range j.Permissions.Scopes {
			v := s.Value.Value
			switch {
			case v == "read" || v == "none":
			case v == "write" && name == "pull-requests" && posts:
			case v == "write" && name == "id-token" && wfJobRuns(wf, id, "apply") && wfAWSStep(j) != nil:
				// GitHub's OIDC token, exchanged for the AWS role by the
				// apply job only.
			default:
				t.Errorf("job %s: %s: %s is more than it needs", id, name, v)
			}
		}
		if posts {
			if s := j.Permissions.Scopes["pull-requests"]; s == nil || s.Value.Value != "write" {
				t.Errorf("job %s posts the plan comment without pull-requests: write", id)
			}
		}
	}
	if commenters != 1 {
		t.Errorf("%d jobs post the plan comment, want 1", commenters)
	}
}

// wfAWSAction is the action that exchanges the job's OIDC token for an
// AWS role's session.
const wfAWSAction = "aws-actions/configure-aws-credentials"

// wfAWSStep returns the job's step that configures AWS credentials, nil
// when it has none.
func wfAWSStep(j *actionlint.Job) *actionlint.Step {
	for _, s := range j.Steps {
		if a, ok := s.Exec.(*actionlint.ExecAction); ok && strings.HasPrefix(a.Uses.Value, wfAWSAction+"@") {
			return s
		}
	}
	return nil
}

var wfFullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// TestWorkflowAWSThroughOIDC: the apply job, and only it, gets an AWS
// identity, through GitHub's OIDC token (id-token: write on that job
// alone) and aws-actions/configure-aws-credentials pinned to a full commit
// hash, before it runs handoff apply; no AWS key is stored anywhere, and
// the plan job has no AWS identity (docs/vendors/aws.md).
func TestWorkflowAWSThroughOIDC(t *testing.T) {
	wf, _ := wfLoad(t)
	if wf.Permissions != nil && wf.Permissions.Scopes["id-token"] != nil {
		t.Error("id-token at the top level: every job could mint OIDC tokens")
	}
	withAWS := 0
	for id, j := range wf.Jobs {
		step := wfAWSStep(j)
		idToken := j.Permissions != nil && j.Permissions.Scopes["id-token"] != nil && j.Permissions.Scopes["id-token"].Value.Value == "write"
		if step == nil {
			if idToken {
				t.Errorf("job %s: id-token: write without the AWS step", id)
			}
			continue
		}
		withAWS++
		if !wfJobRuns(wf, id, "apply") || wfJobRuns(wf, id, "plan") {
			t.Errorf("job %s gets an AWS identity: only the apply job may", id)
		}
		if !idToken {
			t.Errorf("job %s: the AWS step needs id-token: write on its job", id)
		}
		a := step.Exec.(*actionlint.ExecAction)
		if _, ref, _ := strings.Cut(a.Uses.Value, "@"); !wfFullSHA.MatchString(ref) {
			t.Errorf("job %s: uses %s: pin this action to a full commit hash", id, a.Uses.Value)
		}
		for _, k := range []string{"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} {
			if a.Inputs[k] != nil {
				t.Errorf("job %s: the AWS step is given %s: use the OIDC token, store no key", id, k)
			}
		}
		if in := a.Inputs["role-to-assume"]; in == nil || in.Value.Value == "" {
			t.Errorf("job %s: the AWS step assumes no role", id)
		}
		applyAt, awsAt := -1, -1
		for i, s := range j.Steps {
			if s == step {
				awsAt = i
			}
			if r, ok := s.Exec.(*actionlint.ExecRun); ok && applyAt < 0 {
				for _, c := range wfHandoffCalls(r.Run.Value) {
					if wfCommandOf(c) == "apply" {
						applyAt = i
					}
				}
			}
		}
		if awsAt < 0 || applyAt < awsAt {
			t.Errorf("job %s: the AWS step (%d) must come before handoff apply (%d)", id, awsAt, applyAt)
		}
	}
	if withAWS != 1 {
		t.Errorf("%d jobs configure AWS credentials, want the apply job only", withAWS)
	}
	for _, s := range wfRunSteps(wf) {
		if s.step.Env == nil {
			continue
		}
		for _, v := range s.step.Env.Vars {
			if strings.HasPrefix(v.Name.Value, "AWS_") && wfSecretRef.MatchString(v.Value.Value) {
				t.Errorf("%s/%s: %s from a secret: AWS comes from the OIDC step, with no stored key", s.job, wfStepName(s.step), v.Name.Value)
			}
		}
	}
}

// TestWorkflowApplyConcurrency: every job that applies shares one
// concurrency group and never cancels a running apply.
func TestWorkflowApplyConcurrency(t *testing.T) {
	wf, _ := wfLoad(t)
	groups := map[string]bool{}
	appliers := 0
	for id, j := range wf.Jobs {
		if !wfJobRuns(wf, id, "apply") {
			continue
		}
		appliers++
		c := j.Concurrency
		if c == nil || c.Group == nil {
			c = wf.Concurrency
		}
		if c == nil || c.Group == nil {
			t.Errorf("job %s applies without a concurrency group", id)
			continue
		}
		if strings.Contains(c.Group.Value, "${{") {
			t.Errorf("job %s: concurrency group %q varies per run; two applies could overlap", id, c.Group.Value)
		}
		groups[c.Group.Value] = true
		if c.CancelInProgress == nil || c.CancelInProgress.Expression != nil || c.CancelInProgress.Value {
			t.Errorf("job %s: cancel-in-progress must be false, explicitly", id)
		}
	}
	if appliers == 0 {
		t.Fatal("no job runs handoff apply")
	}
	if len(groups) != 1 {
		t.Errorf("apply jobs use %d concurrency groups, want 1: %v", len(groups), groups)
	}
}

var (
	wfSecretRef = regexp.MustCompile(`secrets\.([A-Za-z0-9_]+)`)
	wfExpr      = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
)

// TestWorkflowSecretsHygiene: secrets reach only the env of steps that run
// a remote handoff command, never a run: line, a job or the workflow; no
// script names a secret variable; secret names are ones GitHub accepts.
func TestWorkflowSecretsHygiene(t *testing.T) {
	wf, _ := wfLoad(t)
	envRefs := func(e *actionlint.Env) map[string]string {
		out := map[string]string{}
		if e == nil {
			return out
		}
		for _, v := range e.Vars {
			out[v.Name.Value] = v.Value.Value
		}
		return out
	}
	for k, v := range envRefs(wf.Env) {
		if wfSecretRef.MatchString(v) {
			t.Errorf("workflow env %s holds a secret: every step, go install included, would see it", k)
		}
	}
	for id, j := range wf.Jobs {
		for k, v := range envRefs(j.Env) {
			if wfSecretRef.MatchString(v) {
				t.Errorf("job %s env %s holds a secret: put it on the handoff step only", id, k)
			}
		}
		for _, s := range j.Steps {
			if a, ok := s.Exec.(*actionlint.ExecAction); ok && strings.HasPrefix(a.Uses.Value, "actions/checkout@") {
				if in := a.Inputs["persist-credentials"]; in == nil || in.Value.Value != "false" {
					t.Errorf("job %s: checkout without persist-credentials: false leaves the token in .git/config", id)
				}
			}
		}
	}
	sawSecret := false
	for _, s := range wfRunSteps(wf) {
		name := s.job + "/" + wfStepName(s.step)
		if m := wfExpr.FindString(s.run); m != "" {
			t.Errorf("%s: run: holds %s; pass values through env: so the shell never parses them", name, m)
		}
		secretVars := map[string]bool{}
		for k, v := range envRefs(s.step.Env) {
			for _, m := range wfSecretRef.FindAllStringSubmatch(v, -1) {
				secretVars[k] = true
				if m[1] != "GITHUB_TOKEN" && strings.HasPrefix(m[1], "GITHUB_") {
					t.Errorf("%s: secrets.%s: GitHub refuses secret names starting with GITHUB_", name, m[1])
				}
			}
			if strings.Contains(v, "github.token") {
				secretVars[k] = true
			}
		}
		if len(secretVars) == 0 {
			continue
		}
		sawSecret = true
		remote := false
		for _, c := range s.calls {
			if cmd := wfCommandOf(c); cmd != "validate" && cmd != "fmt" && cmd != "" {
				remote = true
			}
		}
		if !remote {
			t.Errorf("%s: gets secrets but runs no remote handoff command", name)
		}
		for v := range secretVars {
			if regexp.MustCompile(`\$\{?` + v + `\b`).MatchString(s.run) {
				t.Errorf("%s: the script names $%s; only handoff may read it", name, v)
			}
		}
		if strings.Contains(s.run, "set -x") {
			t.Errorf("%s: set -x would trace the environment of a step holding secrets", name)
		}
	}
	if !sawSecret {
		t.Error("no step gets the provisioner's credentials")
	}
}

func wfStepName(s *actionlint.Step) string {
	if s.Name != nil {
		return s.Name.Value
	}
	return fmt.Sprintf("step at line %d", s.Pos.Line)
}

var (
	wfMajorOrSHA = regexp.MustCompile(`^v[0-9]+(\.[0-9]+){0,2}$|^[0-9a-f]{40}$`)
	wfGoInstall  = regexp.MustCompile(`go install\s+"?github\.com/raxx-app/handoff/cmd/handoff@([^"\s]+)"?`)
	wfReleaseRef = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$|^[0-9a-f]{40}$`)
)

// TestWorkflowPinsVersions: actions by at least a major version, handoff by
// a release or a commit, installed after setup-go in every job that runs it.
func TestWorkflowPinsVersions(t *testing.T) {
	wf, _ := wfLoad(t)
	wfEnv := map[string]string{}
	if wf.Env != nil {
		for _, v := range wf.Env.Vars {
			wfEnv[v.Name.Value] = v.Value.Value
		}
	}
	for id, j := range wf.Jobs {
		setupGo, installed, runs := -1, -1, -1
		for i, s := range j.Steps {
			switch e := s.Exec.(type) {
			case *actionlint.ExecAction:
				action, ref, ok := strings.Cut(e.Uses.Value, "@")
				if !ok || !wfMajorOrSHA.MatchString(ref) {
					t.Errorf("job %s: uses %s: pin a major version or a commit", id, e.Uses.Value)
				}
				if action == "actions/setup-go" {
					setupGo = i
				}
			case *actionlint.ExecRun:
				if m := wfGoInstall.FindStringSubmatch(e.Run.Value); m != nil {
					installed = i
					ref := m[1]
					if strings.HasPrefix(ref, "$") {
						name := strings.Trim(ref, "${}")
						ref = wfEnv[name]
						for _, e := range []*actionlint.Env{j.Env, s.Env} {
							if v := wfEnvVar(e, name); v != "" {
								ref = v
							}
						}
					}
					if !wfReleaseRef.MatchString(ref) {
						t.Errorf("job %s installs handoff@%s: pin a release tag or a commit, never latest or a branch", id, ref)
					}
				}
				if len(wfHandoffCalls(e.Run.Value)) > 0 && runs < 0 {
					runs = i
				}
			}
		}
		if runs < 0 {
			continue
		}
		if installed < 0 || setupGo < 0 || !(setupGo < installed && installed < runs) {
			t.Errorf("job %s: want actions/setup-go, then go install handoff, then handoff (steps %d, %d, %d)", id, setupGo, installed, runs)
		}
	}
}

// wfAWSBefore reports whether the job's AWS step runs (its if: holding
// for values) before step.
func wfAWSBefore(t *testing.T, j *actionlint.Job, step *actionlint.Step, values map[string]string) bool {
	t.Helper()
	aws := wfAWSStep(j)
	if aws == nil {
		return false
	}
	for _, s := range j.Steps {
		switch s {
		case step:
			return false
		case aws:
			cond := ""
			if s.If != nil {
				cond = s.If.Value
			}
			ctx := map[string]string{}
			for k, v := range values {
				ctx[strings.ToLower(k)] = v // actionlint reads names case-insensitively
			}
			return wfEvalIf(t, cond, ctx)
		}
	}
	return false
}

// wfEnvVar returns the value of variable name in e, or "".
func wfEnvVar(e *actionlint.Env, name string) string {
	if e == nil {
		return ""
	}
	for _, v := range e.Vars {
		if v.Name.Value == name {
			return v.Value.Value
		}
	}
	return ""
}

// wfShellWords splits a script into simple commands: words with quotes
// removed, cut at ;, &, |, (, ), newlines, and with comments dropped. It
// knows no expansion; that is enough to find the handoff invocations of a
// workflow step.
func wfShellWords(script string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var cmds [][]string
	var cur []string
	var word strings.Builder
	inWord := false
	flushWord := func() {
		if inWord {
			cur = append(cur, word.String())
			word.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(cur) > 0 {
			cmds = append(cmds, cur)
			cur = nil
		}
	}
	rs := []rune(script)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\'':
			inWord = true
			for i++; i < len(rs) && rs[i] != '\''; i++ {
				word.WriteRune(rs[i])
			}
		case c == '"':
			inWord = true
			for i++; i < len(rs) && rs[i] != '"'; i++ {
				if rs[i] == '\\' && i+1 < len(rs) {
					i++
				}
				word.WriteRune(rs[i])
			}
		case c == '#' && !inWord:
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			flushCmd()
		case strings.ContainsRune(";&|()\n", c):
			flushCmd()
		case c == ' ' || c == '\t':
			flushWord()
		default:
			inWord = true
			word.WriteRune(c)
		}
	}
	flushCmd()
	return cmds
}

var wfAssignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// wfHandoffCalls returns the arguments of every handoff invocation in a
// script, after leading keywords and variable assignments.
func wfHandoffCalls(script string) [][]string {
	keywords := map[string]bool{"if": true, "then": true, "else": true, "elif": true, "do": true, "while": true,
		"until": true, "!": true, "{": true, "time": true, "exec": true, "command": true}
	var out [][]string
	for _, words := range wfShellWords(script) {
		for len(words) > 0 && (keywords[words[0]] || wfAssignment.MatchString(words[0])) {
			words = words[1:]
		}
		if len(words) > 0 && filepath.Base(words[0]) == "handoff" {
			out = append(out, words[1:])
		}
	}
	return out
}

func TestWfHandoffCalls(t *testing.T) {
	tests := []struct {
		script string
		want   [][]string
	}{
		{"handoff validate", [][]string{{"validate"}}},
		{"status=0\nhandoff plan -pr-comment || status=$?", [][]string{{"plan", "-pr-comment"}}},
		{"X=1 handoff apply \\\n  -auto-approve # comment", [][]string{{"apply", "-auto-approve"}}},
		{`echo "handoff plan: changes"; go install github.com/raxx-app/handoff/cmd/handoff@v1.0.0`, nil},
		{`if ./bin/handoff gate 'my-slug'; then echo ok; fi`, [][]string{{"gate", "my-slug"}}},
	}
	for _, tt := range tests {
		if got := wfHandoffCalls(tt.script); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%q: %q, want %q", tt.script, got, tt.want)
		}
	}
}

// wfCLI is what the CLI accepts: commands and, per command, each flag name
// and whether it takes a value.
type wfCLI struct {
	global   map[string]bool
	commands map[string]map[string]bool
}

func wfNewCLI() *wfCLI {
	app := newApp(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }})
	flags := func(fs []cli.Flag) map[string]bool {
		m := map[string]bool{"help": false, "h": false}
		for _, f := range fs {
			takes := false
			if tv, ok := f.(interface{ TakesValue() bool }); ok {
				takes = tv.TakesValue()
			}
			for _, n := range f.Names() {
				m[n] = takes
			}
		}
		return m
	}
	c := &wfCLI{global: flags(app.Flags), commands: map[string]map[string]bool{}}
	for _, cmd := range app.Commands {
		for _, n := range cmd.Names() {
			c.commands[n] = flags(cmd.Flags)
		}
	}
	return c
}

// check reports what the CLI would refuse in args (the words after
// "handoff"): an unknown command or flag, a flag without its value, a flag
// after an argument.
func (c *wfCLI) check(args []string) error {
	i := 0
	parseFlag := func(known map[string]bool, where string) error {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		takes, ok := known[name]
		if !ok {
			return fmt.Errorf("%s has no flag -%s", where, name)
		}
		if takes && !hasValue {
			if i+1 >= len(args) {
				return fmt.Errorf("%s: -%s needs a value", where, name)
			}
			i++
		}
		return nil
	}
	for ; i < len(args) && strings.HasPrefix(args[i], "-"); i++ {
		if err := parseFlag(c.global, "handoff"); err != nil {
			return err
		}
	}
	if i >= len(args) {
		return fmt.Errorf("no command")
	}
	cmd := args[i]
	known, ok := c.commands[cmd]
	if !ok {
		return fmt.Errorf("handoff has no command %q", cmd)
	}
	positional := false
	for i++; i < len(args); i++ {
		switch {
		case args[i] == "--":
			positional = true
		case strings.HasPrefix(args[i], "-") && args[i] != "-":
			if positional {
				return fmt.Errorf("handoff %s: flag %s after an argument", cmd, args[i])
			}
			if err := parseFlag(known, "handoff "+cmd); err != nil {
				return err
			}
		default:
			positional = true
		}
	}
	return nil
}

func TestWfCLICheck(t *testing.T) {
	c := wfNewCLI()
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"validate"}, true},
		{[]string{"-no-color", "validate", "-json", "dir"}, true},
		{[]string{"plan", "-out", "p.plan", "-detailed-exitcode"}, true},
		{[]string{"plan", "-out=p.plan"}, true},
		{[]string{"plan", "-out"}, false},
		{[]string{"frobnicate"}, false},
		{[]string{"validate", "-frobnicate"}, false},
		{[]string{"validate", "dir", "-json"}, false},
		{[]string{"-json", "validate"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if err := c.check(tt.args); (err == nil) != tt.ok {
			t.Errorf("check(%q) = %v, want ok=%v", tt.args, err, tt.ok)
		}
	}
}

// TestWorkflowInvocationsExistInTheCLI: every handoff command and flag the
// workflow uses is one this CLI has, and the workflow runs the ones the
// GitOps loop needs.
func TestWorkflowInvocationsExistInTheCLI(t *testing.T) {
	wf, _ := wfLoad(t)
	c := wfNewCLI()
	seen := map[string][]string{}
	for _, s := range wfRunSteps(wf) {
		for _, call := range s.calls {
			if err := c.check(call); err != nil {
				t.Errorf("%s/%s: handoff %s: %v", s.job, wfStepName(s.step), strings.Join(call, " "), err)
			}
			cmd := wfCommandOf(call)
			seen[cmd] = append(seen[cmd], call...)
		}
	}
	want := map[string][]string{
		"validate": nil,
		"plan":     {"-pr-comment", "-detailed-exitcode"},
		"apply":    {"-auto-approve"},
	}
	for cmd, flags := range want {
		got, ok := seen[cmd]
		if !ok {
			t.Errorf("the workflow never runs handoff %s", cmd)
		}
		for _, f := range flags {
			if !slices.Contains(got, f) {
				t.Errorf("handoff %s runs without %s", cmd, f)
			}
		}
	}
}

// TestWorkflowPlanStepToleratesChanges runs the plan step's script in bash
// (as GitHub does: -e, pipefail) with a stand-in handoff that exits with
// each code: 0 and 2 pass, anything else fails the step.
func TestWorkflowPlanStepToleratesChanges(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	wf, _ := wfLoad(t)
	var script string
	for _, s := range wfRunSteps(wf) {
		for _, c := range s.calls {
			if wfCommandOf(c) == "plan" && slices.Contains(c, "-detailed-exitcode") {
				script = s.run
			}
		}
	}
	if script == "" {
		t.Fatal("no step runs handoff plan -detailed-exitcode")
	}
	bin := t.TempDir()
	stub := "#!/bin/sh\necho \"$@\" >> \"$HANDOFF_CALLS\"\nexit \"$HANDOFF_EXIT\"\n"
	if err := os.WriteFile(filepath.Join(bin, "handoff"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		exit    int
		wantErr bool
	}{{0, false}, {2, false}, {1, true}, {3, true}}
	for _, tt := range tests {
		calls := filepath.Join(t.TempDir(), "calls")
		cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"HANDOFF_EXIT="+itoa(tt.exit), "HANDOFF_CALLS="+calls)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tt.wantErr {
			t.Errorf("handoff plan exiting %d: step error %v, want failure=%v\n%s", tt.exit, err, tt.wantErr, out)
		}
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() != tt.exit {
			t.Errorf("handoff plan exiting %d: the step exits %d; keep the code", tt.exit, ee.ExitCode())
		}
		if b, _ := os.ReadFile(calls); !strings.HasPrefix(string(b), "plan ") {
			t.Errorf("the step did not run handoff plan: %q", b)
		}
	}
}

// TestGitOpsExampleIsValid: the template's specs pass validate and fmt.
func TestGitOpsExampleIsValid(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"validate", wfGitOpsDir}, 0},
		{[]string{"validate", wfGitOpsDir + "/specs"}, 0},
		{[]string{"fmt", "-check", wfGitOpsDir}, 0},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, nil, tt.args...)
		if code != tt.want {
			t.Errorf("handoff %s: exit %d, want %d\n%s", strings.Join(tt.args, " "), code, tt.want, stderr)
		}
	}
	code, stdout, _ := runCLI(t, nil, "validate", "-json", wfGitOpsDir)
	var doc struct {
		Valid        bool `json:"valid"`
		WarningCount int  `json:"warning_count"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 0 || !doc.Valid || doc.WarningCount != 0 {
		t.Errorf("validate -json: exit %d, %+v, %v: the template must be clean, warnings included", code, doc, err)
	}
	entries, err := os.ReadDir(filepath.Join(wfGitOpsDir, "specs"))
	if err != nil || len(entries) == 0 {
		t.Fatalf("the template has no specs: %v", err)
	}
}

// TestWorkflowRunsAgainstDevServers plays the workflow against the dev
// servers: for each event, the jobs its if: selects run their handoff
// invocations, in order, in a copy of the template, with only the
// environment their step's env: gives (secrets resolved to the dev
// servers' credentials) plus what the runner sets. A pull request plans
// and comments, a merge applies, the schedule converges, and a second
// pull request finds nothing to change.
func TestWorkflowRunsAgainstDevServers(t *testing.T) {
	wf, _ := wfLoad(t)
	kit := devkit.NewKit()
	kit.Clock = devkit.NewFrozenClock(time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC))
	s, err := devserver.Start(devserver.Options{Kit: kit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	dev := s.Env(filepath.Join(t.TempDir(), "unused.pem"))
	pem := string(s.GitHub.AppPrivateKeyPEM())
	values := map[string]string{
		"secrets.INFISICAL_CLIENT_ID":            dev["INFISICAL_CLIENT_ID"],
		"secrets.INFISICAL_CLIENT_SECRET":        dev["INFISICAL_CLIENT_SECRET"],
		"secrets.INFISICAL_ORGANIZATION_ID":      dev["INFISICAL_ORGANIZATION_ID"],
		"secrets.INFISICAL_PROJECT_ID":           dev["INFISICAL_PROJECT_ID"],
		"secrets.HANDOFF_GITHUB_APP_ID":          dev["HANDOFF_GITHUB_APP_ID"],
		"secrets.HANDOFF_GITHUB_APP_PRIVATE_KEY": pem,
		"secrets.CLOUDFLARE_API_TOKEN":           dev["CLOUDFLARE_API_TOKEN"],
		"secrets.HEROKU_API_KEY":                 dev["HEROKU_API_KEY"],
		"vars.HANDOFF_AWS_ROLE_ARN":              "arn:aws:iam::123456789012:role/handoff-provisioner",
		"vars.HANDOFF_AWS_REGION":                dev["AWS_REGION"],
		"vars.INFISICAL_SITE_URL":                dev["INFISICAL_SITE_URL"],
		"vars.HANDOFF_GITHUB_API_URL":            dev["HANDOFF_GITHUB_API_URL"],
		"github.token":                           dev["GITHUB_TOKEN"],
		"secrets.GITHUB_TOKEN":                   dev["GITHUB_TOKEN"],
	}
	var secrets []string
	for _, k := range []string{"INFISICAL_CLIENT_SECRET", "GITHUB_TOKEN", "CLOUDFLARE_API_TOKEN", "HEROKU_API_KEY", "AWS_SECRET_ACCESS_KEY"} {
		secrets = append(secrets, dev[k])
	}
	for _, line := range strings.Split(pem, "\n") {
		if len(line) > 40 && !strings.HasPrefix(line, "-----") {
			secrets = append(secrets, line)
		}
	}

	dir := t.TempDir()
	copyTree(t, wfGitOpsDir, dir)
	noAWSFile := filepath.Join(t.TempDir(), "none")
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"action":"opened","pull_request":{"number":42}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	owner, repo, _ := strings.Cut(devserver.DevRepository, "/")
	t.Chdir(dir)

	resolve := func(v string) string {
		return wfExpr.ReplaceAllStringFunc(v, func(m string) string {
			name := wfExpr.FindStringSubmatch(m)[1]
			if v, ok := strings.CutPrefix(name, "env."); ok {
				return wfEnvVar(wf.Env, v)
			}
			val, ok := values[name]
			if !ok {
				t.Fatalf("the test has no value for ${{ %s }}: add it to the table", name)
			}
			return val
		})
	}
	runEvent := func(eventName, ref string, wantCodes map[string]int) {
		t.Helper()
		jobs := wfJobsFor(t, wf, eventName, ref)
		if len(jobs) == 0 {
			t.Fatalf("%s: no job runs", eventName)
		}
		ran := map[string]bool{}
		for _, st := range wfRunSteps(wf) {
			if !slices.Contains(jobs, st.job) {
				continue
			}
			environ := map[string]string{
				// What the runner sets.
				"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": dir, "GITHUB_EVENT_NAME": eventName,
				"GITHUB_REF": ref, "GITHUB_REPOSITORY": devserver.DevRepository,
				"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_SERVER_URL": "https://github.com",
				"GITHUB_RUN_ID": "1234", "GITHUB_ACTOR": "octocat",
				// The test bed: the dev servers' API URL, which handoff.hcl
				// would give in production, and their clock.
				"HANDOFF_GITHUB_API_URL":     dev["HANDOFF_GITHUB_API_URL"],
				"HANDOFF_CLOUDFLARE_API_URL": dev["HANDOFF_CLOUDFLARE_API_URL"],
				"HANDOFF_HEROKU_API_URL":     dev["HANDOFF_HEROKU_API_URL"],
				"HANDOFF_AWS_ENDPOINT_URL":   dev["AWS_ENDPOINT_URL"],
				"HANDOFF_DEV_CLOCK_URL":      dev["HANDOFF_DEV_CLOCK_URL"],
			}
			// What the AWS step exports to the steps after it: the dev
			// server's provisioner stands in for the role the OIDC token
			// is exchanged for. The AWS SDK reads its credential chain from
			// the process, so the process gets them; a step without them
			// has none (the plan job plans without an AWS identity).
			aws := map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_REGION": "",
				"AWS_PROFILE": "", "AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ENDPOINT_URL": "",
				"AWS_CONFIG_FILE": noAWSFile, "AWS_SHARED_CREDENTIALS_FILE": noAWSFile, "AWS_EC2_METADATA_DISABLED": "true"}
			if wfAWSBefore(t, wf.Jobs[st.job], st.step, values) {
				for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
					aws[k] = dev[k]
				}
			}
			for k, v := range aws {
				t.Setenv(k, v)
			}
			if eventName == "pull_request" {
				environ["GITHUB_EVENT_PATH"] = event
			}
			if st.step.Env != nil {
				for _, v := range st.step.Env.Vars {
					environ[v.Name.Value] = resolve(v.Value.Value)
				}
			}
			for _, call := range st.calls {
				cmd := wfCommandOf(call)
				code, stdout, stderr := runCLI(t, environ, call...)
				for _, out := range []string{stdout, stderr} {
					for _, sec := range secrets {
						if sec != "" && strings.Contains(out, sec) {
							t.Errorf("%s: handoff %s printed a secret value (%d chars)", eventName, cmd, len(sec))
						}
					}
				}
				want, ok := wantCodes[cmd]
				if !ok {
					want = 0
				}
				if code != want {
					t.Fatalf("%s: handoff %s: exit %d, want %d\n-- stdout --\n%s-- stderr --\n%s",
						eventName, strings.Join(call, " "), code, want, stdout, stderr)
				}
				ran[cmd] = true
			}
		}
		for cmd := range wantCodes {
			if !ran[cmd] {
				t.Errorf("%s: handoff %s did not run", eventName, cmd)
			}
		}
	}

	before := len(s.GitHub.Comments(owner, repo, 42))
	runEvent("pull_request", "refs/pull/42/merge", map[string]int{"validate": 0, "plan": exitChanges})
	comments := s.GitHub.Comments(owner, repo, 42)
	if len(comments) != before+1 || !strings.Contains(comments[len(comments)-1].Body, "4 to create") {
		t.Fatalf("after the pull request: %d comments (%d before), want the plan of 4 creates", len(comments), before)
	}

	runEvent("push", "refs/heads/main", map[string]int{"apply": 0})
	runEvent("schedule", "refs/heads/main", map[string]int{"apply": 0})

	// The handoffs of the template are ready for dispatch.
	environ := map[string]string{}
	for _, k := range []string{"INFISICAL_SITE_URL", "INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET", "INFISICAL_ORGANIZATION_ID",
		"INFISICAL_PROJECT_ID", "HANDOFF_GITHUB_API_URL", "HANDOFF_GITHUB_APP_ID", "HANDOFF_DEV_CLOCK_URL"} {
		environ[k] = dev[k]
	}
	environ["GITHUB_APP_PRIVATE_KEY"] = pem
	entries, _ := os.ReadDir("specs")
	for _, e := range entries {
		slug := strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".json"), ".hcl")
		if code, _, stderr := runCLI(t, environ, "gate", slug); code != 0 {
			t.Errorf("gate %s after the merge's apply: exit %d\n%s", slug, code, stderr)
		}
	}

	// A later pull request finds the live state converged and updates the
	// same comment.
	runEvent("pull_request", "refs/pull/42/merge", map[string]int{"validate": 0, "plan": 0})
	comments = s.GitHub.Comments(owner, repo, 42)
	if len(comments) != before+1 || strings.Contains(comments[len(comments)-1].Body, "to create") {
		t.Errorf("%d comments after the second plan (%d before), want the first one updated to no changes", len(comments), before)
	}
}
