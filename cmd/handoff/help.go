package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// Help is written the way the rest of handoff writes flags: one dash
// (-auto-approve, as in terraform and in every message), a named
// placeholder for each value, and a default only when there is one worth
// saying (never "false", never a zero that the usage explains).
func init() { cli.FlagStringer = flagString }

// flagString renders one flag of a help page: "-name PLACEHOLDER, -alias
// PLACEHOLDER<TAB>usage (default: D)". The placeholder is the usage's
// `back-quoted` word, else VALUE.
func flagString(f cli.Flag) string {
	df, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return ""
	}
	placeholder, usage := splitPlaceholder(df.GetUsage())
	if df.TakesValue() && placeholder == "" {
		placeholder = "VALUE"
	}
	var names []string
	for _, n := range df.Names() {
		name := "-" + n
		if df.TakesValue() {
			name += " " + placeholder
		}
		names = append(names, name)
	}
	if sf, ok := f.(cli.DocGenerationSliceFlag); ok && sf.IsSliceFlag() && !strings.Contains(usage, "repeatable") {
		usage += " (repeatable)"
	}
	if d := flagDefault(f); d != "" {
		usage += " (default: " + d + ")"
	}
	return strings.Join(names, ", ") + "\t" + usage
}

// splitPlaceholder returns the first `word` of usage and usage without the
// back quotes.
func splitPlaceholder(usage string) (placeholder, rest string) {
	i := strings.IndexByte(usage, '`')
	if i < 0 {
		return "", usage
	}
	j := strings.IndexByte(usage[i+1:], '`')
	if j < 0 {
		return "", usage
	}
	placeholder = usage[i+1 : i+1+j]
	return placeholder, usage[:i] + placeholder + usage[i+1+j+1:]
}

// flagDefault is the default shown in help: the flag's DefaultText when
// set; none for a bool, an empty string, a zero number or duration;
// durations as people write them (2m, 168h).
func flagDefault(f cli.Flag) string {
	switch x := f.(type) {
	case *cli.BoolFlag:
		if x.DefaultText == "" && x.Value {
			return "true"
		}
		return x.DefaultText
	case *cli.DurationFlag:
		if x.DefaultText != "" {
			return x.DefaultText
		}
		if x.Value == 0 {
			return ""
		}
		return shortDuration(x.Value)
	case *cli.IntFlag:
		if x.DefaultText != "" || x.Value == 0 {
			return x.DefaultText
		}
		return fmt.Sprint(x.Value)
	case *cli.Int64Flag:
		if x.DefaultText != "" || x.Value == 0 {
			return x.DefaultText
		}
		return fmt.Sprint(x.Value)
	case *cli.StringFlag:
		if x.DefaultText != "" || x.Value == "" {
			return x.DefaultText
		}
		return fmt.Sprintf("%q", x.Value)
	case *cli.StringSliceFlag:
		return x.DefaultText
	}
	if df, ok := f.(cli.DocGenerationFlag); ok {
		return df.GetDefaultText()
	}
	return ""
}

// shortDuration writes d without its zero units: 2m, 168h, 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// helpCommand replaces urfave/cli's, whose one-line usage is written in
// another voice than the other commands'.
func helpCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "help",
		Usage:     "print the list of commands, or the help of COMMAND",
		ArgsUsage: "[COMMAND]",
		Action: func(c *cli.Context) error {
			switch c.NArg() {
			case 0:
				return cli.ShowAppHelp(c)
			case 1:
				name := c.Args().First()
				cmd := c.App.Command(name)
				if cmd == nil {
					return exitf(exitError, "handoff help: no command %q. Run 'handoff -help' for the list of commands.", name)
				}
				cli.HelpPrinter(c.App.Writer, cli.CommandHelpTemplate, cmd)
				return nil
			}
			return usageError(c, fmt.Errorf("at most one COMMAND, got %d arguments", c.NArg()), true)
		},
	}
}

func init() { register(helpCommand) }
