package policy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/raxx-app/handoff/internal/spec"
)

var (
	mcpToolRE      = regexp.MustCompile(`^[A-Za-z0-9_.:*-]{1,128}$`)
	stripeKeyRE    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	zoneRE         = regexp.MustCompile(`^(?:[a-f0-9]{32}|(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$`)
	roleARNRE      = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	herokuAppRE    = regexp.MustCompile(`^[a-z][a-z0-9-]{2,29}$`)
	bundleIDRE     = regexp.MustCompile(`^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$`)
	herokuScopes   = []string{"identity", "read", "write", "read-protected", "write-protected"}
	nonBlankString = func(s spec.String) bool { return strings.TrimSpace(s.Value) != "" }
)

// mcp checks the tool lists of an mcp block.
func (c *checker) mcp(m *spec.MCP) {
	excluded := map[string]bool{}
	for _, t := range m.Exclude.Values {
		if !mcpToolRE.MatchString(t.Value) {
			c.errorf(t.Range, "Invalid MCP tool name",
				"%q is not a tool name. Write the tool's name as the MCP server lists it, such as \"stripe_charge\".", t.Value)
		}
		excluded[t.Value] = true
	}
	for _, t := range m.Allow.Values {
		switch {
		case strings.Contains(t.Value, "*"):
			c.errorf(t.Range, "Wildcard in MCP allow list",
				"%q would allow a whole family of tools (H1). List each tool the task needs by name.", t.Value)
		case !mcpToolRE.MatchString(t.Value):
			c.errorf(t.Range, "Invalid MCP tool name",
				"%q is not a tool name. Write the tool's name as the MCP server lists it, such as \"github_pr_create\".", t.Value)
		case excluded[t.Value]:
			c.errorf(t.Range, "MCP tool both allowed and excluded",
				"%q is in allow and in exclude. Keep it in one list only.", t.Value)
		}
	}
}

// stripe checks a stripe block; the live-mode rule is in liveApproval.
func (c *checker) stripe(h *spec.Handoff, s *spec.Stripe) {
	if m := s.Mode; m.Valid() && m.Value != spec.StripeTest && m.Value != spec.StripeLive {
		c.errorf(m.Range, "Invalid Stripe mode",
			"mode is %q; write mode = \"test\" (the default), or \"live\" together with a live_approval block.", m.Value)
	}
	perms := s.Permissions
	if perms.Valid() && len(perms.Entries) == 0 {
		c.errorf(perms.Range, "No Stripe permissions",
			"A restricted key needs at least one resource. List what the task needs, such as permissions = { checkout_sessions = \"write\" }.")
	}
	for _, e := range perms.Entries {
		if !stripeKeyRE.MatchString(e.Key.Value) {
			c.errorf(e.Key.Range, "Invalid Stripe resource",
				"%q is not a Stripe resource name. Write it in snake case as in Stripe's restricted key settings, such as checkout_sessions.", e.Key.Value)
			continue
		}
		if v := e.Value.Value; v != LevelRead && v != LevelWrite {
			c.errorf(e.Value.Range, fmt.Sprintf("Invalid level %q for Stripe resource %q", v, e.Key.Value),
				"A restricted key grants \"read\" or \"write\" per resource. Write %s = \"read\" or \"write\".", e.Key.Value)
		}
	}
}

// surfaceTTL checks a surface's own TTL: positive and within the handoff's.
func (c *checker) surfaceTTL(h *spec.Handoff, d spec.Duration, surface, name string) {
	if !d.Valid() {
		return
	}
	switch {
	case d.Value <= 0:
		c.errorf(d.Range, fmt.Sprintf("Invalid %s %s", surface, name),
			"%s is %q; write a positive duration such as %s = \"1h\".", name, d.Raw, name)
	case h.TTL.Valid() && h.TTL.Value > 0 && d.Value > h.TTL.Value:
		c.errorf(d.Range, fmt.Sprintf("%s %s longer than the handoff's ttl", surface, name),
			"%s is %s but the handoff's ttl is %s; no credential may outlive its handoff (H3). Shorten %s to %s or less.",
			name, d.Raw, h.TTL.Raw, name, h.TTL.Raw)
	}
}

// nonEmptyList reports an empty list and blank elements.
func (c *checker) nonEmptyList(l spec.StringList, surface, name, example string) {
	if l.Valid() && len(l.Values) == 0 {
		c.errorf(l.Range, fmt.Sprintf("Empty %s %s", surface, name),
			"%s is empty. List what the task needs, such as %s.", name, example)
	}
	for _, v := range l.Values {
		if !nonBlankString(v) {
			c.errorf(v.Range, fmt.Sprintf("Blank entry in %s %s", surface, name),
				"Remove the empty string or write a value, such as %s.", example)
		}
	}
}

// cloudflare checks a cloudflare block.
func (c *checker) cloudflare(h *spec.Handoff, cf *spec.Cloudflare) {
	c.nonEmptyList(cf.Zones, "cloudflare", "zones", `zones = ["example.com"]`)
	for _, z := range cf.Zones.Values {
		if nonBlankString(z) && !zoneRE.MatchString(z.Value) {
			c.errorf(z.Range, "Invalid Cloudflare zone",
				"%q is neither a zone name nor a zone id. Name each zone, such as \"example.com\"; wildcards are not allowed (H1).", z.Value)
		}
	}
	c.nonEmptyList(cf.PermissionGroups, "cloudflare", "permission_groups", `permission_groups = ["DNS Write"]`)
	for _, g := range cf.PermissionGroups.Values {
		if strings.Contains(g.Value, "*") {
			c.errorf(g.Range, "Wildcard Cloudflare permission group",
				"%q is not a permission group. Name each group the task needs, such as \"DNS Write\" (H1).", g.Value)
		}
	}
	c.surfaceTTL(h, cf.TTL, "cloudflare", "ttl")
}

// aws checks an aws block.
func (c *checker) aws(h *spec.Handoff, a *spec.AWS) {
	if r := a.RoleARN; r.Valid() && !roleARNRE.MatchString(r.Value) {
		c.errorf(r.Range, "Invalid AWS role ARN",
			"role_arn is %q; write an IAM role ARN, such as \"arn:aws:iam::123456789012:role/handoff-deploy\".", r.Value)
	}
	if sp := a.SessionPolicy; sp.Valid() {
		if sum, det := sessionPolicyProblem(sp.Value); sum != "" {
			c.errorf(sp.Range, sum, "%s", det)
		}
	}
	if d := a.Duration; d.Valid() {
		switch {
		case d.Value > MaxAWSSession:
			c.errorf(d.Range, "AWS session longer than 1h",
				"duration is %s; an AWS session lasts at most %s (H3), and scheduled applies refresh it. Write duration = \"1h\" or less.",
				d.Raw, fmtDur(MaxAWSSession))
		case d.Value > 0 && d.Value < MinAWSSession:
			c.errorf(d.Range, "AWS session shorter than 15m",
				"duration is %s; AWS STS refuses sessions under %s. Write duration = \"15m\" or more.", d.Raw, fmtDur(MinAWSSession))
		default:
			c.surfaceTTL(h, d, "aws", "duration")
		}
	}
}

// sessionPolicyProblem checks that an inline session policy is a JSON IAM
// policy without blanket grants.
func sessionPolicyProblem(src string) (summary, detail string) {
	var doc struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(src), &doc); err != nil {
		return "Invalid AWS session policy", fmt.Sprintf("session_policy is not a JSON policy document (%v). Write it as a JSON string with Version and Statement.", err)
	}
	type statement struct {
		Effect    string          `json:"Effect"`
		Action    json.RawMessage `json:"Action"`
		NotAction json.RawMessage `json:"NotAction"`
	}
	var stmts []statement
	if err := json.Unmarshal(doc.Statement, &stmts); err != nil {
		var one statement
		if err := json.Unmarshal(doc.Statement, &one); err != nil || len(doc.Statement) == 0 {
			return "Invalid AWS session policy", "session_policy needs a Statement (an object or a list of objects) with Effect and Action. Add one."
		}
		stmts = []statement{one}
	}
	for _, s := range stmts {
		if s.Effect != "Allow" {
			continue
		}
		if len(s.NotAction) > 0 {
			return "Blanket AWS session policy", "An Allow statement with NotAction grants every action but a few (H1). List the actions the task needs under Action."
		}
		var actions []string
		if err := json.Unmarshal(s.Action, &actions); err != nil {
			var one string
			if json.Unmarshal(s.Action, &one) == nil {
				actions = []string{one}
			}
		}
		for _, a := range actions {
			if a == "*" || strings.HasSuffix(a, ":*") {
				return "Blanket AWS session policy", fmt.Sprintf("Action %q grants every action of a service (H1). List the actions the task needs, such as \"s3:GetObject\".", a)
			}
		}
	}
	return "", ""
}

// heroku checks a heroku block.
func (c *checker) heroku(h *spec.Handoff, hk *spec.Heroku) {
	if a := hk.App; a.Valid() && !herokuAppRE.MatchString(a.Value) {
		c.errorf(a.Range, "Invalid Heroku app name",
			"app is %q; write the app's name as Heroku shows it: 3 to 30 lower-case letters, digits and hyphens, starting with a letter.", a.Value)
	}
	c.nonEmptyList(hk.Scope, "heroku", "scope", `scope = ["read"]`)
	for _, s := range hk.Scope.Values {
		switch {
		case s.Value == "global":
			c.errorf(s.Range, "Forbidden Heroku scope \"global\"",
				"The global scope acts on every app of the account (H1). Use \"read\" or \"write\" (or their -protected variants) instead.")
		case nonBlankString(s) && !slices.Contains(herokuScopes, s.Value):
			c.errorf(s.Range, fmt.Sprintf("Unknown Heroku scope %q", s.Value),
				"Heroku OAuth scopes are %s. Use one of them.", strings.Join(herokuScopes, ", "))
		}
	}
	c.surfaceTTL(h, hk.TTL, "heroku", "ttl")
}

// appleIAP checks an apple_iap block; the production rule is in
// liveApproval.
func (c *checker) appleIAP(h *spec.Handoff, a *spec.AppleIAP) {
	if e := a.Environment; e.Valid() && e.Value != spec.AppleIAPSandbox && e.Value != spec.AppleIAPProduction {
		c.errorf(e.Range, "Invalid apple_iap environment",
			"environment is %q; write environment = \"sandbox\" (the default), or \"production\" together with a live_approval block.", e.Value)
	}
	if b := a.BundleID; b.Valid() && !bundleIDRE.MatchString(b.Value) {
		c.errorf(b.Range, "Invalid bundle id",
			"bundle_id is %q; write the app's reverse-DNS bundle identifier, such as \"com.raxx.trademaster\".", b.Value)
	}
}

// alpaca checks an alpaca block; the live rule is in liveApproval.
func (c *checker) alpaca(h *spec.Handoff, a *spec.Alpaca) {
	if m := a.Mode; m.Valid() && m.Value != spec.AlpacaPaper && m.Value != spec.AlpacaLive {
		c.errorf(m.Range, "Invalid alpaca mode",
			"mode is %q; write mode = \"paper\" (the default), or \"live\" together with a live_approval block.", m.Value)
	}
}

// liveApproval enforces H7: live or production financial credentials only
// with a live_approval block naming who approved and why.
func (c *checker) liveApproval(h *spec.Handoff) {
	la := h.LiveApproval
	if la == nil {
		if s := h.Stripe; s != nil && s.Live() {
			c.errorf(s.Mode.Range, "Live Stripe key without approval",
				"mode = \"live\" mints a key that moves real money; it needs a recorded operator approval (H7). Add live_approval { by = \"<who>\", reason = \"<why>\" } to the handoff, or use mode = \"test\".")
		}
		if a := h.AppleIAP; a != nil && a.Live() {
			c.errorf(a.Environment.Range, "Production App Store access without approval",
				"environment = \"production\" touches real purchases; it needs a recorded operator approval (H7). Add live_approval { by = \"<who>\", reason = \"<why>\" } to the handoff, or use environment = \"sandbox\".")
		}
		if a := h.Alpaca; a != nil && a.Live() {
			c.errorf(a.Mode.Range, "Live Alpaca trading without approval",
				"mode = \"live\" trades real money; it needs a recorded operator approval (H7). Add live_approval { by = \"<who>\", reason = \"<why>\" } to the handoff, or use mode = \"paper\".")
		}
		return
	}
	if b := la.By; b.Valid() && !nonBlankString(b) {
		c.errorf(b.Range, "Empty live_approval by",
			"by records the operator who approved live access (H7). Write their name, such as by = \"cfo\".")
	}
	if r := la.Reason; r.Valid() && !nonBlankString(r) {
		c.errorf(r.Range, "Empty live_approval reason",
			"reason records why live access is needed (H7). Write it, such as reason = \"first live payout run, ticket OPS-412\".")
	}
	if len(h.LiveSurfaces()) == 0 {
		c.warnf(la.DefRange, "live_approval without a live surface",
			"No surface of handoff %q is live, so the approval grants nothing. Remove the block, so approvals are recorded only where they are used.", h.Slug.Value)
	}
}
