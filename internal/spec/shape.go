package spec

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Bounds of one file's expressions. A spec or handoff.hcl holds literal
// values: blocks a few levels deep, lists and maps of strings, no operator
// at all. HCL's parser takes time and memory that grow much faster than
// the file with nesting and operator chains (64 KiB of nested parentheses
// took 13 s and 320 MB), and a number such as 1e10000000 takes half a
// minute to become the string an attribute wants; so a file beyond these
// bounds is refused before it is parsed, with one diagnostic where it
// passes them.
const (
	// MaxNesting is the deepest nesting of blocks, lists, maps,
	// parentheses, template sequences ("${", "%{") and heredocs in a file.
	MaxNesting = 32
	// MaxOperators is the most operators (arithmetic, comparison, logical,
	// conditional) in a file.
	MaxOperators = 64
	// MaxNumberLength is the longest number literal, in characters.
	MaxNumberLength = 32
)

// checkShape returns nil when src, a native-syntax or JSON HCL file, stays
// within MaxNesting, MaxOperators and MaxNumberLength, else one error
// diagnostic at the first token past a bound. It lexes the file (linear in
// its size) and never quotes it. A native-syntax file past a bound that
// the lexer cannot read either gets the lexer's own errors instead.
func checkShape(filename string, src []byte) hcl.Diagnostics {
	s := shape{filename: filename}
	if strings.HasSuffix(filename, ".json") {
		return one(s.json(src))
	}
	toks, lexDiags := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	d := s.tokens(toks)
	if d != nil && lexDiags.HasErrors() {
		// What the lexer could not read (an unterminated comment lexes as
		// slashes and stars) explains the file better than the bound.
		return lexDiags
	}
	return one(d)
}

// one is d as diagnostics: none when d is nil.
func one(d *hcl.Diagnostic) hcl.Diagnostics {
	if d == nil {
		return nil
	}
	return hcl.Diagnostics{d}
}

// shape counts a file's nesting and operators as it is walked.
type shape struct {
	filename   string
	depth, ops int
}

// tokens walks native-syntax tokens.
func (s *shape) tokens(toks hclsyntax.Tokens) *hcl.Diagnostic {
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOParen, hclsyntax.TokenOBrack, hclsyntax.TokenOBrace,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl, hclsyntax.TokenOHeredoc:
			if d := s.open(t.Range.Start); d != nil {
				return d
			}
		case hclsyntax.TokenCParen, hclsyntax.TokenCBrack, hclsyntax.TokenCBrace, hclsyntax.TokenTemplateSeqEnd,
			hclsyntax.TokenCHeredoc:
			s.depth = max(s.depth-1, 0)
		case hclsyntax.TokenNumberLit:
			if d := s.number(t.Bytes, t.Range.Start); d != nil {
				return d
			}
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPercent,
			hclsyntax.TokenAnd, hclsyntax.TokenOr, hclsyntax.TokenBang,
			hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual, hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq,
			hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq, hclsyntax.TokenQuestion:
			s.ops++
			if s.ops > MaxOperators {
				return s.diagnostic(t.Range.Start, "Too many operators",
					"%s holds more than %d operators; the one past the bound is at line %d, column %d. "+
						"A spec holds literal values, which need none: write the values out.", MaxOperators)
			}
		}
	}
	return nil
}

func (s *shape) open(at hcl.Pos) *hcl.Diagnostic {
	s.depth++
	if s.depth <= MaxNesting {
		return nil
	}
	return s.diagnostic(at, "Nested too deeply",
		"%s nests blocks, lists, maps, parentheses, template sequences or heredocs more than %d deep at line %d, column %d. "+
			"A spec holds literal values a few levels deep: write them out flatter.", MaxNesting)
}

// number refuses a number literal longer than MaxNumberLength, or whose
// exponent has more than two digits: 1e10000000 is ten million digits
// long as the string an attribute wants.
func (s *shape) number(lit []byte, at hcl.Pos) *hcl.Diagnostic {
	exp := 0 // the digits of its exponent
	if i := bytes.IndexAny(lit, "eE"); i >= 0 {
		exp = len(bytes.TrimLeft(lit[i+1:], "+-"))
	}
	if len(lit) <= MaxNumberLength && exp <= 2 {
		return nil
	}
	return s.diagnostic(at, "Number too long",
		"%s holds a number of more than %d characters, or with an exponent of more than two digits, at line %d, column %d. "+
			"A spec's numbers are small (a card number, a count): write it as a string if it is an identifier.", MaxNumberLength)
}

// json walks a JSON file's arrays, objects and numbers, keeping the
// position as it goes, so that the walk stays linear in the file. Its
// strings are not templates: specs are decoded without an evaluation
// context, in which HCL takes a JSON string literally.
func (s *shape) json(src []byte) *hcl.Diagnostic {
	pos := hcl.Pos{Line: 1, Column: 1}
	inString, escaped := false, false
	numStart, numPos := -1, hcl.Pos{}
	for i, c := range src {
		at := pos
		pos.Byte = i + 1
		switch {
		case c == '\n':
			pos.Line, pos.Column = pos.Line+1, 1
		case c&0xC0 != 0x80: // the first byte of a character
			pos.Column++
		}
		number := !inString && (c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || (c >= '0' && c <= '9'))
		switch {
		case number && numStart < 0:
			numStart, numPos = i, at
		case !number && numStart >= 0:
			if d := s.number(src[numStart:i], numPos); d != nil {
				return d
			}
			numStart = -1
		}
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if d := s.open(at); d != nil {
				return d
			}
		case c == ']' || c == '}':
			s.depth = max(s.depth-1, 0)
		}
	}
	if numStart >= 0 {
		return s.number(src[numStart:], numPos)
	}
	return nil
}

// diagnostic is an error at at; format takes the file name, the bound,
// the line and the column.
func (s *shape) diagnostic(at hcl.Pos, summary, format string, bound int) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, s.filename, bound, at.Line, at.Column),
		Subject:  &hcl.Range{Filename: s.filename, Start: at, End: at},
	}
}
