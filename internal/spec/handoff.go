package spec

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Surface names, as written in specs. Surfaces returns them in this order.
const (
	SurfaceGitHub     = "github"
	SurfaceInfisical  = "infisical"
	SurfaceMCP        = "mcp"
	SurfaceStripe     = "stripe"
	SurfaceCloudflare = "cloudflare"
	SurfaceAWS        = "aws"
	SurfaceHeroku     = "heroku"
	SurfaceAppleIAP   = "apple_iap"
	SurfaceAlpaca     = "alpaca"
)

// Modes and environments of the financial surfaces. The first of each pair is
// the default and the only one allowed without a live_approval block (H7).
const (
	StripeTest         = "test"
	StripeLive         = "live"
	AppleIAPSandbox    = "sandbox"
	AppleIAPProduction = "production"
	AlpacaPaper        = "paper"
	AlpacaLive         = "live"
)

// Handoff is one parsed spec file: a single handoff "<slug>" block.
//
// Surfaces are nil when their block is absent. Scalar fields follow the rule
// of the package: a field whose Valid method reports false was absent or
// invalid, and the parser has already reported any error about it.
type Handoff struct {
	// Filename is the path of the spec file, as used in every range.
	Filename string
	// DefRange is the header of the block, `handoff "<slug>"`.
	DefRange hcl.Range
	// Slug is the block label; its Range is the label's.
	Slug String
	// Card is the number of the task card the handoff serves.
	Card Int
	// Description says in a sentence what the agent does.
	Description String
	// TTL is how long the handoff's credentials may live, at most the
	// policy's max_ttl.
	TTL Duration
	// ApprovedBy names who approved the handoff.
	ApprovedBy String

	GitHub     *GitHub     // the github block
	Infisical  *Infisical  // the infisical block
	MCP        *MCP        // the mcp block
	Stripe     *Stripe     // the stripe block
	Cloudflare *Cloudflare // the cloudflare block
	AWS        *AWS        // the aws block
	Heroku     *Heroku     // the heroku block
	AppleIAP   *AppleIAP   // the apple_iap block
	Alpaca     *Alpaca     // the alpaca block

	// LiveApproval records the operator approval required for live
	// financial credentials (H7); nil when absent.
	LiveApproval *LiveApproval
}

// GitHub is the github block of a handoff: an App installation token
// narrowed to one repository and to Permissions (name → "read"|"write").
type GitHub struct {
	DefRange    hcl.Range // the block header
	Repository  String    // "owner/name"
	Permissions StringMap // permission name → "read" | "write"
}

// Infisical is the infisical block of a handoff: vault paths the handoff's
// machine identity may read. Environment is invalid when omitted, in which
// case the environment of handoff.hcl applies. Read paths are absolute; a
// `*` may end the last segment.
type Infisical struct {
	DefRange    hcl.Range  // the block header
	Environment String     // environment slug; invalid when omitted
	Read        StringList // absolute vault paths, a final '*' allowed
}

// MCP is the mcp block of a handoff: tool names the orchestrator allows and
// excludes in the agent's session.
type MCP struct {
	DefRange hcl.Range  // the block header
	Allow    StringList // tools the agent may call, by exact name
	Exclude  StringList // tools the agent must not call
}

// Stripe is the stripe block of a handoff: a restricted key in Mode ("test",
// the default, or "live") with Permissions (resource → "read"|"write").
type Stripe struct {
	DefRange    hcl.Range // the block header
	Mode        String    // "test" (default) or "live"
	Permissions StringMap // resource → "read" | "write"
}

// Live reports whether the block asks for live-mode credentials.
func (s *Stripe) Live() bool { return s.Mode.Value == StripeLive }

// Cloudflare is the cloudflare block of a handoff: an API token limited to
// Zones and PermissionGroups, expiring after TTL (the handoff's TTL when
// omitted).
type Cloudflare struct {
	DefRange         hcl.Range  // the block header
	Zones            StringList // zone names or ids
	PermissionGroups StringList // permission group names, such as "DNS Write"
	TTL              Duration   // token lifetime; the handoff's TTL by default
}

// AWS is the aws block of a handoff: STS AssumeRole of RoleARN with the
// inline SessionPolicy (a JSON IAM policy document) for Duration (default
// and maximum 1h).
type AWS struct {
	DefRange      hcl.Range // the block header
	RoleARN       String    // the role to assume
	SessionPolicy String    // inline IAM policy JSON narrowing the session
	Duration      Duration  // session length; "1h" by default
}

// Heroku is the heroku block of a handoff: an OAuth authorization on App
// with Scope, expiring after TTL (the handoff's TTL when omitted).
type Heroku struct {
	DefRange hcl.Range  // the block header
	App      String     // the app name
	Scope    StringList // OAuth scopes, such as "read"
	TTL      Duration   // authorization lifetime; the handoff's TTL by default
}

// AppleIAP is the apple_iap block of a handoff: App Store Server API access
// for BundleID in Environment ("sandbox", the default, or "production").
type AppleIAP struct {
	DefRange    hcl.Range // the block header
	Environment String    // "sandbox" (default) or "production"
	BundleID    String    // the app's bundle identifier
}

// Live reports whether the block asks for production credentials.
func (a *AppleIAP) Live() bool { return a.Environment.Value == AppleIAPProduction }

// Alpaca is the alpaca block of a handoff: trading API keys in Mode
// ("paper", the default, or "live").
type Alpaca struct {
	DefRange hcl.Range // the block header
	Mode     String    // "paper" (default) or "live"
}

// Live reports whether the block asks for live trading credentials.
func (a *Alpaca) Live() bool { return a.Mode.Value == AlpacaLive }

// LiveApproval is the live_approval block: who approved live financial
// access and why. Package policy requires both to be non-empty.
type LiveApproval struct {
	DefRange hcl.Range // the block header
	By       String    // the approving operator
	Reason   String    // why live access is needed
}

// Surfaces returns the names of the surfaces the handoff declares, in the
// fixed order github, infisical, mcp, stripe, cloudflare, aws, heroku,
// apple_iap, alpaca.
func (h *Handoff) Surfaces() []string {
	var out []string
	add := func(present bool, name string) {
		if present {
			out = append(out, name)
		}
	}
	add(h.GitHub != nil, SurfaceGitHub)
	add(h.Infisical != nil, SurfaceInfisical)
	add(h.MCP != nil, SurfaceMCP)
	add(h.Stripe != nil, SurfaceStripe)
	add(h.Cloudflare != nil, SurfaceCloudflare)
	add(h.AWS != nil, SurfaceAWS)
	add(h.Heroku != nil, SurfaceHeroku)
	add(h.AppleIAP != nil, SurfaceAppleIAP)
	add(h.Alpaca != nil, SurfaceAlpaca)
	return out
}

// LiveSurfaces returns the financial surfaces that ask for live or
// production credentials, in Surfaces order.
func (h *Handoff) LiveSurfaces() []string {
	var out []string
	if h.Stripe != nil && h.Stripe.Live() {
		out = append(out, SurfaceStripe)
	}
	if h.AppleIAP != nil && h.AppleIAP.Live() {
		out = append(out, SurfaceAppleIAP)
	}
	if h.Alpaca != nil && h.Alpaca.Live() {
		out = append(out, SurfaceAlpaca)
	}
	return out
}

// SlugFromFilename returns the slug a spec file name implies: its base name
// without ".hcl.json" or ".hcl". It returns "" for other names.
func SlugFromFilename(filename string) string {
	base := filename
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	for _, ext := range []string{".hcl.json", ".hcl"} {
		if s, ok := strings.CutSuffix(base, ext); ok {
			return s
		}
	}
	return ""
}

var (
	specFileDef = &blockDef{
		name:   "A spec file",
		blocks: []string{"handoff"},
		labels: map[string]string{"handoff": "slug"},
	}
	handoffDef = &blockDef{
		typ:  "handoff",
		name: "A handoff block",
		attrs: []attrDef{
			{name: "card", required: true, example: `card = 3629`},
			{name: "description", example: `description = "StoreKit 2 server notification handler"`},
			{name: "ttl", required: true, example: `ttl = "24h"`},
			{name: "approved_by", required: true, example: `approved_by = "ops"`},
		},
		blocks: []string{
			SurfaceGitHub, SurfaceInfisical, SurfaceMCP, SurfaceStripe, SurfaceCloudflare,
			SurfaceAWS, SurfaceHeroku, SurfaceAppleIAP, SurfaceAlpaca, "live_approval",
		},
	}
	githubDef = &blockDef{
		typ:  SurfaceGitHub,
		name: "A github block in a handoff",
		attrs: []attrDef{
			{name: "repository", required: true, example: `repository = "raxx-app/TradeMasterAPI"`},
			{name: "permissions", required: true, example: `permissions = { contents = "write", pull_requests = "write" }`},
		},
	}
	infisicalDef = &blockDef{
		typ:  SurfaceInfisical,
		name: "An infisical block in a handoff",
		attrs: []attrDef{
			{name: "environment", example: `environment = "staging"`},
			{name: "read", required: true, example: `read = ["/MooseQuest/queue/staging/APPLE_IAP_*"]`},
		},
	}
	mcpDef = &blockDef{
		typ:  SurfaceMCP,
		name: "An mcp block in a handoff",
		attrs: []attrDef{
			{name: "allow", example: `allow = ["github_pr_create", "github_pr_comment"]`},
			{name: "exclude", example: `exclude = ["filesystem_write_outside_worktree"]`},
		},
	}
	stripeDef = &blockDef{
		typ:  SurfaceStripe,
		name: "A stripe block in a handoff",
		attrs: []attrDef{
			{name: "mode", example: `mode = "test"`},
			{name: "permissions", required: true, example: `permissions = { checkout_sessions = "write", subscriptions = "read" }`},
		},
	}
	cloudflareDef = &blockDef{
		typ:  SurfaceCloudflare,
		name: "A cloudflare block in a handoff",
		attrs: []attrDef{
			{name: "zones", required: true, example: `zones = ["example.com"]`},
			{name: "permission_groups", required: true, example: `permission_groups = ["DNS Write"]`},
			{name: "ttl", example: `ttl = "1h"`},
		},
	}
	awsDef = &blockDef{
		typ:  SurfaceAWS,
		name: "An aws block in a handoff",
		attrs: []attrDef{
			{name: "role_arn", required: true, example: `role_arn = "arn:aws:iam::123456789012:role/handoff-deploy"`},
			{name: "session_policy", required: true, example: `session_policy = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::my-bucket/*\"}]}"`},
			{name: "duration", example: `duration = "1h"`},
		},
	}
	herokuDef = &blockDef{
		typ:  SurfaceHeroku,
		name: "A heroku block in a handoff",
		attrs: []attrDef{
			{name: "app", required: true, example: `app = "moosequest-staging"`},
			{name: "scope", required: true, example: `scope = ["read"]`},
			{name: "ttl", example: `ttl = "8h"`},
		},
	}
	appleIAPDef = &blockDef{
		typ:  SurfaceAppleIAP,
		name: "An apple_iap block in a handoff",
		attrs: []attrDef{
			{name: "environment", example: `environment = "sandbox"`},
			{name: "bundle_id", required: true, example: `bundle_id = "com.example.app"`},
		},
	}
	alpacaDef = &blockDef{
		typ:  SurfaceAlpaca,
		name: "An alpaca block in a handoff",
		attrs: []attrDef{
			{name: "mode", example: `mode = "paper"`},
		},
	}
	liveApprovalDef = &blockDef{
		typ:  "live_approval",
		name: "A live_approval block",
		attrs: []attrDef{
			{name: "by", required: true, example: `by = "cfo"`},
			{name: "reason", required: true, example: `reason = "first live payout run, ticket OPS-412"`},
		},
	}
)

// ParseHandoffFile parses one spec file. The syntax follows the name: HCL
// JSON for names ending in ".json", native HCL otherwise. It returns nil
// when the file has syntax errors or holds no handoff block; otherwise it
// returns the handoff with every value it could decode, together with all
// diagnostics. It never touches the file system.
func ParseHandoffFile(filename string, src []byte) (*Handoff, hcl.Diagnostics) {
	file, diags := parseSyntax(filename, src)
	if diags.HasErrors() || file == nil || file.Body == nil {
		return nil, diags
	}
	d := &decoder{diags: diags}
	top := d.content(file.Body, specFileDef, FileRange(filename))
	var blk *hcl.Block
	for _, b := range top.content.Blocks {
		if blk == nil {
			blk = b
			continue
		}
		slug := ""
		if len(b.Labels) > 0 {
			slug = b.Labels[0]
		}
		d.errorf(b.DefRange, "More than one handoff in a spec file",
			"A spec file declares exactly one handoff; the first is at %s. Move this one to specs/%s.hcl.",
			RangeString(blk.DefRange), slug)
	}
	if blk == nil {
		if !d.diags.HasErrors() {
			d.errorf(FileRange(filename), "Missing handoff block",
				`A spec file declares one handoff. Add a block such as: handoff "%s" { card = 3629, ttl = "24h", approved_by = "ops" }`,
				SlugFromFilename(filename))
		}
		return nil, d.diags
	}
	if len(blk.Labels) != 1 {
		// HCL has already reported the missing or extra label.
		return nil, d.diags
	}
	h := decodeHandoff(d, filename, blk)
	return h, d.diags
}

func decodeHandoff(d *decoder, filename string, blk *hcl.Block) *Handoff {
	b := d.content(blk.Body, handoffDef, blk.DefRange)
	h := &Handoff{
		Filename:    filename,
		DefRange:    blk.DefRange,
		Slug:        String{Value: blk.Labels[0], Range: blk.LabelRanges[0]},
		Card:        d.integer(b, "card"),
		Description: d.str(b, "description", ""),
		TTL:         d.duration(b, "ttl", ""),
		ApprovedBy:  d.str(b, "approved_by", ""),
	}
	// Surfaces whose own TTL defaults to the handoff's.
	ttlDefault := ""
	if h.TTL.Valid() {
		ttlDefault = h.TTL.Raw
	}
	if blk := d.single(b, SurfaceGitHub); blk != nil {
		s := d.content(blk.Body, githubDef, blk.DefRange)
		h.GitHub = &GitHub{DefRange: blk.DefRange, Repository: d.str(s, "repository", ""), Permissions: d.strMap(s, "permissions")}
	}
	if blk := d.single(b, SurfaceInfisical); blk != nil {
		s := d.content(blk.Body, infisicalDef, blk.DefRange)
		h.Infisical = &Infisical{DefRange: blk.DefRange, Environment: d.str(s, "environment", ""), Read: d.list(s, "read")}
	}
	if blk := d.single(b, SurfaceMCP); blk != nil {
		s := d.content(blk.Body, mcpDef, blk.DefRange)
		h.MCP = &MCP{DefRange: blk.DefRange, Allow: d.list(s, "allow"), Exclude: d.list(s, "exclude")}
	}
	if blk := d.single(b, SurfaceStripe); blk != nil {
		s := d.content(blk.Body, stripeDef, blk.DefRange)
		h.Stripe = &Stripe{DefRange: blk.DefRange, Mode: d.str(s, "mode", StripeTest), Permissions: d.strMap(s, "permissions")}
	}
	if blk := d.single(b, SurfaceCloudflare); blk != nil {
		s := d.content(blk.Body, cloudflareDef, blk.DefRange)
		h.Cloudflare = &Cloudflare{
			DefRange:         blk.DefRange,
			Zones:            d.list(s, "zones"),
			PermissionGroups: d.list(s, "permission_groups"),
			TTL:              d.duration(s, "ttl", ttlDefault),
		}
	}
	if blk := d.single(b, SurfaceAWS); blk != nil {
		s := d.content(blk.Body, awsDef, blk.DefRange)
		h.AWS = &AWS{
			DefRange:      blk.DefRange,
			RoleARN:       d.str(s, "role_arn", ""),
			SessionPolicy: d.str(s, "session_policy", ""),
			Duration:      d.duration(s, "duration", "1h"),
		}
	}
	if blk := d.single(b, SurfaceHeroku); blk != nil {
		s := d.content(blk.Body, herokuDef, blk.DefRange)
		h.Heroku = &Heroku{DefRange: blk.DefRange, App: d.str(s, "app", ""), Scope: d.list(s, "scope"), TTL: d.duration(s, "ttl", ttlDefault)}
	}
	if blk := d.single(b, SurfaceAppleIAP); blk != nil {
		s := d.content(blk.Body, appleIAPDef, blk.DefRange)
		h.AppleIAP = &AppleIAP{DefRange: blk.DefRange, Environment: d.str(s, "environment", AppleIAPSandbox), BundleID: d.str(s, "bundle_id", "")}
	}
	if blk := d.single(b, SurfaceAlpaca); blk != nil {
		s := d.content(blk.Body, alpacaDef, blk.DefRange)
		h.Alpaca = &Alpaca{DefRange: blk.DefRange, Mode: d.str(s, "mode", AlpacaPaper)}
	}
	if blk := d.single(b, "live_approval"); blk != nil {
		s := d.content(blk.Body, liveApprovalDef, blk.DefRange)
		h.LiveApproval = &LiveApproval{DefRange: blk.DefRange, By: d.str(s, "by", ""), Reason: d.str(s, "reason", "")}
	}
	return h
}
