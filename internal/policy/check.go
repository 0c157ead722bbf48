package policy

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
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

// Check applies every rule to a parsed repository in the installed
// registry of surfaces: the configuration, the effective policy, and each
// handoff, including slug uniqueness across files. It returns all
// diagnostics together, in no particular order (the renderers of package
// diag sort them).
func Check(repo *spec.Repo) hcl.Diagnostics { return CheckWith(surface.Installed(), repo) }

// CheckWith is Check with the surfaces of reg.
func CheckWith(reg *surface.Registry, repo *spec.Repo) hcl.Diagnostics {
	pol, diags := effective(reg, repo.Config)
	c := &checker{diags: diags}
	c.config(reg, repo.Config)

	handoffRoot := HandoffRoot(repo.Config)
	env := ""
	if repo.Config != nil && repo.Config.Vault != nil {
		if e := repo.Config.Vault.Environment(); e.Valid() && IsEnvironment(e.Value) {
			env = e.Value
		}
	}
	first := make(map[string]*spec.Handoff, len(repo.Handoffs))
	for _, h := range repo.Handoffs {
		if prev, dup := first[h.Slug.Value]; dup {
			c.errorf(h.Slug.Range, fmt.Sprintf("Duplicate handoff %q", h.Slug.Value),
				"Handoff %q is already declared at %s. Each slug names one handoff: delete one of the two files, or give this one a new slug and file name.",
				h.Slug.Value, spec.RangeString(prev.Slug.Range))
		} else {
			first[h.Slug.Value] = h
		}
		c.handoff(reg, h, pol, repo.Config, handoffRoot, env)
	}
	return c.diags
}

// HandoffRoot returns the handoff_root of cfg's vault block when it is set
// and well formed, else "" (its error is reported on handoff.hcl).
func HandoffRoot(cfg *spec.Config) string {
	if cfg == nil || cfg.Vault == nil || !cfg.Vault.HandoffRoot().Valid() {
		return ""
	}
	r := cfg.Vault.HandoffRoot().Value
	if sum, _ := VaultPathProblem(r, false); sum != "" {
		return ""
	}
	return r
}

var envRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// IsEnvironment reports whether s is a vault environment slug.
func IsEnvironment(s string) bool { return envRE.MatchString(s) }

// config checks handoff.hcl outside its policy block: the vault's block
// and each surface's.
func (c *checker) config(reg *surface.Registry, cfg *spec.Config) {
	if cfg == nil {
		return
	}
	lang := spec.Installed()
	if v := cfg.Vault; v == nil {
		if !cfg.Incomplete && lang.VaultBlock() != "" {
			c.errorf(spec.FileRange(cfg.Filename), fmt.Sprintf("Missing %s block", lang.VaultBlock()),
				"%s needs %s naming the vault. Add it, for example:\n\n%s {\n  environment  = \"staging\"\n  handoff_root = \"/MooseQuest/handoffs\"\n}",
				cfg.Filename, spec.Article(lang.VaultBlock()+" block"), lang.VaultBlock())
		}
	} else {
		// The vault checks its own settings (the environment's name among
		// them: a slug, IsEnvironment).
		c.diags = append(c.diags, lang.CheckVault(v)...)
		if r := v.HandoffRoot(); r.Valid() {
			if sum, det := VaultPathProblem(r.Value, false); sum != "" {
				c.errorf(r.Range, sum, "In handoff_root: %s", det)
			}
		}
	}
	c.rotation(cfg)
	for _, s := range reg.All() {
		if cs, ok := s.(surface.Configured); ok {
			b, _ := cfg.Block(s.Name())
			sc := &surface.Check{Config: cfg}
			cs.CheckConfig(sc, b)
			c.diags = append(c.diags, sc.Diagnostics()...)
		}
	}
}

// URLProblem checks an http(s) base URL written as attribute name; nil
// when it is fine or absent.
func URLProblem(s spec.String, name, example string) *hcl.Diagnostic {
	if !s.Valid() {
		return nil
	}
	u, err := url.Parse(s.Value)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return errorf(s.Range, fmt.Sprintf("Invalid %s", name),
			"%s is %q; write an absolute http(s) URL without credentials, such as %q.", name, s.Value, example)
	}
	return nil
}

// handoff checks one handoff.
func (c *checker) handoff(reg *surface.Registry, h *spec.Handoff, p *Policy, cfg *spec.Config, handoffRoot, env string) {
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
				t.Raw, FormatDuration(ceiling), maxTTLOrigin(p), FormatDuration(ceiling))
		}
	}
	if a := h.ApprovedBy; a.Valid() && strings.TrimSpace(a.Value) == "" {
		c.errorf(a.Range, "Empty approved_by",
			"approved_by records who approved the handoff; write their name or team, such as approved_by = \"ops\".")
	}

	var live []*hcl.Diagnostic
	for _, name := range h.Surfaces() {
		s, ok := reg.Get(name)
		if !ok {
			continue
		}
		b, _ := h.Block(name)
		sc := &surface.Check{Config: cfg, Policy: p.Surface(name), HandoffRoot: handoffRoot, Environment: env}
		s.Check(sc, h, b)
		c.diags = append(c.diags, sc.Diagnostics()...)
		if l, ok := s.(surface.Live); ok {
			if d := l.Live(b); d != nil {
				live = append(live, d)
			}
		}
	}
	c.liveApproval(h, live)
}

// liveApproval enforces H7: live or production financial credentials only
// with a live_approval block naming who approved and why. live are the
// diagnostics of the surfaces that ask for live credentials.
func (c *checker) liveApproval(h *spec.Handoff, live []*hcl.Diagnostic) {
	la := h.LiveApproval
	if la == nil {
		c.diags = append(c.diags, live...)
		return
	}
	if b := la.By; b.Valid() && strings.TrimSpace(b.Value) == "" {
		c.errorf(b.Range, "Empty live_approval by",
			"by records the operator who approved live access (H7). Write their name, such as by = \"cfo\".")
	}
	if r := la.Reason; r.Valid() && strings.TrimSpace(r.Value) == "" {
		c.errorf(r.Range, "Empty live_approval reason",
			"reason records why live access is needed (H7). Write it, such as reason = \"first live payout run, ticket OPS-412\".")
	}
	if len(live) == 0 {
		c.warnf(la.DefRange, "live_approval without a live surface",
			"No surface of handoff %q is live, so the approval grants nothing. Remove the block, so approvals are recorded only where they are used.", h.Slug.Value)
	}
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

// checker accumulates diagnostics.
type checker struct {
	diags hcl.Diagnostics
}

func (c *checker) errorf(rng hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, errorf(rng, summary, format, args...))
}

func (c *checker) warnf(rng hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
}
