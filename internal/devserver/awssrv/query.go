package awssrv

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// xmlTime is a timestamp as the Query protocol writes it (ISO 8601, UTC,
// second precision).
type xmlTime time.Time

func (t xmlTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05Z")), nil
}

// param returns a Query parameter and whether it was sent.
func (c *call) param(name string) (string, bool) {
	c.read(name)
	v, ok := c.form[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// memberList reads a Query list "Name.member.N" (N from 1 up, no gaps).
func (c *call) memberList(name string) []string {
	c.read(name + ".member.1")
	var out []string
	for i := 1; ; i++ {
		v, ok := c.param(fmt.Sprintf("%s.member.%d", name, i))
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// tagList reads "Name.member.N.Key" / ".Value".
func (c *call) tagList(name string) ([]tag, bool) {
	var out []tag
	sent := false
	for i := 1; ; i++ {
		k, okK := c.param(fmt.Sprintf("%s.member.%d.Key", name, i))
		v, okV := c.param(fmt.Sprintf("%s.member.%d.Value", name, i))
		if !okK && !okV {
			if _, empty := c.param(name); empty {
				sent = true
			}
			return out, sent || len(out) > 0
		}
		out = append(out, tag{Key: k, Value: v})
	}
}

// validator collects model-constraint violations in AWS's words:
// "Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must
// have length greater than or equal to 2".
type validator struct{ msgs []string }

func (v *validator) fail(value *string, member, constraint string) {
	val := "null"
	if value != nil {
		val = "'" + *value + "'"
	}
	v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", val, member, constraint))
}

func (v *validator) required(value string, sent bool, member string) bool {
	if !sent {
		v.fail(nil, member, "not be null")
		return false
	}
	_ = value
	return true
}

func (v *validator) length(value, member string, lo, hi int) {
	n := utf8.RuneCountInString(value)
	if n < lo {
		v.fail(&value, member, fmt.Sprintf("have length greater than or equal to %d", lo))
	}
	if hi > 0 && n > hi {
		v.fail(&value, member, fmt.Sprintf("have length less than or equal to %d", hi))
	}
}

func (v *validator) pattern(value, member string, re *regexp.Regexp, shown string) {
	if !re.MatchString(value) {
		v.fail(&value, member, "satisfy regular expression pattern: "+shown)
	}
}

func (v *validator) intRange(raw, member string, lo, hi int) (int, bool) {
	n, err := strconv.Atoi(raw)
	if err != nil {
		v.fail(&raw, member, "be an integer")
		return 0, false
	}
	if n < lo {
		v.fail(&raw, member, fmt.Sprintf("have value greater than or equal to %d", lo))
		return n, false
	}
	if n > hi {
		v.fail(&raw, member, fmt.Sprintf("have value less than or equal to %d", hi))
		return n, false
	}
	return n, true
}

func (v *validator) err() *apiError {
	if len(v.msgs) == 0 {
		return nil
	}
	return errValidation(v.msgs...)
}

// Patterns of the models (botocore shapes), anchored.
var (
	nameTokenRe  = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDRe = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
	tagKeyRe     = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValueRe   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	policyTextRe = regexp.MustCompile(`^[\x{0009}\x{000A}\x{000D}\x{0020}-\x{00FF}]+$`)
	iamPathRe    = regexp.MustCompile(`^((/)|(/[\x{0021}-\x{007E}]+/))$`)
	descRe       = regexp.MustCompile(`^[\x{0009}\x{000A}\x{000D}\x{0020}-\x{007E}\x{00A1}-\x{00FF}]*$`)
)

// validateTags checks a tag list against the tagListType, tagKeyType and
// tagValueType shapes (member is "tags").
func (v *validator) tags(tags []tag, member string) {
	if len(tags) > 50 {
		n := strconv.Itoa(len(tags))
		v.fail(&n, member, "have length less than or equal to 50")
	}
	for i, t := range tags {
		base := fmt.Sprintf("%s.%d.member", member, i+1)
		v.length(t.Key, base+".key", 1, 128)
		if t.Key != "" {
			v.pattern(t.Key, base+".key", tagKeyRe, `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
		}
		v.length(t.Value, base+".value", 0, 256)
		v.pattern(t.Value, base+".value", tagValueRe, `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
	}
}

// duplicateTagKey reports whether two tags share a key, ignoring case.
func duplicateTagKey(tags []tag) bool {
	seen := map[string]bool{}
	for _, t := range tags {
		k := strings.ToLower(t.Key)
		if seen[k] {
			return true
		}
		seen[k] = true
	}
	return false
}
