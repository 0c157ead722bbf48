package heroku

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/devserver/herokusrv"
	"github.com/raxx-app/handoff/internal/provider/httpx"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// inProcess answers requests with a handler, without sockets (this test
// sends thousands).
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// TestPacedToHerokusLimit: the client spends the account's 4,500 requests,
// then waits (on the pacer's clock, which moves the server's) for the pool
// to refill instead of being refused: the server, which enforces Heroku's
// limit by default, never answers 429.
func TestPacedToHerokusLimit(t *testing.T) {
	kit := &devkit.Kit{Clock: devkit.NewFrozenClock(testNow), Stats: &devkit.Stats{}, Faults: &devkit.Faults{}}
	srv, err := herokusrv.New(kit, herokusrv.DefaultFixture())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var waits []pace.Wait
	p := pace.New(pace.Config{Clock: pace.NewVirtualClockFollowing(testNow, kit.Clock.Set), OnWait: func(w pace.Wait) {
		mu.Lock()
		waits = append(waits, w)
		mu.Unlock()
	}})
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", APIKey: herokusrv.DefaultProvisionerAPIKey, Now: kit.Clock.Now,
		HTTP: httpx.Config{Transport: inProcess{srv}, Pacer: p, MaxRetries: 1, MinWait: time.Millisecond, MaxWait: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range RequestsPerHour + 2 {
		if _, err := c.App(ctx, herokusrv.DefaultAllowedApp); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	total := p.Total("Heroku")
	if total.Limited != 0 || total.Waits == 0 {
		t.Errorf("pacer counts %+v: want waits and no refusal", total)
	}
	if len(waits) == 0 || !strings.Contains(waits[0].String(), "Heroku's limit on requests per account, 4500/h") {
		t.Errorf("waits %v", waits)
	}
	if n, _ := c.RateLimitRemaining(); n != 0 {
		t.Errorf("remaining %d", n)
	}
	if elapsed := kit.Clock.Now().Sub(testNow); elapsed < time.Second || elapsed > 5*time.Second {
		t.Errorf("two requests past the pool took %s of virtual time, want about 1.6 s", elapsed)
	}
}

// TestRateLimitModel: Heroku's numbers, its header, its one refusal.
func TestRateLimitModel(t *testing.T) {
	m := RateLimitModel()
	if m.Vendor != "Heroku" || m.Headers.Remaining != "RateLimit-Remaining" || len(m.Limits) != 1 {
		t.Fatalf("model %+v", m)
	}
	l := m.Limits[0]
	if l.Max != 4500 || l.Window != time.Hour || l.Kind != pace.Refill || l.Scope != pace.PerVendor || !l.Headers {
		t.Errorf("limit %+v", l)
	}
	if !m.Limited(429, nil, nil) || m.Limited(403, http.Header{"X-Ratelimit-Remaining": {"0"}}, nil) {
		t.Error("only a 429 is Heroku's refusal")
	}
}
