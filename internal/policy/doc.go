// Package policy owns the rules a handoff must obey before anything is
// minted: the default policy (schema/default-policy.hcl) overridden field by
// field by the policy block of handoff.hcl, the hard rules no policy can
// relax (H1 never admin or blanket scope, H2 each handoff in its own vault
// folder, H3 at most 24h, H7 live financial access only with a recorded
// approval), and Check, which applies them all to a parsed repository.
//
// Every violation is an hcl.Diagnostic whose Subject is the offending
// expression, whose Summary names the problem and whose Detail says what to
// do. Check never touches the network or the file system.
package policy
