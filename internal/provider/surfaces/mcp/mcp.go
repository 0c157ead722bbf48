// Package mcp is the mcp surface: no credential at all. The spec's tool
// allow and exclude lists are recorded in the manifest, where the
// orchestrator reads them (`handoff env`) to configure the agent's MCP
// session. Nothing remote is written, so every operation has no step.
package mcp

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider"
	"github.com/raxx-app/handoff/internal/spec"
)

// Surface records MCP tool lists.
type Surface struct{}

// New returns the surface.
func New() *Surface { return &Surface{} }

// Name is "mcp".
func (Surface) Name() string { return spec.SurfaceMCP }

// Secrets: none.
func (Surface) Secrets() []string { return nil }

// Steps: none; nothing remote is written.
func (Surface) Steps(provider.Op, *provider.Request, *provider.Record) []provider.Step { return nil }

// Create records the spec's lists.
func (Surface) Create(_ context.Context, req *provider.Request) (provider.Result, error) {
	if req.Spec == nil || req.Spec.MCP == nil {
		return provider.Result{}, fmt.Errorf("mcp: handoff %s has no mcp block", req.Slug)
	}
	rec := &manifest.MCP{Allow: req.Spec.MCP.Allow.Strings(), Exclude: req.Spec.MCP.Exclude.Strings()}
	return provider.Result{
		Record: provider.Record{MCP: rec},
		Detail: fmt.Sprintf("MCP tools allowed: %s; excluded: %s", list(rec.Allow), list(rec.Exclude)),
	}, nil
}

// Refresh records the spec's lists again.
func (s Surface) Refresh(ctx context.Context, req *provider.Request, _ provider.Record) (provider.Result, error) {
	return s.Create(ctx, req)
}

// Revoke has nothing to end: the lists go with the manifest's status.
func (Surface) Revoke(context.Context, *provider.Request, *provider.Record) error { return nil }

// Verify compares the recorded lists with the spec's.
func (Surface) Verify(_ context.Context, req *provider.Request, rec provider.Record) []provider.Violation {
	if req.Spec == nil || req.Spec.MCP == nil || rec.MCP == nil {
		return nil
	}
	var out []provider.Violation
	for _, t := range rec.MCP.Allow {
		if !slices.Contains(req.Spec.MCP.Allow.Strings(), t) {
			out = append(out, provider.Violation{Surface: spec.SurfaceMCP, Scope: true, Message: fmt.Sprintf("tool %s is allowed by the manifest, not by the spec", t)})
		}
	}
	for _, t := range req.Spec.MCP.Exclude.Strings() {
		if !slices.Contains(rec.MCP.Exclude, t) {
			out = append(out, provider.Violation{Surface: spec.SurfaceMCP, Scope: true, Message: fmt.Sprintf("tool %s is excluded by the spec, not by the manifest", t)})
		}
	}
	return out
}

func list(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
