package infisical

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/raxx-app/handoff/internal/jsonscan"
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
	p := &pageParser{jsonscan.Scanner{B: b}}
	p.WS()
	if !p.Eat('{') {
		return false
	}
	var page secretsPage
	seen := false
	p.WS()
	if !p.Eat('}') {
		for {
			p.WS()
			key, ok := p.Str()
			if !ok {
				return false
			}
			p.WS()
			if !p.Eat(':') {
				return false
			}
			p.WS()
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
			p.WS()
			if p.Eat('}') {
				break
			}
			if !p.Eat(',') {
				return false
			}
		}
	}
	p.WS()
	if p.I != len(p.B) {
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

type pageParser struct{ jsonscan.Scanner }

func (p *pageParser) secrets() ([]Secret, bool) {
	if !p.Eat('[') {
		return nil, false
	}
	list := []Secret{}
	p.WS()
	if p.Eat(']') {
		return list, true
	}
	for {
		p.WS()
		s, ok := p.secret()
		if !ok {
			return nil, false
		}
		list = append(list, s)
		p.WS()
		if p.Eat(']') {
			return list, true
		}
		if !p.Eat(',') {
			return nil, false
		}
	}
}

func (p *pageParser) secret() (Secret, bool) {
	var s Secret
	if !p.Eat('{') {
		return s, false
	}
	p.WS()
	if p.Eat('}') {
		return s, true
	}
	for {
		p.WS()
		key, ok := p.Str()
		if !ok {
			return s, false
		}
		p.WS()
		if !p.Eat(':') {
			return s, false
		}
		p.WS()
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
			start := p.I
			if !p.Number() {
				return s, false
			}
			n, err := strconv.ParseInt(string(p.B[start:p.I]), 10, 0)
			if err != nil {
				return s, false
			}
			s.Version = int(n)
		case "updatedAt":
			start := p.I
			if _, ok := p.Str(); !ok {
				return s, false
			}
			// encoding/json hands time.Time the literal as written.
			if err := s.UpdatedAt.UnmarshalJSON(p.B[start:p.I]); err != nil {
				return s, false
			}
		default:
			if foldsTo(key, secretFields...) || !p.skip(0) {
				return s, false
			}
		}
		if field != nil {
			if *field, ok = p.Str(); !ok {
				return s, false
			}
		}
		p.WS()
		if p.Eat('}') {
			return s, true
		}
		if !p.Eat(',') {
			return s, false
		}
	}
}

// skip reads any JSON value (nesting bounded).
func (p *pageParser) skip(depth int) bool {
	if depth > 64 || p.I >= len(p.B) {
		return false
	}
	switch c := p.B[p.I]; {
	case c == '"':
		_, ok := p.Str()
		return ok
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p.I++
		p.WS()
		if p.Eat(closer) {
			return true
		}
		for {
			p.WS()
			if c == '{' {
				if _, ok := p.Str(); !ok {
					return false
				}
				p.WS()
				if !p.Eat(':') {
					return false
				}
				p.WS()
			}
			if !p.skip(depth + 1) {
				return false
			}
			p.WS()
			if p.Eat(closer) {
				return true
			}
			if !p.Eat(',') {
				return false
			}
		}
	case c == 't':
		return p.Word("true")
	case c == 'f':
		return p.Word("false")
	case c == 'n':
		return p.Word("null")
	default:
		return p.Number()
	}
}
