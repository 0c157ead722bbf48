package manifest

import (
	"strconv"

	"github.com/raxx-app/handoff/internal/jsonscan"
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
	p := &anyParser{jsonscan.Scanner{B: b}}
	p.WS()
	v, ok := p.value(0)
	if !ok {
		return nil, false
	}
	p.WS()
	if p.I != len(p.B) {
		return nil, false
	}
	return v, true
}

type anyParser struct{ jsonscan.Scanner }

func (p *anyParser) value(depth int) (any, bool) {
	if depth > 64 || p.I >= len(p.B) {
		return nil, false
	}
	switch c := p.B[p.I]; {
	case c == '"':
		return p.Str()
	case c == '{':
		p.I++
		m := map[string]any{}
		p.WS()
		if p.Eat('}') {
			return m, true
		}
		for {
			p.WS()
			k, ok := p.Str()
			if !ok {
				return nil, false
			}
			p.WS()
			if !p.Eat(':') {
				return nil, false
			}
			p.WS()
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = v
			p.WS()
			if p.Eat('}') {
				return m, true
			}
			if !p.Eat(',') {
				return nil, false
			}
		}
	case c == '[':
		p.I++
		a := []any{}
		p.WS()
		if p.Eat(']') {
			return a, true
		}
		for {
			p.WS()
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, v)
			p.WS()
			if p.Eat(']') {
				return a, true
			}
			if !p.Eat(',') {
				return nil, false
			}
		}
	case c == 't':
		return true, p.Word("true")
	case c == 'f':
		return false, p.Word("false")
	case c == 'n':
		return nil, p.Word("null")
	default:
		start := p.I
		if !p.Number() {
			return nil, false
		}
		f, err := strconv.ParseFloat(string(p.B[start:p.I]), 64)
		if err != nil {
			return nil, false // out of range: encoding/json's error
		}
		return f, true
	}
}
