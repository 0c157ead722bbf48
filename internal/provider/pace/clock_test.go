package pace

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServerTimesOnThePacersClock: an answer that dates its wait (a
// Retry-After HTTP date, an x-ratelimit-reset Unix time) and carries no
// Date header is read against the pacer's clock, not the wall clock: on a
// virtual clock years away from today, the next request waits what the
// server said, not years.
func TestServerTimesOnThePacersClock(t *testing.T) {
	start := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		status int
		header func(now time.Time) http.Header
		want   time.Duration
	}{
		{"Retry-After as a date", http.StatusTooManyRequests, func(now time.Time) http.Header {
			return http.Header{"Retry-After": {now.Add(30 * time.Second).Format(http.TimeFormat)}}
		}, 30 * time.Second},
		{"x-ratelimit-reset as a Unix time", http.StatusOK, func(now time.Time) http.Header {
			return http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(now.Add(20*time.Second).Unix(), 10)}}
		}, 20*time.Second + time.Second}, // the model's margin
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewVirtualClock(start)
			p := New(Config{Clock: clock})
			if err := p.Register(base, perRoute(40, time.Minute, Fixed)); err != nil {
				t.Fatal(err)
			}
			url := base + "/api/v4/secrets/batch"
			req, _ := http.NewRequest("POST", url, nil)
			tk, err := p.Acquire(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			resp := &http.Response{StatusCode: tc.status, Header: tc.header(clock.Now()), Body: io.NopCloser(strings.NewReader(`{}`)), Request: req}
			tk.Done(resp, nil)
			before := clock.Now()
			req, _ = http.NewRequest("POST", url, nil)
			tk, err = p.Acquire(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			tk.Done(nil, io.EOF)
			if got := clock.Now().Sub(before); got != tc.want {
				t.Errorf("the next request waited %s, want %s", got, tc.want)
			}
		})
	}
}
