// Package spec owns the handoff spec language: it parses the repository
// configuration file handoff.hcl and the handoff specs under specs/ (native
// HCL *.hcl and HCL JSON *.hcl.json) into typed Go values.
//
// The package checks structure only: which blocks and attributes exist, their
// types, required attributes and duration syntax. Whether a well-formed
// handoff is allowed (TTL ceilings, permission ceilings, vault roots, live
// financial access) is the business of package policy.
//
// Every decoded value keeps the hcl.Range it came from, so that diagnostics
// produced later (by policy, plan or apply) point at the exact file, line and
// column. A value whose Valid method reports false was absent or could not be
// decoded; in the latter case the parser has already reported why, and later
// checks skip it rather than report the same problem twice.
package spec
