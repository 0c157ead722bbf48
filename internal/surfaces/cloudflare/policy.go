package cloudflare

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
)

// forbidden are the permission groups no handoff's token may ever hold,
// whatever the policy says (H1), by normalized name (NormalizeGroup), with
// why. The names are Cloudflare's (GET /user/tokens/permission_groups);
// ForbiddenGroup also forbids by pattern the writes of API tokens, billing
// and memberships under any other name.
var forbidden = map[string]string{
	"zone settings write":      "it changes settings of the whole zone (SSL/TLS mode, security level, caching, HTTPS rewrites) that every site of the zone depends on",
	"bot management write":     "it turns the zone's bot protection down or off",
	"zone write":               "it deletes, pauses or changes the plan of the zone itself",
	"api tokens write":         "it creates API tokens with any permission of the user, so a handoff could mint itself more",
	"account api tokens write": "it creates account API tokens with any permission of the account, so a handoff could mint itself more",
	"account settings write":   "it administers the account: its members, their roles and account-wide settings",
	"billing write":            "it changes the account's payment methods and subscriptions",
	"memberships write":        "it accepts and leaves the user's account memberships",
	"user details write":       "it changes the user's profile, email and two-factor settings",
	"access: organizations, identity providers, and groups write": "it decides who may log in to the account's Access applications",
}

// NormalizeGroup is a permission group name compared case-insensitively,
// with spaces collapsed and a final "Edit" read as "Write" (the dashboard's
// word for the API's "Write").
func NormalizeGroup(name string) string {
	n := strings.ToLower(strings.Join(strings.Fields(name), " "))
	if rest, ok := strings.CutSuffix(n, " edit"); ok {
		n = rest + " write"
	}
	return n
}

// ForbiddenGroup reports whether a Cloudflare permission group is never
// granted to a handoff, whatever the policy says, and why (H1): Zone
// Settings Write, Bot Management Write, Zone Write, and any group that
// administers API tokens, the account (members, roles, settings), billing,
// memberships, the user's details or Access's organization.
func ForbiddenGroup(name string) (reason string, isForbidden bool) {
	n := NormalizeGroup(name)
	if r, ok := forbidden[n]; ok {
		return r, true
	}
	if !strings.HasSuffix(n, " write") {
		return "", false
	}
	switch {
	case strings.Contains(n, "api token"):
		return "it creates or changes API tokens, so a handoff could mint itself more", true
	case strings.Contains(n, "billing"):
		return "it changes the account's billing", true
	case strings.Contains(n, "member"):
		return "it administers the account's members", true
	}
	return "", false
}

// zoneRE is a zone name (example.com) or a 32-hex-digit zone id.
var zoneRE = regexp.MustCompile(`^(?:[a-f0-9]{32}|(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$`)

// NormalizeZone is a zone name or id as compared: lower case, without a
// final dot.
func NormalizeZone(z string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(z)), ".")
}

// Policy is the surface's effective policy.
type Policy struct {
	// PermissionGroups is the ceiling of permission groups, without the
	// entries that break a hard rule.
	PermissionGroups spec.StringList
	// Zones are the zones a handoff's token may reach, without the invalid
	// entries. Empty (the default): no Cloudflare handoff is allowed.
	Zones spec.StringList
}

// allowsZone reports whether the policy lists zone z.
func (p *Policy) allowsZone(z string) bool {
	for _, a := range p.Zones.Values {
		if NormalizeZone(a.Value) == NormalizeZone(z) {
			return true
		}
	}
	return false
}

// allowsGroup reports whether the ceiling lists group g (exactly, as
// Cloudflare names are matched), and the ceiling's spelling when only the
// case differs.
func (p *Policy) allowsGroup(g string) (ok bool, spelled string) {
	for _, a := range p.PermissionGroups.Values {
		if a.Value == g {
			return true, ""
		}
		if NormalizeGroup(a.Value) == NormalizeGroup(g) {
			spelled = a.Value
		}
	}
	return false, spelled
}

// Policy merges the default policy's ceiling and zones with handoff.hcl's
// and checks them against the hard rules, dropping what breaks them.
func (s *Surface) Policy(def, override spec.Block, _ *spec.Config) (any, hcl.Diagnostics) {
	p := &Policy{}
	if d, ok := def.(*PolicyBlock); ok {
		p.PermissionGroups, p.Zones = d.PermissionGroups, d.Zones
	}
	if o, ok := override.(*PolicyBlock); ok {
		if o.PermissionGroups.Valid() {
			p.PermissionGroups = o.PermissionGroups
		}
		if o.Zones.Valid() {
			p.Zones = o.Zones
		}
	}
	c := &surface.Check{}
	groups := p.PermissionGroups.Values[:0:0]
	for _, g := range p.PermissionGroups.Values {
		if ceilingGroup(c, g) {
			groups = append(groups, g)
		}
	}
	p.PermissionGroups.Values = groups
	zones := p.Zones.Values[:0:0]
	for _, z := range p.Zones.Values {
		if zoneProblem(c, z, "cloudflare_zones", "In cloudflare_zones: ") {
			continue
		}
		zones = append(zones, z)
	}
	p.Zones.Values = zones
	return p, c.Diagnostics()
}

// ceilingGroup checks one entry of cloudflare_permission_groups and
// reports whether it may stay in the ceiling.
func ceilingGroup(c *surface.Check, g spec.String) bool {
	switch {
	case !policy.NonBlank(g):
		c.Errorf(g.Range, "Blank entry in cloudflare_permission_groups",
			"Remove the empty string or name a permission group, such as \"DNS Write\".")
		return false
	case strings.Contains(g.Value, "*"):
		c.Errorf(g.Range, "Wildcard Cloudflare permission group in the policy ceiling",
			"%q is not a permission group. Name each group handoffs may hold, such as \"DNS Write\" (H1).", g.Value)
		return false
	}
	if why, bad := ForbiddenGroup(g.Value); bad {
		c.Errorf(g.Range, fmt.Sprintf("Forbidden Cloudflare permission group %q in the policy ceiling", g.Value),
			"No handoff may ever hold %q: %s (H1). Remove it from cloudflare_permission_groups; a policy cannot allow it.", g.Value, why)
		return false
	}
	return true
}

// zoneProblem reports (and returns true for) a zone that is neither a
// zone name nor a zone id.
func zoneProblem(c *surface.Check, z spec.String, attr, where string) bool {
	switch {
	case !policy.NonBlank(z):
		c.Errorf(z.Range, "Blank entry in "+attr, "Remove the empty string or name a zone, such as \"example.com\".")
		return true
	case !zoneRE.MatchString(strings.TrimSuffix(z.Value, ".")):
		c.Errorf(z.Range, "Invalid Cloudflare zone",
			"%s%q is neither a zone name nor a zone id. Name each zone, such as \"example.com\"; wildcards are not allowed (H1).", where, z.Value)
		return true
	}
	return false
}

// Check checks a handoff's cloudflare block: its zones against the
// policy's cloudflare_zones, its permission groups against the ceiling and
// the groups no handoff may hold, its ttl, and its request_ip.
func (s *Surface) Check(c *surface.Check, h *spec.Handoff, b spec.Block) {
	blk, ok := b.(*Block)
	if !ok {
		return
	}
	p, _ := c.Policy.(*Policy)
	if p == nil {
		p = &Policy{} // nothing allowed
	}
	checkZones(c, p, blk)
	checkGroups(c, p, blk)
	policy.SurfaceTTL(c, h, blk.TTL, Name, "ttl")
	checkRequestIP(c, blk.RequestIP)
}

func checkZones(c *surface.Check, p *Policy, b *Block) {
	policy.NonEmptyList(c, b.Zones, Name, "zones", `zones = ["example.com"]`)
	if b.Zones.Valid() && len(b.Zones.Values) > 0 && len(p.Zones.Values) == 0 {
		c.Errorf(b.Zones.Range, "No Cloudflare zone is allowed by the policy",
			"The policy lists no zone in cloudflare_zones (%s), so no handoff may hold a Cloudflare token. List the zones handoffs may reach in the policy block of handoff.hcl through a reviewed change, such as cloudflare_zones = [\"example.com\"].",
			where(p.Zones.Range))
		return
	}
	seen := map[string]bool{}
	for _, z := range b.Zones.Values {
		if !policy.NonBlank(z) || zoneProblem(c, z, "cloudflare zones", "") {
			continue
		}
		n := NormalizeZone(z.Value)
		if seen[n] {
			c.Errorf(z.Range, "Duplicate Cloudflare zone", "%q is listed twice in zones. Remove one.", z.Value)
			continue
		}
		seen[n] = true
		if !p.allowsZone(z.Value) {
			c.Errorf(z.Range, fmt.Sprintf("Cloudflare zone %q is not allowed by the policy", z.Value),
				"The policy (cloudflare_zones, %s) allows only %s. Remove %q, or add it to cloudflare_zones in the policy block of handoff.hcl through a reviewed change.",
				where(p.Zones.Range), quoted(p.Zones.Strings()), z.Value)
		}
	}
}

func checkGroups(c *surface.Check, p *Policy, b *Block) {
	policy.NonEmptyList(c, b.PermissionGroups, Name, "permission_groups", `permission_groups = ["DNS Write"]`)
	seen := map[string]bool{}
	for _, g := range b.PermissionGroups.Values {
		switch {
		case !policy.NonBlank(g):
			continue
		case strings.Contains(g.Value, "*"):
			c.Errorf(g.Range, "Wildcard Cloudflare permission group",
				"%q is not a permission group. Name each group the task needs, such as \"DNS Write\" (H1).", g.Value)
			continue
		}
		if why, bad := ForbiddenGroup(g.Value); bad {
			c.Errorf(g.Range, fmt.Sprintf("Forbidden Cloudflare permission group %q", g.Value),
				"No handoff may ever hold %q: %s (H1). Remove it; do that part of the task by hand or through a reviewed change.", g.Value, why)
			continue
		}
		if seen[g.Value] {
			c.Errorf(g.Range, "Duplicate Cloudflare permission group", "%q is listed twice in permission_groups. Remove one.", g.Value)
			continue
		}
		seen[g.Value] = true
		if ok, spelled := p.allowsGroup(g.Value); !ok {
			if spelled != "" {
				c.Errorf(g.Range, fmt.Sprintf("Cloudflare permission group %q is spelled otherwise", g.Value),
					"Cloudflare names it %q, as the policy does (cloudflare_permission_groups, %s). Write it that way.", spelled, where(p.PermissionGroups.Range))
				continue
			}
			c.Errorf(g.Range, fmt.Sprintf("Cloudflare permission group %q is above the policy ceiling", g.Value),
				"The policy (cloudflare_permission_groups, %s) allows only %s. Remove %q, or add it to cloudflare_permission_groups in the policy block of handoff.hcl through a reviewed change.",
				where(p.PermissionGroups.Range), quoted(p.PermissionGroups.Strings()), g.Value)
		}
	}
}

// checkRequestIP checks the token's IP allowlist: CIDRs in their canonical
// form, none allowing every address.
func checkRequestIP(c *surface.Check, l spec.StringList) {
	if !l.Valid() {
		return
	}
	if len(l.Values) == 0 {
		c.Errorf(l.Range, "Empty cloudflare request_ip",
			"An empty request_ip would allow no address at all. Remove request_ip to allow any address, or list the CIDRs the agent runs from, such as request_ip = [\"192.0.2.0/24\"].")
		return
	}
	seen := map[netip.Prefix]bool{}
	for _, v := range l.Values {
		p, err := netip.ParsePrefix(strings.TrimSpace(v.Value))
		switch {
		case err != nil:
			single := ""
			if a, aerr := netip.ParseAddr(strings.TrimSpace(v.Value)); aerr == nil {
				single = fmt.Sprintf(" For the single address %s, write \"%s\".", a, netip.PrefixFrom(a, a.BitLen()))
			}
			c.Errorf(v.Range, "Invalid CIDR in cloudflare request_ip",
				"%q is not a CIDR.%s Write an address range with its prefix length, such as \"192.0.2.0/24\" or \"2001:db8::/32\".", v.Value, single)
		case p != p.Masked():
			c.Errorf(v.Range, "CIDR with host bits in cloudflare request_ip",
				"%q has bits set beyond its /%d prefix, which hides what range is meant. Write \"%s\", or a longer prefix.", v.Value, p.Bits(), p.Masked())
		case p.Bits() == 0:
			c.Errorf(v.Range, "cloudflare request_ip allows every address",
				"%q allows every address, which restricts nothing. List the ranges the agent runs from, or remove request_ip.", v.Value)
		case seen[p]:
			c.Errorf(v.Range, "Duplicate CIDR in cloudflare request_ip", "%q is listed twice in request_ip. Remove one.", v.Value)
		default:
			seen[p] = true
		}
	}
}

func where(r hcl.Range) string {
	if r == (hcl.Range{}) {
		return "not set"
	}
	return spec.RangeString(r)
}

func quoted(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprintf("%q", s)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Checks are the surface's rules, for the plan's record.
func (s *Surface) Checks() surface.Checks {
	return surface.Checks{
		Policy: []string{"Cloudflare zones within the policy's cloudflare_zones and permission groups within its cloudflare_permission_groups; " +
			"never Zone Settings Write, Bot Management Write, Zone Write, nor the administration of API tokens, the account, billing or memberships"},
		Settings: "zones",
		Plan: []string{
			"each Cloudflare zone exists and the provisioner token sees it (Zone Read)",
			"each permission group is in Cloudflare's catalogue and applies to zones",
			"the user's quota of 50 API tokens",
		},
	}
}
