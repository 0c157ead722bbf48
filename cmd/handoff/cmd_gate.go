package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/spec"
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
			"on disk (same digest), and its GitHub token is not expired. One request to the vault.\n" +
			"Exit status: 0 dispatch allowed, 1 refused (the reason on stderr).",
		Flags: []cli.Flag{chdirFlag()},
		Action: func(c *cli.Context) error {
			slug, err := slugArg(c)
			if err != nil {
				return err
			}
			ws, err := e.loadWorkspace(c, "gate", c.String("chdir"))
			if err != nil {
				return err
			}
			m, err := readManifest(c.Context, ws, slug)
			if err != nil {
				return exitf(exitError, "handoff gate: %s refused: %v", slug, err)
			}
			if reason := gateRefusal(ws, slug, m, ws.Now()); reason != "" {
				return exitf(exitError, "handoff gate: %s refused: %s", slug, reason)
			}
			if dead := killedSurfaces(m); len(dead) > 0 {
				fmt.Fprintf(e.stderr, "handoff gate: note: surface %v of %s was killed by %s; the task runs without it\n", dead, slug, m.Revocation.By)
			}
			fmt.Fprintf(e.stdout, "handoff gate: %s may be dispatched (expires %s, in %s)\n", slug,
				m.ExpiresAt.UTC().Format(time.RFC3339), m.ExpiresAt.Sub(ws.Now()).Round(time.Minute))
			return nil
		},
	}
}

// readManifest reads and validates the handoff's PROVISION_MANIFEST with
// the provisioner's client: one request.
func readManifest(ctx context.Context, ws *workspace.Workspace, slug string) (*manifest.Manifest, error) {
	inf, err := ws.Infisical()
	if err != nil {
		return nil, err
	}
	folder := handoffFolder(ws, slug)
	sec, err := inf.GetSecret(ctx, ws.Settings.Environment, folder, manifest.SecretName)
	if infisical.IsNotFound(err) {
		return nil, fmt.Errorf("no %s in %s: the handoff was never applied (no manifest, no dispatch); run handoff apply", manifest.SecretName, folder)
	}
	if err != nil {
		return nil, err
	}
	m, err := manifest.Parse([]byte(sec.Value))
	if err != nil {
		return nil, fmt.Errorf("%s/%s is not a valid manifest: %v", folder, manifest.SecretName, err)
	}
	if m.Slug != slug {
		return nil, fmt.Errorf("%s/%s names handoff %q, not %q", folder, manifest.SecretName, m.Slug, slug)
	}
	return m, nil
}

func handoffFolder(ws *workspace.Workspace, slug string) string {
	return ws.Settings.HandoffRoot + "/" + slug
}

// gateRefusal is why the gate refuses m at now, or "".
func gateRefusal(ws *workspace.Workspace, slug string, m *manifest.Manifest, now time.Time) string {
	h := findSpec(ws.Repo, slug)
	switch {
	case m.Status != manifest.Active:
		why := "revoked"
		if r := m.Revocation; r != nil {
			why = fmt.Sprintf("revoked (%s) at %s: %s", r.Kind, r.At.UTC().Format(time.RFC3339), r.Reason)
		}
		return "the handoff is " + why
	case !now.Before(m.ExpiresAt):
		return fmt.Sprintf("the handoff expired at %s; the next apply revokes it", m.ExpiresAt.UTC().Format(time.RFC3339))
	case h == nil:
		return "no spec for it on disk (a deleted spec is revoked by the next apply)"
	case h.Digest() != m.SpecDigest:
		return "the spec changed since the last apply (its digest differs from the manifest's): run handoff apply"
	}
	if g := m.Surfaces.GitHub; g != nil && !slices.Contains(killedSurfaces(m), spec.SurfaceGitHub) && !now.Before(g.TokenExpiresAt) {
		return fmt.Sprintf("its GitHub token expired at %s: run handoff apply to refresh it", g.TokenExpiresAt.UTC().Format(time.RFC3339))
	}
	return ""
}

// killedSurfaces are the surfaces of an active handoff that `handoff revoke
// -surface` killed.
func killedSurfaces(m *manifest.Manifest) []string {
	if m.Status != manifest.Active || m.Revocation == nil {
		return nil
	}
	return m.Revocation.Surfaces
}

func findSpec(repo *spec.Repo, slug string) *spec.Handoff {
	for _, h := range repo.Handoffs {
		if h.Slug.Value == slug {
			return h
		}
	}
	return nil
}
