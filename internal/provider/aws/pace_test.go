package aws

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/raxx-app/handoff/internal/devserver/awssrv"
	"github.com/raxx-app/handoff/internal/devserver/devkit"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// pacedEnv is the local server with throttling at its rates, and a client
// whose every attempt goes through a pacer on a virtual clock that moves
// the server's clock along.
func pacedEnv(t *testing.T) (*env, *pace.Pacer, *[]pace.Wait) {
	t.Helper()
	e := newEnv(t)
	e.srv.SetThrottling(true)
	var mu sync.Mutex
	waits := &[]pace.Wait{}
	clock := pace.NewVirtualClockFollowing(e.kit.Clock.Now(), e.kit.Clock.Set)
	p := pace.New(pace.Config{Clock: clock, OnWait: func(w pace.Wait) {
		mu.Lock()
		defer mu.Unlock()
		*waits = append(*waits, w)
	}})
	id, secret := e.srv.ProvisionerCredentials()
	c, err := New(context.Background(), Config{
		Region: "us-east-1", Endpoint: e.ts.URL, Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
		Retryer: fastRetryer, Now: e.kit.Clock.Now,
		HTTPClient: &http.Client{Transport: PacedTransport(p, e.checker.Transport(http.DefaultTransport))},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e, p, waits
}

// TestPacedToIAMsRate: forty IAM reads at once from four goroutines wait
// for their place in the pacer's IAM bucket (20 a second) instead of
// meeting the server's throttling; the pacer counts them per service.
func TestPacedToIAMsRate(t *testing.T) {
	e, p, waits := pacedEnv(t)
	ctx := context.Background()
	role := e.srv.RoleARN(awssrv.DefaultAgentRole)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if _, err := e.client.RoleMaxSession(ctx, role); err != nil {
					errs[g] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CallerIdentity(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.RequestCount("iam", "GetRole"); n != 40 {
		t.Errorf("%d GetRole requests reached the server, want 40 (none throttled, none repeated)", n)
	}
	if len(*waits) == 0 || !strings.Contains((*waits)[0].String(), "AWS's limit on IAM requests, 20/s") {
		t.Errorf("waits %v", *waits)
	}
	counts := map[string]int64{}
	for _, s := range p.ClassStats() {
		counts[s.Vendor+" "+s.Class] = s.Requests
	}
	if counts["AWS iam"] != 40 || counts["AWS sts"] != 1 {
		t.Errorf("pacer counts %v", counts)
	}
}

// TestOneRetryByOneLayer: a failed attempt is repeated once, by the SDK's
// retryer, each attempt paced; the transport never repeats a request.
func TestOneRetryByOneLayer(t *testing.T) {
	e, p, _ := pacedEnv(t)
	ctx := context.Background()
	e.kit.Faults.Add(devkit.Fault{Route: "POST /sts/GetCallerIdentity", Status: 500, Count: 1})
	if _, err := e.client.CallerIdentity(ctx); err != nil {
		t.Fatalf("one failure: %v", err)
	}
	if n := e.srv.RequestCount("sts", "GetCallerIdentity"); n != 2 {
		t.Errorf("%d attempts after one failure, want 2", n)
	}
	e.kit.Stats.Reset()
	e.kit.Faults.Add(devkit.Fault{Route: "POST /sts/GetCallerIdentity", Status: 503, Count: 5})
	if _, err := e.client.CallerIdentity(ctx); err == nil {
		t.Fatal("five failures: no error")
	}
	if n := e.srv.RequestCount("sts", "GetCallerIdentity"); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	if tot := p.Total("AWS"); tot.Requests != 4 {
		t.Errorf("the pacer saw %d attempts, want 4", tot.Requests)
	}
}
