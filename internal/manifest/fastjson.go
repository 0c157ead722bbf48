package manifest

import (
	"strconv"
	"unicode/utf8"
)

// decodeAnyFast decodes b as json.Unmarshal decodes it into an `any`
// (objects map[string]any, arrays []any, numbers float64, the last of
// duplicate keys), for the JSON that manifests are: strings without \u
// escapes and of valid UTF-8, nesting below 64. Anything else (and any
// invalid JSON) makes it say false; Parse then asks encoding/json, which
// decides. It reads a manifest once where encoding/json checks it, then
// decodes it. TestDecodeAnyFastSameAsUnmarshal and FuzzDecodeAnyFast
// compare the two.
func decodeAnyFast(b []byte) (any, bool) {
	p := &anyParser{b: b}
	p.ws()
	v, ok := p.value(0)
	if !ok {
		return nil, false
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, false
	}
	return v, true
}

type anyParser struct {
	b []byte
	i int
}

func (p *anyParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *anyParser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *anyParser) value(depth int) (any, bool) {
	if depth > 64 || p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return p.str()
	case c == '{':
		p.i++
		m := map[string]any{}
		p.ws()
		if p.eat('}') {
			return m, true
		}
		for {
			p.ws()
			k, ok := p.str()
			if !ok {
				return nil, false
			}
			p.ws()
			if !p.eat(':') {
				return nil, false
			}
			p.ws()
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = v
			p.ws()
			if p.eat('}') {
				return m, true
			}
			if !p.eat(',') {
				return nil, false
			}
		}
	case c == '[':
		p.i++
		a := []any{}
		p.ws()
		if p.eat(']') {
			return a, true
		}
		for {
			p.ws()
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, v)
			p.ws()
			if p.eat(']') {
				return a, true
			}
			if !p.eat(',') {
				return nil, false
			}
		}
	case c == 't':
		return true, p.word("true")
	case c == 'f':
		return false, p.word("false")
	case c == 'n':
		return nil, p.word("null")
	default:
		start := p.i
		if !p.number() {
			return nil, false
		}
		f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
		if err != nil {
			return nil, false // out of range: encoding/json's error
		}
		return f, true
	}
}

func (p *anyParser) word(w string) bool {
	if len(p.b)-p.i >= len(w) && string(p.b[p.i:p.i+len(w)]) == w {
		p.i += len(w)
		return true
	}
	return false
}

// str reads a string without \u escapes, of valid UTF-8.
func (p *anyParser) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if !utf8.Valid(raw) {
				return "", false
			}
			return string(raw), true
		case c == '\\':
			return p.escaped(start)
		case c < ' ':
			return "", false
		}
		p.i++
	}
	return "", false
}

func (p *anyParser) escaped(start int) (string, bool) {
	// The string's raw length bounds its unescaped one: one buffer.
	end := p.i
	for end < len(p.b) && p.b[end] != '"' {
		if p.b[end] == '\\' {
			end++
		}
		end++
	}
	buf := make([]byte, 0, min(end, len(p.b))-start)
	buf = append(buf, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(buf) {
				return "", false
			}
			return string(buf), true
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return "", false
			}
			switch e := p.b[p.i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			default:
				return "", false
			}
			p.i += 2
			continue
		case c < ' ':
			return "", false
		}
		buf = append(buf, c)
		p.i++
	}
	return "", false
}

// number reads a JSON number.
func (p *anyParser) number() bool {
	start := p.i
	p.eat('-')
	switch {
	case p.eat('0'):
	case p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9':
		p.digits()
	default:
		return false
	}
	if p.eat('.') && p.digits() == 0 {
		return false
	}
	if p.eat('e') || p.eat('E') {
		if !p.eat('+') {
			p.eat('-')
		}
		if p.digits() == 0 {
			return false
		}
	}
	return p.i > start
}

func (p *anyParser) digits() int {
	n := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}
