// Package session builds the session context of a handoff: the environment
// an orchestrator gives the agent it dispatches for the handoff. It is what
// `handoff env` prints and what `handoff exec` sets for the command it runs.
//
// The context is assembled from the handoff's manifest through the seam:
// each surface that contributes to a session (surface.SessionContributor)
// names its variables (GH_TOKEN, the identity's INFISICAL_CLIENT_ID, …), its
// read paths and its lists (the MCP allow and exclude lists); this package
// names no surface. Secrets are vault references until Reveal reads their
// values, as the handoff's OWN identity: the provisioner reads only the
// identity's client id and client secret in the handoff's folder, Reveal
// logs in with them, reads the folder and the read paths, and logs the
// identity's access token out before it returns. Nothing is written.
package session
