package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/workspace"
)

// chdirFlag is the directory of handoff.hcl and specs/ for the commands
// whose arguments are slugs or files (revoke, gate, env, …), given after
// the command's name as earlier versions documented it. It is hidden: the
// global -chdir (before the command) is the one to use; this one, when
// given, is read from the directory the global one switched to.
func chdirFlag() cli.Flag {
	return &cli.StringFlag{Name: "chdir", Aliases: []string{"C"}, Value: ".", Hidden: true, Usage: "the GitOps `DIR` holding handoff.hcl and specs/ (prefer the global -chdir)"}
}

// applyDeps builds what package apply needs from a loaded workspace: the
// provisioner's clients, the surfaces, the specs and the clock. Progress
// goes to stderr.
func (e *env) applyDeps(ws *workspace.Workspace) (apply.Deps, error) {
	v, err := ws.Vault()
	if err != nil {
		return apply.Deps{}, err
	}
	if ws.UsesGitHub() {
		if _, err := ws.GitHub(); err != nil {
			return apply.Deps{}, err
		}
	}
	return apply.Deps{
		Vault: v, Readers: ws.Readers(), Registry: ws.Registry(), Repo: ws.Repo, Now: ws.Now, Progress: e.stderr,
		Config: apply.Config{Root: ws.Settings.HandoffRoot, Environment: ws.Settings.Environment},
	}, nil
}

// lockOwner names this run in the apply lock and in the history events
// that quote it: who, where, which process, and a random tag (two runners
// may share a host name and a pid; the lease must tell them apart).
func (e *env) lockOwner(c *cli.Context) string {
	host, _ := os.Hostname()
	tag := make([]byte, 4)
	_, _ = rand.Read(tag)
	owner := fmt.Sprintf("%s:%d:%x", host, os.Getpid(), tag)
	if who := e.operator(c); who != anOperator {
		owner = who + "@" + owner
	}
	return owner
}

// operator names who runs a manual command, for the audit record: -by, else
// the GitHub Actions actor, else the local user.
func (e *env) operator(c *cli.Context) string {
	for _, v := range []string{c.String("by"), e.getenv("GITHUB_ACTOR"), e.getenv("USER")} {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return anOperator
}

// anOperator is who runs a manual command when nothing names them.
const anOperator = "an operator"

// stdinIsTerminal reports whether the confirmation prompt can be answered.
func (e *env) stdinIsTerminal() bool {
	if e.interactive != nil {
		return e.interactive()
	}
	f, ok := e.stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// stderrIsTerminal reports whether a progress line may be redrawn.
func (e *env) stderrIsTerminal() bool { return e.isTerminal(e.stderr) }

// slugArg returns the one SLUG argument of a command.
func slugArg(c *cli.Context) (string, error) {
	if err := misplacedFlag(c.Args().Slice()); err != nil {
		return "", usageError(c, err, true)
	}
	if c.NArg() != 1 {
		return "", usageError(c, fmt.Errorf("want exactly one SLUG, got %d arguments", c.NArg()), true)
	}
	return c.Args().First(), nil
}
