package aws

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"sort"
	"unicode"
)

// PolicyVersion is the policy language version handoff writes (the only one
// in which policy variables work).
const PolicyVersion = "2012-10-17"

// IAM and STS size limits that apply to the documents handoff writes.
const (
	// MaxRoleInlinePolicySize is IAM's limit on the sum of a role's inline
	// policies, counted in characters without white space.
	MaxRoleInlinePolicySize = 10240
	// MaxSessionPolicyLength is STS's plaintext limit for the Policy
	// parameter of AssumeRole.
	MaxSessionPolicyLength = 2048
)

// Document is an IAM policy document. Its JSON form is compact: no white
// space, a one-element list written as a plain string, empty fields left
// out.
type Document struct {
	Version   string      `json:"Version"`
	ID        string      `json:"Id,omitempty"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document. Set exactly one of Action and
// NotAction, and (in identity and session policies) one of Resource and
// NotResource.
type Statement struct {
	Sid         string    `json:"Sid,omitempty"`
	Effect      Effect    `json:"Effect"`
	Action      Value     `json:"Action,omitempty"`
	NotAction   Value     `json:"NotAction,omitempty"`
	Resource    Value     `json:"Resource,omitempty"`
	NotResource Value     `json:"NotResource,omitempty"`
	Condition   Condition `json:"Condition,omitempty"`
}

// Effect is Allow or Deny.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Value is a policy element that IAM accepts as a string or a list of
// strings. It marshals as a string when it holds one value.
type Value []string

// MarshalJSON writes one value as a string, several as a list.
func (v Value) MarshalJSON() ([]byte, error) {
	if len(v) == 1 {
		return json.Marshal(v[0])
	}
	return json.Marshal([]string(v))
}

// UnmarshalJSON reads a string, a list of strings, or (as IAM accepts)
// numbers and booleans, kept as their JSON text.
func (v *Value) UnmarshalJSON(b []byte) error {
	var one any
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	conv := func(x any) (string, error) {
		switch t := x.(type) {
		case string:
			return t, nil
		case bool, float64:
			out, _ := json.Marshal(t)
			return string(out), nil
		}
		return "", fmt.Errorf("policy value %s is not a string", b)
	}
	if list, ok := one.([]any); ok {
		out := make(Value, 0, len(list))
		for _, x := range list {
			s, err := conv(x)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		*v = out
		return nil
	}
	s, err := conv(one)
	if err != nil {
		return err
	}
	*v = Value{s}
	return nil
}

// Condition maps an operator ("StringEquals") to condition keys and their
// values. encoding/json writes map keys sorted, so a Condition marshals the
// same way every time.
type Condition map[string]map[string]Value

// JSON returns the compact JSON form of the document.
func (d Document) JSON() ([]byte, error) {
	if d.Version == "" {
		d.Version = PolicyVersion
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// ParseDocument reads a policy document. A single statement object is
// accepted in place of a list, as IAM does.
func ParseDocument(b []byte) (Document, error) {
	var raw struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Document{}, fmt.Errorf("policy document: %w", err)
	}
	d := Document{Version: raw.Version, ID: raw.ID}
	st := bytes.TrimSpace(raw.Statement)
	switch {
	case len(st) == 0 || string(st) == "null":
	case st[0] == '[':
		if err := json.Unmarshal(st, &d.Statement); err != nil {
			return Document{}, fmt.Errorf("policy document: %w", err)
		}
	default:
		var one Statement
		if err := json.Unmarshal(st, &one); err != nil {
			return Document{}, fmt.Errorf("policy document: %w", err)
		}
		d.Statement = []Statement{one}
	}
	return d, nil
}

// IAMSize is a document's size as IAM counts it against its limits:
// characters, white space not counted.
func IAMSize(doc []byte) int {
	n := 0
	for _, r := range string(doc) {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// SessionPolicyLength is the plaintext length STS checks against
// MaxSessionPolicyLength (handoff sends the compact form).
func SessionPolicyLength(doc []byte) int { return len([]rune(string(doc))) }

// PackedSizeEstimate estimates, in percent, how much of STS's packed
// session-policy space a compact session policy and session tags use. STS
// does not publish its packing: this is a deflate-based estimate meant for
// plan-time warnings; the PackedPolicySize of the AssumeRole answer is the
// authority.
func PackedSizeEstimate(doc []byte, tags map[string]string) int {
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	_, _ = w.Write(doc)
	_ = w.Close()
	n := z.Len()
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n += len(k) + len(tags[k]) + 8
	}
	// An assumed capacity of about 1 KB of packed data.
	return (n*100 + 1023) / 1024
}
