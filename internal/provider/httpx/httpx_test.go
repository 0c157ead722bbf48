package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

func testServer(t *testing.T) (*devkit.Kit, *httptest.Server) {
	t.Helper()
	kit := devkit.NewKit()
	rt := devkit.NewRouter(kit, func(w http.ResponseWriter, r *http.Request, status int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"message":"injected","documentation_url":"https://docs.github.com/rest"}`)
	})
	rt.Handle("GET /thing", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("CF-Access-Client-Id")+"|"+r.UserAgent())
	})
	rt.Handle("POST /thing", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	return kit, srv
}

var t0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// fastClient waits on a virtual clock: a Retry-After or a backoff takes no
// time.
func fastClient() *Client {
	return New(Config{MinWait: time.Millisecond, MaxWait: 3 * time.Second, Headers: map[string]string{"CF-Access-Client-Id": "cf-id"},
		Pacer: pace.New(pace.Config{Clock: pace.NewVirtualClock(t0)})})
}

func do(t *testing.T, c *Client, ctx context.Context, method, url string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestRetryPolicy(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		idempotent bool
		fault      devkit.Fault
		wantStatus int // 0: a transport error
		wantCalls  int64
	}{
		{"GET retried after 500", "GET", false, devkit.Fault{Route: "GET /thing", Status: 500, Count: 2}, 200, 3},
		{"GET retried after drop", "GET", false, devkit.Fault{Route: "GET /thing", Drop: true, Count: 1}, 200, 2},
		{"POST not retried after 500", "POST", false, devkit.Fault{Route: "POST /thing", Status: 500, Count: 1}, 500, 1},
		{"POST not retried after 502", "POST", false, devkit.Fault{Route: "POST /thing", Status: 502, Count: 1}, 502, 1},
		{"POST not retried after drop", "POST", false, devkit.Fault{Route: "POST /thing", Drop: true, Count: 1}, 0, 1},
		{"POST retried after 429", "POST", false, devkit.Fault{Route: "POST /thing", Status: 429, RetryAfter: time.Second, Count: 1}, 201, 2},
		{"POST retried after 503 with Retry-After", "POST", false, devkit.Fault{Route: "POST /thing", Status: 503, RetryAfter: time.Second, Count: 1}, 201, 2},
		{"idempotent POST retried after 500", "POST", true, devkit.Fault{Route: "POST /thing", Status: 500, Count: 1}, 201, 2},
		{"GET gives up after MaxRetries", "GET", false, devkit.Fault{Route: "GET /thing", Status: 503}, 503, 5},
		{"404 not retried", "GET", false, devkit.Fault{Route: "GET /thing", Status: 404}, 404, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kit, srv := testServer(t)
			kit.Faults.Add(tc.fault)
			c := fastClient()
			ctx := context.Background()
			if tc.idempotent {
				ctx = Idempotent(ctx)
			}
			status, _, err := do(t, c, ctx, tc.method, srv.URL+"/thing")
			if tc.wantStatus == 0 {
				if err == nil {
					t.Fatalf("want a transport error, got %d", status)
				}
			} else if err != nil || status != tc.wantStatus {
				t.Fatalf("got %d %v, want %d", status, err, tc.wantStatus)
			}
			if got := kit.Stats.Total(); got != tc.wantCalls {
				t.Errorf("server saw %d requests, want %d", got, tc.wantCalls)
			}
		})
	}
}

// TestServerNamedWaits: a wait the server names is waited out however long
// it is, for any method, unless it would pass the deadline: then the error
// says who asked and how long, and nothing more is sent.
func TestServerNamedWaits(t *testing.T) {
	cases := []struct {
		name      string
		method    string
		fault     devkit.Fault
		deadline  time.Duration // 0: none
		wantCalls int64
		wantErr   string
		wantClock time.Duration
	}{
		{"429 an hour", "POST", devkit.Fault{Route: "POST /thing", Status: 429, RetryAfter: time.Hour, Count: 1}, 0, 2, "", time.Hour},
		{"503 a minute", "POST", devkit.Fault{Route: "POST /thing", Status: 503, RetryAfter: time.Minute, Count: 1}, 0, 2, "", time.Minute},
		{"429 past the deadline", "GET", devkit.Fault{Route: "GET /thing", Status: 429, RetryAfter: time.Hour, Count: 1}, 5 * time.Second, 1,
			"asked for a 1 h wait before GET /thing, past the deadline of this run", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kit, srv := testServer(t)
			kit.Faults.Add(tc.fault)
			clock := pace.NewVirtualClock(t0)
			var waits []string
			c := New(Config{Pacer: pace.New(pace.Config{Clock: clock, OnWait: func(w pace.Wait) { waits = append(waits, w.String()) }})})
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			status, _, err := do(t, c, ctx, tc.method, srv.URL+"/thing")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !pace.IsDeadline(err) {
					t.Errorf("err = %v, want %q", err, tc.wantErr)
				}
			} else if err != nil || status >= 300 {
				t.Errorf("got %d %v", status, err)
			}
			if got := kit.Stats.Total(); got != tc.wantCalls {
				t.Errorf("server saw %d requests, want %d", got, tc.wantCalls)
			}
			if got := clock.Now().Sub(t0); got != tc.wantClock {
				t.Errorf("waited %s, want %s", got, tc.wantClock)
			}
			if tc.wantClock > 0 && (len(waits) != 1 || !strings.Contains(waits[0], "as it asked")) {
				t.Errorf("waits reported: %q", waits)
			}
		})
	}
}

func TestRefusalsInARowEnd(t *testing.T) {
	kit, srv := testServer(t)
	kit.Faults.Add(devkit.Fault{Route: "GET /thing", Status: 429, RetryAfter: time.Second})
	c := New(Config{MaxLimitedRetries: 3, Pacer: pace.New(pace.Config{Clock: pace.NewVirtualClock(t0)})})
	status, _, err := do(t, c, context.Background(), "GET", srv.URL+"/thing")
	if err != nil || status != 429 || kit.Stats.Total() != 4 {
		t.Errorf("got %d %v after %d requests; want the 429 after 4", status, err, kit.Stats.Total())
	}
	if st := c.Pacer().Total(""); st.Limited != 4 || st.Requests != 4 || st.Waits != 3 {
		t.Errorf("counts %+v", st)
	}
}

// TestPacedThroughTheTransport: a registered model holds requests back so
// that the server's limit is never met.
func TestPacedThroughTheTransport(t *testing.T) {
	kit, srv := testServer(t)
	clock := pace.NewVirtualClock(t0)
	p := pace.New(pace.Config{Clock: clock})
	err := p.Register(srv.URL, pace.Model{Vendor: "Thing", Default: "things",
		Classes: map[string][]pace.Limit{"things": {{Max: 3, Window: time.Minute, Kind: pace.Fixed, Scope: pace.PerClass}}}})
	if err != nil {
		t.Fatal(err)
	}
	c := New(Config{Pacer: p})
	for range 7 {
		if status, _, err := do(t, c, context.Background(), "POST", srv.URL+"/thing"); err != nil || status != 201 {
			t.Fatalf("%d %v", status, err)
		}
	}
	if kit.Stats.Total() != 7 || clock.Now().Sub(t0) != 2*61*time.Second {
		t.Errorf("%d requests, clock at +%s", kit.Stats.Total(), clock.Now().Sub(t0))
	}
	if st := p.Total("Thing"); st.Requests != 7 || st.Waits != 2 || st.Waited != 2*61*time.Second {
		t.Errorf("counts %+v", st)
	}
}

func TestCallTimeout(t *testing.T) {
	kit, srv := testServer(t)
	kit.Faults.Add(devkit.Fault{Route: "GET /thing", Delay: 2 * time.Second})
	_, _, err := do(t, fastClient(), WithCallTimeout(context.Background(), 50*time.Millisecond), "GET", srv.URL+"/thing")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("err = %v, want the call timeout", err)
	}
}

func TestDialFailureRetriedEvenForWrites(t *testing.T) {
	// Port 1 (tcpmux, privileged): nothing listens there, so every dial
	// is refused. A port freed by a closed listener could be taken by
	// another test's server before the retries end.
	const addr = "127.0.0.1:1"
	c := New(Config{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetries: 2, Pacer: pace.New(pace.Config{Clock: pace.NewVirtualClock(t0)})})
	_, _, err := do(t, c, context.Background(), "POST", "http://"+addr+"/thing")
	if err == nil {
		t.Fatal("want an error")
	}
	if c.Attempts() != 3 {
		t.Errorf("attempts = %d, want 3 (a refused dial never reached the server)", c.Attempts())
	}
}

func TestHeadersAndContextDeadline(t *testing.T) {
	kit, srv := testServer(t)
	_, body, err := do(t, fastClient(), context.Background(), "GET", srv.URL+"/thing")
	if err != nil || body != "cf-id|handoff" {
		t.Fatalf("body %q err %v", body, err)
	}
	kit.Faults.Add(devkit.Fault{Route: "GET /thing", Delay: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err = do(t, fastClient(), ctx, "GET", srv.URL+"/thing")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
}

func TestNewAPIError(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		header     map[string]string
		want       string
		temporary  bool
	}{
		{"github", `{"message":"The permissions requested are not granted to this installation.","documentation_url":"x"}`, 422,
			map[string]string{"X-GitHub-Request-Id": "AB:CD"},
			"github: mint token: POST /app/installations/1/access_tokens: 422 Unprocessable Entity: The permissions requested are not granted to this installation. (request AB:CD); grant it", false},
		{"infisical token", `{"reqId":"req-1","statusCode":403,"message":"Your token has expired. Please re-authenticate.","error":"TokenError"}`, 403, nil,
			"github: mint token: POST /app/installations/1/access_tokens: 403 Forbidden: TokenError: Your token has expired. Please re-authenticate. (request req-1); grant it", false},
		{"zod issues", `{"reqId":"r","statusCode":422,"message":[{"path":["name"],"message":"Invalid folder name"}],"error":"ValidationFailure"}`, 422, nil,
			"github: mint token: POST /app/installations/1/access_tokens: 422 Unprocessable Entity: ValidationFailure: name Invalid folder name (request r); grant it", false},
		{"not json", `<html>bad gateway</html>`, 502, nil,
			"github: mint token: POST /app/installations/1/access_tokens: 502 Bad Gateway; grant it", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			for k, v := range tc.header {
				rec.Header().Set(k, v)
			}
			rec.WriteHeader(tc.status)
			rec.WriteString(tc.body)
			resp := rec.Result()
			resp.Request = httptest.NewRequest("POST", "https://api.github.com/app/installations/1/access_tokens?x=1", strings.NewReader(""))
			e := NewAPIError("github", "mint token", resp)
			e.Remedy = "grant it"
			if e.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", e.Error(), tc.want)
			}
			if e.Temporary() != tc.temporary {
				t.Errorf("Temporary() = %v", e.Temporary())
			}
		})
	}
}
