package spec

import "github.com/hashicorp/hcl/v2"

// Block is a decoded block of a surface (or of the vault) in a spec or in
// handoff.hcl. Its package owns its concrete type and reads it back with a
// type assertion.
type Block interface {
	// Range is the block's header, `github {`, for diagnostics.
	Range() hcl.Range
}

// Canonical is a Block of a spec file that contributes to the handoff's
// digest: Canonical returns its semantic content, defaults filled in, in a
// shape encoding/json encodes deterministically (structs in field order,
// maps sorted by key).
type Canonical interface {
	Block
	Canonical() any
}

// Body is the content of one block being decoded: what a surface's decoder
// reads its attributes from. Every getter reports its own problems (wrong
// type, not a constant, bad duration) with the block's words and example,
// and returns an invalid value (Valid false) then.
type Body struct {
	d *decoder
	b *body
}

// DefRange is the block's header.
func (b *Body) DefRange() hcl.Range { return b.b.defRange }

// String decodes attribute name as a string; def is the value when it is
// absent ("" for no default).
func (b *Body) String(name, def string) String { return b.d.str(b.b, name, def) }

// Int decodes attribute name as a whole number.
func (b *Body) Int(name string) Int { return b.d.integer(b.b, name) }

// Duration decodes attribute name as a duration ("24h"); def is the default
// when absent ("" for none).
func (b *Body) Duration(name, def string) Duration { return b.d.duration(b.b, name, def) }

// List decodes attribute name as a list of strings.
func (b *Body) List(name string) StringList { return b.d.list(b.b, name) }

// Map decodes attribute name as a map of strings.
func (b *Body) Map(name string) StringMap { return b.d.strMap(b.b, name) }

// Has reports whether attribute name is written.
func (b *Body) Has(name string) bool {
	_, ok := b.b.content.Attributes[name]
	return ok
}

// Nested decodes the only nested block of type s.Type against s, reporting
// a repeat; nil when there is none.
func (b *Body) Nested(s *BlockSyntax) *Body {
	blk := b.d.single(b.b, s.Type)
	if blk == nil {
		return nil
	}
	return &Body{d: b.d, b: b.d.content(blk.Body, s, blk.DefRange)}
}

// Errorf reports an error at rng.
func (b *Body) Errorf(rng hcl.Range, summary, format string, args ...any) {
	b.d.errorf(rng, summary, format, args...)
}
