package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// fastParseBody parses src, a native-syntax HCL file, into the body that
// hclsyntax.ParseConfig would give it (reflect.DeepEqual), when src uses
// only the literal syntax that specs are written in: ASCII, blocks with
// quoted labels over several lines, arguments whose values are strings
// without escapes or template sequences, numbers, true/false/null, lists
// and maps of those, and # or // comments. Anything else (and anything
// ParseConfig would complain about) makes it say false: the caller then
// asks ParseConfig, which decides and explains. Parsing a spec with HCL's
// lexer and parser was a fifth of a no-change plan's CPU;
// TestFastParseSameAsHCL and FuzzFastParse check the claim.
func fastParseBody(filename string, src []byte) (*hclsyntax.Body, bool) {
	toks, ok := fastLex(src)
	if !ok {
		return nil, false
	}
	p := &fastParser{src: src, filename: filename, toks: toks}
	return p.body(tEOF)
}

type fastTokType uint8

const (
	tEOF fastTokType = iota
	tNewline
	tComment // # or // up to and including its newline (or the end)
	tIdent
	tEqual
	tColon
	tComma
	tOBrace
	tCBrace
	tOBrack
	tCBrack
	tOQuote
	tQuotedLit
	tCQuote
	tNumber
)

// fastTok is a token: its type and where it lies (its text is
// src[start:end], a comment's with its newline).
type fastTok struct {
	typ                        fastTokType
	start, end                 int32
	line, col, endLine, endCol int32
}

// fastLex splits src into tokens the way hclsyntax's scanner does for the
// subset, or says false.
func fastLex(src []byte) ([]fastTok, bool) {
	if len(src) > 1<<30 {
		return nil, false
	}
	toks := make([]fastTok, 0, len(src)/6)
	depth := 0
	pos := hcl.Pos{Line: 1, Column: 1, Byte: 0}
	// advance moves pos over src[pos.Byte:end] (ASCII: one column a byte).
	advance := func(end int) hcl.Pos {
		p := pos
		for i := p.Byte; i < end; i++ {
			if src[i] == '\n' {
				p.Line++
				p.Column = 1
			} else {
				p.Column++
			}
		}
		p.Byte = end
		return p
	}
	emit := func(typ fastTokType, end int) {
		next := advance(end)
		toks = append(toks, fastTok{typ: typ, start: int32(pos.Byte), end: int32(end),
			line: int32(pos.Line), col: int32(pos.Column), endLine: int32(next.Line), endCol: int32(next.Column)})
		pos = next
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t':
			i++
			pos = hcl.Pos{Line: pos.Line, Column: pos.Column + 1, Byte: i}
		case c == '\n':
			emit(tNewline, i+1)
			i++
		case c == '#' || (c == '/' && i+1 < len(src) && src[i+1] == '/'):
			j := i
			for j < len(src) && src[j] != '\n' {
				if !printable(src[j]) && src[j] != '\t' {
					return nil, false
				}
				j++
			}
			if j < len(src) {
				j++ // the comment holds its newline
			}
			emit(tComment, j)
			i = j
		case c == '=':
			if i+1 < len(src) && (src[i+1] == '=' || src[i+1] == '>') {
				return nil, false
			}
			emit(tEqual, i+1)
			i++
		case c == ':':
			if i+1 < len(src) && src[i+1] == ':' {
				return nil, false
			}
			emit(tColon, i+1)
			i++
		case c == ',':
			emit(tComma, i+1)
			i++
		case c == '{' || c == '[':
			// Deeper than MaxNesting: checkShape refuses it (parseSyntax).
			if depth++; depth > MaxNesting {
				return nil, false
			}
			typ := tOBrace
			if c == '[' {
				typ = tOBrack
			}
			emit(typ, i+1)
			i++
		case c == '}' || c == ']':
			depth = max(depth-1, 0)
			typ := tCBrace
			if c == ']' {
				typ = tCBrack
			}
			emit(typ, i+1)
			i++
		case c == '"':
			emit(tOQuote, i+1)
			i++
			j := i
			for j < len(src) && src[j] != '"' {
				if !printable(src[j]) || src[j] == '\\' || src[j] == '$' || src[j] == '%' {
					return nil, false
				}
				j++
			}
			if j == len(src) {
				return nil, false
			}
			if j > i {
				emit(tQuotedLit, j)
			}
			emit(tCQuote, j+1)
			i = j + 1
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			if j < len(src) && (src[j] == '.' || src[j] == 'e' || src[j] == 'E' || identByte(src[j])) {
				return nil, false
			}
			if j-i > MaxNumberLength {
				return nil, false // checkShape refuses it (parseSyntax)
			}
			emit(tNumber, j)
			i = j
		case identStart(c):
			j := i + 1
			for j < len(src) && identByte(src[j]) {
				j++
			}
			emit(tIdent, j)
			i = j
		default:
			return nil, false
		}
	}
	toks = append(toks, fastTok{typ: tEOF, start: int32(pos.Byte), end: int32(pos.Byte),
		line: int32(pos.Line), col: int32(pos.Column), endLine: int32(pos.Line), endCol: int32(pos.Column)})
	return toks, true
}

func printable(c byte) bool { return c >= ' ' && c < 0x7f }

func identStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func identByte(c byte) bool {
	return identStart(c) || c >= '0' && c <= '9' || c == '-'
}

// fastParser follows hclsyntax's parser (its peeker's handling of
// newlines and comments included) over the subset.
type fastParser struct {
	src      []byte
	filename string
	toks     []fastTok
	next     int
	// newlines is the stack of the peeker's "include newlines" settings.
	newlines []bool
}

func (p *fastParser) includingNewlines() bool {
	return len(p.newlines) == 0 || p.newlines[len(p.newlines)-1]
}

// peekAt returns the next significant token and the index after it.
func (p *fastParser) peekAt() (fastTok, int) {
	for i := p.next; i < len(p.toks); i++ {
		t := p.toks[i]
		switch t.typ {
		case tComment:
			if p.includingNewlines() && t.end > t.start && p.src[t.end-1] == '\n' {
				t.typ = tNewline // with the comment's range, as HCL's peeker does
				return t, i + 1
			}
			continue
		case tNewline:
			if !p.includingNewlines() {
				continue
			}
		}
		return t, i + 1
	}
	return p.toks[len(p.toks)-1], len(p.toks)
}

func (p *fastParser) peek() fastTok {
	t, _ := p.peekAt()
	return t
}

func (p *fastParser) read() fastTok {
	t, n := p.peekAt()
	p.next = n
	return t
}

func (p *fastParser) prevRange() hcl.Range {
	if p.next == 0 {
		return p.rng(p.peek())
	}
	return p.rng(p.toks[p.next-1])
}

// rng is t's range.
func (p *fastParser) rng(t fastTok) hcl.Range {
	return hcl.Range{
		Filename: p.filename,
		Start:    hcl.Pos{Line: int(t.line), Column: int(t.col), Byte: int(t.start)},
		End:      hcl.Pos{Line: int(t.endLine), Column: int(t.endCol), Byte: int(t.end)},
	}
}

// text is t's source.
func (p *fastParser) text(t fastTok) string { return string(p.src[t.start:t.end]) }

// body is ParseBody: items up to end.
func (p *fastParser) body(end fastTokType) (*hclsyntax.Body, bool) {
	attrs := hclsyntax.Attributes{}
	blocks := hclsyntax.Blocks{}
	startRange := p.prevRange()
	var endRange hcl.Range
	for {
		next := p.peek()
		if next.typ == end {
			endRange = p.rng(next)
			p.read()
			break
		}
		switch next.typ {
		case tNewline:
			p.read()
			continue
		case tIdent:
			ident := p.read()
			switch p.peek().typ {
			case tEqual:
				a, ok := p.attribute(ident)
				if !ok {
					return nil, false
				}
				if _, dup := attrs[a.Name]; dup {
					return nil, false
				}
				attrs[a.Name] = a
			case tOQuote, tOBrace, tIdent:
				b, ok := p.block(ident)
				if !ok {
					return nil, false
				}
				blocks = append(blocks, b)
			default:
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return &hclsyntax.Body{
		Attributes: attrs,
		Blocks:     blocks,
		SrcRange:   hcl.RangeBetween(startRange, endRange),
		EndRange:   hcl.Range{Filename: endRange.Filename, Start: endRange.End, End: endRange.End},
	}, true
}

func (p *fastParser) attribute(ident fastTok) (*hclsyntax.Attribute, bool) {
	eq := p.read()
	expr, ok := p.expr()
	if !ok {
		return nil, false
	}
	endRange := p.prevRange()
	if t := p.peek().typ; t != tNewline && t != tEOF {
		return nil, false
	}
	p.read()
	return &hclsyntax.Attribute{
		Name:        p.text(ident),
		Expr:        expr,
		SrcRange:    hcl.RangeBetween(p.rng(ident), endRange),
		NameRange:   p.rng(ident),
		EqualsRange: p.rng(eq),
	}, true
}

func (p *fastParser) block(ident fastTok) (*hclsyntax.Block, bool) {
	var labels []string
	var labelRanges []hcl.Range
	var oBrace fastTok
	for oBrace.typ != tOBrace {
		switch tok := p.peek(); tok.typ {
		case tOBrace:
			oBrace = p.read()
		case tOQuote:
			open := p.read()
			label := ""
			if p.peek().typ == tQuotedLit {
				label = p.text(p.read())
			}
			closeQuote := p.read()
			if closeQuote.typ != tCQuote {
				return nil, false
			}
			labels = append(labels, label)
			labelRanges = append(labelRanges, hcl.RangeBetween(p.rng(open), p.rng(closeQuote)))
		case tIdent:
			p.read()
			labels = append(labels, p.text(tok))
			labelRanges = append(labelRanges, p.rng(tok))
		default:
			return nil, false
		}
	}
	// Only the multi-line form: a single-line block goes to HCL.
	if t := p.peek().typ; t != tNewline && t != tEOF && t != tCBrace {
		return nil, false
	}
	body, ok := p.body(tCBrace)
	if !ok {
		return nil, false
	}
	cBraceRange := p.prevRange()
	if t := p.peek().typ; t != tNewline && t != tEOF {
		return nil, false
	}
	p.read()
	return &hclsyntax.Block{
		Type:            p.text(ident),
		Labels:          labels,
		Body:            body,
		TypeRange:       p.rng(ident),
		LabelRanges:     labelRanges,
		OpenBraceRange:  p.rng(oBrace),
		CloseBraceRange: cBraceRange,
	}, true
}

// expr is ParseExpression over the subset: a term that no operator,
// traversal or condition follows.
func (p *fastParser) expr() (hclsyntax.Expression, bool) {
	e, ok := p.term()
	if !ok {
		return nil, false
	}
	switch p.peek().typ {
	case tNewline, tEOF, tComma, tCBrack, tCBrace, tEqual, tColon:
		return e, true
	}
	return nil, false
}

func (p *fastParser) term() (hclsyntax.Expression, bool) {
	start := p.peek()
	switch start.typ {
	case tNumber:
		p.read()
		v, err := cty.ParseNumberVal(p.text(start))
		if err != nil {
			return nil, false
		}
		return &hclsyntax.LiteralValueExpr{Val: v, SrcRange: p.rng(start)}, true
	case tIdent:
		p.read()
		switch name := p.text(start); name {
		case "true":
			return &hclsyntax.LiteralValueExpr{Val: cty.True, SrcRange: p.rng(start)}, true
		case "false":
			return &hclsyntax.LiteralValueExpr{Val: cty.False, SrcRange: p.rng(start)}, true
		case "null":
			return &hclsyntax.LiteralValueExpr{Val: cty.NullVal(cty.DynamicPseudoType), SrcRange: p.rng(start)}, true
		default:
			if name == "for" || name == "in" || name == "if" {
				return nil, false
			}
			return &hclsyntax.ScopeTraversalExpr{
				Traversal: hcl.Traversal{hcl.TraverseRoot{Name: name, SrcRange: p.rng(start)}},
				SrcRange:  p.rng(start),
			}, true
		}
	case tOQuote:
		open := p.read()
		var parts []hclsyntax.Expression
		if p.peek().typ == tQuotedLit {
			lit := p.read()
			parts = []hclsyntax.Expression{&hclsyntax.LiteralValueExpr{Val: cty.StringVal(p.text(lit)), SrcRange: p.rng(lit)}}
		}
		closeQuote := p.read()
		if closeQuote.typ != tCQuote {
			return nil, false
		}
		if parts == nil {
			// HCL's empty template: one empty literal, its range zero
			// characters at the end of the closing quote.
			end := hcl.Range{Filename: p.rng(closeQuote).Filename, Start: p.rng(closeQuote).End, End: p.rng(closeQuote).End}
			parts = []hclsyntax.Expression{&hclsyntax.LiteralValueExpr{Val: cty.StringVal(""), SrcRange: end}}
		}
		return &hclsyntax.TemplateExpr{Parts: parts, SrcRange: hcl.RangeBetween(p.rng(open), p.rng(closeQuote))}, true
	case tOBrack:
		return p.tuple()
	case tOBrace:
		return p.object()
	}
	return nil, false
}

func (p *fastParser) tuple() (hclsyntax.Expression, bool) {
	open := p.read()
	p.newlines = append(p.newlines, false)
	defer func() { p.newlines = p.newlines[:len(p.newlines)-1] }()
	if t := p.peek(); t.typ == tIdent && p.text(t) == "for" {
		return nil, false
	}
	var exprs []hclsyntax.Expression
	var closeTok fastTok
	for {
		if p.peek().typ == tCBrack {
			closeTok = p.read()
			break
		}
		e, ok := p.expr()
		if !ok {
			return nil, false
		}
		exprs = append(exprs, e)
		next := p.peek()
		if next.typ == tCBrack {
			closeTok = p.read()
			break
		}
		if next.typ != tComma {
			return nil, false
		}
		p.read()
	}
	return &hclsyntax.TupleConsExpr{Exprs: exprs, SrcRange: hcl.RangeBetween(p.rng(open), p.rng(closeTok)), OpenRange: p.rng(open)}, true
}

func (p *fastParser) object() (hclsyntax.Expression, bool) {
	open := p.read()
	p.newlines = append(p.newlines, false)
	t := p.peek()
	p.newlines = p.newlines[:len(p.newlines)-1]
	if t.typ == tIdent && p.text(t) == "for" {
		return nil, false
	}
	p.newlines = append(p.newlines, true)
	defer func() { p.newlines = p.newlines[:len(p.newlines)-1] }()
	var items []hclsyntax.ObjectConsItem
	var closeTok fastTok
	for {
		next := p.peek()
		if next.typ == tNewline {
			p.read()
			continue
		}
		if next.typ == tCBrace {
			closeTok = p.read()
			break
		}
		key, ok := p.expr()
		if !ok {
			return nil, false
		}
		if t := p.peek().typ; t != tEqual && t != tColon {
			return nil, false
		}
		p.read()
		value, ok := p.expr()
		if !ok {
			return nil, false
		}
		items = append(items, hclsyntax.ObjectConsItem{KeyExpr: &hclsyntax.ObjectConsKeyExpr{Wrapped: key}, ValueExpr: value})
		next = p.peek()
		if next.typ == tCBrace {
			closeTok = p.read()
			break
		}
		if next.typ != tComma && next.typ != tNewline {
			return nil, false
		}
		p.read()
	}
	return &hclsyntax.ObjectConsExpr{Items: items, SrcRange: hcl.RangeBetween(p.rng(open), p.rng(closeTok)), OpenRange: p.rng(open)}, true
}
