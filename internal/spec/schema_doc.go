package spec

import "fmt"

// FileSchema describes one kind of file of the spec language, as the parser
// decodes it: handoff.hcl or a spec file under specs/.
//
// It is read from the very definitions ParseConfig and ParseHandoffFile
// decode against, so documentation generated from it (internal/specref)
// cannot drift from the parser. It says which blocks and attributes exist
// and which are required; it does not say what values are allowed (that is
// package policy) nor the attributes' types, which the parser enforces by
// decoding and internal/specref finds out by asking the parser.
type FileSchema struct {
	// Name is how the documentation names the file: "handoff.hcl" or
	// "specs/<slug>.hcl".
	Name string
	// Blocks are the top-level block types the file may hold, in the order
	// the parser lists them.
	Blocks []BlockSchema
}

// BlockSchema describes one block type and its body.
type BlockSchema struct {
	// Type is the block's keyword, such as "github".
	Type string
	// Label names the block's single label ("slug" for handoff), or is
	// empty when the block takes no label.
	Label string
	// Attributes are the arguments the body accepts, in the parser's order.
	Attributes []AttributeSchema
	// Blocks are the nested block types the body accepts, in the parser's
	// order. Each may appear at most once.
	Blocks []BlockSchema
}

// AttributeSchema describes one argument of a block body.
type AttributeSchema struct {
	// Name is the argument's name, such as "ttl".
	Name string
	// Required is true when the parser reports the argument missing.
	Required bool
	// Example is the example line diagnostics show, such as `ttl = "24h"`;
	// it is valid for the parser.
	Example string
}

// Schema returns the schemas of handoff.hcl and of a spec file in the
// installed language, in that order. The result is freshly built on each
// call; callers may modify it. It never changes what the parser accepts.
func Schema() []FileSchema { return Installed().Schema() }

// Schema returns the schemas of handoff.hcl and of a spec file in l.
func (l *Language) Schema() []FileSchema {
	return []FileSchema{
		{Name: ConfigFile, Blocks: nestedSchemas(l.configFile)},
		{Name: SpecsDir + "/<slug>.hcl", Blocks: nestedSchemas(l.specFile)},
	}
}

// nestedSchemas returns the schemas of the blocks parent accepts. It panics
// when a block type has no syntax: the language is then inconsistent,
// which a test must catch.
func nestedSchemas(parent *BlockSyntax) []BlockSchema {
	out := make([]BlockSchema, 0, len(parent.Blocks))
	for _, typ := range parent.Blocks {
		var def *BlockSyntax
		for _, d := range parent.Nested {
			if d.Type == typ {
				def = d
				break
			}
		}
		if def == nil {
			panic(fmt.Sprintf("spec: block %q of %s has no syntax", typ, parent.Name))
		}
		b := BlockSchema{Type: typ, Label: parent.Labels[typ]}
		for _, a := range def.Attrs {
			b.Attributes = append(b.Attributes, AttributeSchema(a))
		}
		b.Blocks = nestedSchemas(def)
		out = append(out, b)
	}
	return out
}
