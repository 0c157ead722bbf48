// Package surfaces assembles the registry of the surfaces this build can
// provision: github (installation tokens), infisical (the handoff's own
// identity), mcp (tool lists) and the pre-provisioned financial keys
// (stripe, apple_iap, alpaca). cloudflare, aws and heroku have no provider
// in this build: a plan that needs them fails naming them.
package surfaces

import (
	"github.com/raxx-app/handoff/internal/provider"
	gh "github.com/raxx-app/handoff/internal/provider/github"
	inf "github.com/raxx-app/handoff/internal/provider/infisical"
	ghsurface "github.com/raxx-app/handoff/internal/provider/surfaces/github"
	infsurface "github.com/raxx-app/handoff/internal/provider/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/provider/surfaces/mcp"
	"github.com/raxx-app/handoff/internal/provider/surfaces/static"
)

// Registry returns every surface of this build. A nil GitHub client leaves
// the github surface out (no App configured), and a nil Infisical client
// the infisical one.
func Registry(github *gh.Client, infisical *inf.Client) provider.Registry {
	list := []provider.Surface{mcp.New(), static.Stripe(), static.AppleIAP(), static.Alpaca()}
	if github != nil {
		list = append(list, ghsurface.New(github))
	}
	if infisical != nil {
		list = append(list, infsurface.New(infisical))
	}
	return provider.NewRegistry(list...)
}

// Names returns the names of every surface this build can provision, as
// when both clients are configured: what plan checks specs against, before
// any client exists.
func Names() []string {
	return Registry(&gh.Client{}, &inf.Client{}).Names()
}
