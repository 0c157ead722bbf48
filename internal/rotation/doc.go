// Package rotation owns the subscription document of the organisation's
// rotation service ("Velvet"): the JSON document, kept in one vault secret
// that handoff.hcl's rotation block names, in which the service finds the
// long-lived credentials of the active handoffs and where to push an update
// of each.
//
// handoff cannot call the service; it keeps the entries where the service
// reads them. The document is a pure function of the manifests (package
// reconcile computes it with the surfaces' Enrollable capability): one
// entry per enrolled credential of every active handoff, sorted, with no
// clock and no run id in it, so that the same manifests always give the
// same bytes and an unchanged document is never written. It names vault
// paths, never a secret value.
//
// This package is a leaf: the document's shape (Document, Entry), its
// encoding (Marshal, Parse), how two lists of entries differ (Diff), where
// it lives (Location) and what a read of it found (Live, Read). It does not
// know handoffs, manifests or surfaces.
package rotation
