package main

import (
	"io"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// colorFor reports whether output written to w (stdout or stderr) may be
// colored. It is the one place the rule is written: never with -no-color
// (before the command's name or after it), never when NO_COLOR is set to
// any value (https://no-color.org), never on TERM=dumb, and only when w is
// a terminal.
func (e *env) colorFor(c *cli.Context, w io.Writer) bool {
	if noColorFlag(c) || e.getenv("NO_COLOR") != "" || e.getenv("TERM") == "dumb" {
		return false
	}
	return e.isTerminal(w)
}

// noColorFlag reports whether -no-color was given to the program or to the
// command.
func noColorFlag(c *cli.Context) bool {
	for _, cc := range c.Lineage() {
		if cc.Bool("no-color") {
			return true
		}
	}
	return false
}

// isTerminal reports whether w is a terminal; tests say so with
// env.interactive.
func (e *env) isTerminal(w io.Writer) bool {
	if e.interactive != nil {
		return e.interactive()
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// noColorFlagDef is -no-color as every command accepts it.
func noColorFlagDef() cli.Flag {
	return &cli.BoolFlag{Name: "no-color", Usage: "never color the output (neither does NO_COLOR set to any value)"}
}
