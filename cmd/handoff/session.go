package main

import (
	"context"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/session"
	"github.com/raxx-app/handoff/internal/vault/infisicalvault"
	"github.com/raxx-app/handoff/internal/workspace"
)

// sessionContext is the session context of `handoff env` and `handoff
// exec` (package session), bound to the workspace's vault. It marshals as
// session.Context.
type sessionContext struct{ *session.Context }

func newSessionContext(ws *workspace.Workspace, m *manifest.Manifest) *sessionContext {
	return &sessionContext{session.New(m, ws.Registry(), session.Place{
		SiteURL: ws.Settings.SiteURL, ProjectID: ws.Settings.ProjectID,
		Environment: ws.Settings.Environment, Folder: handoffFolder(ws, m.Slug),
	})}
}

// reveal reads the values as the handoff's own identity (session.Reveal).
func (sc *sessionContext) reveal(c *cli.Context, ws *workspace.Workspace, _ *manifest.Manifest) error {
	return sc.revealWith(c.Context, ws)
}

// revealWith reveals with the provisioner's client, which reads the
// identity's client id and secret and logs in as it.
func (sc *sessionContext) revealWith(ctx context.Context, ws *workspace.Workspace) error {
	prov, err := ws.Infisical()
	if err != nil {
		return err
	}
	return sc.Reveal(ctx, session.Vault{
		Provisioner: infisicalvault.New(prov),
		Login: func(ctx context.Context, clientID, clientSecret string) (session.Reader, func(context.Context) error, error) {
			own, err := prov.AsIdentity(ctx, clientID, clientSecret)
			if err != nil {
				return nil, nil, err
			}
			return infisicalvault.New(own), own.Logout, nil
		},
	})
}

func (sc *sessionContext) writeDotenv(w io.Writer) error { return sc.WriteDotenv(w) }
