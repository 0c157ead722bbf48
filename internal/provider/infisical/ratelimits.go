package infisical

//go:generate go run ../pace/routegen -contract ../../devserver/contracttest/contracts/infisical.openapi.json -class x-rate-limit-class -pkg infisical -var contractRoutes -out routes_gen.go

import (
	"net/url"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

// Profile chooses which of Infisical's rate limits the client paces itself
// to.
type Profile string

const (
	// ProfileAuto is ProfileCloud for Infisical Cloud (infisical.com and its
	// subdomains) and ProfileSelfHosted for any other server.
	ProfileAuto Profile = ""
	// ProfileCloud: Infisical Cloud's limits, per client, per route (method
	// and route template, each its own 60-second fixed window), the maximum
	// set by the route's class (CloudPerMinute).
	ProfileCloud Profile = "cloud"
	// ProfileSelfHosted: no limit of its own (a self-hosted server registers
	// no limiter); the client still obeys any x-ratelimit-* headers, 429
	// and Retry-After a server sends.
	ProfileSelfHosted Profile = "self-hosted"
)

// Rate-limit classes, as the contract's x-rate-limit-class names them, plus
// the global limit of routes without their own.
const (
	ClassSecrets          = "secretsLimit"
	ClassRead             = "readLimit"
	ClassWrite            = "writeLimit"
	ClassIdentityCreation = "identityCreationLimit"
	ClassGlobal           = "global"
)

// CloudPerMinute are Infisical Cloud's maxima per route per minute, by
// class, for calls made with an organization's token on the default plan
// (reference infisical.md, "Rate limits"): secrets 40 (the plan's fallback;
// the instance's own is 60), read 60, write 200, identity creation 30, and
// the global 600 for routes without a class.
var CloudPerMinute = map[string]int{
	ClassSecrets:          40,
	ClassRead:             60,
	ClassWrite:            200,
	ClassIdentityCreation: 30,
	ClassGlobal:           600,
}

// RateLimits configures the client's model of Infisical's rate limits.
type RateLimits struct {
	// Profile chooses the model (default ProfileAuto).
	Profile Profile
	// PerMinute overrides the per-route maximum of classes (keys as
	// CloudPerMinute's): a higher plan's limits on Cloud, or limits a
	// self-hosted server is known to enforce.
	PerMinute map[string]int
}

// cloud reports whether base is Infisical Cloud.
func (r RateLimits) cloud(base string) bool {
	switch r.Profile {
	case ProfileCloud:
		return true
	case ProfileSelfHosted:
		return false
	}
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return h == "infisical.com" || strings.HasSuffix(h, ".infisical.com")
}

// Model is the pacer's model of the server at base.
func (r RateLimits) Model(base string) pace.Model {
	cloud := r.cloud(base)
	routes := make([]pace.Route, len(contractRoutes))
	for i, rt := range contractRoutes {
		rt.Words = routeWords(rt)
		routes[i] = rt
	}
	classes := map[string][]pace.Limit{}
	for _, class := range []string{ClassSecrets, ClassRead, ClassWrite, ClassIdentityCreation, ClassGlobal} {
		// Each route has its own count; the server's x-ratelimit-* headers
		// describe it. One request a window is kept for the apply lease's
		// renewals on the routes they use (pace.WithPriority), so that
		// they never queue behind a run's writes.
		lim := pace.Limit{Window: time.Minute, Kind: pace.Fixed, Scope: pace.PerRoute, Headers: true, Reserve: 1}
		if cloud {
			lim.Max = CloudPerMinute[class]
		}
		if n, ok := r.PerMinute[class]; ok && n > 0 {
			lim.Max = n
		}
		classes[class] = []pace.Limit{lim}
	}
	return pace.Model{
		Vendor:  "Infisical",
		Routes:  pace.NewRoutes(routes),
		Default: ClassGlobal,
		Classes: classes,
	}
}

// routeWords says what a route's requests are, for waits and errors.
func routeWords(r pace.Route) string {
	read := r.Method == "GET"
	switch r.Class {
	case ClassSecrets:
		switch {
		case strings.Contains(r.Path, "/folders"):
			return "folder writes"
		case read:
			return "secret reads"
		}
		return "secret writes"
	case ClassRead:
		return "reads"
	case ClassWrite:
		if strings.HasSuffix(r.Path, "/login") {
			return "logins"
		}
		return "writes"
	case ClassIdentityCreation:
		return "identity creation"
	}
	return "requests"
}
