package infisical

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/provider/httpx"
)

// DefaultSiteURL is Infisical Cloud, used when neither handoff.hcl nor
// INFISICAL_SITE_URL names a server.
const DefaultSiteURL = "https://app.infisical.com"

// DefaultTimeout bounds every call of a Client whose Config sets no Timeout.
const DefaultTimeout = 30 * time.Second

// Environment variables read by ConfigFromEnv.
const (
	EnvClientID       = "INFISICAL_CLIENT_ID"
	EnvClientSecret   = "INFISICAL_CLIENT_SECRET"
	EnvSiteURL        = "INFISICAL_SITE_URL"
	EnvProjectID      = "INFISICAL_PROJECT_ID"
	EnvCFAccessID     = "CF_ACCESS_CLIENT_ID"
	EnvCFAccessSecret = "CF_ACCESS_CLIENT_SECRET"
)

// Cloudflare Access service-token headers, sent when the vault sits behind
// Cloudflare Access.
const (
	HeaderCFAccessID     = "CF-Access-Client-Id"
	HeaderCFAccessSecret = "CF-Access-Client-Secret"
)

// Config says which Infisical server to talk to and as whom. It holds a
// client secret: its String, GoString and Format never print it, but do not
// marshal it or copy its fields into logs yourself.
type Config struct {
	// SiteURL is the server's base URL without /api (default
	// https://app.infisical.com).
	SiteURL string
	// ClientID and ClientSecret are the universal-auth credentials of the
	// identity the client acts as (the provisioner, unless made by
	// AsIdentity). They come from the environment, never from a file in the
	// repository.
	ClientID, ClientSecret string
	// OrganizationID is needed by identity calls; ProjectID by everything
	// that touches secrets, folders, memberships or privileges.
	OrganizationID, ProjectID string
	// HTTP configures retries, the transport, extra headers (Cloudflare
	// Access) and the pacer (give every client the same one).
	HTTP httpx.Config
	// RateLimits chooses the model of the server's rate limits the client
	// paces itself to (default: Infisical Cloud's for infisical.com, none
	// of its own for a self-hosted server).
	RateLimits RateLimits
	// Timeout bounds the network time of each call, login, re-login and
	// retries included (default 30 s). Waits for rate limits are not
	// counted: the caller's context deadline and the pacer's bound those.
	Timeout time.Duration
}

// ConfigFromEnv completes base (usually built from handoff.hcl) with the
// environment: INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET (required),
// INFISICAL_SITE_URL and INFISICAL_PROJECT_ID (override base when set) and
// CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET (both or neither; sent as
// Cloudflare Access headers). getenv is os.Getenv in production. Errors name
// variables, never their values.
func ConfigFromEnv(getenv func(string) string, base Config) (Config, error) {
	cfg := base
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	var missing []string
	if cfg.ClientID = get(EnvClientID); cfg.ClientID == "" {
		missing = append(missing, EnvClientID)
	}
	if cfg.ClientSecret = get(EnvClientSecret); cfg.ClientSecret == "" {
		missing = append(missing, EnvClientSecret)
	}
	if v := get(EnvSiteURL); v != "" {
		cfg.SiteURL = v
	}
	if v := get(EnvProjectID); v != "" {
		cfg.ProjectID = v
	}
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("infisical: %s not set: export the universal-auth credentials of the provisioner identity (they are read only from the environment, never from the repository)", strings.Join(missing, " and ")))
	}
	cfID, cfSecret := get(EnvCFAccessID), get(EnvCFAccessSecret)
	switch {
	case cfID != "" && cfSecret != "":
		h := make(map[string]string, len(cfg.HTTP.Headers)+2)
		for k, v := range cfg.HTTP.Headers {
			h[k] = v
		}
		h[HeaderCFAccessID] = cfID
		h[HeaderCFAccessSecret] = cfSecret
		cfg.HTTP.Headers = h
	case cfID != "" || cfSecret != "":
		set, unset := EnvCFAccessID, EnvCFAccessSecret
		if cfID == "" {
			set, unset = unset, set
		}
		errs = append(errs, fmt.Errorf("infisical: %s is set but %s is not: a Cloudflare Access service token needs both", set, unset))
	}
	if cfg.SiteURL == "" {
		cfg.SiteURL = DefaultSiteURL
	}
	if _, err := cfg.baseURL(); err != nil {
		errs = append(errs, err)
	}
	if cfg.ProjectID == "" {
		errs = append(errs, fmt.Errorf("infisical: no project id: set project_id in the infisical block of handoff.hcl or export %s", EnvProjectID))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// baseURL checks SiteURL and returns it without a trailing slash or /api.
func (c Config) baseURL() (string, error) {
	s := strings.TrimRight(strings.TrimSpace(c.SiteURL), "/")
	if s == "" {
		s = DefaultSiteURL
	}
	s = strings.TrimSuffix(s, "/api")
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("infisical: site URL %q is not an http(s) base URL such as %s", redactURL(s), DefaultSiteURL)
	}
	// The client secret and every token travel to this URL.
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", fmt.Errorf("infisical: site URL %q uses plain http: use https (http is allowed only on a loopback address)", redactURL(s))
	}
	return s, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL drops any user info from a URL string before it is printed.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User("redacted")
		return u.String()
	}
	return s
}

// String describes the configuration without its secrets.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "infisical.Config{SiteURL: %q, ClientID: %q, ClientSecret: %s, OrganizationID: %q, ProjectID: %q",
		redactURL(c.SiteURL), c.ClientID, redacted(c.ClientSecret), c.OrganizationID, c.ProjectID)
	if len(c.HTTP.Headers) > 0 {
		names := make([]string, 0, len(c.HTTP.Headers))
		for k := range c.HTTP.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Fprintf(&b, ", Headers: [%s]", strings.Join(names, " "))
	}
	if c.Timeout > 0 {
		fmt.Fprintf(&b, ", Timeout: %s", c.Timeout)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String: %#v prints no secret either.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb, so no fmt verb reveals a secret.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// redacted is how a secret field is shown: whether it is set, never what it
// holds.
func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}
