package httpx

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// APIError is a remote failure described for a person: which surface, which
// operation, what the server said and what to do about it. It never holds a
// request or response body beyond the server's own message.
type APIError struct {
	Surface   string // "github", "infisical"
	Op        string // what handoff was doing: "mint installation token"
	Method    string
	Path      string // URL path without the query
	Status    int
	Message   string // the server's message, trimmed
	RequestID string
	// Remedy says what the operator can do; empty when nothing specific helps.
	Remedy string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s %s: %d %s", e.Surface, e.Op, e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request %s)", e.RequestID)
	}
	if e.Remedy != "" {
		fmt.Fprintf(&b, "; %s", e.Remedy)
	}
	return b.String()
}

// Temporary reports whether a rerun may succeed without any change by the
// operator (rate limits, server errors).
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500 ||
		(e.Status == http.StatusForbidden && strings.Contains(strings.ToLower(e.Message), "rate limit"))
}

// NewAPIError reads the error answer resp (the body is consumed and closed)
// into an APIError. The server's message is taken from the JSON "message"
// field both vendors use (an array of issues, as Infisical's validation
// errors have, is joined).
func NewAPIError(surface, op string, resp *http.Response) *APIError {
	e := &APIError{Surface: surface, Op: op, Status: resp.StatusCode}
	if resp.Request != nil {
		e.Method = resp.Request.Method
		e.Path = resp.Request.URL.Path
	}
	e.RequestID = firstHeader(resp.Header, "X-GitHub-Request-Id", "X-Request-Id")
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	var parsed struct {
		Message json.RawMessage `json:"message"`
		ReqID   string          `json:"reqId"`
		Error   string          `json:"error"`
	}
	if json.Unmarshal(body, &parsed) == nil {
		e.Message = messageText(parsed.Message)
		if e.RequestID == "" {
			e.RequestID = parsed.ReqID
		}
		if parsed.Error != "" && e.Message != "" && !strings.Contains(e.Message, parsed.Error) {
			e.Message = parsed.Error + ": " + e.Message
		}
	}
	if len(e.Message) > 300 {
		e.Message = e.Message[:300] + "…"
	}
	return e
}

func messageText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var issues []struct {
		Message string   `json:"message"`
		Path    []any    `json:"path"`
		Code    string   `json:"code"`
		Keys    []string `json:"keys"`
	}
	if json.Unmarshal(raw, &issues) == nil {
		parts := make([]string, 0, len(issues))
		for _, is := range issues {
			p := make([]string, 0, len(is.Path))
			for _, x := range is.Path {
				p = append(p, fmt.Sprint(x))
			}
			parts = append(parts, strings.TrimSpace(strings.Join(p, ".")+" "+is.Message))
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}
