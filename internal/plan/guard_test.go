package plan

import (
	"slices"
	"testing"
)

func TestRevocationLimitsExceeded(t *testing.T) {
	def := RevocationLimits{Count: 10, SharePercent: 50}
	tests := []struct {
		name    string
		lim     RevocationLimits
		n, live int
		want    []string
	}{
		{"nothing revoked", def, 0, 0, nil},
		{"the only handoff of a repository", def, 1, 1, nil},
		{"one of three", def, 1, 3, nil},
		{"half of four", def, 2, 4, nil},
		{"both of two", def, 2, 2, []string{LimitMaxRevocationShare}},
		{"three of five", def, 3, 5, []string{LimitMaxRevocationShare}},
		{"ten of a thousand", def, 10, 1000, nil},
		{"eleven of a thousand", def, 11, 1000, []string{LimitMaxRevocations}},
		{"specs/ lost: 1084 of 1084", def, 1084, 1084, []string{LimitMaxRevocations, LimitMaxRevocationShare}},
		{"max_revocations = 0", RevocationLimits{Count: 0, SharePercent: 50}, 1, 100, []string{LimitMaxRevocations}},
		{"share 100% never trips", RevocationLimits{Count: 5000, SharePercent: 100}, 1084, 1084, nil},
		{"share 0% from two on", RevocationLimits{Count: 10, SharePercent: 0}, 2, 1000, []string{LimitMaxRevocationShare}},
	}
	for _, tt := range tests {
		if got := tt.lim.Exceeded(tt.n, tt.live); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Exceeded(%d, %d) = %q, want %q", tt.name, tt.n, tt.live, got, tt.want)
		}
		g := NewRevocationGuard(tt.live, make([]string, tt.n), 0, tt.lim)
		if g.Tripped != (len(tt.want) > 0) || g.Revocations != tt.n {
			t.Errorf("%s: guard %+v", tt.name, g)
		}
	}
}

func TestRevocationGuardNumbers(t *testing.T) {
	g := NewRevocationGuard(14, make([]string, 12), 1, RevocationLimits{Count: 10, SharePercent: 12.5})
	if g.Percent() != 86 || g.MaxRevocationShare != "12.5%" || g.MaxRevocations != 10 {
		t.Errorf("percent %d, share %q, count %d", g.Percent(), g.MaxRevocationShare, g.MaxRevocations)
	}
	// Rounded up: 1 of 3 is 34%, never "33%" under a 33% limit.
	if g := NewRevocationGuard(3, []string{"a"}, 0, RevocationLimits{}); g.Percent() != 34 {
		t.Errorf("1 of 3: %d%%", g.Percent())
	}
	want := "12 of the 14 live handoffs (86%) would be revoked before their TTL ends, their specs gone; the policy allows at most 10 and 12.5% (max_revocations, max_revocation_share in handoff.hcl)"
	if s := g.Sentence(); s != want {
		t.Errorf("Sentence:\n%s\nwant\n%s", s, want)
	}
}
