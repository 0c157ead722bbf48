package herokusrv

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// List pagination as Heroku does it, with the Range request header:
//
//	Range: <field> [[|]]<start>..[<end>][; max=<n>[, order=asc|desc]]
//
// A start is inclusive unless written "]start". A truncated list is
// answered 206 Partial Content with Next-Range set to the Range of the
// following page ("<field> ]<last>..; max=<n>"); a complete one 200. Every
// list answer carries Content-Range ("<field> <first>..<last>; max=<n>")
// and Accept-Ranges (the fields the list sorts on).
const (
	DefaultPageSize = 200
	MaxPageSize     = 1000
)

// row is one list item with the values of its sortable fields.
type row struct {
	keys map[string]string
	v    any
}

// rangeSpec is a parsed Range header.
type rangeSpec struct {
	field          string
	start, end     string
	startExclusive bool
	max            int
	desc           bool
}

// parseRange reads a Range header for a list sortable on fields (the first
// is the default).
func parseRange(h string, fields []string) (rangeSpec, *apiError) {
	spec := rangeSpec{field: fields[0], max: DefaultPageSize}
	h = strings.TrimSpace(h)
	if h == "" {
		return spec, nil
	}
	head, opts, _ := strings.Cut(h, ";")
	head = strings.TrimSpace(head)
	field, bounds, _ := strings.Cut(head, " ")
	if !slices.Contains(fields, field) {
		return spec, errRangeNotSatisfiable("Invalid range field " + strconv.Quote(field) + ". Supported: " + strings.Join(fields, ", ") + ".")
	}
	spec.field = field
	bounds = strings.TrimSpace(bounds)
	if bounds != "" {
		start, end, ok := strings.Cut(bounds, "..")
		if !ok {
			return spec, errRangeNotSatisfiable("Invalid range " + strconv.Quote(bounds) + ": expected start..end.")
		}
		switch {
		case strings.HasPrefix(start, "]"):
			spec.startExclusive, start = true, start[1:]
		case strings.HasPrefix(start, "["):
			start = start[1:]
		}
		spec.start, spec.end = start, end
	}
	for _, opt := range strings.FieldsFunc(opts, func(r rune) bool { return r == ',' || r == ';' }) {
		k, v, _ := strings.Cut(strings.TrimSpace(opt), "=")
		switch strings.TrimSpace(k) {
		case "max":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 {
				return spec, errRangeNotSatisfiable("Invalid range max " + strconv.Quote(v) + ": expected a positive integer.")
			}
			spec.max = min(n, MaxPageSize)
		case "order":
			switch strings.TrimSpace(v) {
			case "asc":
				spec.desc = false
			case "desc":
				spec.desc = true
			default:
				return spec, errRangeNotSatisfiable("Invalid range order " + strconv.Quote(v) + ": expected asc or desc.")
			}
		case "":
		default:
			return spec, errRangeNotSatisfiable("Invalid range option " + strconv.Quote(k) + ".")
		}
	}
	return spec, nil
}

func (s rangeSpec) suffix() string {
	out := "; max=" + strconv.Itoa(s.max)
	if s.desc {
		out += ", order=desc"
	}
	return out
}

// paginate sorts rows on the requested field, keeps the requested page,
// sets the range headers and returns the page's values and status.
func (c *call) paginate(rows []row, fields []string) ([]any, int, *apiError) {
	spec, aerr := parseRange(c.r.Header.Get("Range"), fields)
	if aerr != nil {
		return nil, 0, aerr
	}
	f := spec.field
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i].keys[f], rows[j].keys[f]
		if spec.desc {
			return a > b
		}
		return a < b
	})
	var page []row
	more := false
	for _, r := range rows {
		k := r.keys[f]
		if spec.start != "" {
			before := k < spec.start || (spec.startExclusive && k == spec.start)
			if spec.desc {
				before = k > spec.start || (spec.startExclusive && k == spec.start)
			}
			if before {
				continue
			}
		}
		if spec.end != "" && ((!spec.desc && k > spec.end) || (spec.desc && k < spec.end)) {
			break
		}
		if len(page) == spec.max {
			more = true
			break
		}
		page = append(page, r)
	}
	h := c.w.Header()
	h.Set("Accept-Ranges", strings.Join(fields, ", "))
	out := make([]any, 0, len(page))
	for _, r := range page {
		out = append(out, r.v)
	}
	if len(page) == 0 {
		h.Set("Content-Range", f+" .."+spec.suffix())
		return out, http.StatusOK, nil
	}
	first, last := page[0].keys[f], page[len(page)-1].keys[f]
	h.Set("Content-Range", f+" "+first+".."+last+spec.suffix())
	if more {
		h.Set("Next-Range", f+" ]"+last+".."+spec.end+spec.suffix())
		return out, http.StatusPartialContent, nil
	}
	return out, http.StatusOK, nil
}
