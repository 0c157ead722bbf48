// Package schema embeds the machine-readable contracts of handoff that live as
// plain files at the root of the repository, so that editors and other tools
// can use them as they are and the binary carries the same bytes.
package schema

import _ "embed"

// ManifestJSONSchema is schema/manifest.schema.json: the JSON Schema of a
// PROVISION_MANIFEST (draft 2020-12).
//
//go:embed manifest.schema.json
var ManifestJSONSchema []byte

// DefaultPolicyHCL is schema/default-policy.hcl: the policy every handoff.hcl
// starts from; its own policy block overrides it field by field.
//
//go:embed default-policy.hcl
var DefaultPolicyHCL []byte
