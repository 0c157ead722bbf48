// Package surfaces assembles the surfaces of this build into one registry,
// in the order of the spec language, and installs it (with the vault's
// block, from package infisicalvault) for the core's entry points when it
// is loaded. Adding a surface is one package under internal/surfaces and
// one line in All.
package surfaces

import (
	"github.com/raxx-app/handoff/internal/provider/aws"
	"github.com/raxx-app/handoff/internal/provider/cloudflare"
	gh "github.com/raxx-app/handoff/internal/provider/github"
	hk "github.com/raxx-app/handoff/internal/provider/heroku"
	inf "github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/surfaces/byref"
	cfsurface "github.com/raxx-app/handoff/internal/surfaces/cloudflare"
	"github.com/raxx-app/handoff/internal/surfaces/github"
	"github.com/raxx-app/handoff/internal/surfaces/heroku"
	"github.com/raxx-app/handoff/internal/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/surfaces/mcp"
	"github.com/raxx-app/handoff/internal/surfaces/pending"
	"github.com/raxx-app/handoff/internal/vault/infisicalvault"
)

// Clients are the vendor clients the surfaces mint with; each getter may be
// nil (that vendor is not configured), and is called only when a surface
// needs its client.
type Clients struct {
	GitHub     func() (*gh.Client, error)
	Infisical  func() (*inf.Client, error)
	Cloudflare func() (*cloudflare.Client, error)
	AWS        func() (*aws.Client, error)
	Heroku     func() (*hk.Client, error)
}

// All returns every surface of this build, in the language's order, with
// clients.
func All(c Clients) []surface.Surface {
	return []surface.Surface{
		github.New(c.GitHub),
		infisical.New(c.Infisical),
		mcp.New(),
		byref.Stripe(),
		cfsurface.New(c.Cloudflare),
		pending.AWS(),
		heroku.New(c.Heroku),
		byref.AppleIAP(),
		byref.Alpaca(),
	}
}

// New returns the registry of this build's surfaces with clients.
func New(c Clients) *surface.Registry { return surface.NewRegistry(All(c)...) }

// Default is the registry without clients: enough to parse, check policy
// and plan, not to mint.
var Default = New(Clients{})

func init() { surface.Install(Default, infisicalvault.Syntax()) }
