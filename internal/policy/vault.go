package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// vaultChars are the characters allowed in vault folder and secret names
// (Infisical's own alphabet), plus '/' and the '*' wildcard.
var vaultChars = regexp.MustCompile(`^[A-Za-z0-9_.\-/*]*$`)

// VaultPathProblem checks the shape of an absolute vault path. wildcard says
// whether a '*' may end the last segment. It returns a summary and detail,
// or "" when the path is well formed.
func VaultPathProblem(p string, wildcard bool) (summary, detail string) {
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

// Under reports whether path p lies in folder root (root itself or below).
func Under(p, root string) bool {
	return p == root || strings.HasPrefix(p, root+"/")
}

// Below reports whether path p lies strictly below folder root. A read path
// must: the vault reads a path's last segment as a secret name (or name
// pattern) in the folder before it, so a path equal to a folder would be
// read as a secret of that name in the folder's parent, outside it.
func Below(p, root string) bool {
	return strings.HasPrefix(p, root+"/")
}
