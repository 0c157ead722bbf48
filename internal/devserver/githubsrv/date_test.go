package githubsrv

import (
	"net/http"
	"testing"
	"time"
)

// TestDateOnTheDevClock: every answer, the errors and the control
// endpoints included, is dated on the kit's clock (as GitHub dates its
// answers on its own), not on the machine's: a client that reads a reset
// or a Retry-After against Date stays on the emulated time.
func TestDateOnTheDevClock(t *testing.T) {
	e := newEnv(t, nil)
	at := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	e.kit.Clock.Set(at)
	for _, tc := range []struct{ name, method, path, auth string }{
		{"meta", http.MethodGet, "/meta", ""},
		{"an App route", http.MethodGet, "/app", "Bearer " + e.jwt()},
		{"unauthenticated", http.MethodGet, "/app", ""},
		{"unmatched", http.MethodGet, "/no/such/route", ""},
	} {
		r := e.do(tc.method, tc.path, tc.auth, nil)
		got, err := http.ParseTime(r.header.Get("Date"))
		if err != nil || !got.Equal(at) {
			t.Errorf("%s: Date %q, want %s (status %d)", tc.name, r.header.Get("Date"), at.Format(http.TimeFormat), r.status)
		}
	}
}
