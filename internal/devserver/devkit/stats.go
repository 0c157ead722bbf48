package devkit

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Stats counts requests per route. The key of a route is its registered
// pattern without any version prefix, e.g. "GET /app/installations" or
// "POST /api/v1/identities"; requests that match no route are counted under
// "unmatched". Counters are safe for concurrent use and cheap enough to leave
// on in benchmarks.
type Stats struct {
	total  atomic.Int64
	routes sync.Map // string -> *atomic.Int64
}

// Record counts one request to route.
func (s *Stats) Record(route string) {
	s.total.Add(1)
	c, ok := s.routes.Load(route)
	if !ok {
		c, _ = s.routes.LoadOrStore(route, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
}

// Total is the number of requests received since the last Reset.
func (s *Stats) Total() int64 { return s.total.Load() }

// Count is the number of requests received on route since the last Reset.
func (s *Stats) Count(route string) int64 {
	if c, ok := s.routes.Load(route); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// Snapshot returns every route with a non-zero count.
func (s *Stats) Snapshot() map[string]int64 {
	out := map[string]int64{}
	s.routes.Range(func(k, v any) bool {
		if n := v.(*atomic.Int64).Load(); n > 0 {
			out[k.(string)] = n
		}
		return true
	})
	return out
}

// Routes returns the routes of Snapshot in sorted order.
func (s *Stats) Routes() []string {
	snap := s.Snapshot()
	keys := make([]string, 0, len(snap))
	for k := range snap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Reset sets every counter to zero.
func (s *Stats) Reset() {
	s.total.Store(0)
	s.routes.Range(func(k, v any) bool {
		v.(*atomic.Int64).Store(0)
		return true
	})
}
