package policy

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/raxx-app/handoff/internal/spec"
)

// vaultChars are the characters allowed in vault folder and secret names
// (Infisical's own alphabet), plus '/' and the '*' wildcard.
var vaultChars = regexp.MustCompile(`^[A-Za-z0-9_.\-/*]*$`)

// vaultPathProblem checks the shape of an absolute vault path. wildcard says
// whether a '*' may end the last segment. It returns a summary and detail,
// or "" when the path is well formed.
func vaultPathProblem(p string, wildcard bool) (summary, detail string) {
	switch {
	case p == "":
		return "Empty vault path", "Write an absolute folder path, such as \"/MooseQuest/queue/staging/APPLE_IAP_*\"."
	case !strings.HasPrefix(p, "/"):
		return "Relative vault path", fmt.Sprintf("%q does not start with \"/\". Vault paths are absolute: write \"/%s\" if that is what you mean.", p, strings.TrimLeft(p, "./"))
	case !vaultChars.MatchString(p):
		return "Invalid character in vault path", fmt.Sprintf("%q may use only letters, digits, '_', '-', '.', '/' and a final '*'. Remove the other characters.", p)
	case p == "/" || p == "/*":
		return "Vault path is the root", fmt.Sprintf("%q would cover the whole vault (H1). Name the folder the task needs, such as \"/MooseQuest/queue/staging/STRIPE_*\".", p)
	case strings.Contains(p, "//"):
		return "Empty segment in vault path", fmt.Sprintf("%q contains \"//\". Write each folder once: %q.", p, collapseSlashes(p))
	case strings.HasSuffix(p, "/"):
		return "Trailing slash in vault path", fmt.Sprintf("Write %q without the final \"/\".", p)
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if s == "." || s == ".." {
			return "Path traversal in vault path", fmt.Sprintf("%q contains a %q segment, which could climb out of its folder. Write the absolute path without \".\" or \"..\".", p, s)
		}
		if !strings.Contains(s, "*") {
			continue
		}
		switch {
		case !wildcard:
			return "Wildcard in vault root", fmt.Sprintf("%q holds a '*'. A root is a plain folder path; remove the wildcard.", p)
		case strings.Contains(s, "**"):
			return "Recursive wildcard in vault path", fmt.Sprintf("%q uses \"**\", which would reach every folder below (H1). Use one '*' at the end of the last segment, such as \"/MooseQuest/queue/staging/STRIPE_*\".", p)
		case i != len(segs)-1:
			return "Wildcard before the last segment", fmt.Sprintf("%q has a '*' in a folder name, which would match sibling folders. Put the wildcard only in the last segment, such as \"/MooseQuest/queue/staging/STRIPE_*\".", p)
		case strings.Count(s, "*") > 1 || !strings.HasSuffix(s, "*"):
			return "Wildcard not at the end", fmt.Sprintf("%q: a '*' may only end the last segment, as a name prefix such as \"STRIPE_*\".", p)
		}
	}
	return "", ""
}

func collapseSlashes(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

// under reports whether path p lies in folder root (root itself or below).
func under(p, root string) bool {
	return p == root || strings.HasPrefix(p, root+"/")
}

// below reports whether path p lies strictly below folder root. A read path
// must: ReadRules reads a path's last segment as a secret name (or name
// pattern) in the folder before it, so a path equal to a folder would be
// read as a secret of that name in the folder's parent, outside it.
func below(p, root string) bool {
	return strings.HasPrefix(p, root+"/")
}

// vaultRoot checks one entry of vault_read_roots and reports whether it may
// be used.
func (c *checker) vaultRoot(r spec.String, handoffRoot string) bool {
	if sum, det := vaultPathProblem(r.Value, false); sum != "" {
		c.errorf(r.Range, sum, "In vault_read_roots: %s", det)
		return false
	}
	if handoffRoot != "" && (under(r.Value, handoffRoot) || under(handoffRoot, r.Value)) {
		c.errorf(r.Range, "Vault read root overlaps the handoff folders",
			"%q overlaps handoff_root %q: every handoff could read the others' credentials (H2). Remove it from vault_read_roots or move handoff_root elsewhere.",
			r.Value, handoffRoot)
		return false
	}
	return true
}

// handoffRoot checks the handoff_root of handoff.hcl.
func (c *checker) handoffRoot(r spec.String) {
	if sum, det := vaultPathProblem(r.Value, false); sum != "" {
		c.errorf(r.Range, sum, "In handoff_root: %s", det)
	}
}

// vaultRead checks one read path of a handoff's infisical block.
// handoffRoot is "" when handoff.hcl does not give a usable one; the check
// against allowed folders is then skipped (that error is reported on
// handoff.hcl).
//
// A path is allowed only strictly below the handoff's own folder or one of
// p.VaultReadRoots. Anything else under handoffRoot is refused before the
// roots are consulted, so that no root, however it got into the policy, can
// open another handoff's folder (H2).
func (c *checker) vaultRead(h *spec.Handoff, r spec.String, p *Policy, handoffRoot string) {
	if sum, det := vaultPathProblem(r.Value, true); sum != "" {
		c.errorf(r.Range, sum, "%s", det)
		return
	}
	if handoffRoot == "" {
		return
	}
	own := handoffRoot + "/" + h.Slug.Value
	switch {
	case below(r.Value, own):
		return
	case r.Value == own:
		dir, name := path.Split(own)
		c.errorf(r.Range, "Vault path equals the handoff's own folder",
			"%q is this handoff's own folder itself: Infisical would read it as the secret %q in the folder %q, beside the other handoffs' folders (H2). The handoff always reads its own folder, so remove this path; to read one secret of it write %q.",
			r.Value, name, strings.TrimSuffix(dir, "/"), own+"/NAME")
		return
	case under(r.Value, handoffRoot):
		c.errorf(r.Range, "Vault path in another handoff's folder",
			"%q lies under handoff_root %q but outside this handoff's own folder %q. Each handoff reads only its own folder (H2); read %s/NAME instead.",
			r.Value, handoffRoot, own, own)
		return
	}
	for _, root := range p.VaultReadRoots.Values {
		if below(r.Value, root.Value) {
			return
		}
	}
	for _, root := range p.VaultReadRoots.Values {
		if r.Value == root.Value {
			dir, name := path.Split(root.Value)
			c.errorf(r.Range, "Vault path equals a read root",
				"%q is the root itself, not a path in it: Infisical would read it as the secret %q in the folder %q, outside the root (H1). To read every secret of the folder write %q; to read one secret write %q.",
				r.Value, name, strings.TrimSuffix(dir, "/"), root.Value+"/*", root.Value+"/NAME")
			return
		}
	}
	allowed := []string{own}
	for _, root := range p.VaultReadRoots.Values {
		allowed = append(allowed, root.Value)
	}
	where := strings.Join(allowed, ", ")
	if prefix, _, wild := strings.Cut(r.Value, "*"); wild {
		for _, a := range allowed {
			if strings.HasPrefix(a, prefix) || strings.HasPrefix(a+"/", prefix) {
				c.errorf(r.Range, "Vault wildcard escapes its root",
					"%q would also match folders beside or above %q. Put the '*' inside the allowed folder, such as %q.",
					r.Value, a, a+"/NAME_*")
				return
			}
		}
	}
	c.errorf(r.Range, "Vault path outside the allowed roots",
		"Handoff %q may read only under %s (vault_read_roots in the policy block of handoff.hcl, and its own folder). Read from one of those, or add a root to vault_read_roots through a reviewed change.",
		h.Slug.Value, where)
}

// vaultReadEnvironment checks the environment of a handoff's read paths
// against p.VaultReadEnvironments: the spec's environment, else (when the
// spec names none) that of handoff.hcl's infisical block, which the read
// paths are then in. It does nothing when the environments are unknown:
// the policy list is unset and handoff.hcl gives no usable environment.
func (c *checker) vaultReadEnvironment(in *spec.Infisical, p *Policy, cfg *spec.Config) {
	allowed := p.VaultReadEnvironments
	if !allowed.Valid() {
		return
	}
	env, explicit := in.Environment, in.Environment.Valid()
	if !explicit {
		if cfg == nil || cfg.Infisical == nil || !cfg.Infisical.Environment.Valid() {
			return
		}
		env = cfg.Infisical.Environment
	}
	if !envRE.MatchString(env.Value) {
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
	if p.ReadEnvironmentsDefault {
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
		c.errorf(env.Range, "Vault environment not allowed", "environment is %q, but %s. %s.", env.Value, only, do)
		return
	}
	do := fmt.Sprintf("Write environment = %s in this block, or %s", quoted[0], add)
	if len(quoted) == 0 {
		do = "Remove the read paths, or " + add
	}
	c.errorf(in.DefRange, "Vault environment not allowed",
		"This block names no environment, so its read paths are in %q, the environment of handoff.hcl's infisical block; %s. %s.",
		env.Value, only, do)
}
