package policy

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/raxx-app/handoff/internal/diag"
	"github.com/raxx-app/handoff/internal/spec"
)

// policyChunk bounds the parsed specs Check is given at once, by
// their spec.KeptSize. Check returns every problem of what it is
// given, about one per list element or map entry of a bad spec; checking a
// repository of bad specs whole would hold several times the specs' own
// size in diagnostics. Checked by chunks, each chunk's diagnostics are
// limited (diag.Limit) before the next chunk is checked.
const policyChunk = 2 << 20

// CheckBounded is Check(repo) with bounded memory, and the same
// diagnostics up to diag.Limit. A repository whose specs fit in one chunk
// is checked whole. Otherwise the configuration's own diagnostics come from
// a check without handoffs, and each chunk's check (which repeats them) adds
// only the others. Handoffs are sorted by slug, and a chunk never splits
// a slug, so duplicates are still found.
func CheckBounded(repo *spec.Repo) hcl.Diagnostics {
	sizes := make([]int64, len(repo.Handoffs))
	var total int64
	for i, h := range repo.Handoffs {
		sizes[i] = spec.KeptSize(h)
		total += sizes[i]
	}
	if total <= policyChunk {
		return Check(repo)
	}
	part := func(hs []*spec.Handoff) *spec.Repo {
		return &spec.Repo{Dir: repo.Dir, Config: repo.Config, Handoffs: hs, Sources: repo.Sources}
	}
	base := Check(part(nil))
	repeated := make(map[string]int, len(base))
	for _, d := range base {
		repeated[diagKey(d)]++
	}
	out := base
	for start := 0; start < len(repo.Handoffs); {
		end, size := start, int64(0)
		for end < len(repo.Handoffs) && (end == start || size+sizes[end] <= policyChunk ||
			repo.Handoffs[end].Slug.Value == repo.Handoffs[end-1].Slug.Value) {
			size += sizes[end]
			end++
		}
		skip := make(map[string]int, len(repeated))
		for k, n := range repeated {
			skip[k] = n
		}
		for _, d := range Check(part(repo.Handoffs[start:end])) {
			if k := diagKey(d); skip[k] > 0 {
				skip[k]--
				continue
			}
			out = append(out, d)
		}
		out = diag.Limit(out, diag.MaxPerFile, diag.MaxTotal)
		start = end
	}
	return out
}

// diagKey identifies a diagnostic by what it says and where.
func diagKey(d *hcl.Diagnostic) string {
	k := fmt.Sprintf("%d\x00%s\x00%s", d.Severity, d.Summary, d.Detail)
	if s := d.Subject; s != nil {
		k += fmt.Sprintf("\x00%s:%d", s.Filename, s.Start.Byte)
	}
	return k
}
