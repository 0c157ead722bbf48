package infisical

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/plan"
	inf "github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/state"
	"github.com/raxx-app/handoff/internal/surface"
)

// Secret names written in the handoff's folder.
const (
	SecretClientID     = "INFISICAL_CLIENT_ID"
	SecretClientSecret = "INFISICAL_CLIENT_SECRET"
)

// AttrIdentity is the grant attribute naming the identity.
const AttrIdentity = "identity"

// IdentityPrefix starts the name of every Infisical identity handoff
// creates, or created in earlier versions: only identities with this prefix
// are part of the live state. See IdentityName.
const IdentityPrefix = "infisical-handoff"

// The two ways of naming an identity: this version's, and the one of
// earlier versions ("infisical-handoff-<slug>-<YYYYMMDD>", which repeated
// the date of a dated slug), still recognised so that identities named
// that way are found by their slug (leftovers, sweeps, verify).
const (
	namePrefix   = IdentityPrefix + "_"
	legacyPrefix = IdentityPrefix + "-"
	dayLayout    = "20060102"
)

// MaxIdentityName is the longest identity name Infisical stores (the
// identities.name column is a varchar(255)). A name is at most
// len(IdentityPrefix) + 1 + 63 (the longest slug) + 9 characters.
const MaxIdentityName = 255

// IdentityName returns the name of the Infisical identity of a handoff
// created on day, with one date in it: "infisical-handoff_<slug>" when the
// slug ends in a date ("-YYYYMMDD", as the examples' slugs do), else
// "infisical-handoff_<slug>_<YYYYMMDD>" with day (UTC).
//
// The underscores keep names of different slugs apart: a slug has only
// lower-case letters, digits and hyphens, so "x" on 2026-12-05
// ("infisical-handoff_x_20261205") never takes the name of the slug
// "x-20261205" ("infisical-handoff_x-20261205"), and neither takes a name
// of the earlier form, which used hyphens only. Infisical's identity search
// accepts letters, digits, spaces, underscores and hyphens in a name.
func IdentityName(slug string, day time.Time) string {
	if slugHasDate(slug) {
		return namePrefix + slug
	}
	return namePrefix + slug + "_" + day.UTC().Format(dayLayout)
}

// identityNamePattern is what IdentityName gives for slug when the day is
// not known yet.
func identityNamePattern(slug string) string {
	if slugHasDate(slug) {
		return namePrefix + slug
	}
	return namePrefix + slug + "_<YYYYMMDD>"
}

// IdentitySlug returns the slug an identity name was made for, by
// IdentityName or by earlier versions ("infisical-handoff-<slug>-<YYYYMMDD>").
func IdentitySlug(name string) (string, bool) {
	if rest, ok := strings.CutPrefix(name, namePrefix); ok {
		slug := rest
		if i := strings.LastIndexByte(rest, '_'); i >= 0 {
			if !isDay(rest[i+1:]) {
				return "", false
			}
			slug = rest[:i]
		}
		if !slugChars(slug) {
			return "", false
		}
		return slug, true
	}
	rest, ok := strings.CutPrefix(name, legacyPrefix)
	if !ok || len(rest) < 10 || rest[len(rest)-9] != '-' || !isDigits(rest[len(rest)-8:]) {
		return "", false
	}
	return rest[:len(rest)-9], true
}

// slugHasDate reports whether slug ends in "-YYYYMMDD", a valid date.
func slugHasDate(slug string) bool {
	return len(slug) > 9 && slug[len(slug)-9] == '-' && isDay(slug[len(slug)-8:])
}

func isDay(s string) bool {
	if len(s) != len(dayLayout) || !isDigits(s) {
		return false
	}
	_, err := time.Parse(dayLayout, s)
	return err == nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// slugChars reports whether s is made of a slug's characters (lower-case
// letters, digits, hyphens; not starting or ending with a hyphen).
func slugChars(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// ownFolderGlob is the read path of a handoff's own folder.
func ownFolderGlob(folder string) string { return path.Clean(folder) + "/**" }

// Desired is the grant of the spec's infisical block: read of the
// handoff's own folder and the spec's paths, in the spec's environment
// (else the folders'), by an identity named for the handoff (the recorded
// one when t.Record is minted again), until t.ExpiresAt.
func (s *Surface) Desired(t surface.Target) *plan.Grant {
	in := Of(t.Spec)
	if in == nil {
		return nil
	}
	env := t.Environment
	if in.Environment.Valid() && in.Environment.Value != "" {
		env = in.Environment.Value
	}
	name := IdentityName(t.Slug, t.Now)
	if r := Decode(t.Record); r != nil && r.IdentityName != "" {
		name = r.IdentityName // a refresh keeps the identity
	}
	return &plan.Grant{
		Environment: env,
		ReadPaths:   append([]string{ownFolderGlob(t.Folder)}, in.Read.Strings()...),
		Attributes:  map[string]string{AttrIdentity: name},
		ExpiresAt:   t.ExpiresAt,
	}
}

// Recorded is the grant of the recorded identity.
func (s *Surface) Recorded(rec surface.Record, m *manifest.Manifest) *plan.Grant {
	r := Decode(rec)
	if r == nil {
		return nil
	}
	exp := m.ExpiresAt
	if !r.ClientSecretExpiresAt.IsZero() {
		exp = r.ClientSecretExpiresAt
	}
	return &plan.Grant{
		Environment: r.Environment,
		ReadPaths:   slices.Clone(r.ReadPaths),
		Attributes:  map[string]string{AttrIdentity: r.IdentityName},
		ExpiresAt:   exp,
	}
}

// Resource names the identity.
func (s *Surface) Resource(slug string, g *plan.Grant) string {
	if g != nil && g.Attributes[AttrIdentity] != "" {
		return "identity " + g.Attributes[AttrIdentity]
	}
	return "identity " + identityNamePattern(slug)
}

// Secrets are the identity's client id and client secret.
func (s *Surface) Secrets(rec surface.Record) []string {
	id, secret := Decode(rec).secretNames()
	return []string{id, secret}
}

// Attrs: the identity's name is a name.
func (s *Surface) Attrs() map[string]surface.AttrKind {
	return map[string]surface.AttrKind{AttrIdentity: {Name: true}}
}

// Expiry is the client secret's: it is minted again once expired (it ends
// with the handoff anyway).
func (s *Surface) Expiry(rec surface.Record) (time.Time, string, bool) {
	r := Decode(rec)
	if r == nil {
		return time.Time{}, "", false
	}
	return r.ClientSecretExpiresAt, "client secret", false
}

var _ surface.Stamped = (*Surface)(nil)

// Stamps are the client secret's expiry (its record says nothing of its
// mint), for the dispatch gate.
func (s *Surface) Stamps(rec surface.Record) surface.Stamps {
	st := surface.Stamps{ExpiresField: "client_secret_expires_at"}
	if r := Decode(rec); r != nil {
		st.Expires = r.ClientSecretExpiresAt
	}
	return st
}

// Identities is the surface's live state: the Infisical identities whose
// name starts with IdentityPrefix.
type Identities struct {
	// ByName holds one identity per name (of two with one name, the one
	// with the smaller id).
	ByName map[string]inf.Identity
	// shadowed are the others with a name ByName holds: a slug's sweep
	// must find them too (a dated slug's identities of two days share a
	// name).
	shadowed []inf.Identity
	problems []string

	// The indexes of Of and HasID, built once on first use: a plan asks
	// them once per handoff, and a scan of every identity each time made
	// a plan of N handoffs O(N²).
	indexOnce sync.Once
	bySlug    map[string][]inf.Identity
	byID      map[string]bool
}

// index builds the indexes of Of and HasID.
func (l *Identities) index() {
	l.indexOnce.Do(func() {
		l.bySlug = map[string][]inf.Identity{}
		l.byID = map[string]bool{}
		for _, id := range l.all() {
			l.byID[id.ID] = true
			if sl, ok := IdentitySlug(id.Name); ok {
				l.bySlug[sl] = append(l.bySlug[sl], id)
			}
		}
		for _, ids := range l.bySlug {
			sort.Slice(ids, func(i, j int) bool {
				if ids[i].Name != ids[j].Name {
					return ids[i].Name < ids[j].Name
				}
				return ids[i].ID < ids[j].ID
			})
		}
	})
}

// all returns every identity: ByName's, then the shadowed ones.
func (l *Identities) all() []inf.Identity {
	out := make([]inf.Identity, 0, len(l.ByName)+len(l.shadowed))
	for _, id := range l.ByName {
		out = append(out, id)
	}
	return append(out, l.shadowed...)
}

// NewIdentities keeps the identities handoff created (by name prefix); two
// with one name are a problem, and one is kept deterministically.
func NewIdentities(list []inf.Identity) *Identities {
	l := &Identities{ByName: map[string]inf.Identity{}}
	for _, id := range list {
		if !strings.HasPrefix(id.Name, IdentityPrefix) {
			continue
		}
		if prev, dup := l.ByName[id.Name]; dup {
			l.problems = append(l.problems, fmt.Sprintf("two Infisical identities are named %s (ids %s and %s); handoff names each identity once", id.Name, prev.ID, id.ID))
			if prev.ID < id.ID {
				l.shadowed = append(l.shadowed, id)
				continue
			}
			l.shadowed = append(l.shadowed, prev)
		}
		l.ByName[id.Name] = id
	}
	return l
}

// FingerprintLines cover every identity's name and id.
func (l *Identities) FingerprintLines() []string {
	var out []string
	for _, id := range l.all() {
		out = append(out, "identity\t"+id.Name+"\t"+id.ID)
	}
	return out
}

// Problems are two identities with one name.
func (l *Identities) Problems() []string { return l.problems }

// Of returns the identities named for slug (whatever their date, in this
// version's form or the earlier one), sorted by name, then id. A slug that
// is a prefix of another does not match the other's.
func (l *Identities) Of(slug string) []inf.Identity {
	l.index()
	return slices.Clone(l.bySlug[slug])
}

// HasID reports whether an identity with id is live.
func (l *Identities) HasID(id string) bool {
	l.index()
	return l.byID[id]
}

// LiveOf returns the identities a state read, nil when they were not read.
func LiveOf(live *state.Live) *Identities {
	sl, _ := live.Surface(Name)
	l, _ := sl.(*Identities)
	return l
}

// ReadLive lists the organization's identities: one listing per plan.
func (s *Surface) ReadLive(ctx context.Context) (state.SurfaceLive, error) {
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	list, err := c.ListIdentities(ctx)
	if err != nil {
		return nil, err
	}
	return NewIdentities(list), nil
}

// Vanished reports an identity the record names that the live state no
// longer has (deleted out of band): the plan replaces it.
func (s *Surface) Vanished(rec surface.Record, live *state.Live) (string, bool) {
	r := Decode(rec)
	l := LiveOf(live)
	if r == nil || l == nil || l.HasID(r.IdentityID) {
		return "", false
	}
	return fmt.Sprintf("identity %s (%s) deleted out of band", r.IdentityName, r.IdentityID), true
}

// Leftovers are the identities named for slug.
func (s *Surface) Leftovers(slug string, live *state.Live) []surface.Leftover {
	l := LiveOf(live)
	if l == nil {
		return nil
	}
	var out []surface.Leftover
	for _, id := range l.Of(slug) {
		out = append(out, surface.Leftover{ID: id.ID, Name: id.Name, Kind: "identity"})
	}
	return out
}

// PlanRegrant compares the read paths the identity records with those it
// should hold now: its own folder and the spec's read paths (the recorded
// ones when the spec changed under a kill), less the withheld ones.
func (s *Surface) PlanRegrant(in surface.RegrantInput) (reasons, escalations []string, after *plan.Grant) {
	r := Decode(in.Record)
	if r == nil {
		return nil, nil, nil
	}
	base := r.ReadPaths
	spec := Of(in.Target.Spec)
	if !in.FromRecord && spec != nil {
		base = append([]string{ownFolderGlob(in.Target.Folder)}, spec.Read.Strings()...)
	}
	want := without(base, in.Withhold)
	if in.FromRecord || spec == nil {
		after = s.Recorded(in.Record, &manifest.Manifest{ExpiresAt: in.Target.ExpiresAt})
	} else {
		t := in.Target
		t.Record = in.Record
		after = s.Desired(t)
	}
	after.ReadPaths = slices.Clone(want)

	have := r.ReadPaths
	kill := in.Kill
	for _, p := range sortedSet(have) {
		if slices.Contains(want, p) {
			continue
		}
		if ks := in.WithheldBy[p]; len(ks) > 0 && kill != nil {
			reasons = append(reasons, fmt.Sprintf("read of %s is withheld since %s was killed by %s at %s: narrow the privilege in place",
				p, strings.Join(ks, ", "), orUnknown(kill.By), kill.At.UTC().Format(time.RFC3339)))
		} else {
			reasons = append(reasons, fmt.Sprintf("read of %s is not in the spec: narrow the privilege in place", p))
		}
	}
	for _, p := range sortedSet(want) {
		if slices.Contains(have, p) {
			continue
		}
		reasons = append(reasons, fmt.Sprintf("read of %s is in the spec and no kill withholds it: grant it again, widening the privilege in place", p))
		if !plan.CoveredBy(p, have) {
			escalations = append(escalations, "wider vault path "+p)
		}
	}
	if len(reasons) > 0 {
		reasons[len(reasons)-1] += " (the identity and its client secret are kept)"
	}
	return reasons, escalations, after
}

func sortedSet(l []string) []string {
	out := slices.Clone(l)
	sort.Strings(out)
	return slices.Compact(out)
}

func orUnknown(s string) string {
	if s == "" {
		return "an operator"
	}
	return s
}
