package surface

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/spec"
)

// Registry is the ordered set of surfaces of a build: the order of the
// spec language, of plans and of manifests' surfaces. There is one, built
// by internal/surfaces.
type Registry struct {
	list   []Surface
	byName map[string]Surface
}

// NewRegistry returns a registry of the given surfaces, in that order. Two
// surfaces with one name are a programming error: it panics.
func NewRegistry(surfaces ...Surface) *Registry {
	r := &Registry{byName: map[string]Surface{}}
	for _, s := range surfaces {
		if s == nil {
			continue
		}
		if _, dup := r.byName[s.Name()]; dup {
			panic("surface: two surfaces named " + s.Name())
		}
		r.byName[s.Name()] = s
		r.list = append(r.list, s)
	}
	return r
}

// Get returns the surface named name.
func (r *Registry) Get(name string) (Surface, bool) {
	if r == nil {
		return nil, false
	}
	s, ok := r.byName[name]
	return s, ok
}

// All returns the surfaces in order.
func (r *Registry) All() []Surface {
	if r == nil {
		return nil
	}
	return slices.Clone(r.list)
}

// Names returns the surfaces' names in order.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	out := make([]string, len(r.list))
	for i, s := range r.list {
		out[i] = s.Name()
	}
	return out
}

// Rank is the place of name in the order; unknown names come after every
// surface, in the order of their names (SortNames).
func (r *Registry) Rank(name string) int {
	if r != nil {
		for i, s := range r.list {
			if s.Name() == name {
				return i
			}
		}
	}
	return len(r.list)
}

// SortNames sorts names in the registry's order (unknown names last, by
// name), in place, and returns them.
func (r *Registry) SortNames(names []string) []string {
	slices.SortStableFunc(names, func(a, b string) int {
		if ra, rb := r.Rank(a), r.Rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return names
}

// Language returns the spec language of the registry's surfaces with the
// vault's block.
func (r *Registry) Language(vault spec.VaultSyntax) *spec.Language {
	syn := make([]spec.SurfaceSyntax, 0, len(r.list))
	for _, s := range r.list {
		x := s.Syntax()
		if x.Spec == nil || x.Spec.Type != s.Name() {
			panic(fmt.Sprintf("surface: %s declares no block of its name", s.Name()))
		}
		syn = append(syn, x)
	}
	return spec.NewLanguage(vault, syn...)
}

// HasUntraceable reports whether op of s may make an Untraceable step.
func HasUntraceable(s Surface, op Op) bool {
	for _, st := range s.Steps(op, nil, nil) {
		if st.Untraceable {
			return true
		}
	}
	return false
}

// SecretOwner says which surface of r a secret of a handoff's folder
// belongs to: the one whose record (in recs, by surface) names it, else
// the one whose default secrets name it, else the one whose name, upper
// case, prefixes it ("STRIPE_…" → stripe; "GH_…" and "GITHUB_…" → github
// through its defaults' prefix), else "".
func (r *Registry) SecretOwner(name string, recs map[string]Record) string {
	for _, s := range r.list {
		if rec, ok := recs[s.Name()]; ok && slices.Contains(s.Secrets(rec), name) {
			return s.Name()
		}
	}
	for _, s := range r.list {
		if slices.Contains(s.Secrets(nil), name) {
			return s.Name()
		}
	}
	for _, s := range r.list {
		if p, ok := s.(SecretPrefixes); ok {
			for _, pre := range p.SecretPrefixes() {
				if strings.HasPrefix(name, pre) {
					return s.Name()
				}
			}
		}
	}
	for _, s := range r.list {
		if strings.HasPrefix(name, strings.ToUpper(s.Name())+"_") {
			return s.Name()
		}
	}
	return ""
}

// SecretPrefixes is a surface whose secrets' names start otherwise than
// with its own name in upper case ("GH_" for github).
type SecretPrefixes interface {
	SecretPrefixes() []string
}

var installed atomic.Pointer[Registry]

// Install makes r the registry that the core's entry points use when they
// are given none (policy.Check, reconcile.Plan's default), and installs
// its language (spec.Install). The package that assembles a build's
// surfaces (internal/surfaces) installs its registry when it is loaded.
func Install(r *Registry, vault spec.VaultSyntax) {
	installed.Store(r)
	spec.Install(r.Language(vault))
}

// Installed returns the installed registry, or an empty one before any
// Install.
func Installed() *Registry {
	if r := installed.Load(); r != nil {
		return r
	}
	return NewRegistry()
}

// Expiries are the expiring or stamped credentials m records, as their
// surfaces read them (Expiring, Stamped), for the dispatch gate: each with
// its surface's Title (else "<surface> <noun>"), the times its record
// holds and their names in it (Stamped), and the life its vendor fixes
// (FixedLife), so that the gate can check the times a record claims. A
// record that holds no time is left out.
func (r *Registry) Expiries(m *manifest.Manifest) []manifest.Expiry {
	var out []manifest.Expiry
	for _, name := range r.SortNames(m.Surfaces.Names()) {
		s, ok := r.Get(name)
		if !ok {
			continue
		}
		rec := m.Surfaces[name]
		x, noun := manifest.Expiry{Surface: name}, "credential"
		if e, ok := s.(Expiring); ok {
			var n string
			if x.At, n, _ = e.Expiry(rec); n != "" {
				noun = n
			}
		}
		if f, ok := s.(FixedLife); ok {
			x.MintedAt, x.Life = f.Life(rec)
		}
		if st, ok := s.(Stamped); ok {
			ts := st.Stamps(rec)
			if !ts.Expires.IsZero() {
				x.At = ts.Expires
			}
			if !ts.Minted.IsZero() {
				x.MintedAt = ts.Minted
			}
			x.AtField, x.MintedField = ts.ExpiresField, ts.MintedField
		}
		if x.At.IsZero() && x.MintedAt.IsZero() {
			continue
		}
		x.What = name + " " + noun
		if t, ok := s.(Titled); ok {
			x.What = t.Title()
		}
		out = append(out, x)
	}
	return out
}
