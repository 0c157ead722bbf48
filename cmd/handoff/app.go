package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// Exit codes of the contract shared by several commands. Command-specific
// ones (2 changes, 3 unformatted, 4 scope violation, 8 nothing found) are
// declared next to their command.
const (
	exitOK    = 0
	exitError = 1
)

// exitErr carries a command's exit code up to run, the only place that turns
// it into a process status. Msg, when not empty, is printed to stderr; it is
// empty when the command has already reported (diagnostics, diff).
type exitErr struct {
	code int
	msg  string
}

// Error returns the message, possibly empty.
func (e *exitErr) Error() string { return e.msg }

// exitf returns an exitErr with a formatted message.
func exitf(code int, format string, args ...any) error {
	return &exitErr{code: code, msg: fmt.Sprintf(format, args...)}
}

// exitCode returns an exitErr that prints nothing.
func exitCode(code int) error { return &exitErr{code: code} }

// env is what a command may touch of the outside world. Commands use it
// instead of os.Stdout, os.Getenv, … so that tests run them in process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// environ lists the whole environment, for a process a command starts
	// (`handoff exec`); nil is os.Environ.
	environ func() []string
	// interactive, when set, says whether stdin and stderr are a terminal
	// (tests answer the confirmation prompt); nil asks the files.
	interactive func() bool

	// closers end, once the command is over (interrupted or not), what it
	// holds on the servers: the provisioner's access tokens.
	closers []func(context.Context) error
	// in reads stdin for the prompts (one reader: a second prompt reads
	// on where the first stopped).
	in *bufio.Reader
}

// closeTimeout bounds the cleanup after a command: the revocation of its
// access tokens.
const closeTimeout = 15 * time.Second

// onClose registers f to run when the command is over.
func (e *env) onClose(f func(context.Context) error) { e.closers = append(e.closers, f) }

// close runs the closers, last registered first, with a context of its own:
// the command's may be cancelled (SIGINT, SIGTERM), and the cleanup must
// still reach the servers. A failure is a warning: the command's outcome
// stands.
func (e *env) close() {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	for i := len(e.closers) - 1; i >= 0; i-- {
		if err := e.closers[i](ctx); err != nil {
			fmt.Fprintf(e.stderr, "warning: %v\n", err)
		}
	}
	e.closers = nil
}

// registry lists the constructors of the commands; each cmd_*.go file adds
// its own in an init function, so commands are added without touching each
// other's files.
var registry []func(*env) *cli.Command

func register(cmds ...func(*env) *cli.Command) { registry = append(registry, cmds...) }

// newApp builds the CLI for one run.
func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:  "handoff",
		Usage: "least-privilege, time-bound credentials for unattended agents",
		UsageText: "handoff [-chdir=DIR] [-no-color] COMMAND [options] [arguments...]\n\n" +
			"Specs live in specs/<slug>.hcl next to handoff.hcl; see the product contract.\n" +
			"Options come before arguments: handoff -chdir=ops revoke -reason R SLUG.",
		HideVersion:     true,
		HideHelpCommand: true, // ours is registered with the other commands
		Reader:          e.stdin,
		Writer:          e.stdout,
		ErrWriter:       e.stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "chdir", Usage: "switch to `DIR` before the command, as terraform's -chdir: every path is read from there"},
			noColorFlagDef(),
			&cli.BoolFlag{Name: "version", Usage: "print the version and commit, then exit"},
			// urfave/cli adds it only with its own help command.
			cli.HelpFlag,
		},
		Before: func(c *cli.Context) error {
			dir := c.String("chdir")
			if dir == "" {
				return nil
			}
			if err := os.Chdir(dir); err != nil {
				return exitf(exitError, "handoff: -chdir=%s: %v. Run 'handoff -help' for usage.", dir, pathError(err))
			}
			return nil
		},
		// run alone turns errors into exit codes; never os.Exit from inside.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   usageError,
		Action: func(c *cli.Context) error {
			if c.Bool("version") {
				v, rev := buildVersion()
				fmt.Fprintf(e.stdout, "handoff %s (commit %s)\n", v, rev)
				return nil
			}
			if c.Args().Present() {
				return exitf(exitError, "handoff: unknown command %q. Run 'handoff -help' for the list of commands.", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
	for _, mk := range registry {
		cmd := mk(e)
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = usageError
		}
		if !hasFlag(cmd, "no-color") {
			cmd.Flags = append(cmd.Flags, noColorFlagDef())
		}
		if !hasFlag(cmd, "help") {
			cmd.Flags = append(cmd.Flags, cli.HelpFlag)
		}
		if cmd.UsageText == "" {
			cmd.UsageText = strings.TrimSpace("handoff [global options] " + cmd.Name + " [options] " + cmd.ArgsUsage)
		}
		// urfave/cli would append its one global help command to each
		// command's subcommands and write to it there: two commands run
		// at once in one process (the tests of concurrent applies) raced
		// on it. `handoff COMMAND -help` and `handoff help COMMAND` stay.
		cmd.HideHelpCommand = true
		app.Commands = append(app.Commands, cmd)
	}
	sort.Sort(cli.CommandsByName(app.Commands))
	return app
}

// misplacedFlag returns an error naming the first argument that looks like
// a flag: flags must come before arguments ("handoff fmt -check DIR").
func misplacedFlag(args []string) error {
	for _, a := range args {
		if strings.HasPrefix(a, "-") && a != "-" {
			return fmt.Errorf("flag %s after an argument; put flags before arguments", a)
		}
	}
	return nil
}

// hasFlag reports whether cmd defines a flag called name.
func hasFlag(cmd *cli.Command, name string) bool {
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// pathError is err without the operation and path an *os.PathError
// repeats ("chdir ops: no such file or directory" → "no such file or
// directory"), for messages that name the path themselves.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// usageError reports a bad flag or argument with exit code 1.
func usageError(c *cli.Context, err error, isSubcommand bool) error {
	name := "handoff"
	if isSubcommand && c.Command != nil {
		name += " " + c.Command.Name
	}
	return exitf(exitError, "%s: %v. Run '%s -help' for usage.", name, err, name)
}

// run is the whole program: it parses args (args[0] is the program name),
// runs the command and returns the exit code. It never calls os.Exit, so
// tests drive it in process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return runContext(context.Background(), args, stdin, stdout, stderr, getenv)
}

// runContext is run with a context that commands see as c.Context: a
// long-running command (dev) stops when it is cancelled.
func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	return e.run(ctx, args)
}

// run runs the program in e and returns the exit code. The working
// directory -chdir switched to is restored on return (tests run commands in
// process).
func (e *env) run(ctx context.Context, args []string) int {
	if wd, err := os.Getwd(); err == nil {
		defer os.Chdir(wd)
	}
	err := newApp(e).RunContext(ctx, args)
	e.close()
	if err == nil {
		return exitOK
	}
	var xe *exitErr
	if errors.As(err, &xe) {
		if xe.msg != "" {
			fmt.Fprintln(e.stderr, xe.msg)
		}
		return xe.code
	}
	fmt.Fprintf(e.stderr, "handoff: %v\n", err)
	return exitError
}

// buildVersion returns the version and commit: the ldflags values when set,
// else the module version and VCS revision recorded by the Go toolchain.
func buildVersion() (v, rev string) {
	v, rev = version, commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = info.Main.Version
		}
		if rev == "" {
			modified := false
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					modified = s.Value == "true"
				}
			}
			if rev != "" && modified {
				rev += "-dirty"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if rev == "" {
		rev = "unknown"
	}
	return v, rev
}
