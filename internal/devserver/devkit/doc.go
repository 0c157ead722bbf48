// Package devkit holds what the local API servers of internal/devserver share:
// an injectable clock, per-route request counters, fault injection (latency,
// jitter, error statuses, dropped connections) and a router that applies all
// three to every registered route.
//
// The vendor emulators (githubsrv, infisicalsrv) register their routes on a
// Router and decide how an injected error looks on the wire, so a fault is
// indistinguishable from the real service's own failure. Nothing in this
// package knows about GitHub or Infisical.
package devkit
