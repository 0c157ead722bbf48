package policy

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
)

// Slug length bounds.
const (
	MinSlugLen = 3
	MaxSlugLen = 63
)

// ValidateSlug returns nil when slug is a valid handoff slug: lower-case
// letters, digits and hyphens, 3 to 63 characters, not starting or ending
// with a hyphen. Otherwise the error says what is wrong.
func ValidateSlug(slug string) error {
	switch {
	case len(slug) < MinSlugLen || len(slug) > MaxSlugLen:
		return fmt.Errorf("slug %q has %d characters; it must have %d to %d", slug, len(slug), MinSlugLen, MaxSlugLen)
	case strings.HasPrefix(slug, "-") || strings.HasSuffix(slug, "-"):
		return fmt.Errorf("slug %q starts or ends with a hyphen", slug)
	}
	for _, r := range slug {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("slug %q contains %q", slug, r)
		}
	}
	return nil
}

// Check applies every rule to a parsed repository: the configuration, the
// effective policy, and each handoff, including slug uniqueness across
// files. It returns all diagnostics together, in no particular order (the
// renderers of package diag sort them).
func Check(repo *spec.Repo) hcl.Diagnostics {
	pol, diags := Effective(repo.Config)
	c := &checker{diags: diags}
	c.config(repo.Config)

	handoffRoot := handoffRootOf(repo.Config)
	first := make(map[string]*spec.Handoff, len(repo.Handoffs))
	for _, h := range repo.Handoffs {
		if prev, dup := first[h.Slug.Value]; dup {
			c.errorf(h.Slug.Range, fmt.Sprintf("Duplicate handoff %q", h.Slug.Value),
				"Handoff %q is already declared at %s. Each slug names one handoff: delete one of the two files, or give this one a new slug and file name.",
				h.Slug.Value, spec.RangeString(prev.Slug.Range))
		} else {
			first[h.Slug.Value] = h
		}
		c.handoff(h, pol, repo.Config, handoffRoot)
	}
	return c.diags
}

// handoffRootOf returns the handoff_root of cfg when it is set and well
// formed, else "" (its error is reported on handoff.hcl).
func handoffRootOf(cfg *spec.Config) string {
	if cfg == nil || cfg.Infisical == nil || !cfg.Infisical.HandoffRoot.Valid() {
		return ""
	}
	r := cfg.Infisical.HandoffRoot.Value
	if sum, _ := vaultPathProblem(r, false); sum != "" {
		return ""
	}
	return r
}

var envRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// config checks handoff.hcl outside its policy block.
func (c *checker) config(cfg *spec.Config) {
	if cfg == nil {
		return
	}
	inf := cfg.Infisical
	if inf == nil {
		if !cfg.Incomplete {
			c.errorf(spec.FileRange(cfg.Filename), "Missing infisical block",
				"%s needs an infisical block naming the vault: infisical { environment = \"staging\", handoff_root = \"/MooseQuest/handoffs\" }. Add it.",
				cfg.Filename)
		}
	} else {
		c.url(inf.SiteURL, "site_url", "https://app.infisical.com")
		if e := inf.Environment; e.Valid() && !envRE.MatchString(e.Value) {
			c.errorf(e.Range, "Invalid Infisical environment",
				"environment is %q; write the environment slug as Infisical shows it, such as \"staging\" or \"prod\".", e.Value)
		}
		if r := inf.HandoffRoot; r.Valid() {
			c.handoffRoot(r)
		}
	}
	if gh := cfg.GitHub; gh != nil {
		c.url(gh.APIURL, "api_url", spec.DefaultGitHubAPIURL)
		if id := gh.AppID; id.Valid() && id.Value <= 0 {
			c.errorf(id.Range, "Invalid GitHub App id",
				"app_id must be the positive number shown on the App's settings page, such as app_id = 123456.")
		}
	}
}

// url checks an http(s) base URL.
func (c *checker) url(s spec.String, name, example string) {
	if !s.Valid() {
		return
	}
	u, err := url.Parse(s.Value)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		c.errorf(s.Range, fmt.Sprintf("Invalid %s", name),
			"%s is %q; write an absolute http(s) URL without credentials, such as %q.", name, s.Value, example)
	}
}

// handoff checks one handoff.
func (c *checker) handoff(h *spec.Handoff, p *Policy, cfg *spec.Config, handoffRoot string) {
	slug := h.Slug.Value
	if err := ValidateSlug(slug); err != nil {
		c.errorf(h.Slug.Range, "Invalid handoff slug",
			"The %s. A slug has 3 to 63 lower-case letters, digits and hyphens, such as \"iap-notif-handler-20260621\"; change the label and name the file after it.", err)
	} else if want := spec.SlugFromFilename(h.Filename); want != slug {
		c.errorf(h.Slug.Range, "Handoff slug does not match its file name",
			"The handoff in %s is labelled %q; label, slug and file name must agree. Rename the file to %s/%s%s or change the label to %q.",
			h.Filename, slug, spec.SpecsDir, slug, specExt(h.Filename), want)
	}

	if k := h.Card; k.Valid() && k.Value <= 0 {
		c.errorf(k.Range, "Invalid card number",
			"card is %d; write the positive number of the task's card, such as card = 3629.", k.Value)
	}
	if t := h.TTL; t.Valid() {
		ceiling := p.TTLCeiling()
		switch {
		case t.Value <= 0:
			c.errorf(t.Range, "Invalid ttl",
				"ttl is %q; a handoff lives for a positive time. Write, for example, ttl = \"24h\".", t.Raw)
		case t.Value > ceiling:
			c.errorf(t.Range, "ttl above the policy's max_ttl",
				"ttl is %s but max_ttl is %s (%s). Shorten ttl to %s or less; split longer work into several handoffs.",
				t.Raw, fmtDur(ceiling), maxTTLOrigin(p), fmtDur(ceiling))
		}
	}
	if a := h.ApprovedBy; a.Valid() && strings.TrimSpace(a.Value) == "" {
		c.errorf(a.Range, "Empty approved_by",
			"approved_by records who approved the handoff; write their name or team, such as approved_by = \"ops\".")
	}

	if g := h.GitHub; g != nil {
		c.github(h, g, p, cfg)
	}
	if in := h.Infisical; in != nil {
		if e := in.Environment; e.Valid() && !envRE.MatchString(e.Value) {
			c.errorf(e.Range, "Invalid Infisical environment",
				"environment is %q; write the environment slug as Infisical shows it, such as \"staging\".", e.Value)
		}
		if in.Read.Valid() && len(in.Read.Values) == 0 {
			c.errorf(in.Read.Range, "No vault paths to read",
				"read is empty. List the paths the task needs, such as read = [\"/MooseQuest/queue/staging/STRIPE_*\"], or remove the infisical block.")
		}
		for _, r := range in.Read.Values {
			c.vaultRead(h, r, p, handoffRoot)
		}
		c.vaultReadEnvironment(in, p, cfg)
	}
	if m := h.MCP; m != nil {
		c.mcp(m)
	}
	if s := h.Stripe; s != nil {
		c.stripe(h, s)
	}
	if cf := h.Cloudflare; cf != nil {
		c.cloudflare(h, cf)
	}
	if a := h.AWS; a != nil {
		c.aws(h, a)
	}
	if hk := h.Heroku; hk != nil {
		c.heroku(h, hk)
	}
	if a := h.AppleIAP; a != nil {
		c.appleIAP(h, a)
	}
	if a := h.Alpaca; a != nil {
		c.alpaca(h, a)
	}
	c.liveApproval(h)
}

func specExt(filename string) string {
	if strings.HasSuffix(filename, ".hcl.json") {
		return ".hcl.json"
	}
	return ".hcl"
}

func maxTTLOrigin(p *Policy) string {
	if p.MaxTTL.Valid() && p.MaxTTL.Value > 0 && p.MaxTTL.Value <= HardMaxTTL {
		return "set at " + spec.RangeString(p.MaxTTL.Range)
	}
	return "the hard ceiling"
}
