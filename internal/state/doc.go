// Package state reads the live state of every handoff: what the vault, the
// Infisical identities and the GitHub App's installations say exists now,
// independently of the specs. Package reconcile diffs it against the specs.
//
// A read is bounded, whatever the number N of handoffs: one recursive
// listing of <handoff_root> (every manifest, journal and secret name at
// once, no per-handoff call), one listing of the App's installations, and
// the list of identities (⌈N/100⌉ pages), which is how an identity deleted
// out of band is detected. The three run concurrently.
//
// The live state holds no secret value. The listing returns values (that is
// how the manifests come in one request), but only those of
// PROVISION_MANIFEST and PROVISION_JOURNAL, which never hold a secret by
// construction, are read; every other value is dropped from the listing as
// soon as it is classified, and only names, versions and ids are kept.
//
// A corrupt manifest is kept as an error on its handoff (ManifestError,
// naming the vault path), never ignored; a missing handoff root is the empty
// state of a fresh project, with the fingerprint of an empty root. The apply
// lock (LockSecretName, directly in the root) is skipped: Live.Locked says
// it is there, and it is no handoff, no problem and no part of the
// fingerprint.
package state
