package surface_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
)

type fake struct{ name string }

func (f fake) Name() string                                            { return f.name }
func (f fake) Syntax() spec.SurfaceSyntax                              { return spec.SurfaceSyntax{} }
func (f fake) Check(*surface.Check, *spec.Handoff, spec.Block)         {}
func (f fake) Desired(surface.Target) *plan.Grant                      { return nil }
func (f fake) Recorded(surface.Record, *manifest.Manifest) *plan.Grant { return nil }
func (f fake) Resource(string, *plan.Grant) string                     { return f.name }
func (f fake) Secrets(surface.Record) []string                         { return []string{"B_KEY"} }
func (f fake) Steps(surface.Op, *surface.Request, surface.Record) []surface.Step {
	return []surface.Step{{Name: "mint", Untraceable: true}}
}
func (f fake) Create(context.Context, *surface.Request) (surface.Result, error) {
	return surface.Result{}, nil
}
func (f fake) Refresh(context.Context, *surface.Request, surface.Record) (surface.Result, error) {
	return surface.Result{}, nil
}
func (f fake) Revoke(context.Context, *surface.Request, surface.Record) error { return nil }
func (f fake) Verify(context.Context, *surface.Request, surface.Record) []surface.Violation {
	return nil
}

func TestRegistry(t *testing.T) {
	r := surface.NewRegistry(fake{"b"}, fake{"a"}, nil)
	if got := fmt.Sprint(r.Names()); got != "[b a]" {
		t.Errorf("names %s, want the order of registration", got)
	}
	if _, ok := r.Get("a"); !ok {
		t.Error("a missing")
	}
	if got := fmt.Sprint(r.SortNames([]string{"z", "a", "b"})); got != "[b a z]" {
		t.Errorf("SortNames %s", got)
	}
	if !surface.HasUntraceable(fake{"a"}, surface.OpCreate) {
		t.Error("HasUntraceable")
	}
	if got := r.SecretOwner("B_KEY", nil); got != "b" {
		t.Errorf("SecretOwner(B_KEY) = %q, want b (its defaults)", got)
	}
	if got := r.SecretOwner("A_OTHER", nil); got != "a" {
		t.Errorf("SecretOwner(A_OTHER) = %q, want a (by prefix)", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a duplicate name did not panic")
		}
	}()
	surface.NewRegistry(fake{"a"}, fake{"a"})
}

func TestResultNeverPrintsSecrets(t *testing.T) {
	res := surface.Result{Secrets: map[string]string{"TOKEN": "ghs_s3cr3t_value"}, Detail: "minted"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if out := fmt.Sprintf(f, res); containsValue(out) {
			t.Errorf("%s prints the secret: %s", f, out)
		}
	}
}

func containsValue(s string) bool {
	for i := 0; i+len("s3cr3t") <= len(s); i++ {
		if s[i:i+len("s3cr3t")] == "s3cr3t" {
			return true
		}
	}
	return false
}
