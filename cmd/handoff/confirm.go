package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// autoApproveFlag skips approve's question.
func autoApproveFlag(what string) cli.Flag {
	return &cli.BoolFlag{Name: "auto-approve", Usage: what + " without asking for confirmation"}
}

// approve is how every command that changes something asks first, as
// terraform apply does: -auto-approve goes on; on a terminal, the question
// is asked on stderr and only "yes" goes on; without a terminal and
// without the flag, it refuses. action says what would be done ("revoke
// fine-grained PAT grant 25383 of raxx-app"), advice what to do instead of
// answering (it follows "Pass -auto-approve").
func (e *env) approve(c *cli.Context, cmd, action, question, advice string) error {
	if c.Bool("auto-approve") {
		return nil
	}
	if !e.stdinIsTerminal() {
		return exitf(exitError, "handoff %s: refusing to %s without confirmation: stdin is not a terminal.\n"+
			"Pass -auto-approve%s. Nothing was changed.", cmd, action, advice)
	}
	fmt.Fprintf(e.stderr, "\n%s Only 'yes' will be accepted: ", question)
	answer, err := e.readLine(c.Context)
	if err != nil && c.Context != nil && c.Context.Err() != nil {
		return exitf(exitError, "handoff %s: interrupted; nothing was changed.", cmd)
	}
	if strings.TrimSpace(answer) != "yes" {
		return exitf(exitError, "handoff %s: cancelled; nothing was changed.", cmd)
	}
	return nil
}
