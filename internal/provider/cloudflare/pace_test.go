package cloudflare

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/cloudflaresrv"
	"github.com/raxx-app/handoff/internal/provider/pace"
)

// TestZonesAndSelf: Zones lists what the provisioner's Zone Read covers,
// across pages; Self names the provisioner's own token.
func TestZonesAndSelf(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	zones, err := h.c.Zones(ctx)
	h.must(err)
	var names []string
	for _, z := range zones {
		names = append(names, z.Name)
		if z.AccountID != cloudflaresrv.DefaultAccountID || z.ID == "" {
			t.Errorf("zone %+v", z)
		}
	}
	if strings.Join(names, ",") != "example.com,moosequest.app,raxx.dev" {
		t.Errorf("Zones = %v", names)
	}
	self, err := h.c.Self(ctx)
	h.must(err)
	if self.ID != cloudflaresrv.DefaultProvisionerTokenID || self.Status != "active" {
		t.Errorf("Self = %+v", self)
	}
}

// TestPacedToTheUserLimit: the client registers Cloudflare's model on its
// pacer, which waits (on its clock) rather than send a request the limit
// would refuse; the default is 1,200 per five minutes.
func TestPacedToTheUserLimit(t *testing.T) {
	if m := (RateLimits{}).Model(); len(m.Limits) != 1 || m.Limits[0].Max != 1200 || m.Limits[0].Window != 5*time.Minute ||
		m.Limits[0].Scope != pace.PerVendor || m.Vendor != "Cloudflare" {
		t.Errorf("default model %+v", m)
	}
	if m := (RateLimits{PerWindow: -1}).Model(); len(m.Limits) != 0 {
		t.Errorf("PerWindow -1 keeps limits %+v", m.Limits)
	}
	h := newHarness(t)
	var waits []string
	clock := pace.NewVirtualClock(h.now)
	cfg := h.cfg
	cfg.HTTP.Pacer = pace.New(pace.Config{Clock: clock, OnWait: func(w pace.Wait) { waits = append(waits, w.String()) }})
	cfg.RateLimits = RateLimits{PerWindow: 2}
	cfg.Timeout = time.Hour // the wait is on the virtual clock
	c, err := New(cfg)
	h.must(err)
	for range 3 {
		_, err := c.Self(context.Background())
		h.must(err)
	}
	if len(waits) != 1 || !strings.Contains(waits[0], "Cloudflare's limit on requests per user, 2/5 min") {
		t.Errorf("waits %q", waits)
	}
	if st := cfg.HTTP.Pacer.Total(""); st.Requests != 3 || st.Waits != 1 {
		t.Errorf("pacer stats %+v", st)
	}
}
