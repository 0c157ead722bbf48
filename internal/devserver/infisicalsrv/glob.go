package infisicalsrv

import (
	"regexp"
	"strings"
)

// glob is a compiled $glob condition. Infisical matches with
// picomatch.isMatch(value, pattern, {strictSlashes: false}); this is the
// subset of picomatch that permission globs use:
//
//   - '*' matches any run of characters within one path segment;
//   - '**' as a whole segment matches any number of segments, zero
//     included, so "/a/**" matches "/a" itself and everything under it;
//   - '?' matches one character other than '/';
//   - "[abc]", "[a-z]", "[!a]" are character classes;
//   - "{a,b}" is an alternation;
//   - a leading '!' negates the pattern; '\' escapes the next character;
//   - a trailing slash on the value is ignored (strictSlashes: false).
//
// Not modelled: extglobs ("+(a|b)") and picomatch's refusal to let '*' match
// a segment that starts with a dot.
type glob struct {
	pattern string
	re      *regexp.Regexp
	negate  bool
}

func compileGlob(pattern string) (*glob, error) {
	g := &glob{pattern: pattern}
	p := pattern
	if strings.HasPrefix(p, "!") && !strings.HasPrefix(p, "!(") {
		g.negate = true
		p = p[1:]
	}
	re, err := regexp.Compile("^" + globToRegexp(p) + "/?$")
	if err != nil {
		return nil, err
	}
	g.re = re
	return g, nil
}

// match reports whether s matches the glob.
func (g *glob) match(s string) bool {
	return g.re.MatchString(s) != g.negate
}

func globToRegexp(p string) string {
	tokens := strings.Split(p, "/")
	if len(tokens) == 1 && tokens[0] == "**" {
		return ".*"
	}
	var b strings.Builder
	skipSep := false
	for i, tok := range tokens {
		if tok == "**" {
			switch {
			case i == len(tokens)-1:
				b.WriteString("(?:/.*)?")
			case i == 0:
				b.WriteString("(?:.*/)?")
				skipSep = true
			default:
				b.WriteString("(?:/.*)?")
			}
			continue
		}
		if i > 0 && !skipSep {
			b.WriteString("/")
		}
		skipSep = false
		b.WriteString(segmentToRegexp(tok))
	}
	return b.String()
}

func segmentToRegexp(seg string) string {
	var b strings.Builder
	r := []rune(seg)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch c {
		case '\\':
			if i+1 < len(r) {
				i++
				b.WriteString(regexp.QuoteMeta(string(r[i])))
			} else {
				b.WriteString(`\\`)
			}
		case '*':
			for i+1 < len(r) && r[i+1] == '*' {
				i++
			}
			b.WriteString("[^/]*")
		case '?':
			b.WriteString("[^/]")
		case '[':
			end := -1
			for j := i + 1; j < len(r); j++ {
				if r[j] == ']' && j > i+1 {
					end = j
					break
				}
			}
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			body := r[i+1 : end]
			b.WriteString("[")
			if body[0] == '!' || body[0] == '^' {
				b.WriteString("^")
				body = body[1:]
			}
			for _, bc := range body {
				if bc == '\\' || bc == '[' || bc == ']' {
					b.WriteString(`\`)
				}
				b.WriteRune(bc)
			}
			b.WriteString("]")
			i = end
		case '{':
			depth, end := 0, -1
			for j := i; j < len(r); j++ {
				if r[j] == '{' {
					depth++
				} else if r[j] == '}' {
					depth--
					if depth == 0 {
						end = j
						break
					}
				}
			}
			if end < 0 {
				b.WriteString(`\{`)
				continue
			}
			alts := splitTopLevel(string(r[i+1 : end]))
			if len(alts) < 2 {
				b.WriteString(regexp.QuoteMeta(string(r[i : end+1])))
				i = end
				continue
			}
			b.WriteString("(?:")
			for k, a := range alts {
				if k > 0 {
					b.WriteString("|")
				}
				b.WriteString(segmentToRegexp(a))
			}
			b.WriteString(")")
			i = end
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// splitTopLevel splits an alternation body at commas outside nested braces.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
