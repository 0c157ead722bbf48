package githubsrv

import (
	"net/url"
	"strings"
)

// label is a repository's label. GitHub creates a label the first time an
// issue is given a name the repository has no label of (the grey ededed
// of a label made that way).
type label struct {
	ID          int64
	Name        string
	Color       string
	Description string
}

// newLabelColor is the color of a label created by naming it on an issue.
const newLabelColor = "ededed"

// ensureLabels returns names as the repository's labels spell them,
// without duplicates (compared without case), creating the labels it does
// not have. The caller holds the write lock (or builds the world).
func (w *world) ensureLabels(r *Repository, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	byName := w.labels[r.ID]
	if byName == nil {
		byName = map[string]*label{}
		w.labels[r.ID] = byName
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		k := lower(n)
		if seen[k] {
			continue
		}
		seen[k] = true
		l := byName[k]
		if l == nil {
			l = &label{ID: w.nextLabelID, Name: n, Color: newLabelColor}
			w.nextLabelID++
			byName[k] = l
		}
		out = append(out, l.Name)
	}
	return out
}

// hasLabels reports whether issue labels hold every name of want,
// compared without case.
func hasLabels(labels, want []string) bool {
	for _, w := range want {
		found := false
		for _, l := range labels {
			if strings.EqualFold(l, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

type labelJSON struct {
	ID          int64   `json:"id"`
	NodeID      string  `json:"node_id"`
	URL         string  `json:"url"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Color       string  `json:"color"`
	Default     bool    `json:"default"`
}

// labelsOf renders the labels of an issue of r.
func (c *call) labelsOf(r *Repository, names []string) []labelJSON {
	out := make([]labelJSON, 0, len(names))
	for _, n := range names {
		l := c.s.w.labels[r.ID][lower(n)]
		if l == nil {
			continue
		}
		out = append(out, labelJSON{
			ID: l.ID, NodeID: nodeID("Label", l.ID), Name: l.Name, Color: l.Color, Description: nonEmpty(l.Description),
			URL: c.api + "/repos/" + r.Owner + "/" + r.Name + "/labels/" + url.PathEscape(l.Name),
		})
	}
	return out
}
