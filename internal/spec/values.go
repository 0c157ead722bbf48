package spec

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// String is a string value together with the source range it was decoded
// from. For an optional attribute that was omitted and has a default, Value
// holds the default and Range is the header of the enclosing block.
type String struct {
	Value string    // the string
	Range hcl.Range // the expression it was written as
}

// Valid reports whether the value was decoded (or defaulted). It is false
// when the attribute was absent without a default or failed to decode.
func (s String) Valid() bool { return s.Range != (hcl.Range{}) }

// Int is a whole number together with its source range.
type Int struct {
	Value int64     // the number
	Range hcl.Range // the expression it was written as
}

// Valid reports whether the value was decoded; see String.Valid.
func (i Int) Valid() bool { return i.Range != (hcl.Range{}) }

// Duration is a duration attribute such as ttl = "24h". Raw is the string as
// written; Value is its parsed form. The parser only produces a valid
// Duration when Raw parses with time.ParseDuration; sign and ceilings are
// checked by package policy.
type Duration struct {
	Raw   string        // as written, such as "90m"
	Value time.Duration // parsed; may be zero or negative (policy rejects those)
	Range hcl.Range     // the expression it was written as
}

// Valid reports whether the value was decoded and parsed; see String.Valid.
func (d Duration) Valid() bool { return d.Range != (hcl.Range{}) }

// StringList is a list of strings. Range covers the whole list expression;
// each element keeps its own range.
type StringList struct {
	Values []String  // the elements, in source order
	Range  hcl.Range // the whole list expression
}

// Valid reports whether the list was decoded; an explicitly empty list is
// valid and has no Values.
func (l StringList) Valid() bool { return l.Range != (hcl.Range{}) }

// Strings returns the plain values, in source order.
func (l StringList) Strings() []string {
	out := make([]string, len(l.Values))
	for i, v := range l.Values {
		out[i] = v.Value
	}
	return out
}

// MapEntry is one key = value pair of a StringMap; Key.Range is the range of
// the key and Value.Range that of the value.
type MapEntry struct {
	Key   String // the key and its range
	Value String // the value and its range
}

// StringMap is a map of strings such as permissions = { contents = "write" }.
// Entries are kept in source order and keys are unique (the parser reports
// duplicates and keeps the first).
type StringMap struct {
	Entries []MapEntry // in source order, keys unique
	Range   hcl.Range  // the whole map expression
}

// Valid reports whether the map was decoded; an explicitly empty map is valid.
func (m StringMap) Valid() bool { return m.Range != (hcl.Range{}) }

// Get returns the entry for key, if present.
func (m StringMap) Get(key string) (MapEntry, bool) {
	for _, e := range m.Entries {
		if e.Key.Value == key {
			return e, true
		}
	}
	return MapEntry{}, false
}

// Map returns the entries as a plain Go map.
func (m StringMap) Map() map[string]string {
	out := make(map[string]string, len(m.Entries))
	for _, e := range m.Entries {
		out[e.Key.Value] = e.Value.Value
	}
	return out
}

// FileRange returns the range of the first character of filename; it is the
// subject of diagnostics about a whole file, such as a missing one.
func FileRange(filename string) hcl.Range {
	return hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos}
}

// RangeString returns "file:line:col" of the start of r, as diagnostics print it.
func RangeString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
