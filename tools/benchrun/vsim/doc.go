// Package vsim runs handoff's real apply engine against the local vendor
// servers in virtual time, for the benchmarks that the vendors' rate limits
// make too long to run on the wall clock: creating a thousand handoffs at
// Infisical Cloud's 30 identity creations and 40 secret writes a minute
// takes hours of vendor time, and a day of scheduled applies takes a day.
//
// Everything runs in one process, inside a testing/synctest bubble: the
// dev servers (internal/devserver, with their default limits: Infisical
// Cloud per route, GitHub primary and secondary), the clients the CLI
// builds (internal/workspace, with its one pacer), the planner and the
// apply engine (internal/apply) exactly as `handoff apply -auto-approve`
// drives them. Requests go through an in-memory transport to the servers'
// handlers; the latency the servers add, the pacer's waits, the apply
// lease's renewals and every expiry run on the bubble's clock, which
// advances only when every goroutine waits. So the virtual time of a run is
// the time the vendors and the latency impose on it, and the CPU it takes
// is measured apart (getrusage of the process: client and servers).
//
// The functions of this package must be called inside a synctest bubble
// (synctest.Test); outside one they would sleep for real. The test binary
// of this package is the simulation's driver: TestSimulation writes its
// results (Output, as JSON) for tools/benchrun, which renders them in
// docs/benchmarks.md.
//
// It owns the benchmark's generated GitOps repository (WriteRepo), the
// lower bound that the pacer's models put on a run's requests (LowerBound),
// the ceiling of live handoffs a schedule can keep refreshed (CeilingOf),
// and the scenarios: a create of N handoffs (Create), the requests of one
// handoff per surface and phase (Lifecycle), and a simulated day of
// scheduled applies (Day).
package vsim
