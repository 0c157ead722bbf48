package infisicalsrv

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/devkit"
)

// benchServer is a server on loopback with no rate limit and no injected
// latency, and an admin token.
func benchServer(b *testing.B, fx Fixture) (*httptest.Server, string) {
	b.Helper()
	fx.Settings.RateLimits.Profile = ProfileSelfHosted // no limiter: the server's speed is measured
	srv, err := New(devkit.NewKit(), fx)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	e := &testEnv{t: &testing.T{}, srv: srv, ts: ts, client: http.DefaultClient, raw: http.DefaultClient}
	id, secret := srv.ProvisionerCredentials()
	r := e.doRaw("POST", "/api/v1/auth/universal-auth/login", "", map[string]any{"clientId": id, "clientSecret": secret})
	if r.status != 200 {
		b.Fatalf("login: %s", r.raw)
	}
	return ts, r.str("accessToken")
}

// BenchmarkServer measures requests per second over loopback with parallel
// clients: authenticated secret reads and folder lists, the calls handoff
// makes most.
func BenchmarkServer(b *testing.B) {
	ts, tok := benchServer(b, DefaultFixture())
	urls := []string{
		ts.URL + q("/api/v4/secrets/APPLE_IAP_KEY_ID", "projectId", DefaultProjectID, "environment", "staging", "secretPath", DefaultQueuePath),
		ts.URL + q("/api/v4/secrets", "projectId", DefaultProjectID, "environment", "staging", "secretPath", DefaultQueuePath),
		ts.URL + q("/api/v2/folders", "projectId", DefaultProjectID, "environment", "staging", "path", "/MooseQuest"),
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}
	client := &http.Client{Transport: tr}
	b.Cleanup(tr.CloseIdleConnections)
	var n, failed atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req, _ := http.NewRequest("GET", urls[i%len(urls)], nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := client.Do(req)
			if err != nil {
				failed.Add(1)
				continue
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				failed.Add(1)
			}
			n.Add(1)
			i++
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d requests failed", failed.Load())
	}
	b.ReportMetric(float64(n.Load())/elapsed.Seconds(), "req/s")
}

// BenchmarkRecursiveList lists 1,000 handoff folders × 5 secrets in one
// request.
func BenchmarkRecursiveList(b *testing.B) {
	ts, tok := benchServer(b, bigFixture(1000))
	url := ts.URL + q("/api/v4/secrets", "projectId", DefaultProjectID, "environment", "staging", "secretPath", DefaultHandoffRoot, "recursive", "true")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatal(res.Status)
		}
	}
}
