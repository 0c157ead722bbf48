package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider"
)

type fake struct{ name string }

func (f fake) Name() string      { return f.name }
func (f fake) Secrets() []string { return nil }
func (f fake) Steps(provider.Op, *provider.Request, *provider.Record) []provider.Step {
	return []provider.Step{{Name: "mint", Untraceable: true}}
}
func (f fake) Create(context.Context, *provider.Request) (provider.Result, error) {
	return provider.Result{}, nil
}
func (f fake) Refresh(context.Context, *provider.Request, provider.Record) (provider.Result, error) {
	return provider.Result{}, nil
}
func (f fake) Revoke(context.Context, *provider.Request, *provider.Record) error { return nil }
func (f fake) Verify(context.Context, *provider.Request, provider.Record) []provider.Violation {
	return nil
}

func TestRegistry(t *testing.T) {
	r := provider.NewRegistry(fake{"b"}, fake{"a"}, nil)
	if got := fmt.Sprint(r.Names()); got != "[a b]" {
		t.Errorf("names %s", got)
	}
	if _, ok := r.Get("a"); !ok {
		t.Error("a missing")
	}
	if !provider.HasUntraceable(fake{"a"}, provider.OpCreate) {
		t.Error("HasUntraceable")
	}
	defer func() {
		if recover() == nil {
			t.Error("a duplicate name did not panic")
		}
	}()
	provider.NewRegistry(fake{"a"}, fake{"a"})
}

func TestRecordPutAndRecordOf(t *testing.T) {
	var s manifest.Surfaces
	provider.Record{GitHub: &manifest.GitHub{Repository: "o/r"}}.Put(&s, "github")
	provider.Record{Meta: manifest.Meta{"mode": "test"}}.Put(&s, "stripe")
	if rec, ok := provider.RecordOf(s, "github"); !ok || rec.GitHub.Repository != "o/r" {
		t.Errorf("github: %+v", rec)
	}
	if rec, ok := provider.RecordOf(s, "stripe"); !ok || rec.Meta["mode"] != "test" {
		t.Errorf("stripe: %+v", rec)
	}
	provider.Record{}.Put(&s, "stripe")
	provider.Record{}.Put(&s, "github")
	if _, ok := provider.RecordOf(s, "stripe"); ok || s.Other != nil || s.GitHub != nil {
		t.Errorf("after removal: %+v", s)
	}
}

func TestResultNeverPrintsSecrets(t *testing.T) {
	r := provider.Result{Secrets: map[string]string{"GH_HANDOFF_TOKEN": "ghs_verysecretvalue"}, Detail: "d"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if got := fmt.Sprintf(f, r); got == "" || contains(got, "verysecret") {
			t.Errorf("%s: %s", f, got)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
