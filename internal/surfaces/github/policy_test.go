package github

import (
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/spec"
	"github.com/raxx-app/handoff/internal/surface"
)

func list(values ...string) spec.StringList {
	l := spec.StringList{Range: hcl.Range{Filename: "handoff.hcl", Start: hcl.Pos{Line: 1, Column: 1, Byte: 0}, End: hcl.Pos{Line: 1, Column: 2, Byte: 1}}}
	for _, v := range values {
		l.Values = append(l.Values, spec.String{Value: v, Range: l.Range})
	}
	return l
}

func TestReachOfARepository(t *testing.T) {
	tests := []struct {
		name         string
		owners       spec.StringList
		repositories spec.StringList
		repo         string
		want         string // summary of the error; "" allowed
	}{
		{"owners unset", spec.StringList{}, spec.StringList{}, "raxx-app/TradeMasterAPI", `GitHub owner "raxx-app" is not allowed by the policy`},
		{"owners empty", list(), spec.StringList{}, "raxx-app/TradeMasterAPI", `GitHub owner "raxx-app" is not allowed by the policy`},
		{"owner listed", list("raxx-app"), spec.StringList{}, "raxx-app/TradeMasterAPI", ""},
		{"owner case", list("Raxx-App"), spec.StringList{}, "raxx-app/TradeMasterAPI", ""},
		{"another owner", list("raxx-app"), spec.StringList{}, "moose-labs/website", `GitHub owner "moose-labs" is not allowed by the policy`},
		{"pattern matches", list("raxx-app"), list("raxx-app/Moose*"), "raxx-app/MooseQuest", ""},
		{"pattern case", list("raxx-app"), list("raxx-app/moose*"), "RAXX-APP/MooseQuest", ""},
		{"pattern misses", list("raxx-app"), list("raxx-app/Moose*"), "raxx-app/PrivateVault", `GitHub repository "raxx-app/PrivateVault" is not allowed by the policy`},
		{"no pattern at all", list("raxx-app"), list(), "raxx-app/MooseQuest", `GitHub repository "raxx-app/MooseQuest" is not allowed by the policy`},
		{"an invalid repository is left to its own check", list("raxx-app"), list("raxx-app/*"), "raxx-app/a/b", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &surface.Check{}
			reach(c, spec.String{Value: tt.repo, Range: hcl.Range{Filename: "specs/x.hcl", End: hcl.Pos{Byte: 1}}}, &Policy{Owners: tt.owners, Repositories: tt.repositories})
			d := c.Diagnostics()
			switch {
			case tt.want == "" && len(d) > 0:
				t.Errorf("refused: %v", d)
			case tt.want != "" && (len(d) != 1 || d[0].Summary != tt.want):
				t.Errorf("got %v, want one error %q", d, tt.want)
			}
		})
	}
}

func TestPolicyMergesOwnersAttributeByAttribute(t *testing.T) {
	s := New(nil)
	def := &PolicyBlock{Owners: list("default-owner")}
	override := &PolicyBlock{Repositories: list("raxx-app/*"), Owners: list("raxx-app", "raxx-*", "https://github.com/x")}
	p, diags := s.Policy(def, override, nil)
	pol := p.(*Policy)
	if got := pol.Owners.Strings(); len(got) != 1 || got[0] != "raxx-app" {
		t.Errorf("owners %v, want the override's valid ones", got)
	}
	if got := pol.Repositories.Strings(); len(got) != 1 || got[0] != "raxx-app/*" {
		t.Errorf("repositories %v", got)
	}
	if len(diags) != 2 {
		t.Errorf("want an error for each malformed owner: %v", diags)
	}
	// Unset in the override: the default's.
	p, _ = s.Policy(def, &PolicyBlock{}, nil)
	if got := p.(*Policy).Owners.Strings(); len(got) != 1 || got[0] != "default-owner" {
		t.Errorf("owners %v, want the default's", got)
	}
}

func TestLifeIsGitHubsHour(t *testing.T) {
	minted := time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC)
	rec := []byte(`{"installation_id":1,"repository":"raxx-app/x","permissions":{},"secret":"GH_HANDOFF_TOKEN","token_expires_at":"2026-06-21T10:00:00Z","token_fingerprint":"sha256:0","minted_at":"2026-06-21T09:00:00Z"}`)
	at, life := New(nil).Life(rec)
	if !at.Equal(minted) || life != time.Hour {
		t.Errorf("Life = %s, %s", at, life)
	}
	if at, life := New(nil).Life(nil); !at.IsZero() || life != time.Hour {
		t.Errorf("Life(nil) = %s, %s", at, life)
	}
}
