package state

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestFingerprintLines: the fingerprint of a state of secrets, manifests
// and journals is the SHA-256 of the lines it always hashed (built with
// fmt before), so that a plan saved by an earlier build still matches.
func TestFingerprintLines(t *testing.T) {
	live := &Live{Environment: "prod", Root: "/handoffs", Handoffs: map[string]*Handoff{
		"a-b": {Slug: "a-b", Secrets: map[string]SecretMeta{"GITHUB_TOKEN": {Version: 3, ID: "id-1"}, "X": {Version: -1}}, ManifestDigest: "sha256:00"},
		"c":   {Slug: "c", Secrets: map[string]SecretMeta{"Y\t\"": {Version: 12, ID: "é\n"}}, JournalRaw: []byte("{}")},
		"d":   {Slug: "d"},
	}}
	var lines []string
	for slug, h := range live.Handoffs {
		for name, m := range h.Secrets {
			lines = append(lines, fmt.Sprintf("secret\t%s\t%s\t%d\t%s", slug, name, m.Version, m.ID))
		}
		if h.ManifestDigest != "" {
			lines = append(lines, fmt.Sprintf("manifest\t%s\t%s", slug, h.ManifestDigest))
		}
		if h.JournalRaw != nil {
			lines = append(lines, fmt.Sprintf("journal\t%s\t%s", slug, digest(h.JournalRaw)))
		}
	}
	sort.Strings(lines)
	sum := sha256.New()
	fmt.Fprintf(sum, "handoff-state v%d\nenv %s\nroot %s\nread %s\n",
		fingerprintVersion, strconv.Quote(live.Environment), strconv.Quote(live.Root), strconv.Quote(strings.Join(nil, ",")))
	for _, l := range lines {
		sum.Write([]byte(strconv.Quote(l)))
		sum.Write([]byte{'\n'})
	}
	if got, want := live.Fingerprint(), "sha256:"+hex.EncodeToString(sum.Sum(nil)); got != want {
		t.Errorf("Fingerprint() = %s, want %s", got, want)
	}
}
