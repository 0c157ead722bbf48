package pace_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

// A vendor client registers its vendor's model on the pacer it was given
// (httpx.Client.Pacer), once per server; the HTTP layer then calls Acquire
// and Done around every attempt. Here the model of a Cloudflare-like API
// (1,200 requests per 5 minutes per user, cut to 2 to show a wait) and
// Heroku's refilled bucket, on a virtual clock.
func Example() {
	clock := pace.NewVirtualClock(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	p := pace.New(pace.Config{Clock: clock, OnWait: func(w pace.Wait) { fmt.Println(w) }})
	_ = p.Register("https://api.cloudflare.com/client/v4", pace.Model{
		Vendor:  "Cloudflare",
		Default: "api",
		Limits:  []pace.Limit{{Name: "requests per user", Max: 2, Window: 5 * time.Minute, Kind: pace.Rolling, Scope: pace.PerVendor}},
	})
	_ = p.Register("https://api.heroku.com", pace.Model{
		Vendor:  "Heroku",
		Default: "api",
		Headers: pace.HeaderNames{Remaining: "RateLimit-Remaining"},
		Limits:  []pace.Limit{{Name: "requests per account", Max: 4500, Window: time.Hour, Kind: pace.Refill, Scope: pace.PerVendor, Headers: true}},
	})
	for range 3 {
		req, _ := http.NewRequest("GET", "https://api.cloudflare.com/client/v4/user/tokens/verify", nil)
		tk, err := p.Acquire(context.Background(), req)
		if err != nil {
			fmt.Println(err)
			return
		}
		tk.Done(&http.Response{StatusCode: 200, Header: http.Header{}, Request: req}, nil)
	}
	for _, s := range p.ClassStats() {
		fmt.Printf("%s %s: %d requests, %d waits, %s waited\n", s.Vendor, s.Class, s.Requests, s.Waits, s.Waited)
	}
	// Output:
	// waiting 5 min 1 s for Cloudflare's limit on requests per user, 2/5 min
	// Cloudflare api: 3 requests, 1 waits, 5m1s waited
}
