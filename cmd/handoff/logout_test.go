package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
)

// run is one command started with runAsync: its exit code and outputs once
// done is closed.
type asyncRun struct {
	done           chan struct{}
	code           int
	stdout, stderr *syncBuffer
}

// wait waits for the command and records its outputs for the secret scan.
func (r *asyncRun) wait(c *gitops) int {
	<-r.done
	c.outputs = append(c.outputs, r.stdout.String(), r.stderr.String())
	return r.code
}

// runAsync starts handoff with args in its own goroutine, never changing
// the working directory (commands take the GitOps directory as -chdir or
// DIR), so that several run at once; tty makes the prompt answerable from
// stdin.
func (c *gitops) runAsync(ctx context.Context, tty bool, stdin io.Reader, args ...string) *asyncRun {
	c.t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	r := &asyncRun{done: make(chan struct{}), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	e := &env{stdin: stdin, stdout: r.stdout, stderr: r.stderr, getenv: func(k string) string { return c.env[k] }}
	if tty {
		e.interactive = func() bool { return true }
	}
	go func() {
		defer close(r.done)
		r.code = e.run(ctx, append([]string{"handoff", "-no-color"}, args...))
	}()
	return r
}

// waitFor polls out until it holds want or the command ends; it fails the
// test when the command ended first. (Synchronization, not a timed
// assertion: the command decides when the text appears.)
func waitFor(t *testing.T, r *asyncRun, out *syncBuffer, want string) {
	t.Helper()
	waitForN(t, r, out, want, 1)
}

// waitForN is waitFor for the n-th occurrence of want.
func waitForN(t *testing.T, r *asyncRun, out *syncBuffer, want string, n int) {
	t.Helper()
	for strings.Count(out.String(), want) < n {
		select {
		case <-r.done:
			if strings.Count(out.String(), want) >= n {
				return
			}
			t.Fatalf("the command ended (exit %d) before printing %q %d times:\nstdout:\n%s\nstderr:\n%s", r.code, want, n, r.stdout.String(), r.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// holdLock writes the lease of another apply (a CI runner elsewhere),
// valid on the dev clock for a minute; the returned func releases it.
func (c *gitops) holdLock() func() {
	c.t.Helper()
	prov, err := c.provisioner()
	if err != nil {
		c.t.Fatal(err)
	}
	ctx := context.Background()
	now := c.s.Kit.Clock.Now()
	lease, _ := json.Marshal(map[string]any{"owner": "ci-runner-7", "acquired_at": now, "expires_at": now.Add(time.Minute)})
	if _, err := prov.CreateSecret(ctx, "staging", "/MooseQuest/handoffs", apply.LockSecretName, string(lease)); err != nil {
		c.t.Fatal(err)
	}
	if err := prov.Logout(ctx); err != nil {
		c.t.Fatal(err)
	}
	return func() {
		if err := prov.DeleteSecret(ctx, "staging", "/MooseQuest/handoffs", apply.LockSecretName); err != nil {
			c.t.Fatal(err)
		}
		if err := prov.Logout(ctx); err != nil {
			c.t.Fatal(err)
		}
	}
}

// liveTokens lists the access tokens the dev Infisical would still accept,
// as "provisioner" or the id of the handoff identity they belong to.
func (c *gitops) liveTokens() []string {
	prov := c.s.Infisical.ProvisionerIdentityID()
	var out []string
	for _, tok := range c.s.Infisical.LiveAccessTokens() {
		who := tok.IdentityID
		if who == prov {
			who = "provisioner"
		}
		out = append(out, who)
	}
	return out
}

// TestCommandsLeaveNoAccessTokenAlive (issue 12, item 4): every command
// that logs in to Infisical revokes its access tokens when it ends, the
// provisioner's and those of a handoff's identity (env -reveal), on
// success, on failure and on interrupt: after a sequence of commands
// against the dev servers no token of ours is alive.
func TestCommandsLeaveNoAccessTokenAlive(t *testing.T) {
	c := newGitOps(t)
	if live := c.liveTokens(); len(live) != 0 {
		t.Fatalf("tokens alive before any command: %v", live)
	}
	steps := []struct {
		code int
		args []string
	}{
		{0, []string{"validate"}},
		{0, []string{"plan"}},
		{0, []string{"apply", "-auto-approve"}},
		{0, []string{"gate", iapSlug}},
		{0, []string{"env", iapSlug}},
		{0, []string{"env", "-format", "dotenv", "-reveal", iapSlug}},
		{0, []string{"verify"}},
		{0, []string{"audit", iapSlug}},
		{0, []string{"plan", "-json"}},
		{0, []string{"revoke", "-reason", "drill", stripeSlug}},
		{1, []string{"gate", stripeSlug}},
		{0, []string{"untombstone", stripeSlug}},
		{1, []string{"apply"}}, // refused: no terminal, no -auto-approve
		{0, []string{"apply", "-auto-approve"}},
		{8, []string{"revoke", "never-existed-20260101"}},
	}
	for _, st := range steps {
		code, stdout, stderr := c.run(st.args...)
		if st.args[0] == "env" && len(st.args) > 1 && st.args[1] == "-format" {
			c.outputs = c.outputs[:len(c.outputs)-2] // -reveal prints values by design
		}
		if code != st.code {
			t.Fatalf("handoff %s: exit %d, want %d\n%s\n%s", strings.Join(st.args, " "), code, st.code, stdout, stderr)
		}
		if live := c.liveTokens(); len(live) != 0 {
			t.Errorf("after handoff %s: access tokens alive: %v", strings.Join(st.args, " "), live)
		}
		if strings.Contains(stderr, "warning: revoke") {
			t.Errorf("handoff %s: %s", strings.Join(st.args, " "), stderr)
		}
	}
	if n := c.s.Kit.Stats.Count("POST /api/v1/auth/token/revoke"); n < int64(len(steps))-1 {
		t.Errorf("%d token revocations for %d commands", n, len(steps))
	}
}

// TestInterruptedCommandRevokesItsToken: an apply interrupted (SIGINT and
// SIGTERM cancel the command's context) while it waits for another apply's
// lock still revokes its access token on the way out.
func TestInterruptedCommandRevokesItsToken(t *testing.T) {
	c := newGitOps(t)
	release := c.holdLock()
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := c.runAsync(ctx, false, nil, "apply", "-auto-approve", "-lock-timeout", "1h", c.dir)
	waitFor(t, r, r.stderr, "lock: waiting for the apply of ci-runner-7")
	if live := c.liveTokens(); len(live) != 1 {
		t.Fatalf("while the apply waits: %v tokens alive, want its own", live)
	}
	cancel()
	if code := r.wait(c); code != 1 {
		t.Errorf("interrupted apply: exit %d\n%s", code, r.stderr.String())
	}
	if live := c.liveTokens(); len(live) != 0 {
		t.Errorf("after the interrupt: access tokens alive: %v\n%s", live, r.stderr.String())
	}
	if n := c.liveIdentities(); n != 0 {
		t.Errorf("the interrupted apply created %d identities", n)
	}
}
