package githubsrv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
)

// object is a decoded JSON object body, its fields still raw.
type object map[string]json.RawMessage

// errBodyTooLarge marks a body over the router's cap.
var errBodyTooLarge = errors.New("request body too large")

// readObject reads a JSON object body. GitHub answers 400 "Problems parsing
// JSON" to what is not JSON, and a schema error (422) to JSON that is not an
// object; a missing body is an empty object unless required. A body over the
// size cap returns errBodyTooLarge with a 400, which callers may refine.
func (c *call) readObject(required bool) (object, *apiError, error) {
	raw, err := io.ReadAll(c.r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errParseJSON(), errBodyTooLarge
		}
		return nil, errParseJSON(), err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		if required {
			return nil, errInvalid("For 'links/0/schema', nil is not an object."), nil
		}
		return object{}, nil, nil
	}
	if !json.Valid(raw) {
		return nil, errParseJSON(), nil
	}
	if raw[0] != '{' {
		return nil, errInvalid(fmt.Sprintf("For 'links/0/schema', %s is not an object.", inspect(raw))), nil
	}
	var obj object
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, errParseJSON(), nil
	}
	return obj, nil, nil
}

// inspect renders a JSON value the way GitHub's schema errors quote it.
func inspect(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if bytes.Equal(raw, []byte("null")) {
		return "nil"
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	s := buf.String()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func missing(name string) *apiError {
	return errInvalid(fmt.Sprintf("%q wasn't supplied.", name))
}

func notA(name string, raw json.RawMessage, what string) *apiError {
	return errInvalid(fmt.Sprintf("For 'properties/%s', %s is not %s.", name, inspect(raw), what))
}

// str reads a string field. present is false when the field is absent.
func (o object) str(name string, required bool) (v string, present bool, e *apiError) {
	raw, ok := o[name]
	if !ok {
		if required {
			return "", false, missing(name)
		}
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return "", true, notA(name, raw, "a string")
	}
	return v, true, nil
}

// nullableStr reads a string field that may be null.
func (o object) nullableStr(name string) (*string, *apiError) {
	raw, ok := o[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, notA(name, raw, "a string")
	}
	return &v, nil
}

// items reads an array field into its raw elements.
func (o object) items(name string) ([]json.RawMessage, bool, *apiError) {
	raw, ok := o[name]
	if !ok {
		return nil, false, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, true, notA(name, raw, "an array")
	}
	return list, true, nil
}

// strs reads an array-of-strings field.
func (o object) strs(name string) ([]string, bool, *apiError) {
	list, present, e := o.items(name)
	if e != nil || !present {
		return nil, present, e
	}
	out := make([]string, 0, len(list))
	for _, raw := range list {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return nil, true, errInvalid(fmt.Sprintf("For 'items', %s is not a string.", inspect(raw)))
		}
		out = append(out, s)
	}
	return out, true, nil
}

// ints reads an array-of-integers field.
func (o object) ints(name string) ([]int64, bool, *apiError) {
	list, present, e := o.items(name)
	if e != nil || !present {
		return nil, present, e
	}
	out := make([]int64, 0, len(list))
	for _, raw := range list {
		n, ok := integer(raw)
		if !ok {
			return nil, true, errInvalid(fmt.Sprintf("For 'items', %s is not an integer.", inspect(raw)))
		}
		out = append(out, n)
	}
	return out, true, nil
}

// integer reads a JSON integer (1 and 1.0, not 1.5 or "1").
func integer(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, false // json.Number would also take "1", a string
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return 0, false
	}
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// stringMap reads an object-of-strings field.
func (o object) stringMap(name string) (map[string]string, bool, *apiError) {
	raw, ok := o[name]
	if !ok {
		return nil, false, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, true, notA(name, raw, "an object")
	}
	out := make(map[string]string, len(fields))
	for k, v := range fields {
		var s string
		if err := json.Unmarshal(v, &s); err != nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return nil, true, errInvalid(fmt.Sprintf("For 'properties/%s', %s is not a string.", k, inspect(v)))
		}
		out[k] = s
	}
	return out, true, nil
}
