// Package alert keeps one GitHub issue open per problem an operator must be
// woken for, as the runbook handoff replaces says: a handoff with a scope
// violation (verify's exit 4), and a vendor that has answered 5xx for longer
// than a set time. It owns:
//
//   - the findings (Finding): what is wrong now, keyed by kind and subject
//     ("scope/<slug>", "vendor/<surface>");
//   - the hidden marker in each alert issue's body that names its key, when
//     the problem was first seen and a digest of what was seen, so that a
//     stateless scheduled run finds its issue again, updates it instead of
//     opening a duplicate, and remembers across runs when a vendor began to
//     fail;
//   - Sync, which opens, updates (a comment only when the problem changed)
//     and closes (state_reason completed) the issues against the findings of
//     one run; only keys the run actually checked are closed.
//
// It talks to GitHub through the Issues interface (GitHubIssues adapts
// internal/provider/github with a workflow's GITHUB_TOKEN). It never sees a
// secret value: findings are verify's messages and vendor error summaries.
package alert
