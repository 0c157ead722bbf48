package infisical

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodePageFast decodes a listing of secrets (GET /api/v4/secrets) the
// way json.Unmarshal decodes it into a fresh secretsPage, for the shapes
// the vault answers with: one object, its "secrets" a list of objects whose
// known fields are strings (version a number), other fields skipped.
// Anything else (an escape other than the simple ones, a key that only
// case-folds to a field, a null, a duplicate "secrets", invalid JSON) makes
// it say false, and the caller decodes with encoding/json, which decides
// and explains. The listing of 1,000 handoffs is megabytes: encoding/json
// checked it, then decoded it, a tenth of a no-change plan's CPU.
// TestDecodeAnswerSameAsDecoder and FuzzDecodeAnswer compare the two.
func decodePageFast(b []byte, out *secretsPage) bool {
	p := &pageParser{b: b}
	p.ws()
	if !p.eat('{') {
		return false
	}
	var page secretsPage
	seen := false
	p.ws()
	if !p.eat('}') {
		for {
			p.ws()
			key, ok := p.str()
			if !ok {
				return false
			}
			p.ws()
			if !p.eat(':') {
				return false
			}
			p.ws()
			switch {
			case key == "secrets":
				if seen {
					return false
				}
				seen = true
				if page.Secrets, ok = p.secrets(); !ok {
					return false
				}
			case foldsTo(key, "secrets"):
				return false
			default:
				if !p.skip(0) {
					return false
				}
			}
			p.ws()
			if p.eat('}') {
				break
			}
			if !p.eat(',') {
				return false
			}
		}
	}
	p.ws()
	if p.i != len(p.b) {
		return false
	}
	*out = page
	return true
}

// secretFields are the JSON names of Secret's fields.
var secretFields = []string{"secretPath", "secretKey", "secretValue", "secretComment", "version", "id", "updatedAt"}

// foldsTo reports whether encoding/json could match key to the field name
// without it being name: a case-insensitive match, or any non-ASCII byte
// (Unicode folding: the Kelvin sign is a k).
func foldsTo(key string, names ...string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			return true
		}
	}
	for _, n := range names {
		if strings.EqualFold(key, n) {
			return true
		}
	}
	return false
}

type pageParser struct {
	b []byte
	i int
}

func (p *pageParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *pageParser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pageParser) secrets() ([]Secret, bool) {
	if !p.eat('[') {
		return nil, false
	}
	list := []Secret{}
	p.ws()
	if p.eat(']') {
		return list, true
	}
	for {
		p.ws()
		s, ok := p.secret()
		if !ok {
			return nil, false
		}
		list = append(list, s)
		p.ws()
		if p.eat(']') {
			return list, true
		}
		if !p.eat(',') {
			return nil, false
		}
	}
}

func (p *pageParser) secret() (Secret, bool) {
	var s Secret
	if !p.eat('{') {
		return s, false
	}
	p.ws()
	if p.eat('}') {
		return s, true
	}
	for {
		p.ws()
		key, ok := p.str()
		if !ok {
			return s, false
		}
		p.ws()
		if !p.eat(':') {
			return s, false
		}
		p.ws()
		var field *string
		switch key {
		case "secretPath":
			field = &s.Path
		case "secretKey":
			field = &s.Key
		case "secretValue":
			field = &s.Value
		case "secretComment":
			field = &s.Comment
		case "id":
			field = &s.ID
		case "version":
			start := p.i
			if !p.number() {
				return s, false
			}
			n, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 0)
			if err != nil {
				return s, false
			}
			s.Version = int(n)
		case "updatedAt":
			start := p.i
			if _, ok := p.str(); !ok {
				return s, false
			}
			// encoding/json hands time.Time the literal as written.
			if err := s.UpdatedAt.UnmarshalJSON(p.b[start:p.i]); err != nil {
				return s, false
			}
		default:
			if foldsTo(key, secretFields...) || !p.skip(0) {
				return s, false
			}
		}
		if field != nil {
			if *field, ok = p.str(); !ok {
				return s, false
			}
		}
		p.ws()
		if p.eat('}') {
			return s, true
		}
		if !p.eat(',') {
			return s, false
		}
	}
}

// str reads a string without \u escapes, of valid UTF-8.
func (p *pageParser) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
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

// escaped finishes a string from start that holds simple escapes.
func (p *pageParser) escaped(start int) (string, bool) {
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
				return "", false // \u and invalid escapes: encoding/json's
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
func (p *pageParser) number() bool {
	start := p.i
	p.eat('-')
	switch {
	case p.eat('0'):
	case p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9':
		p.digits()
	default:
		return false
	}
	if p.eat('.') {
		if p.digits() == 0 {
			return false
		}
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

func (p *pageParser) digits() int {
	n := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

// skip reads any JSON value (nesting bounded).
func (p *pageParser) skip(depth int) bool {
	if depth > 64 || p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p.i++
		p.ws()
		if p.eat(closer) {
			return true
		}
		for {
			p.ws()
			if c == '{' {
				if _, ok := p.str(); !ok {
					return false
				}
				p.ws()
				if !p.eat(':') {
					return false
				}
				p.ws()
			}
			if !p.skip(depth + 1) {
				return false
			}
			p.ws()
			if p.eat(closer) {
				return true
			}
			if !p.eat(',') {
				return false
			}
		}
	case c == 't':
		return p.word("true")
	case c == 'f':
		return p.word("false")
	case c == 'n':
		return p.word("null")
	default:
		return p.number()
	}
}

func (p *pageParser) word(w string) bool {
	if strings.HasPrefix(string(p.b[p.i:min(len(p.b), p.i+len(w))]), w) {
		p.i += len(w)
		return true
	}
	return false
}
