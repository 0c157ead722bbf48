package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/workspace"
)

func init() { register(gateCommand) }

func gateCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "gate",
		Usage:     "dispatch gate: succeed only if a valid, unexpired manifest exists for SLUG",
		ArgsUsage: "SLUG",
		Description: "Provisioning is step 0 (H4): the orchestrator dispatches a task only when this exits 0, that is\n" +
			"when PROVISION_MANIFEST in the handoff's folder is valid, active, unexpired, written for the spec\n" +
			"on disk (same digest), no apply is running or stopped part-way for it, its credentials are not\n" +
			"expired, and its own dates are ones apply writes (it expires within max_ttl of its start, each\n" +
			"credential within what its vendor allows). Two requests to the vault. It depends on handoff.hcl and\n" +
			"SLUG's own spec only: another spec's errors are a warning on stderr.\n" +
			"Exit status: 0 dispatch allowed, 1 refused (the reason on stderr).",
		Flags: []cli.Flag{chdirFlag()},
		Action: func(c *cli.Context) error {
			slug, err := slugArg(c)
			if err != nil {
				return err
			}
			ws, err := e.loadForSlugs(c, "gate", []string{slug})
			if err != nil {
				return err
			}
			m, journal, err := readManifest(c.Context, ws, slug)
			if err != nil {
				return exitf(exitError, "handoff gate: %s refused: %v", slug, err)
			}
			if reason := gateRefusal(ws, slug, m, journal); reason != "" {
				return exitf(exitError, "handoff gate: %s refused: %s", slug, reason)
			}
			if dead := m.KilledSurfaces(); len(dead) > 0 {
				fmt.Fprintf(e.stderr, "handoff gate: note: surface %v of %s was killed by %s; the task runs without it\n", dead, slug, m.Revocation.By)
			}
			fmt.Fprintf(e.stdout, "handoff gate: %s may be dispatched (expires %s, in %s)\n", slug,
				m.ExpiresAt.UTC().Format(time.RFC3339), m.ExpiresAt.Sub(ws.Now()).Round(time.Minute))
			return nil
		},
	}
}

// readManifest reads and validates the handoff's PROVISION_MANIFEST with
// the provisioner's client, and whether a journal lies beside it: two
// requests.
func readManifest(ctx context.Context, ws *workspace.Workspace, slug string) (m *manifest.Manifest, journal bool, err error) {
	inf, err := ws.Infisical()
	if err != nil {
		return nil, false, err
	}
	folder := handoffFolder(ws, slug)
	sec, err := inf.GetSecret(ctx, ws.Settings.Environment, folder, manifest.SecretName)
	if infisical.IsNotFound(err) {
		return nil, false, fmt.Errorf("no %s in %s: the handoff was never applied (no manifest, no dispatch); run handoff apply", manifest.SecretName, folder)
	}
	if err != nil {
		return nil, false, err
	}
	if m, err = manifest.Parse([]byte(sec.Value)); err != nil {
		return nil, false, fmt.Errorf("%s/%s is not a valid manifest: %v", folder, manifest.SecretName, err)
	}
	if m.Slug != slug {
		return nil, false, fmt.Errorf("%s/%s names handoff %q, not %q", folder, manifest.SecretName, m.Slug, slug)
	}
	switch _, err := inf.GetSecret(ctx, ws.Settings.Environment, folder, manifest.JournalSecretName); {
	case err == nil:
		journal = true
	case !infisical.IsNotFound(err):
		return nil, false, err
	}
	return m, journal, nil
}

// loadForSlugs loads the workspace of a command about given handoffs only
// (gate, env, exec, verify SLUG…): they depend on handoff.hcl and those
// handoffs' own specs, and read no other (workspace.LoadForSlugs).
func (e *env) loadForSlugs(c *cli.Context, cmd string, slugs []string) (*workspace.Workspace, error) {
	return e.loadWorkspaceWith(c, cmd, c.String("chdir"), func(ctx context.Context, dir string, getenv func(string) string) (*workspace.Workspace, hcl.Diagnostics) {
		return workspace.LoadForSlugs(ctx, dir, getenv, slugs)
	})
}

func handoffFolder(ws *workspace.Workspace, slug string) string {
	return ws.Settings.HandoffRoot + "/" + slug
}

// gateRefusal is why the gate refuses m now, or "" (manifest.Admit against
// the spec on disk and the policy's max_ttl).
func gateRefusal(ws *workspace.Workspace, slug string, m *manifest.Manifest, journal bool) string {
	digest := ""
	if h := ws.Repo.Handoff(slug); h != nil {
		digest = h.Digest()
	}
	pol, _ := policy.Effective(ws.Repo.Config)
	if err := m.Admit(manifest.Dispatch{SpecDigest: digest, Now: ws.Now(), Journal: journal,
		MaxTTL: pol.TTLCeiling(), Expiries: ws.Registry().Expiries(m)}); err != nil {
		return err.Error()
	}
	return ""
}
