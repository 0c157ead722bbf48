package aws

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

// Request rates handoff paces its AWS calls to, per account, as buckets
// refilled every second.
//
// AWS publishes no default request rate for STS or for IAM's role and
// inline-policy calls: its Security Blog ("How to monitor and query IAM
// resources at scale – Part 2") says only that IAM and STS throttle with
// token buckets refilled every second whose size depends on the API, and
// its knowledge-center article on "Rate exceeded" that these rates cannot
// be raised. The numbers below are therefore ours, the same as the local
// server's (internal/devserver/awssrv/throttle.go), so that what handoff
// sends is never refused there and stays far below what AWS is known to
// serve: 600 STS requests a second, 20 IAM requests a second (IAM's
// control plane throttles much sooner than STS), and 40 SSM parameter
// reads a second, Parameter Store's documented default throughput (SSM is
// called by tests and agents only, never by handoff itself).
const (
	STSRequestsPerSecond = 600
	IAMRequestsPerSecond = 20
	SSMRequestsPerSecond = 40
)

// RateModel is the pacer's model of AWS's limits. A request is classified
// by the service and operation the SDK is calling (AWS serves every
// operation at "/"), as the route "POST /<service>/<Operation>".
func RateModel() pace.Model {
	bucket := func(name string, perSecond int) []pace.Limit {
		return []pace.Limit{{Name: name, Max: perSecond, Window: time.Second, Kind: pace.Refill, Scope: pace.PerClass}}
	}
	return pace.Model{
		Vendor: "AWS",
		Routes: pace.NewRoutes([]pace.Route{
			{Method: http.MethodPost, Path: "/sts/{operation}", Class: "sts", Words: "STS requests"},
			{Method: http.MethodPost, Path: "/iam/{operation}", Class: "iam", Words: "IAM requests"},
			{Method: http.MethodPost, Path: "/ssm/{operation}", Class: "ssm", Words: "SSM parameter reads"},
		}),
		Default: "aws",
		Classes: map[string][]pace.Limit{
			"sts": bucket("STS requests", STSRequestsPerSecond),
			"iam": bucket("IAM requests", IAMRequestsPerSecond),
			"ssm": bucket("SSM parameter reads", SSMRequestsPerSecond),
		},
	}
}

// PacedTransport returns a round tripper that sends every attempt the SDK
// makes through p (registering RateModel for each AWS host it meets) and
// then through base (http.DefaultTransport when nil). It never repeats a
// request: the SDK's retryer is the one layer that does (it knows AWS's
// throttling and transient error codes; give it MaxAttempts 2 for one
// retry), and each of its attempts waits for its place here.
func PacedTransport(p *pace.Pacer, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &pacedTransport{pacer: p, base: base}
}

type pacedTransport struct {
	pacer *pace.Pacer
	base  http.RoundTripper
	hosts sync.Map // scheme://host → registered
}

// RoundTrip waits for the request's place in AWS's limits and sends it once.
func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	origin := req.URL.Scheme + "://" + req.URL.Host
	if _, ok := t.hosts.Load(origin); !ok {
		if err := t.pacer.Register(origin, RateModel()); err != nil {
			return nil, err
		}
		t.hosts.Store(origin, true)
	}
	// The pacer classifies by path: it is shown the operation's route.
	shadow := req.Clone(req.Context())
	shadow.URL = &url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: routeOf(req)}
	shadow.Body = nil
	tk, err := t.pacer.Acquire(req.Context(), shadow)
	if err != nil {
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	tk.Done(resp, err)
	return resp, err
}

// routeOf is "/<service>/<Operation>" of the SDK call req belongs to
// ("/sts/AssumeRole"), or the request's own path outside one.
func routeOf(req *http.Request) string {
	ctx := req.Context()
	svc, op := strings.ToLower(awsmiddleware.GetServiceID(ctx)), awsmiddleware.GetOperationName(ctx)
	if svc == "" || op == "" {
		return req.URL.Path
	}
	return "/" + svc + "/" + op
}
