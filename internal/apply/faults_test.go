package apply_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/apply"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// faultKinds are the failures injected at each request.
type faultKind struct {
	name  string
	fault devkit.Fault
}

// 502 is left out: every client takes the same path for it as for 500
// and 503 (httpx's transient 5xx).
var faultKinds = []faultKind{
	{"500", devkit.Fault{Status: 500}},
	{"503", devkit.Fault{Status: 503}},
	{"429", devkit.Fault{Status: 429, RetryAfter: time.Second}},
	{"drop", devkit.Fault{Drop: true}},
}

// safeToRetry says whether the providers repeat a failed request on route:
// reads, deletes and idempotent updates, and everything on a 429 (the
// server did not act). A write that may have acted is not repeated.
func safeToRetry(route, kind string) bool {
	if kind == "429" {
		return true
	}
	for _, p := range probes {
		if p.safeToRetry == nil {
			continue
		}
		if safe, known := p.safeToRetry(route, kind); known {
			return safe
		}
	}
	method, _, _ := strings.Cut(route, " ")
	switch method {
	case "GET", "DELETE", "PATCH":
		return true
	}
	return route == "POST /api/v2/folders" || strings.HasSuffix(route, "/revoke")
}

// TestInjectedFaultsAtEachRequest injects every fault kind at every request
// of a create, a refresh and a revocation (each occurrence of each route in
// turn): a request that is safe to repeat is retried and the apply
// succeeds; otherwise the apply fails with a clear error, and a rerun
// converges with nothing orphaned.
func TestInjectedFaultsAtEachRequest(t *testing.T) {
	exhaustive(t)
	for _, c := range crashCases {
		t.Run(c.slug, func(t *testing.T) { faultsAtEachRequest(t, c) })
	}
}

// faultsAtEachRequest runs the scheduled applies of c's scenarios (create,
// refresh, and the revocation at the TTL's end) with each fault at each
// request: every request of the classic case, and only its own vendor's
// for a surface's case (the vault's requests are the same in every case).
func faultsAtEachRequest(t *testing.T, c crashCase) {
	slug := c.slug
	owns := func(string) bool { return true }
	if c.surface != "" {
		owns = func(route string) bool {
			for _, p := range probes {
				if p.surface == c.surface && p.safeToRetry != nil {
					_, known := p.safeToRetry(route, "500")
					return known
				}
			}
			return false
		}
	}
	for _, ph := range c.scenarios {
		switch ph.name {
		case "create", "refresh", "revoke-expired":
		default:
			continue
		}
		t.Run(ph.name, func(t *testing.T) {
			// Which requests does a clean run make?
			ref := newWorld(t, worldOptions{slugs: []string{slug}})
			ph.setup(ref)
			p := ref.plan()
			ref.kit.Stats.Reset()
			if _, err := apply.Apply(context.Background(), p, ref.deps()); err != nil {
				t.Fatal(err)
			}
			counts := ref.kit.Stats.Snapshot()
			routes := make([]string, 0, len(counts))
			for r := range counts {
				routes = append(routes, r)
			}
			sort.Strings(routes)
			// The cases run at once: most of their time is a Retry-After.
			sem := make(chan struct{}, 32)
			var wg sync.WaitGroup
			for _, route := range routes {
				if !owns(route) {
					continue
				}
				for nth := 1; nth <= int(counts[route]); nth++ {
					for _, fk := range kindsAt(route, nth) {
						wg.Add(1)
						go func() {
							defer wg.Done()
							sem <- struct{}{}
							defer func() { <-sem }()
							t.Run(fmt.Sprintf("%s#%d/%s", route, nth, fk.name), func(t *testing.T) {
								faultCase(t, slug, ph.setup, route, nth, fk.name, fk.fault)
							})
						}()
					}
				}
			}
			wg.Wait()
		})
	}
}

// kindsAt is the faults injected at the nth request of route: every kind
// at a route's first request and at every request of a write that is not
// safe to repeat; one kind in turn at the later requests of a route that
// is (a read or an idempotent write, which every kind makes the client
// retry the same way), so that each request still fails once.
func kindsAt(route string, nth int) []faultKind {
	if nth == 1 || !safeToRetry(route, "500") || !safeToRetry(route, "drop") {
		return faultKinds
	}
	return []faultKind{faultKinds[nth%len(faultKinds)]}
}

func faultCase(t *testing.T, slug string, setup func(*world), route string, nth int, kind string, f devkit.Fault) {
	w := newWorld(t, worldOptions{slugs: []string{slug}, maxWait: 2 * time.Second, virtualWaits: true})
	setup(w)
	p := w.plan()
	f.Route, f.Nth, f.Count = route, nth, 1
	w.kit.Faults.Add(f)
	rep, err := apply.Apply(context.Background(), p, w.deps())
	w.record(rep, err)
	w.kit.Faults.Clear()
	if safeToRetry(route, kind) {
		if err != nil {
			t.Fatalf("a %s on %s was not retried: %v", kind, route, err)
		}
	} else if err != nil && !namesVendor(err.Error()) {
		t.Errorf("the error does not name the surface: %v", err)
	}
	// A failed run's lock may be left (a drop on its release); a rerun
	// converges.
	w.advance(leaseTTL + time.Second)
	w.mustApply()
	w.assertNoOrphans(false)
	w.assertNoChanges()
}

// namesVendor reports whether msg names the vendor whose request failed.
func namesVendor(msg string) bool {
	prefixes := []string{"infisical:", "github:"}
	for _, p := range probes {
		prefixes = append(prefixes, p.errPrefix)
	}
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.Contains(msg, p) })
}
