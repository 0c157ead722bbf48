package surfaces

import (
	"slices"
	"testing"
)

func TestNamesListEveryProvisionableSurface(t *testing.T) {
	want := []string{"alpaca", "apple_iap", "github", "infisical", "mcp", "stripe"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	// Without clients, the surfaces that need them are absent: a plan then
	// names them as unprovisionable rather than skipping them.
	if got := Registry(nil, nil).Names(); slices.Contains(got, "github") || slices.Contains(got, "infisical") {
		t.Errorf("Registry(nil, nil) = %v, want no github or infisical", got)
	}
}
