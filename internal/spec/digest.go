package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// digestVersion is part of the canonical encoding; bump it when the encoding
// changes meaning, so that old and new digests never collide.
const digestVersion = 1

// canonicalHeader is the part of a handoff's semantic content that the
// core owns; the surfaces' blocks (Canonical) and live_approval follow it
// in the language's order. Durations are normalised (time.Duration.String,
// so "90m" and "1h30m" agree), defaults are filled in, maps are keyed
// (encoding/json sorts keys), lists keep their order. Ranges, comments,
// layout and the syntax (native or JSON) are not part of it.
type canonicalHeader struct {
	V           int    `json:"v"`
	Slug        string `json:"slug"`
	Card        int64  `json:"card"`
	Description string `json:"description"`
	TTL         string `json:"ttl"`
	ApprovedBy  string `json:"approved_by"`
}

type canonLiveApproval struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// CanonicalDuration is how a Canonical block writes a duration: "" when
// absent, else time.Duration.String, so that "90m" and "1h30m" agree.
func CanonicalDuration(d Duration) string {
	if !d.Valid() {
		return ""
	}
	return d.Value.String()
}

// CanonicalJSON returns the canonical JSON encoding of the handoff's
// semantic content, the input of Digest. Reformatting a spec, or rewriting
// it between native HCL and HCL JSON, does not change it; any change of
// meaning does.
func (h *Handoff) CanonicalJSON() []byte {
	head, err := json.Marshal(canonicalHeader{
		V:           digestVersion,
		Slug:        h.Slug.Value,
		Card:        h.Card.Value,
		Description: h.Description.Value,
		TTL:         CanonicalDuration(h.TTL),
		ApprovedBy:  h.ApprovedBy.Value,
	})
	if err != nil {
		panic("spec: canonical encoding: " + err.Error())
	}
	var b bytes.Buffer
	b.Write(head[:len(head)-1]) // without the closing brace
	field := func(name string, v any) {
		enc, err := json.Marshal(v)
		if err != nil {
			// Surfaces encode strings, numbers, slices and string maps.
			panic("spec: canonical encoding of " + name + ": " + err.Error())
		}
		b.WriteString(`,"` + name + `":`)
		b.Write(enc)
	}
	for _, name := range h.Surfaces() {
		if c, ok := h.blocks[name].(Canonical); ok {
			field(name, c.Canonical())
		}
	}
	if s := h.LiveApproval; s != nil {
		field("live_approval", canonLiveApproval{By: s.By.Value, Reason: s.Reason.Value})
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Digest returns "sha256:" followed by the hex SHA-256 of CanonicalJSON. The
// manifest records it so that apply and verify can tell whether a spec
// changed in meaning since a credential was minted.
func (h *Handoff) Digest() string {
	sum := sha256.Sum256(h.CanonicalJSON())
	return "sha256:" + hex.EncodeToString(sum[:])
}
