package spec

import (
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// AttrSyntax describes one attribute of a block: its name, whether it must
// be present, and an example shown when it is missing or malformed (it
// must parse in the block, see TestSnippetsParse).
type AttrSyntax struct {
	Name     string
	Required bool
	Example  string
}

// BlockSyntax describes the body of one block type of the language: the
// attributes it accepts and the nested block types (each at most once,
// except where a parent says otherwise). The core defines the handoff,
// policy and live_approval blocks; every other block is a surface's or the
// vault's (Language).
type BlockSyntax struct {
	// Type is the block's keyword, such as "github".
	Type string
	// Name is how messages name it, such as "A github block in a handoff".
	Name  string
	Attrs []AttrSyntax
	// Blocks are the nested block types, by keyword, in documentation
	// order; Nested holds their syntax (nil for the file level, whose
	// blocks the Language supplies).
	Blocks []string
	Nested []*BlockSyntax
	// Labels maps a nested block type to the name of its single label.
	Labels map[string]string

	schemaOnce sync.Once
	sch        *hcl.BodySchema
}

// schema returns the HCL schema of the block, built once.
func (b *BlockSyntax) schema() *hcl.BodySchema {
	b.schemaOnce.Do(func() { b.sch = b.buildSchema() })
	return b.sch
}

func (b *BlockSyntax) buildSchema() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, a := range b.Attrs {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.Name})
	}
	for _, name := range b.Blocks {
		h := hcl.BlockHeaderSchema{Type: name}
		if l, ok := b.Labels[name]; ok {
			h.LabelNames = []string{l}
		}
		s.Blocks = append(s.Blocks, h)
	}
	return s
}

func (b *BlockSyntax) attr(name string) AttrSyntax {
	for _, a := range b.Attrs {
		if a.Name == name {
			return a
		}
	}
	return AttrSyntax{Name: name}
}

func (b *BlockSyntax) accepts() string {
	var parts []string
	if len(b.Attrs) > 0 {
		names := make([]string, len(b.Attrs))
		for i, a := range b.Attrs {
			names[i] = a.Name
		}
		parts = append(parts, "arguments "+strings.Join(names, ", "))
	}
	if len(b.Blocks) > 0 {
		parts = append(parts, "blocks "+strings.Join(b.Blocks, ", "))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

// body is the decoded content of one block, with the definition it was
// decoded against, so that attribute getters can word their diagnostics.
type body struct {
	def      *BlockSyntax
	defRange hcl.Range
	content  *hcl.BodyContent
}

// decoder accumulates diagnostics while values are decoded, so that every
// problem of a file is reported at once.
type decoder struct {
	diags hcl.Diagnostics
}

func (d *decoder) errorf(rng hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr(),
	})
}

// content decodes b against def, reporting unknown and missing attributes
// and duplicate blocks in the language's own words.
func (d *decoder) content(b hcl.Body, def *BlockSyntax, defRange hcl.Range) *body {
	c, diags := b.Content(def.schema())
	for _, dg := range diags {
		switch dg.Summary {
		case "Unsupported argument", "Unsupported block type", "Extraneous JSON object property":
			dg.Detail = strings.TrimSpace(dg.Detail) + fmt.Sprintf(
				" %s accepts %s; remove or rename it.", def.Name, def.accepts())
		}
	}
	d.diags = append(d.diags, diags...)
	if c == nil {
		c = &hcl.BodyContent{}
	}
	for _, a := range def.Attrs {
		if !a.Required {
			continue
		}
		if _, ok := c.Attributes[a.Name]; !ok {
			d.errorf(defRange, fmt.Sprintf("Missing required argument %q", a.Name),
				"%s needs %s. Add it, for example: %s", def.Name, a.Name, a.Example)
		}
	}
	return &body{def: def, defRange: defRange, content: c}
}

// single returns the only block of type typ in b, reporting any repeat.
func (d *decoder) single(b *body, typ string) *hcl.Block {
	var first *hcl.Block
	for _, blk := range b.content.Blocks {
		if blk.Type != typ {
			continue
		}
		if first == nil {
			first = blk
			continue
		}
		d.errorf(blk.DefRange, fmt.Sprintf("Duplicate %s block", typ),
			"%s may hold only one %s block; the first is at %s. Merge the two into one.",
			b.def.Name, typ, RangeString(first.DefRange))
	}
	return first
}

// eval evaluates an attribute expression to a value of type ty. It reports
// and returns false when the expression is not a constant of that type.
func (d *decoder) eval(b *body, expr hcl.Expression, name, want string, ty cty.Type) (cty.Value, bool) {
	v, diags := expr.Value(nil)
	ex := b.def.attr(name).Example
	for _, dg := range diags {
		if dg.Severity == hcl.DiagError {
			dg.Detail = strings.TrimSpace(dg.Detail) + " Specs and handoff.hcl hold literal values only; write the value itself, for example: " + ex
		}
	}
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() {
		d.errorf(expr.Range(), fmt.Sprintf("Invalid value for %q", name),
			"%s must be %s, not null. Give it a value, for example: %s", name, want, ex)
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		d.errorf(expr.Range(), fmt.Sprintf("Invalid value for %q", name),
			"%s must be a constant. Write the value literally, for example: %s", name, ex)
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		d.errorf(expr.Range(), fmt.Sprintf("Invalid value for %q", name),
			"%s must be %s, not %s. Write it, for example: %s", name, want, v.Type().FriendlyName(), ex)
		return cty.NilVal, false
	}
	return cv, true
}

// str decodes attribute name as a string; def is the value used when it is
// absent (an empty def means "no default").
func (d *decoder) str(b *body, name, def string) String {
	attr, ok := b.content.Attributes[name]
	if !ok {
		if def != "" {
			return String{Value: def, Range: b.defRange}
		}
		return String{}
	}
	v, ok := d.eval(b, attr.Expr, name, "a string", cty.String)
	if !ok {
		return String{}
	}
	return String{Value: v.AsString(), Range: attr.Expr.Range()}
}

// integer decodes attribute name as a whole number.
func (d *decoder) integer(b *body, name string) Int {
	attr, ok := b.content.Attributes[name]
	if !ok {
		return Int{}
	}
	v, ok := d.eval(b, attr.Expr, name, "a whole number", cty.Number)
	if !ok {
		return Int{}
	}
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact {
		d.errorf(attr.Expr.Range(), fmt.Sprintf("Invalid value for %q", name),
			"%s must be a whole number. Write it, for example: %s", name, b.def.attr(name).Example)
		return Int{}
	}
	return Int{Value: i, Range: attr.Expr.Range()}
}

// duration decodes attribute name as a Go duration string; def is the
// default when absent ("" for none).
func (d *decoder) duration(b *body, name, def string) Duration {
	s := d.str(b, name, def)
	if !s.Valid() {
		return Duration{}
	}
	v, err := time.ParseDuration(s.Value)
	if err != nil {
		d.errorf(s.Range, fmt.Sprintf("Invalid duration for %q", name),
			"%q is not a duration. Write a number with a unit (h, m or s), such as \"24h\", \"90m\" or \"1h30m\".", s.Value)
		return Duration{}
	}
	return Duration{Raw: s.Value, Value: v, Range: s.Range}
}

// list decodes attribute name as a list of strings, keeping each element's
// range.
func (d *decoder) list(b *body, name string) StringList {
	attr, ok := b.content.Attributes[name]
	if !ok {
		return StringList{}
	}
	exprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		d.errorf(attr.Expr.Range(), fmt.Sprintf("Invalid value for %q", name),
			"%s must be a list of strings. Write it, for example: %s", name, b.def.attr(name).Example)
		return StringList{}
	}
	out := StringList{Values: make([]String, 0, len(exprs)), Range: attr.Expr.Range()}
	for _, e := range exprs {
		v, ok := d.eval(b, e, name, "a list of strings", cty.String)
		if !ok {
			return StringList{}
		}
		out.Values = append(out.Values, String{Value: v.AsString(), Range: e.Range()})
	}
	return out
}

// strMap decodes attribute name as a map of strings, keeping each key's and
// value's range.
func (d *decoder) strMap(b *body, name string) StringMap {
	attr, ok := b.content.Attributes[name]
	if !ok {
		return StringMap{}
	}
	pairs, diags := hcl.ExprMap(attr.Expr)
	if diags.HasErrors() {
		d.errorf(attr.Expr.Range(), fmt.Sprintf("Invalid value for %q", name),
			"%s must be a map of strings. Write it, for example: %s", name, b.def.attr(name).Example)
		return StringMap{}
	}
	out := StringMap{Entries: make([]MapEntry, 0, len(pairs)), Range: attr.Expr.Range()}
	seen := make(map[string]hcl.Range, len(pairs))
	for _, p := range pairs {
		k, ok := d.eval(b, p.Key, name, "a map with string keys", cty.String)
		if !ok {
			return StringMap{}
		}
		v, ok := d.eval(b, p.Value, name, "a map of strings", cty.String)
		if !ok {
			return StringMap{}
		}
		key := k.AsString()
		if first, dup := seen[key]; dup {
			d.errorf(p.Key.Range(), fmt.Sprintf("Duplicate key %q in %s", key, name),
				"%q is already set at %s. Keep one of the two.", key, RangeString(first))
			continue
		}
		seen[key] = p.Key.Range()
		out.Entries = append(out.Entries, MapEntry{
			Key:   String{Value: key, Range: p.Key.Range()},
			Value: String{Value: v.AsString(), Range: p.Value.Range()},
		})
	}
	return out
}
