package main

import (
	"flag"

	"github.com/urfave/cli/v2"
)

// sharedHelpFlag is urfave/cli's help flag, made safe to apply from two
// commands at once. The library adds its one global HelpFlag to every
// command, and BoolFlag.Apply writes to the flag it is given: two commands
// run at the same time in one process (the tests of concurrent applies)
// raced on it. Each Apply here works on a copy.
type sharedHelpFlag struct{ *cli.BoolFlag }

func (f sharedHelpFlag) Apply(set *flag.FlagSet) error {
	c := *f.BoolFlag
	return c.Apply(set)
}

func init() {
	if b, ok := cli.HelpFlag.(*cli.BoolFlag); ok {
		cli.HelpFlag = sharedHelpFlag{b}
	}
}
