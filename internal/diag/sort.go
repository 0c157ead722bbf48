package diag

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
)

// Sort returns a sorted copy of diags: diagnostics without a location first,
// then by file name, start offset, start line and column, errors before
// warnings at the same place. The order of otherwise equal diagnostics is
// kept. diags itself is not modified.
func Sort(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(diags))
	copy(out, diags)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Subject, out[j].Subject
		if (a == nil) != (b == nil) {
			return a == nil
		}
		if a != nil {
			if a.Filename != b.Filename {
				return a.Filename < b.Filename
			}
			if a.Start.Byte != b.Start.Byte {
				return a.Start.Byte < b.Start.Byte
			}
			if a.Start.Line != b.Start.Line {
				return a.Start.Line < b.Start.Line
			}
			if a.Start.Column != b.Start.Column {
				return a.Start.Column < b.Start.Column
			}
		}
		return severityRank(out[i].Severity) < severityRank(out[j].Severity)
	})
	return out
}

func severityRank(s hcl.DiagnosticSeverity) int {
	if s == hcl.DiagWarning {
		return 1
	}
	return 0
}

// severity names a diagnostic's severity as every renderer prints it.
func severity(s hcl.DiagnosticSeverity) string {
	if s == hcl.DiagWarning {
		return "warning"
	}
	return "error"
}
