// Package planfile owns the plan file: the file `handoff plan -out FILE`
// writes and `handoff show FILE` and `handoff apply FILE` read. It holds the
// wire format only; what a plan means lives in package plan.
//
// A plan file is a small JSON envelope around the plan's canonical JSON
// (plan.Plan.Canonical, encoded compactly):
//
//	{
//	  "handoff_plan_file": 1,
//	  "plan": { ... },
//	  "checksum": "sha256:<hex of the plan's canonical bytes>"
//	}
//
// handoff_plan_file is the version of the envelope (Version); the plan
// inside carries its own format_version (plan.FormatVersion). Read refuses a
// file from a newer handoff with "plan file version N is newer than this
// handoff (max M): upgrade handoff" rather than guessing at fields it does
// not know, and refuses unknown fields for the same reason.
//
// The checksum makes a truncated, corrupted or hand-edited file fail loudly
// before apply acts on it. It is an integrity check, not a signature: anyone
// who can write the file can recompute it. What keeps apply from acting on a
// plan that no longer matches the world is the plan's state fingerprint and
// specs digest, which apply recomputes. Whitespace is not covered (the
// checksum is over the compact encoding), so a file re-indented by a tool
// still reads.
//
// A plan never holds a secret, so neither does a plan file; WriteFile still
// creates it with mode 0600, atomically (a temporary file in the same
// directory, synced, then renamed), so a reader never sees half a plan.
package planfile
