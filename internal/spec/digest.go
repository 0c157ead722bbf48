package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// digestVersion is part of the canonical encoding; bump it when the encoding
// changes meaning, so that old and new digests never collide.
const digestVersion = 1

// canonical is the semantic content of a handoff, in the shape that is
// hashed. Durations are normalised (time.Duration.String, so "90m" and
// "1h30m" agree), defaults are filled in, maps are keyed (encoding/json sorts
// keys), lists keep their order. Ranges, comments, layout and the syntax
// (native or JSON) are not part of it.
type canonical struct {
	V            int                `json:"v"`
	Slug         string             `json:"slug"`
	Card         int64              `json:"card"`
	Description  string             `json:"description"`
	TTL          string             `json:"ttl"`
	ApprovedBy   string             `json:"approved_by"`
	GitHub       *canonGitHub       `json:"github,omitempty"`
	Infisical    *canonInfisical    `json:"infisical,omitempty"`
	MCP          *canonMCP          `json:"mcp,omitempty"`
	Stripe       *canonStripe       `json:"stripe,omitempty"`
	Cloudflare   *canonCloudflare   `json:"cloudflare,omitempty"`
	AWS          *canonAWS          `json:"aws,omitempty"`
	Heroku       *canonHeroku       `json:"heroku,omitempty"`
	AppleIAP     *canonAppleIAP     `json:"apple_iap,omitempty"`
	Alpaca       *canonAlpaca       `json:"alpaca,omitempty"`
	LiveApproval *canonLiveApproval `json:"live_approval,omitempty"`
}

type canonGitHub struct {
	Repository  string            `json:"repository"`
	Permissions map[string]string `json:"permissions"`
}

type canonInfisical struct {
	Environment string   `json:"environment"`
	Read        []string `json:"read"`
}

type canonMCP struct {
	Allow   []string `json:"allow"`
	Exclude []string `json:"exclude"`
}

type canonStripe struct {
	Mode        string            `json:"mode"`
	Permissions map[string]string `json:"permissions"`
}

type canonCloudflare struct {
	Zones            []string `json:"zones"`
	PermissionGroups []string `json:"permission_groups"`
	TTL              string   `json:"ttl"`
}

type canonAWS struct {
	RoleARN       string `json:"role_arn"`
	SessionPolicy string `json:"session_policy"`
	Duration      string `json:"duration"`
}

type canonHeroku struct {
	App   string   `json:"app"`
	Scope []string `json:"scope"`
	TTL   string   `json:"ttl"`
}

type canonAppleIAP struct {
	Environment string `json:"environment"`
	BundleID    string `json:"bundle_id"`
}

type canonAlpaca struct {
	Mode string `json:"mode"`
}

type canonLiveApproval struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

func canonDuration(d Duration) string {
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
	c := canonical{
		V:           digestVersion,
		Slug:        h.Slug.Value,
		Card:        h.Card.Value,
		Description: h.Description.Value,
		TTL:         canonDuration(h.TTL),
		ApprovedBy:  h.ApprovedBy.Value,
	}
	if s := h.GitHub; s != nil {
		c.GitHub = &canonGitHub{Repository: s.Repository.Value, Permissions: s.Permissions.Map()}
	}
	if s := h.Infisical; s != nil {
		c.Infisical = &canonInfisical{Environment: s.Environment.Value, Read: s.Read.Strings()}
	}
	if s := h.MCP; s != nil {
		c.MCP = &canonMCP{Allow: s.Allow.Strings(), Exclude: s.Exclude.Strings()}
	}
	if s := h.Stripe; s != nil {
		c.Stripe = &canonStripe{Mode: s.Mode.Value, Permissions: s.Permissions.Map()}
	}
	if s := h.Cloudflare; s != nil {
		c.Cloudflare = &canonCloudflare{Zones: s.Zones.Strings(), PermissionGroups: s.PermissionGroups.Strings(), TTL: canonDuration(s.TTL)}
	}
	if s := h.AWS; s != nil {
		c.AWS = &canonAWS{RoleARN: s.RoleARN.Value, SessionPolicy: s.SessionPolicy.Value, Duration: canonDuration(s.Duration)}
	}
	if s := h.Heroku; s != nil {
		c.Heroku = &canonHeroku{App: s.App.Value, Scope: s.Scope.Strings(), TTL: canonDuration(s.TTL)}
	}
	if s := h.AppleIAP; s != nil {
		c.AppleIAP = &canonAppleIAP{Environment: s.Environment.Value, BundleID: s.BundleID.Value}
	}
	if s := h.Alpaca; s != nil {
		c.Alpaca = &canonAlpaca{Mode: s.Mode.Value}
	}
	if s := h.LiveApproval; s != nil {
		c.LiveApproval = &canonLiveApproval{By: s.By.Value, Reason: s.Reason.Value}
	}
	b, err := json.Marshal(c)
	if err != nil {
		// Only strings, numbers, slices and string maps: cannot fail.
		panic("spec: canonical encoding: " + err.Error())
	}
	return b
}

// Digest returns "sha256:" followed by the hex SHA-256 of CanonicalJSON. The
// manifest records it so that apply and verify can tell whether a spec
// changed in meaning since a credential was minted.
func (h *Handoff) Digest() string {
	sum := sha256.Sum256(h.CanonicalJSON())
	return "sha256:" + hex.EncodeToString(sum[:])
}
