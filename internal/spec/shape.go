package spec

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Bounds of one file's expressions. A spec or handoff.hcl holds literal
// values: blocks a few levels deep, lists and maps of strings, no operator
// at all. HCL's parser takes time and memory that grow much faster than
// the file with nesting and operator chains (64 KiB of nested parentheses
// took 13 s and 320 MB), so a file beyond these bounds is refused before it
// is parsed, with one diagnostic where it passes them.
const (
	// MaxNesting is the deepest nesting of blocks, lists, maps,
	// parentheses and template sequences ("${", "%{") in a file.
	MaxNesting = 32
	// MaxOperators is the most operators (arithmetic, comparison, logical,
	// conditional) in a file.
	MaxOperators = 64
)

// checkShape returns nil when src, a native-syntax or JSON HCL file, stays
// within MaxNesting and MaxOperators, else one error diagnostic at the
// first token past a bound. It lexes the file (linear in its size) and
// never quotes it.
func checkShape(filename string, src []byte) *hcl.Diagnostic {
	s := shape{filename: filename}
	if strings.HasSuffix(filename, ".json") {
		return s.json(src)
	}
	toks, _ := hclsyntax.LexConfig(src, filename, hcl.InitialPos)
	return s.tokens(toks)
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
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			if d := s.open(t.Range.Start); d != nil {
				return d
			}
		case hclsyntax.TokenCParen, hclsyntax.TokenCBrack, hclsyntax.TokenCBrace, hclsyntax.TokenTemplateSeqEnd:
			s.depth = max(s.depth-1, 0)
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
		"%s nests blocks, lists, maps, parentheses or template sequences more than %d deep at line %d, column %d. "+
			"A spec holds literal values a few levels deep: write them out flatter.", MaxNesting)
}

// json walks a JSON file: its arrays and objects, and the templates of its
// strings, which HCL parses when it evaluates them. It keeps the position
// as it goes, so that the walk stays linear in the file.
func (s *shape) json(src []byte) *hcl.Diagnostic {
	pos := hcl.Pos{Line: 1, Column: 1}
	inString, escaped, template := false, false, false
	var strStart hcl.Pos
	for i, c := range src {
		at := pos
		pos.Byte = i + 1
		switch {
		case c == '\n':
			pos.Line, pos.Column = pos.Line+1, 1
		case c&0xC0 != 0x80: // the first byte of a character
			pos.Column++
		}
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
			if template {
				toks, _ := hclsyntax.LexTemplate(src[strStart.Byte:i], s.filename, strStart)
				if d := s.tokens(toks); d != nil {
					return d
				}
			}
		case inString:
			if (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{' {
				template = true
			}
		case c == '"':
			inString, template, strStart = true, false, pos
		case c == '[' || c == '{':
			if d := s.open(at); d != nil {
				return d
			}
		case c == ']' || c == '}':
			s.depth = max(s.depth-1, 0)
		}
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
