package pace

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// RoutesFromOpenAPI reads the operations of an OpenAPI document as routes.
// classExt names the operation extension holding the route's rate-limit
// class (Infisical's contract: "x-rate-limit-class"); when it is empty, or an
// operation lacks it, byMethod gives the class from the method. The routes
// are sorted by path, then method.
func RoutesFromOpenAPI(doc []byte, classExt string, byMethod func(method string) string) ([]Route, error) {
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("pace: read OpenAPI document: %w", err)
	}
	var out []Route
	for path, ops := range d.Paths {
		for method, raw := range ops {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
			default:
				continue // "parameters", "summary", extensions
			}
			r := Route{Method: strings.ToUpper(method), Path: path}
			if classExt != "" {
				var op map[string]json.RawMessage
				if err := json.Unmarshal(raw, &op); err != nil {
					return nil, fmt.Errorf("pace: %s %s: %w", r.Method, path, err)
				}
				if v, ok := op[classExt]; ok {
					if err := json.Unmarshal(v, &r.Class); err != nil {
						return nil, fmt.Errorf("pace: %s %s: %s: %w", r.Method, path, classExt, err)
					}
				}
			}
			if r.Class == "" {
				if byMethod == nil {
					return nil, fmt.Errorf("pace: %s %s has no %s", r.Method, path, classExt)
				}
				r.Class = byMethod(r.Method)
			}
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out, nil
}

// ReadsWrites classes a route by its method: "reads" for GET and HEAD,
// "writes" otherwise (GitHub's contract names no classes).
func ReadsWrites(method string) string {
	switch strings.ToUpper(method) {
	case "GET", "HEAD", "OPTIONS":
		return "reads"
	}
	return "writes"
}
