package diag

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Caps on what a run shows. A person fixes the first problems of a file and
// runs again; a hundred problems already fill a screen many times over, and
// an unbounded list is how a hostile or binary file turned into megabytes of
// output. Beyond the caps, problems are counted, not shown.
const (
	// MaxPerFile is the number of problems shown for one file.
	MaxPerFile = 10
	// MaxTotal is the number of problems shown in all, counting the
	// "and N more" diagnostics themselves.
	MaxTotal = 100
)

// Omitted is the Extra of a diagnostic that stands for others left out by
// Limit: "and N more …". Counts and the JSON document count the problems it
// stands for instead of the diagnostic itself. Its severity is an error when
// it hides at least one error.
type Omitted struct {
	Errors   int // errors left out
	Warnings int // warnings left out
	Files    int // files they are in; 1 for the rest of one file
}

func (o *Omitted) add(p Omitted) {
	o.Errors += p.Errors
	o.Warnings += p.Warnings
}

func (o Omitted) zero() bool { return o.Errors == 0 && o.Warnings == 0 }

// OmittedOf returns the Omitted of a diagnostic made by Limit, or nil.
func OmittedOf(d *hcl.Diagnostic) *Omitted {
	o, _ := d.Extra.(*Omitted)
	return o
}

// Counts returns the number of errors and of warnings in diags. Anything that
// is not a warning counts as an error. A diagnostic made by Limit counts as
// the problems it stands for; when its severity has been lowered to a
// warning (a caller may do so), the errors it hides count as warnings too.
func Counts(diags hcl.Diagnostics) (errors, warnings int) {
	for _, d := range diags {
		if o := OmittedOf(d); o != nil {
			if d.Severity == hcl.DiagWarning {
				warnings += o.Errors
			} else {
				errors += o.Errors
			}
			warnings += o.Warnings
			continue
		}
		if d.Severity == hcl.DiagWarning {
			warnings++
		} else {
			errors++
		}
	}
	return errors, warnings
}

// Limit returns diags sorted as Sort, keeping at most perFile diagnostics of
// each file and total in all. What it leaves out of a file is replaced by
// one diagnostic "and N more … in this file" at the place of the first
// problem left out, so that it reads right after the ones shown; once total
// is reached, everything else is replaced by one last "and N more … in M
// files". These diagnostics carry an *Omitted, so Counts still returns the
// real numbers, and are errors when they hide an error, so HasErrors keeps
// its answer. Diagnostics made by an earlier Limit are merged, not counted
// as problems: limiting a limited list, or a list with more diagnostics
// appended, shows the same as limiting everything at once. diags itself is
// not modified.
//
// Diagnostics without a location form one group, as if of one file.
func Limit(diags hcl.Diagnostics, perFile, total int) hcl.Diagnostics {
	sorted := Sort(diags)
	out := make(hcl.Diagnostics, 0, min(len(sorted), total+1))
	remaining := total
	var rest Omitted
	var restAt *hcl.Range
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sameFile(sorted[i].Subject, sorted[j].Subject) {
			j++
		}
		var hidden Omitted
		var hiddenAt *hcl.Range
		shown := 0
		for _, d := range sorted[i:j] {
			if o := OmittedOf(d); o != nil {
				if o.Files > 1 {
					rest.add(*o)
					rest.Files += o.Files
					restAt = first(restAt, d.Subject)
					continue
				}
				hidden.add(*o)
				hiddenAt = first(hiddenAt, d.Subject)
				continue
			}
			if shown < perFile && remaining > 0 {
				out = append(out, d)
				shown++
				remaining--
				continue
			}
			hidden.add(countOf(d))
			hiddenAt = first(hiddenAt, d.Subject)
		}
		if !hidden.zero() {
			hidden.Files = 1
			if remaining > 0 {
				out = append(out, omittedDiagnostic(hidden, hiddenAt, perFile, total))
				remaining--
			} else {
				rest.add(hidden)
				rest.Files++
				restAt = first(restAt, hiddenAt)
			}
		}
		i = j
	}
	if !rest.zero() {
		out = append(out, omittedDiagnostic(rest, restAt, perFile, total))
	}
	return out
}

func sameFile(a, b *hcl.Range) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Filename == b.Filename
}

// first returns have unless it is nil. Diagnostics are visited in sorted
// order, so the first range seen is the earliest.
func first(have, r *hcl.Range) *hcl.Range {
	if have != nil || r == nil {
		return have
	}
	c := *r
	return &c
}

func countOf(d *hcl.Diagnostic) Omitted {
	if d.Severity == hcl.DiagWarning {
		return Omitted{Warnings: 1}
	}
	return Omitted{Errors: 1}
}

// omittedDiagnostic is the "and N more …" diagnostic standing for o, placed
// at the first problem it hides.
func omittedDiagnostic(o Omitted, at *hcl.Range, perFile, total int) *hcl.Diagnostic {
	sev := hcl.DiagError
	if o.Errors == 0 {
		sev = hcl.DiagWarning
	}
	var what string
	switch {
	case o.Warnings == 0:
		what = more(o.Errors, "error")
	case o.Errors == 0:
		what = more(o.Warnings, "warning")
	default:
		what = more(o.Errors, "error") + " and " + more(o.Warnings, "warning")
	}
	where := "in this file"
	if o.Files > 1 {
		where = fmt.Sprintf("in %d files", o.Files)
	}
	c := o
	return &hcl.Diagnostic{
		Severity: sev,
		Summary:  fmt.Sprintf("and %s %s", what, where),
		Detail: fmt.Sprintf("At most %d problems of a file and %d in all are shown; the others are counted here. "+
			"Fix the problems above and run the command again to see the next ones.", perFile, total),
		Subject: at,
		Extra:   &c,
	}
}

// more is "1 more error" or "3 more errors".
func more(n int, word string) string {
	if n == 1 {
		return "1 more " + word
	}
	return fmt.Sprintf("%d more %ss", n, word)
}
