package infisicalsrv

import "testing"

// Expectations follow picomatch.isMatch(value, pattern, {strictSlashes: false}).
func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, value string
		want           bool
	}{
		{"/MooseQuest/handoffs/slug/**", "/MooseQuest/handoffs/slug", true},
		{"/MooseQuest/handoffs/slug/**", "/MooseQuest/handoffs/slug/", true},
		{"/MooseQuest/handoffs/slug/**", "/MooseQuest/handoffs/slug/a/b", true},
		{"/MooseQuest/handoffs/slug/**", "/MooseQuest/handoffs/slug-other", false},
		{"/MooseQuest/handoffs/slug/**", "/MooseQuest/handoffs", false},
		{"/MooseQuest/handoffs/*", "/MooseQuest/handoffs/a", true},
		{"/MooseQuest/handoffs/*", "/MooseQuest/handoffs/a/b", false},
		{"/**", "/", true},
		{"/**", "/anything/at/all", true},
		{"**", "/x/y", true},
		{"**/staging", "/MooseQuest/queue/staging", true},
		{"/a/**/z", "/a/z", true},
		{"/a/**/z", "/a/b/c/z", true},
		{"/a/**/z", "/a/b/c/y", false},
		{"APPLE_IAP_*", "APPLE_IAP_KEY_ID", true},
		{"APPLE_IAP_*", "STRIPE_TEST_SECRET_KEY", false},
		{"APPLE_IAP_*", "APPLE_IAP_", true},
		{"STRIPE_?EBHOOK*", "STRIPE_WEBHOOK_SECRET", true},
		{"{APPLE,STRIPE}_*", "STRIPE_X", true},
		{"{APPLE,STRIPE}_*", "GH_X", false},
		{"KEY_[0-9]", "KEY_7", true},
		{"KEY_[!0-9]", "KEY_7", false},
		{"!STRIPE_*", "APPLE_X", true},
		{"!STRIPE_*", "STRIPE_X", false},
		{"/a.b/c", "/a.b/c", true},
		{"/a.b/c", "/aXb/c", false},
		{"/a+(b)", "/a+(b)", true},
	}
	for _, c := range cases {
		g, err := compileGlob(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if got := g.match(c.value); got != c.want {
			t.Errorf("glob %q on %q = %v, want %v", c.pattern, c.value, got, c.want)
		}
	}
}

func TestParseMs(t *testing.T) {
	for in, want := range map[string]int64{"1h": 3600e3, "20s": 20e3, "2h": 7200e3, "30m": 1800e3, "1500": 1500, "2 days": 172800e3, "1.5h": 5400e3} {
		d, ok := parseMs(in)
		if !ok || d.Milliseconds() != want {
			t.Errorf("parseMs(%q) = %v %v, want %dms", in, d, ok, want)
		}
	}
	for _, bad := range []string{"", "soon", "h", "1 fortnight"} {
		if _, ok := parseMs(bad); ok {
			t.Errorf("parseMs(%q) accepted", bad)
		}
	}
}
