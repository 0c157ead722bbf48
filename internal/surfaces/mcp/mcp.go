// Package mcp is the mcp surface: no credential at all. The spec's tool
// allow and exclude lists are recorded in the manifest, where the
// orchestrator reads them (`handoff env`, `handoff exec`) to configure the
// agent's MCP session. Nothing remote is written, so every operation has no
// step.
//
// It is the smallest surface, and the model of docs/adding-a-surface.md:
// one package that declares its block, its rules, its grant, its record
// and its share of the session context, and one line in internal/surfaces.
package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
)

// Name is the surface's block name.
const Name = "mcp"

// Grant attributes.
const (
	AttrAllow   = "allow"
	AttrExclude = "exclude"
)

// Block is the mcp block of a handoff: tool names the orchestrator allows
// and excludes in the agent's session.
type Block struct {
	DefRange hcl.Range       // the block header
	Allow    spec.StringList // tools the agent may call, by exact name
	Exclude  spec.StringList // tools the agent must not call
}

// Range is the block header.
func (b *Block) Range() hcl.Range { return b.DefRange }

// Canonical is the block's part of the handoff's digest.
func (b *Block) Canonical() any {
	return struct {
		Allow   []string `json:"allow"`
		Exclude []string `json:"exclude"`
	}{b.Allow.Strings(), b.Exclude.Strings()}
}

// Of returns the mcp block of h, nil when it has none.
func Of(h *spec.Handoff) *Block {
	b, _ := h.Block(Name)
	x, _ := b.(*Block)
	return x
}

// Record is the surface's entry in the manifest: the lists handed to the
// orchestrator.
type Record struct {
	Allow   []string `json:"allow,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}

// Decode reads a record; nil when there is none.
func Decode(rec surface.Record) *Record {
	if len(rec) == 0 {
		return nil
	}
	r, ok := records.Decode(rec, func(rec surface.Record) (r Record, ok bool) {
		return r, json.Unmarshal(rec, &r) == nil
	})
	if !ok {
		return nil
	}
	return &r
}

// records decodes each record once (a plan asks for one several times).
var records = surface.RecordMemo[Record]{Clone: func(r Record) Record {
	r.Allow, r.Exclude = slices.Clone(r.Allow), slices.Clone(r.Exclude)
	return r
}}

// Surface records MCP tool lists.
type Surface struct{}

// New returns the surface.
func New() *Surface { return &Surface{} }

// Name is "mcp".
func (*Surface) Name() string { return Name }

var blockSyntax = &spec.BlockSyntax{
	Type: Name,
	Name: "An mcp block in a handoff",
	Attrs: []spec.AttrSyntax{
		{Name: "allow", Example: `allow = ["github_pr_create", "github_pr_comment"]`},
		{Name: "exclude", Example: `exclude = ["filesystem_write_outside_worktree"]`},
	},
}

// Syntax is the mcp block.
func (*Surface) Syntax() spec.SurfaceSyntax {
	return spec.SurfaceSyntax{Spec: blockSyntax, Decode: func(b *spec.Body, _ *spec.Handoff) spec.Block {
		return &Block{DefRange: b.DefRange(), Allow: b.List("allow"), Exclude: b.List("exclude")}
	}}
}

var toolRE = regexp.MustCompile(`^[A-Za-z0-9_.:*-]{1,128}$`)

// Check checks the tool lists.
func (*Surface) Check(c *surface.Check, _ *spec.Handoff, b spec.Block) {
	m, ok := b.(*Block)
	if !ok {
		return
	}
	excluded := map[string]bool{}
	for _, t := range m.Exclude.Values {
		if !toolRE.MatchString(t.Value) {
			c.Errorf(t.Range, "Invalid MCP tool name",
				"%q is not a tool name. Write the tool's name as the MCP server lists it, such as \"stripe_charge\".", t.Value)
		}
		excluded[t.Value] = true
	}
	for _, t := range m.Allow.Values {
		switch {
		case strings.Contains(t.Value, "*"):
			c.Errorf(t.Range, "Wildcard in MCP allow list",
				"%q would allow a whole family of tools (H1). List each tool the task needs by name.", t.Value)
		case !toolRE.MatchString(t.Value):
			c.Errorf(t.Range, "Invalid MCP tool name",
				"%q is not a tool name. Write the tool's name as the MCP server lists it, such as \"github_pr_create\".", t.Value)
		case excluded[t.Value]:
			c.Errorf(t.Range, "MCP tool both allowed and excluded",
				"%q is in allow and in exclude. Keep it in one list only.", t.Value)
		}
	}
}

// Desired is the spec's lists.
func (*Surface) Desired(t surface.Target) *plan.Grant {
	m := Of(t.Spec)
	if m == nil {
		return nil
	}
	return &plan.Grant{Attributes: map[string]string{
		AttrAllow:   strings.Join(m.Allow.Strings(), ", "),
		AttrExclude: strings.Join(m.Exclude.Strings(), ", "),
	}}
}

// Recorded is the recorded lists.
func (*Surface) Recorded(rec surface.Record, _ *manifest.Manifest) *plan.Grant {
	r := Decode(rec)
	if r == nil {
		return nil
	}
	return &plan.Grant{Attributes: map[string]string{
		AttrAllow:   strings.Join(r.Allow, ", "),
		AttrExclude: strings.Join(r.Exclude, ", "),
	}}
}

// Resource is the tool lists.
func (*Surface) Resource(string, *plan.Grant) string { return "MCP tool lists" }

// Secrets: none.
func (*Surface) Secrets(surface.Record) []string { return nil }

// Attrs: a new allowed tool, or one no longer excluded, is an escalation.
func (*Surface) Attrs() map[string]surface.AttrKind {
	return map[string]surface.AttrKind{
		AttrAllow:   {List: true, Noun: "MCP tool"},
		AttrExclude: {List: true, Noun: "MCP tool", Exclusions: true},
	}
}

// Steps: none; nothing remote is written.
func (*Surface) Steps(surface.Op, *surface.Request, surface.Record) []surface.Step { return nil }

// Create records the spec's lists.
func (*Surface) Create(_ context.Context, req *surface.Request) (surface.Result, error) {
	m := Of(req.Spec)
	if m == nil {
		return surface.Result{}, fmt.Errorf("mcp: handoff %s has no mcp block", req.Slug)
	}
	rec := &Record{Allow: m.Allow.Strings(), Exclude: m.Exclude.Strings()}
	return surface.Result{
		Record: rec,
		Detail: fmt.Sprintf("MCP tools allowed: %s; excluded: %s", list(rec.Allow), list(rec.Exclude)),
	}, nil
}

// Refresh records the spec's lists again.
func (s *Surface) Refresh(ctx context.Context, req *surface.Request, _ surface.Record) (surface.Result, error) {
	return s.Create(ctx, req)
}

// Revoke has nothing to end: the lists go with the manifest's status.
func (*Surface) Revoke(context.Context, *surface.Request, surface.Record) error { return nil }

// Verify compares the recorded lists with the spec's.
func (*Surface) Verify(_ context.Context, req *surface.Request, rec surface.Record) []surface.Violation {
	m, r := Of(req.Spec), Decode(rec)
	if m == nil || r == nil {
		return nil
	}
	v := &surface.Violations{Surface: Name}
	for _, t := range r.Allow {
		if !slices.Contains(m.Allow.Strings(), t) {
			v.Add(true, "tool %s is allowed by the manifest, not by the spec", t)
		}
	}
	for _, t := range m.Exclude.Strings() {
		if !slices.Contains(r.Exclude, t) {
			v.Add(true, "tool %s is excluded by the spec, not by the manifest", t)
		}
	}
	return v.List
}

// Session hands the lists to the orchestrator.
func (*Surface) Session(rec surface.Record, _ string) surface.Session {
	r := Decode(rec)
	if r == nil {
		return surface.Session{}
	}
	return surface.Session{Lists: map[string][]string{"mcp_tools": r.Allow, "mcp_tools_excluded": r.Exclude}}
}

func list(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
