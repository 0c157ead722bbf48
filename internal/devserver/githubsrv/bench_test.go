package githubsrv

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// BenchmarkServer measures requests per second over loopback with parallel
// clients and no injected latency, on a mix of what handoff does: reads of
// repositories, pull requests, comments and the installation's repositories,
// and one comment write in sixteen. Run with -cpu 2 for the 2-core figure.
func BenchmarkServer(b *testing.B) {
	fx := DefaultFixture()
	fx.App.PrivateKeyPEM = testKeyPEM(b)
	fx.ActionsTokens[0].Token = fuzzActions
	fx.RateLimits = NoRateLimits()
	srv, err := New(devkit.NewKit(), fx)
	if err != nil {
		b.Fatal(err)
	}
	plantToken(srv, fuzzFullToken, DefaultInstallationID, nil, DefaultFixture().Installations[0].Permissions)
	srv.mu.Lock()
	for _, t := range srv.w.tokens { // the wall clock runs: keep the token alive
		t.ExpiresAt = t.ExpiresAt.AddDate(100, 0, 0)
	}
	srv.mu.Unlock()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	reads := []string{
		"/repos/raxx-app/TradeMasterAPI",
		"/repos/raxx-app/TradeMasterAPI/pulls/42",
		"/repos/raxx-app/TradeMasterAPI/issues/42/comments",
		"/installation/repositories",
	}
	body := []byte(`{"body":"## handoff plan\n\n+ create iap-notif-handler-20260621"}`)
	var n atomic.Int64
	b.SetParallelism(4) // 4 client goroutines per CPU
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			var req *http.Request
			if i%16 == 0 {
				req, _ = http.NewRequest("POST", ts.URL+"/repos/raxx-app/TradeMasterAPI/issues/41/comments", bytes.NewReader(body))
			} else {
				req, _ = http.NewRequest("GET", ts.URL+reads[i%int64(len(reads))], nil)
			}
			req.Header.Set("Authorization", "token "+fuzzFullToken)
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 && res.StatusCode != 201 {
				b.Fatalf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
