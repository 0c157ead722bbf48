package infisical

import (
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

// RouteLimit returns the limit the client paces requests of method to path
// (a request path such as "/api/v4/secrets/batch", or a template such as
// "/api/v4/secrets/{secretName}") to: at most max per window, counted per
// route. ok is false when its model knows no limit for that route (a
// self-hosted server, ProfileSelfHosted). It is what the client's own
// pacer enforces (Config.RateLimits), for callers that spread their work
// to fit, such as the engine's refreshes per scheduled run.
func (c *Client) RouteLimit(method, path string) (max int, window time.Duration, ok bool) {
	c.modelOnce.Do(func() { c.model = c.cfg.RateLimits.Model(c.base) })
	class := c.model.Default
	if r, found := c.model.Routes.Match(method, path); found {
		class = r.Class
	}
	for _, lim := range c.model.Classes[class] {
		if lim.Max > 0 && lim.Window > 0 {
			return lim.Max, lim.Window, true
		}
	}
	for _, lim := range c.model.Limits {
		if lim.Max > 0 && lim.Window > 0 && lim.Scope == pace.PerRoute {
			return lim.Max, lim.Window, true
		}
	}
	return 0, 0, false
}
