package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonPlan is the document of RenderJSON: the computed fields first, then
// every field of Plan in declaration order. The outer FormatVersion shadows
// the embedded one, so format_version appears once, first.
type jsonPlan struct {
	FormatVersion int     `json:"format_version"`
	HasChanges    bool    `json:"has_changes"`
	Summary       Summary `json:"summary"`
	*Plan
}

// RenderJSON writes the plan as the stable, versioned JSON document of
// `handoff plan -json` and `handoff show -json`, described field by field in
// JSON.md: format_version, has_changes and summary, then the plan's fields.
// Keys come in a fixed order (struct order; map keys sorted), indented by two
// spaces, one document followed by a newline. Arrays that always exist
// (handoffs, changes, policy.checks) are [] rather than null when empty, and
// times are RFC 3339 in UTC.
//
// format_version is always FormatVersion: it describes the shape this code
// writes, whatever the version of the binary that made the plan.
func RenderJSON(w io.Writer, p *Plan) error {
	if p == nil {
		return errors.New("plan: render json: nil plan")
	}
	n := p.Canonical()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonPlan{FormatVersion: FormatVersion, HasChanges: n.HasChanges(), Summary: n.Summary(), Plan: n}); err != nil {
		return fmt.Errorf("plan: render json: %w", err)
	}
	return nil
}

// Canonical returns a deep copy of p in the form its JSON is written in:
// times in UTC, and empty (not nil) Handoffs, Policy.Checks, Changes and
// RevocationGuard.Slugs, so that they encode as [] rather than null. p is
// not modified. RenderJSON renders this form and package planfile stores
// and checksums it, so a plan read back from a plan file equals
// p.Canonical().
func (p *Plan) Canonical() *Plan {
	n := *p
	n.CreatedAt = n.CreatedAt.UTC()
	n.Policy.Checks = cloneStrings(p.Policy.Checks)
	if n.Policy.Checks == nil {
		n.Policy.Checks = []string{}
	}
	n.Policy.Warnings = cloneStrings(p.Policy.Warnings)
	if g := p.RevocationGuard; g != nil {
		c := *g
		c.Slugs = cloneStrings(g.Slugs)
		if c.Slugs == nil {
			c.Slugs = []string{}
		}
		c.Exceeded = cloneStrings(g.Exceeded)
		n.RevocationGuard = &c
	}
	n.Handoffs = make([]Handoff, len(p.Handoffs))
	for i, h := range p.Handoffs {
		h.ExpiresAt = h.ExpiresAt.UTC()
		if h.Held != nil {
			held := *h.Held
			held.At = held.At.UTC()
			held.Surfaces = cloneStrings(held.Surfaces)
			h.Held = &held
		}
		changes := make([]Change, len(h.Changes))
		for j, c := range h.Changes {
			c.Before = cloneGrant(c.Before)
			c.After = cloneGrant(c.After)
			c.Escalations = cloneStrings(c.Escalations)
			c.Secrets = cloneStrings(c.Secrets)
			changes[j] = c
		}
		h.Changes = changes
		h.Rotation = cloneRotationChange(h.Rotation)
		n.Handoffs[i] = h
	}
	n.Rotation = canonicalRotation(p.Rotation)
	if r := p.Refreshes; r != nil {
		c := *r
		c.Next = make([]RunRefreshes, len(r.Next))
		for i, run := range r.Next {
			run.At = run.At.UTC()
			c.Next[i] = run
		}
		n.Refreshes = &c
	}
	return &n
}

func cloneGrant(g *Grant) *Grant {
	if g == nil {
		return nil
	}
	c := *g
	c.Permissions = cloneMap(g.Permissions)
	c.Attributes = cloneMap(g.Attributes)
	c.ReadPaths = cloneStrings(g.ReadPaths)
	c.ExpiresAt = g.ExpiresAt.UTC()
	return &c
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string{}, s...)
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
