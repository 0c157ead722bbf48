package cloudflare

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/httpx"
)

// Surface is the name errors of this package carry in httpx.APIError.Surface.
const Surface = "cloudflare"

// DefaultBaseURL is Cloudflare's API v4.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// DefaultTimeout bounds every call of a Client whose Config sets no Timeout.
const DefaultTimeout = 30 * time.Second

// Environment variables the CLI reads for Cloudflare: the provisioner's user
// API token (Cloudflare's own tools use the same name) and the API base URL
// (the local dev server's, in `handoff dev`).
const (
	EnvAPIToken = "CLOUDFLARE_API_TOKEN"
	EnvAPIURL   = "HANDOFF_CLOUDFLARE_API_URL"
)

// Secret is a Cloudflare API token value. It prints as [redacted] with every
// fmt verb, as a redacted slog value and as a redacted JSON string; Reveal
// returns the value for the one place that needs it (the vault, an
// Authorization header).
type Secret string

// Reveal returns the token value itself.
func (s Secret) Reveal() string { return string(s) }

// String is "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString is String.
func (s Secret) GoString() string { return s.String() }

// Format prints String for every verb (%v, %s, %q, %x, %d, …).
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue keeps the value out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes "[redacted]": a Secret marshalled by accident does not
// leak.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Fingerprint identifies the value in manifests and logs ("sha256:" and 12
// hex digits); "" for an empty secret.
func (s Secret) Fingerprint() string {
	if s == "" {
		return ""
	}
	return manifest.Fingerprint(string(s))
}

// Config configures a Client. Its String, GoString and Format never print
// the token.
type Config struct {
	// BaseURL is the API base including /client/v4 (default
	// DefaultBaseURL). Plain http is refused except on a loopback host (the
	// local dev server).
	BaseURL string
	// Token is the user API token the client acts with: for the provisioner,
	// one holding the user permission group API Tokens Write.
	Token Secret
	// HTTP configures retries, pacing, the transport and extra headers.
	HTTP httpx.Config
	// RateLimits is the model of Cloudflare's rate limit the client paces
	// itself to (default: 1,200 requests per five minutes).
	RateLimits RateLimits
	// Timeout bounds each call, retries included (default 30 s).
	Timeout time.Duration
}

// String describes the configuration without the token.
func (c Config) String() string {
	tok := "none"
	if c.Token != "" {
		tok = "[redacted]"
	}
	return fmt.Sprintf("cloudflare.Config{BaseURL: %q, Token: %s}", c.BaseURL, tok)
}

// GoString is String.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue keeps the token out of structured logs.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// parseBaseURL checks a base URL and returns it without a trailing slash.
func parseBaseURL(s string) (string, error) {
	if s == "" {
		s = DefaultBaseURL
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("cloudflare: API URL %q is not an http(s) URL such as %s", redactURL(s), DefaultBaseURL)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", fmt.Errorf("cloudflare: API URL %q uses plain http: use https (http is allowed only on a loopback address)", redactURL(s))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("cloudflare: API URL %q must not carry a query, fragment or credentials", redactURL(s))
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User("redacted")
		return u.String()
	}
	return s
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkToken rejects values that cannot be a token, before any request.
func checkToken(s Secret) error {
	v := string(s)
	switch {
	case v == "":
		return fmt.Errorf("cloudflare: no API token: set %s to a user API token", EnvAPIToken)
	case strings.ContainsAny(v, " \t\r\n"):
		return errors.New("cloudflare: the API token contains whitespace (a \"Bearer \" prefix, or a bad paste): give the token alone")
	}
	return nil
}
