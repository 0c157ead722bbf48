package infisical

import (
	"fmt"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
)

// Policy is the surface's effective policy.
type Policy struct {
	// Roots are the vault folders handoffs may read besides their own
	// folder, without those that break a hard rule.
	Roots spec.StringList
	// Environments are the environment slugs a handoff's read paths may be
	// in. Unset in handoff.hcl, it is the environment of the vault block
	// alone (EnvironmentsDefault is then true); it is left invalid when
	// that environment is missing or malformed, and the check of read
	// environments is then skipped (that error is reported on
	// handoff.hcl).
	Environments        spec.StringList
	EnvironmentsDefault bool
}

// Policy merges the default policy with handoff.hcl's and checks the roots
// and environments against the hard rules, dropping what breaks them.
func (s *Surface) Policy(def, override spec.Block, cfg *spec.Config) (any, hcl.Diagnostics) {
	p := &Policy{}
	if d, ok := def.(*PolicyBlock); ok {
		p.Roots, p.Environments = d.Roots, d.Environments
	}
	if o, ok := override.(*PolicyBlock); ok {
		if o.Roots.Valid() {
			p.Roots = o.Roots
		}
		if o.Environments.Valid() {
			p.Environments = o.Environments
		}
	}
	if !p.Environments.Valid() && cfg != nil && cfg.Vault != nil {
		// The default cannot live in the default policy file: it is the
		// environment the handoffs' own folders are in.
		if e := cfg.Vault.Environment(); e.Valid() && policy.IsEnvironment(e.Value) {
			p.Environments = spec.StringList{Values: []spec.String{e}, Range: e.Range}
			p.EnvironmentsDefault = true
		}
	}
	c := &surface.Check{}
	handoffRoot := policy.HandoffRoot(cfg)
	roots := p.Roots.Values[:0:0]
	for _, r := range p.Roots.Values {
		if root(c, r, handoffRoot) {
			roots = append(roots, r)
		}
	}
	p.Roots.Values = roots
	if !p.EnvironmentsDefault {
		envs := p.Environments.Values[:0:0]
		for _, e := range p.Environments.Values {
			if policy.IsEnvironment(e.Value) {
				envs = append(envs, e)
				continue
			}
			c.Errorf(e.Range, "Invalid Infisical environment",
				"In vault_read_environments: %q is not an environment slug; write it as Infisical shows it, such as \"staging\" or \"prod\".", e.Value)
		}
		p.Environments.Values = envs
	}
	return p, c.Diagnostics()
}

// root checks one entry of vault_read_roots and reports whether it may be
// used.
func root(c *surface.Check, r spec.String, handoffRoot string) bool {
	if sum, det := policy.VaultPathProblem(r.Value, false); sum != "" {
		c.Errorf(r.Range, sum, "In vault_read_roots: %s", det)
		return false
	}
	if handoffRoot != "" && (policy.Under(r.Value, handoffRoot) || policy.Under(handoffRoot, r.Value)) {
		c.Errorf(r.Range, "Vault read root overlaps the handoff folders",
			"%q overlaps handoff_root %q: every handoff could read the others' credentials (H2). Remove it from vault_read_roots or move handoff_root elsewhere.",
			r.Value, handoffRoot)
		return false
	}
	return true
}

// Check checks a handoff's infisical block: its environment, and each read
// path against the policy.
func (s *Surface) Check(c *surface.Check, h *spec.Handoff, b spec.Block) {
	in, ok := b.(*Block)
	if !ok {
		return
	}
	p, _ := c.Policy.(*Policy)
	if p == nil {
		p = &Policy{}
	}
	if e := in.Environment; e.Valid() && !policy.IsEnvironment(e.Value) {
		c.Errorf(e.Range, "Invalid Infisical environment",
			"environment is %q; write the environment slug as Infisical shows it, such as \"staging\".", e.Value)
	}
	if in.Read.Valid() && len(in.Read.Values) == 0 {
		c.Errorf(in.Read.Range, "No vault paths to read",
			"read is empty. List the paths the task needs, such as read = [\"/MooseQuest/queue/staging/STRIPE_*\"], or remove the infisical block.")
	}
	for _, r := range in.Read.Values {
		readPath(c, h, r, p, c.HandoffRoot)
	}
	readEnvironment(c, in, p)
}

// readPath checks one read path of a handoff's infisical block.
// handoffRoot is "" when handoff.hcl does not give a usable one; the check
// against allowed folders is then skipped (that error is reported on
// handoff.hcl).
//
// A path is allowed only strictly below the handoff's own folder or one of
// p.Roots. Anything else under handoffRoot is refused before the roots are
// consulted, so that no root, however it got into the policy, can open
// another handoff's folder (H2).
func readPath(c *surface.Check, h *spec.Handoff, r spec.String, p *Policy, handoffRoot string) {
	if sum, det := policy.VaultPathProblem(r.Value, true); sum != "" {
		c.Errorf(r.Range, sum, "%s", det)
		return
	}
	if handoffRoot == "" {
		return
	}
	own := handoffRoot + "/" + h.Slug.Value
	switch {
	case policy.Below(r.Value, own):
		return
	case r.Value == own:
		dir, name := path.Split(own)
		c.Errorf(r.Range, "Vault path equals the handoff's own folder",
			"%q is this handoff's own folder itself: Infisical would read it as the secret %q in the folder %q, beside the other handoffs' folders (H2). The handoff always reads its own folder, so remove this path; to read one secret of it write %q.",
			r.Value, name, strings.TrimSuffix(dir, "/"), own+"/NAME")
		return
	case policy.Under(r.Value, handoffRoot):
		c.Errorf(r.Range, "Vault path in another handoff's folder",
			"%q lies under handoff_root %q but outside this handoff's own folder %q. Each handoff reads only its own folder (H2); read %s/NAME instead.",
			r.Value, handoffRoot, own, own)
		return
	}
	for _, root := range p.Roots.Values {
		if policy.Below(r.Value, root.Value) {
			return
		}
	}
	for _, root := range p.Roots.Values {
		if r.Value == root.Value {
			dir, name := path.Split(root.Value)
			c.Errorf(r.Range, "Vault path equals a read root",
				"%q is the root itself, not a path in it: Infisical would read it as the secret %q in the folder %q, outside the root (H1). To read every secret of the folder write %q; to read one secret write %q.",
				r.Value, name, strings.TrimSuffix(dir, "/"), root.Value+"/*", root.Value+"/NAME")
			return
		}
	}
	allowed := []string{own}
	for _, root := range p.Roots.Values {
		allowed = append(allowed, root.Value)
	}
	where := strings.Join(allowed, ", ")
	if prefix, _, wild := strings.Cut(r.Value, "*"); wild {
		for _, a := range allowed {
			if strings.HasPrefix(a, prefix) || strings.HasPrefix(a+"/", prefix) {
				c.Errorf(r.Range, "Vault wildcard escapes its root",
					"%q would also match folders beside or above %q. Put the '*' inside the allowed folder, such as %q.",
					r.Value, a, a+"/NAME_*")
				return
			}
		}
	}
	c.Errorf(r.Range, "Vault path outside the allowed roots",
		"Handoff %q may read only under %s (vault_read_roots in the policy block of handoff.hcl, and its own folder). Read from one of those, or add a root to vault_read_roots through a reviewed change.",
		h.Slug.Value, where)
}

// readEnvironment checks the environment of a handoff's read paths against
// p.Environments: the spec's environment, else (when the spec names none)
// that of handoff.hcl's vault block, which the read paths are then in. It
// does nothing when the environments are unknown: the policy list is unset
// and handoff.hcl gives no usable environment.
func readEnvironment(c *surface.Check, in *Block, p *Policy) {
	allowed := p.Environments
	if !allowed.Valid() {
		return
	}
	env, explicit := in.Environment, in.Environment.Valid()
	if !explicit {
		if c.Config == nil || c.Config.Vault == nil || !c.Config.Vault.Environment().Valid() {
			return
		}
		env = c.Config.Vault.Environment()
	}
	if !policy.IsEnvironment(env.Value) {
		return // reported as an invalid environment
	}
	for _, a := range allowed.Values {
		if a.Value == env.Value {
			return
		}
	}
	var quoted []string
	for _, a := range allowed.Values {
		quoted = append(quoted, fmt.Sprintf("%q", a.Value))
	}
	only := fmt.Sprintf("handoffs may read only in %s (vault_read_environments at %s)",
		strings.Join(quoted, ", "), spec.RangeString(allowed.Range))
	if p.EnvironmentsDefault {
		only = fmt.Sprintf("handoffs may read only in %s (the environment of handoff.hcl's infisical block, which applies while vault_read_environments is unset)",
			strings.Join(quoted, ", "))
	} else if len(quoted) == 0 {
		only = fmt.Sprintf("vault_read_environments at %s is empty, so no handoff may read outside its own folder",
			spec.RangeString(allowed.Range))
	}
	add := fmt.Sprintf("add %q to vault_read_environments in the policy block of handoff.hcl through a reviewed change", env.Value)
	if explicit {
		do := "Read in one of those, or " + add
		if len(quoted) == 0 {
			do = "Remove the read paths, or " + add
		}
		c.Errorf(env.Range, "Vault environment not allowed", "environment is %q, but %s. %s.", env.Value, only, do)
		return
	}
	do := fmt.Sprintf("Write environment = %s in this block, or %s", quoted[0], add)
	if len(quoted) == 0 {
		do = "Remove the read paths, or " + add
	}
	c.Errorf(in.DefRange, "Vault environment not allowed",
		"This block names no environment, so its read paths are in %q, the environment of handoff.hcl's infisical block; %s. %s.",
		env.Value, only, do)
}

// Checks are the surface's rules, for the plan's record.
func (s *Surface) Checks() surface.Checks {
	return surface.Checks{Policy: []string{
		"vault read paths absolute, free of .., strictly below the handoff's folder or a vault_read_roots root, in a vault_read_environments environment",
	}}
}
