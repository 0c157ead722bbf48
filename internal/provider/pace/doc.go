// Package pace keeps handoff's HTTP clients inside the vendors' rate limits.
//
// A Pacer holds, for each vendor server a client registered (Register), a
// Model of that vendor's limits: which route belongs to which class, how many
// requests (or points) each limit allows per window, whether the window is
// fixed, rolling or refilled gradually, and how many requests may be in
// flight at once. Before every attempt the HTTP layer (internal/provider/httpx)
// asks the pacer for a Ticket (Acquire): the pacer reserves the request's
// place in every limit that applies and waits, on its Clock, until none of
// them would refuse it. It never sends a request that a known limit would
// refuse; it waits as long as a limit requires, and fails only when the wait
// would pass the caller's deadline (the context's, or Config.Deadline), with a
// *DeadlineError naming the vendor, the limit and the wait.
//
// After the answer (Ticket.Done) the pacer adopts the server's own view when
// it is stricter than the model: the x-ratelimit-limit, -remaining and -reset
// headers (Infisical Cloud, GitHub; any vendor may name its own headers, such
// as Heroku's RateLimit-Remaining), Retry-After, and a refusal (429, or a
// GitHub secondary-limit 403) pauses what it names for as long as it says.
//
// Reservations are made in order under one lock, so goroutines sharing a
// pacer are served first come, first served per limit; a request that reaches
// the network late (its goroutine was descheduled, or a virtual clock moved
// on) takes a new place rather than break a window. Every wait is reported to
// Config.OnWait and counted (Stats).
//
// The clock is injectable: the real one by default, a VirtualClock (in which
// a sleep advances time) for tests and simulations.
package pace
