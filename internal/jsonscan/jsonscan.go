// Package jsonscan owns the lexical pieces of the hand-written JSON
// decoders that read what handoff reads most (manifests, the vault's
// listings): whitespace, a byte, a word, a string with the simple escapes,
// a number. Each piece says false where encoding/json's decision could
// differ (a \u escape, invalid UTF-8, malformed input); the decoders then
// fall back to encoding/json, which decides and explains.
package jsonscan

import "unicode/utf8"

// Scanner reads B from offset I.
type Scanner struct {
	B []byte
	I int
}

// WS skips JSON whitespace.
func (s *Scanner) WS() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Eat reads c when it comes next.
func (s *Scanner) Eat(c byte) bool {
	if s.I < len(s.B) && s.B[s.I] == c {
		s.I++
		return true
	}
	return false
}

// Word reads w when it comes next ("true", "null").
func (s *Scanner) Word(w string) bool {
	if len(s.B)-s.I >= len(w) && string(s.B[s.I:s.I+len(w)]) == w {
		s.I += len(w)
		return true
	}
	return false
}

// Str reads a string without \u escapes, of valid UTF-8.
func (s *Scanner) Str() (string, bool) {
	if !s.Eat('"') {
		return "", false
	}
	start := s.I
	for s.I < len(s.B) {
		switch c := s.B[s.I]; {
		case c == '"':
			raw := s.B[start:s.I]
			s.I++
			if !utf8.Valid(raw) {
				return "", false
			}
			return string(raw), true
		case c == '\\':
			return s.escaped(start)
		case c < ' ':
			return "", false
		}
		s.I++
	}
	return "", false
}

// escaped finishes a string from start that holds simple escapes.
func (s *Scanner) escaped(start int) (string, bool) {
	// The string's raw length bounds its unescaped one: one buffer.
	end := s.I
	for end < len(s.B) && s.B[end] != '"' {
		if s.B[end] == '\\' {
			end++
		}
		end++
	}
	buf := make([]byte, 0, min(end, len(s.B))-start)
	buf = append(buf, s.B[start:s.I]...)
	for s.I < len(s.B) {
		c := s.B[s.I]
		switch {
		case c == '"':
			s.I++
			if !utf8.Valid(buf) {
				return "", false
			}
			return string(buf), true
		case c == '\\':
			if s.I+1 >= len(s.B) {
				return "", false
			}
			switch e := s.B[s.I+1]; e {
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
			s.I += 2
			continue
		case c < ' ':
			return "", false
		}
		buf = append(buf, c)
		s.I++
	}
	return "", false
}

// Number reads a JSON number.
func (s *Scanner) Number() bool {
	start := s.I
	s.Eat('-')
	switch {
	case s.Eat('0'):
	case s.I < len(s.B) && s.B[s.I] >= '1' && s.B[s.I] <= '9':
		s.digits()
	default:
		return false
	}
	if s.Eat('.') && s.digits() == 0 {
		return false
	}
	if s.Eat('e') || s.Eat('E') {
		if !s.Eat('+') {
			s.Eat('-')
		}
		if s.digits() == 0 {
			return false
		}
	}
	return s.I > start
}

func (s *Scanner) digits() int {
	n := 0
	for s.I < len(s.B) && s.B[s.I] >= '0' && s.B[s.I] <= '9' {
		s.I++
		n++
	}
	return n
}
