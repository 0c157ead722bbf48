package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/session"
	"github.com/raxx-app/handoff/internal/workspace"
)

// Exit statuses of `handoff exec` that are its own, as a shell reports
// them: the command could not be run (126) or found (127). Otherwise exec
// exits with the command's status, 128+N when a signal N killed it, and 1
// when the gate refuses the handoff or its session cannot be read.
const (
	exitCannotRun = 126
	exitNotFound  = 127
)

func init() { register(execCommand) }

func execCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command as the handoff: refused unless gate admits SLUG; the session context in its environment",
		ArgsUsage: "SLUG -- CMD [ARGS...]",
		Description: "What an orchestrator runs at spawn time, like `infisical run` or `aws-vault exec`:\n" +
			"  handoff -chdir=ops exec iap-notif-handler-20260621 -- claude -p \"$(cat task.md)\"\n" +
			"Refused, with gate's decision and reason, unless the handoff is active, unexpired and applied\n" +
			"from the spec on disk. Then the provisioner reads the handoff's client id and secret in its\n" +
			"folder (nothing else), exec logs in as the handoff's OWN identity, reads its folder and its read\n" +
			"paths as it, logs its access token out, and runs CMD with the session context of `handoff env\n" +
			"-reveal` in its environment (HANDOFF_*, the surfaces' variables such as GH_TOKEN, the keys of the\n" +
			"read paths under their names, the MCP allow and exclude lists). CMD inherits exec's environment\n" +
			"without the provisioner's credentials and settings (INFISICAL_CLIENT_ID/SECRET, GitHub App key,\n" +
			"CLOUDFLARE_API_TOKEN, HEROKU_API_KEY, AWS_*, CF_ACCESS_*, GITHUB_TOKEN, …); the session's\n" +
			"variables replace them. Nothing is written to disk, nothing secret is printed.\n" +
			"SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to exec are passed on to CMD, which runs in exec's process\n" +
			"group: a terminal's Ctrl-C reaches both, and exec then waits for CMD rather than passing it twice.\n" +
			"Exit status: CMD's, 128+N when signal N killed it; 1 refused or failed before CMD ran;\n" +
			"126 CMD cannot be run; 127 CMD not found.",
		Flags: []cli.Flag{chdirFlag()},
		Action: func(c *cli.Context) error {
			slug, argv, err := execArgs(c)
			if err != nil {
				return err
			}
			ws, err := e.loadForSlugs(c, "exec", []string{slug})
			if err != nil {
				return err
			}
			environ, err := e.sessionEnviron(c, ws, slug)
			if err != nil {
				return err
			}
			code, err := runChild(argv, environ, e.stdin, e.stdout, e.stderr)
			if err != nil {
				return exitf(code, "handoff exec: %v", err)
			}
			return exitCode(code)
		},
	}
}

// execArgs splits SLUG -- CMD [ARGS...]. The "--" may be left out when CMD
// does not start with "-"; flags go before SLUG.
func execArgs(c *cli.Context) (slug string, argv []string, err error) {
	args := c.Args().Slice()
	before, after := args, []string(nil)
	if i := slices.Index(args, "--"); i >= 0 {
		before, after = args[:i], args[i+1:]
	} else if len(args) > 1 {
		before, after = args[:1], args[1:]
	}
	if err := misplacedFlag(before); err != nil {
		return "", nil, usageError(c, err, true)
	}
	switch {
	case len(before) != 1:
		return "", nil, usageError(c, fmt.Errorf("want exactly one SLUG before --, got %d arguments", len(before)), true)
	case len(after) == 0 || after[0] == "":
		return "", nil, usageError(c, errors.New("no command to run: write handoff exec SLUG -- CMD [ARGS...]"), true)
	}
	return before[0], after, nil
}

// sessionEnviron admits the handoff as gate does, reads its session as its
// own identity, and returns the command's environment: exec's own without
// the provisioner's variables (workspace.ProvisionerEnv) and without the
// names the session sets, then the session's variables.
func (e *env) sessionEnviron(c *cli.Context, ws *workspace.Workspace, slug string) ([]string, error) {
	m, journal, err := readManifest(c.Context, ws, slug)
	if err != nil {
		return nil, exitf(exitError, "handoff exec: %s refused: %v", slug, err)
	}
	if reason := gateRefusal(ws, slug, m, journal); reason != "" {
		return nil, exitf(exitError, "handoff exec: %s refused: %s", slug, reason)
	}
	if dead := m.KilledSurfaces(); len(dead) > 0 {
		fmt.Fprintf(e.stderr, "handoff exec: note: surface %v of %s was killed by %s; the task runs without it\n", dead, slug, m.Revocation.By)
	}
	sc := newSessionContext(ws, m)
	if err := sc.revealWith(c.Context, ws); err != nil {
		return nil, exitf(exitError, "handoff exec: %s: %v", slug, err)
	}
	vars, notes := sc.Environ()
	for _, n := range notes {
		fmt.Fprintf(e.stderr, "handoff exec: note: %s\n", n)
	}
	parent := os.Environ
	if e.environ != nil {
		parent = e.environ
	}
	return childEnviron(parent(), vars), nil
}

// childEnviron is parent without the provisioner's variables and the names
// vars sets, followed by vars.
func childEnviron(parent []string, vars session.Vars) []string {
	set := make(map[string]bool, len(vars))
	for _, v := range vars {
		set[v.Name] = true
	}
	out := make([]string, 0, len(parent)+len(vars))
	for _, kv := range parent {
		name, _, _ := strings.Cut(kv, "=")
		if name == "" || set[name] || workspace.ProvisionerEnv(name) {
			continue
		}
		out = append(out, kv)
	}
	for _, v := range vars {
		out = append(out, v.Name+"="+v.Value)
	}
	return out
}

// runChild runs argv with environ, passing on the signals of
// forwardedSignals, and returns its exit status as a shell reports it.
// An error means the command did not run; the status then says why (126,
// 127). Its message names the command, never the environment.
func runChild(argv, environ []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	if errors.Is(cmd.Err, exec.ErrNotFound) || errors.Is(cmd.Err, fs.ErrNotExist) {
		return exitNotFound, fmt.Errorf("%s: command not found", argv[0])
	}
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = environ, stdin, stdout, stderr
	// Registered before the start, so that a signal that arrives while
	// the command starts is passed on rather than lost (or fatal, for
	// SIGHUP and SIGQUIT).
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return exitNotFound, fmt.Errorf("%s: command not found", argv[0])
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return exitCannotRun, fmt.Errorf("%s: cannot run: %v", argv[0], err)
	}
	done := make(chan struct{})
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for {
			select {
			case s := <-sigs:
				if passOn(s) {
					_ = cmd.Process.Signal(s)
				}
			case <-done:
				return
			}
		}
	}()
	_ = cmd.Wait() // the status is in ProcessState; an I/O error of a pipe changes nothing
	close(done)
	<-forwarded
	return exitStatus(cmd.ProcessState), nil
}
