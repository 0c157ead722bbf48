// Package infisicalsrv is a local Infisical API server: the parts of the
// Infisical HTTP API that handoff uses (machine identities, universal auth,
// access tokens, project memberships, additional privileges, folders, raw
// secrets one by one and in all-or-nothing batches, the organization audit
// log), answered with Infisical's own paths, status codes, bodies and error
// shapes.
//
// It owns:
//   - the in-memory state of one organization (projects, environments, a
//     folder tree per environment, versioned secrets, identities with their
//     universal auth, client secrets and access tokens, memberships,
//     privileges, audit events), its JSON form for `handoff dev -state`, and
//     read-only inspection methods for tests of other packages;
//   - authentication as Infisical does it: universal-auth login, JWT-shaped
//     access tokens with TTL, max TTL, use limits and trusted IPs, lockout
//     after failed logins, renew and revoke;
//   - authorization modelled on Infisical's CASL rules: organization roles,
//     project roles (admin, member, viewer, no-access), temporary roles and
//     additional privileges whose conditions (environment, secretPath,
//     secretName with $eq, $ne, $in and picomatch-style $glob) are evaluated
//     on every request with the kit's clock;
//   - request validation with zod-shaped 422 answers, and the vendor's
//     error body for injected faults;
//   - rate limits as Infisical Cloud applies them (profile "cloud", the
//     default): per client IP and per route, a 60 s window fixed at the
//     route's first hit, each route's maximum from its x-rate-limit-class
//     in the embedded contract, the 429 and x-ratelimit-* headers of
//     @fastify/rate-limit; or none at all, as on a self-hosted server
//     (profile "self-hosted"); class maxima can be raised as a higher plan
//     does (RateLimits).
//
// The client IP is the first X-Forwarded-For entry when there is one (Fastify
// runs with trustProxy), else the peer address, loopback included: trusted
// IPs and the rate limits apply to it, and tests set the header to play
// other clients.
//
// Time always comes from the devkit clock, so tests make tokens, client
// secrets and temporary privileges expire by advancing it. Nothing here logs
// a secret value; secret values and the provisioner's client secret are kept
// in memory and in MarshalState's output only, which the caller must store
// with mode 0600.
//
// Where the reference material and the Infisical source disagree, the
// server follows what a running Infisical answers (see
// shared/reference/infisical.md); the package tests pin those answers.
package infisicalsrv
