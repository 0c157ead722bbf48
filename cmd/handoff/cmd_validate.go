package main

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/diag"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
)

func init() { register(validateCommand) }

func validateCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "parse specs and handoff.hcl and check the policy; touches nothing remote",
		ArgsUsage: "[DIR]",
		Description: "DIR (default \".\") is the repository root, holding handoff.hcl and specs/, or its specs/ directory.\n" +
			"Diagnostics go to stderr as file:line:col; with -json the JSON document goes to stdout instead.\n" +
			"When GITHUB_ACTIONS=true, GitHub annotations are also written to stderr.\n" +
			"At most 10 problems of a file and 100 in all are shown; the others are counted.\n" +
			"Exit status: 0 valid (warnings allowed), 1 invalid.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the diagnostics as a JSON document on stdout"},
		},
		Action: func(c *cli.Context) error {
			if err := misplacedFlag(c.Args().Slice()); err != nil {
				return usageError(c, err, true)
			}
			if c.NArg() > 1 {
				return usageError(c, fmt.Errorf("at most one DIR, got %d arguments", c.NArg()), true)
			}
			dir := "."
			if c.NArg() == 1 {
				dir = c.Args().First()
			}
			repo, diags := validate(dir)
			shown := diag.Limit(diags, diag.MaxPerFile, diag.MaxTotal)
			repo.FillSources(shown)
			return e.report(c, "validate", shown, repo.Sources, plural(len(repo.Handoffs), "handoff")+" valid")
		},
	}
}

// validate loads the repository at dir and checks it. The policy
// diagnostics are limited as they come (see checkPolicy); the caller limits
// the whole list before showing it.
func validate(dir string) (*spec.Repo, hcl.Diagnostics) {
	repo, diags := spec.LoadDir(dir)
	return repo, append(diags, checkPolicy(repo)...)
}

// policyChunk bounds the parsed specs policy.Check is given at once, by
// their spec.KeptSize. policy.Check returns every problem of what it is
// given, about one per list element or map entry of a bad spec; checking a
// repository of bad specs whole would hold several times the specs' own
// size in diagnostics. Checked by chunks, each chunk's diagnostics are
// limited (diag.Limit) before the next chunk is checked.
const policyChunk = 2 << 20

// checkPolicy is policy.Check(repo) with bounded memory, and the same
// diagnostics up to diag.Limit. A repository whose specs fit in one chunk
// is checked whole. Otherwise the configuration's own diagnostics come from
// a check without handoffs, and each chunk's check (which repeats them) adds
// only the others. Handoffs are sorted by slug, and a chunk never splits
// a slug, so duplicates are still found.
func checkPolicy(repo *spec.Repo) hcl.Diagnostics {
	sizes := make([]int64, len(repo.Handoffs))
	var total int64
	for i, h := range repo.Handoffs {
		sizes[i] = spec.KeptSize(h)
		total += sizes[i]
	}
	if total <= policyChunk {
		return policy.Check(repo)
	}
	part := func(hs []*spec.Handoff) *spec.Repo {
		return &spec.Repo{Dir: repo.Dir, Config: repo.Config, Handoffs: hs, Sources: repo.Sources}
	}
	base := policy.Check(part(nil))
	repeated := make(map[string]int, len(base))
	for _, d := range base {
		repeated[diagKey(d)]++
	}
	out := base
	for start := 0; start < len(repo.Handoffs); {
		end, size := start, int64(0)
		for end < len(repo.Handoffs) && (end == start || size+sizes[end] <= policyChunk ||
			repo.Handoffs[end].Slug.Value == repo.Handoffs[end-1].Slug.Value) {
			size += sizes[end]
			end++
		}
		skip := make(map[string]int, len(repeated))
		for k, n := range repeated {
			skip[k] = n
		}
		for _, d := range policy.Check(part(repo.Handoffs[start:end])) {
			if k := diagKey(d); skip[k] > 0 {
				skip[k]--
				continue
			}
			out = append(out, d)
		}
		out = diag.Limit(out, diag.MaxPerFile, diag.MaxTotal)
		start = end
	}
	return out
}

// diagKey identifies a diagnostic by what it says and where.
func diagKey(d *hcl.Diagnostic) string {
	k := fmt.Sprintf("%d\x00%s\x00%s", d.Severity, d.Summary, d.Detail)
	if s := d.Subject; s != nil {
		k += fmt.Sprintf("\x00%s:%d", s.Filename, s.Start.Byte)
	}
	return k
}

// report prints diags the way every command does — text on stderr, or the
// JSON document on stdout with -json, plus GitHub annotations when running
// in GitHub Actions — and returns exit code 1 when there is an error. ok is
// the one-line summary printed to stderr in text mode when there is none.
func (e *env) report(c *cli.Context, cmd string, diags hcl.Diagnostics, sources map[string][]byte, ok string) error {
	errs, warns := diag.Counts(diags)
	if c.Bool("json") {
		if err := diag.WriteJSON(e.stdout, diags); err != nil {
			return exitf(exitError, "handoff %s: %v", cmd, err)
		}
	} else {
		if err := diag.WriteText(e.stderr, diags, sources, e.color(c)); err != nil {
			return exitf(exitError, "handoff %s: %v", cmd, err)
		}
	}
	if e.getenv("GITHUB_ACTIONS") == "true" {
		if err := diag.WriteGitHubActions(e.stderr, diags, e.getenv("GITHUB_WORKSPACE")); err != nil {
			return exitf(exitError, "handoff %s: %v", cmd, err)
		}
	}
	if errs > 0 {
		if c.Bool("json") {
			return exitCode(exitError)
		}
		return exitf(exitError, "handoff %s: %s, %s", cmd, plural(errs, "error"), plural(warns, "warning"))
	}
	if !c.Bool("json") {
		msg := "handoff " + cmd + ": " + ok
		if warns > 0 {
			msg += ", " + plural(warns, "warning")
		}
		fmt.Fprintln(e.stderr, msg)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
