package diag

import (
	"encoding/json"
	"io"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
)

// Document is the JSON form of a run's diagnostics, as printed by
// "handoff validate -json". Its shape is stable; fields are only ever added:
//
//	{
//	  "valid": true,            // no error (warnings allowed)
//	  "error_count": 0,
//	  "warning_count": 0,
//	  "diagnostics": [          // sorted as Sort; never null
//	    {
//	      "severity": "error",  // "error" or "warning"
//	      "summary": "…",       // one line naming the problem
//	      "detail": "…",        // what to do; may be ""
//	      "range": {            // null when the problem has no location
//	        "filename": "specs/x.hcl",   // slash-separated, as given
//	        "start": {"line": 1, "column": 1, "byte": 0},
//	        "end":   {"line": 1, "column": 9, "byte": 8}
//	      },
//	      "omitted": {          // only on an "and N more …" entry (Limit)
//	        "errors": 12, "warnings": 0, "files": 1
//	      }
//	    }
//	  ]
//	}
//
// Lines and columns count from 1, bytes from 0; columns count characters.
// error_count and warning_count count every problem, those an "omitted"
// entry stands for included, so they may exceed the length of the list.
type Document struct {
	Valid        bool         `json:"valid"`         // no error
	ErrorCount   int          `json:"error_count"`   // number of errors
	WarningCount int          `json:"warning_count"` // number of warnings
	Diagnostics  []Diagnostic `json:"diagnostics"`   // sorted; never nil
}

// Diagnostic is one entry of Document.
type Diagnostic struct {
	Severity string `json:"severity"` // "error" or "warning"
	Summary  string `json:"summary"`  // the problem, in one line
	Detail   string `json:"detail"`   // what to do about it
	Range    *Range `json:"range"`    // nil when there is no location
	// Omitted is set on an "and N more …" entry only: what it stands for.
	Omitted *OmittedCounts `json:"omitted,omitempty"`
}

// OmittedCounts is what an "and N more …" entry of Document stands for.
type OmittedCounts struct {
	Errors   int `json:"errors"`   // errors not listed
	Warnings int `json:"warnings"` // warnings not listed
	Files    int `json:"files"`    // files they are in
}

// Range is a source range of a Diagnostic; End is exclusive.
type Range struct {
	Filename string `json:"filename"` // slash-separated, as given
	Start    Pos    `json:"start"`    // first character
	End      Pos    `json:"end"`      // just past the last character
}

// Pos is a position in a source file.
type Pos struct {
	Line   int `json:"line"`   // from 1
	Column int `json:"column"` // from 1, in characters
	Byte   int `json:"byte"`   // offset from 0
}

// NewDocument builds the Document of diags (sorted as Sort).
func NewDocument(diags hcl.Diagnostics) Document {
	errs, warns := Counts(diags)
	doc := Document{
		Valid:        errs == 0,
		ErrorCount:   errs,
		WarningCount: warns,
		Diagnostics:  make([]Diagnostic, 0, len(diags)),
	}
	for _, d := range Sort(diags) {
		jd := Diagnostic{Severity: severity(d.Severity), Summary: d.Summary, Detail: d.Detail}
		if o := OmittedOf(d); o != nil {
			jd.Omitted = &OmittedCounts{Errors: o.Errors, Warnings: o.Warnings, Files: o.Files}
		}
		if s := d.Subject; s != nil {
			jd.Range = &Range{
				Filename: filepath.ToSlash(s.Filename),
				Start:    Pos{Line: s.Start.Line, Column: s.Start.Column, Byte: s.Start.Byte},
				End:      Pos{Line: s.End.Line, Column: s.End.Column, Byte: s.End.Byte},
			}
		}
		doc.Diagnostics = append(doc.Diagnostics, jd)
	}
	return doc
}

// WriteJSON writes the Document of diags to w, indented, with a final
// newline. Like every renderer it shows all of diags: apply Limit first.
func WriteJSON(w io.Writer, diags hcl.Diagnostics) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(NewDocument(diags))
}
