package pace

import (
	"testing"
	"time"
)

func TestModels(t *testing.T) {
	p := New(Config{})
	for _, m := range []struct{ url, vendor string }{{"https://b.example", "Beta"}, {"https://a.example/api", "Alpha"}} {
		if err := p.Register(m.url, Model{Vendor: m.vendor, Default: "c",
			Classes: map[string][]Limit{"c": {{Max: 40, Window: time.Minute}}}}); err != nil {
			t.Fatal(err)
		}
	}
	got := p.Models()
	if len(got) != 2 || got[0].Vendor != "Alpha" || got[1].Vendor != "Beta" {
		t.Fatalf("models %+v, want Alpha then Beta", got)
	}
	if got[0].Margin != time.Second || got[0].Headers != XRateLimit {
		t.Errorf("defaults not filled: margin %s, headers %+v", got[0].Margin, got[0].Headers)
	}
	if l := got[1].Classes["c"]; len(l) != 1 || l[0].Max != 40 {
		t.Errorf("class limits %+v", l)
	}
}
