package cloudflaresrv

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// Fixture is the starting content of the server: one user, the accounts
// the user is a member of with their zones, the permission-group catalogue
// and the tokens that exist before any request (the provisioner's). The
// devserver package loads it from a JSON file; the zero value of each
// optional field takes the documented default.
type Fixture struct {
	User     FixtureUser      `json:"user"`
	Accounts []FixtureAccount `json:"accounts"`
	// PermissionGroups replaces the built-in catalogue (DefaultPermissionGroups)
	// when not empty.
	PermissionGroups []PermissionGroup `json:"permission_groups,omitempty"`
	Tokens           []FixtureToken    `json:"tokens"`
	Settings         Settings          `json:"settings,omitempty"`
}

// FixtureUser is the one user of the server: every token is theirs.
type FixtureUser struct {
	// ID is 32 lowercase hex digits, as Cloudflare's user ids are.
	ID    string `json:"id"`
	Email string `json:"email"`
}

// FixtureAccount is an account the user is a member of (as Super
// Administrator, so their tokens may be granted anything in it).
type FixtureAccount struct {
	ID    string        `json:"id"`
	Name  string        `json:"name"`
	Zones []FixtureZone `json:"zones"`
}

// FixtureZone is a zone of an account.
type FixtureZone struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Status is initializing, pending, active (the default) or moved.
	Status     string             `json:"status,omitempty"`
	DNSRecords []FixtureDNSRecord `json:"dns_records,omitempty"`
}

// FixtureDNSRecord is a DNS record of a zone. Name is relative to the zone
// ("@" or "" for the apex) or fully qualified.
type FixtureDNSRecord struct {
	Type    string `json:"type"`
	Name    string `json:"name"`
	Content string `json:"content"`
	TTL     int    `json:"ttl,omitempty"`
	Proxied bool   `json:"proxied,omitempty"`
}

// FixtureToken is a user API token present from the start.
type FixtureToken struct {
	// ID defaults to a random id; Value to a random 40-character value.
	ID    string `json:"id,omitempty"`
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
	// Status is active (the default) or disabled.
	Status   string          `json:"status,omitempty"`
	Policies []FixturePolicy `json:"policies"`
	// NotBefore and ExpiresOn bound the token's validity (unbounded when
	// nil).
	NotBefore *time.Time `json:"not_before,omitempty"`
	ExpiresOn *time.Time `json:"expires_on,omitempty"`
	// RequestIPIn and RequestIPNotIn are the token's condition.request.ip.
	RequestIPIn    []string `json:"request_ip_in,omitempty"`
	RequestIPNotIn []string `json:"request_ip_not_in,omitempty"`
	// Provisioner marks the token ProvisionerToken returns; at most one.
	Provisioner bool `json:"provisioner,omitempty"`
}

// FixturePolicy is a token policy. PermissionGroups are names or ids of the
// catalogue; Resources are in Cloudflare's form, e.g.
// {"com.cloudflare.api.user.<user id>": "*"}.
type FixturePolicy struct {
	Effect           string         `json:"effect,omitempty"`
	PermissionGroups []string       `json:"permission_groups"`
	Resources        map[string]any `json:"resources"`
}

// Settings tune what a real Cloudflare takes from the plan or from support.
type Settings struct {
	// RateLimit is the number of requests a user may make per
	// RateLimitWindowSeconds (default 1,200 per 300 s, Cloudflare's global
	// limit). Negative disables the limit (benchmarks).
	RateLimit              int `json:"rate_limit,omitempty"`
	RateLimitWindowSeconds int `json:"rate_limit_window_seconds,omitempty"`
	// TokenQuota is how many user API tokens the user may hold (default 50,
	// Cloudflare's quota). Negative removes the quota.
	TokenQuota int `json:"token_quota,omitempty"`
}

// Defaults of DefaultFixture, and Cloudflare's limits.
const (
	DefaultUserID             = "0551c6f616c9aefeb6985961d1542963"
	DefaultUserEmail          = "dev@raxx.app"
	DefaultAccountID          = "bdfbcde43a044b27b3f8b979228afeb6"
	DefaultAccountName        = "Raxx"
	DefaultOtherAccountID     = "f89a81b4c3282494c5cc4a5dfcc94ed5"
	DefaultOtherAccountName   = "Other Team"
	DefaultZoneExampleID      = "2ebc3b25e5b82662f032d2d540301afa"
	DefaultZoneRaxxDevID      = "543b85404a43a0242f72666290ca6dfe"
	DefaultZoneMooseQuestID   = "c35dce0703353d8ec2f57322f0f50b01"
	DefaultZoneOtherTeamID    = "eae914a01538e24a3bd43e9a9774c618"
	DefaultProvisionerTokenID = "aaf9a8615575500e3868a892d0b69c9f"
	DefaultProvisionerName    = "handoff-provisioner"

	// DefaultRateLimit requests per DefaultRateLimitWindow, per user.
	DefaultRateLimit       = 1200
	DefaultRateLimitWindow = 300 * time.Second
	// DefaultTokenQuota is Cloudflare's quota of user API tokens.
	DefaultTokenQuota = 50
)

// The scopes of permission groups and the resource prefixes they apply to.
const (
	ScopeZone    = "com.cloudflare.api.account.zone"
	ScopeAccount = "com.cloudflare.api.account"
	ScopeUser    = "com.cloudflare.api.user"
)

// PermissionGroup is an entry of the catalogue served by GET
// /user/tokens/permission_groups.
type PermissionGroup struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Scopes      []string `json:"scopes"`
}

// Names of the permission groups the server enforces itself.
const (
	GroupZoneRead       = "Zone Read"
	GroupZoneWrite      = "Zone Write"
	GroupDNSRead        = "DNS Read"
	GroupDNSWrite       = "DNS Write"
	GroupAPITokensRead  = "API Tokens Read"
	GroupAPITokensWrite = "API Tokens Write"
)

// DefaultPermissionGroups is the built-in catalogue: a subset of
// Cloudflare's permission groups with their real ids, names, descriptions
// and scopes (from Cloudflare's published list).
func DefaultPermissionGroups() []PermissionGroup {
	g := func(id, name, desc, scope string) PermissionGroup {
		return PermissionGroup{ID: id, Name: name, Description: desc, Scopes: []string{scope}}
	}
	return []PermissionGroup{
		g("0cc3a61731504c89b99ec1be78b77aa0", GroupAPITokensRead, "Grants read access to user's API Tokens", ScopeUser),
		g("686d18d5ac6c441c867cbf6771e58a0a", GroupAPITokensWrite, "Grants write access to user's API Tokens", ScopeUser),
		g("c1fde68c7bcc44588cbb6ddbc16d6480", "Account Settings Read", "Grants read access to Account resources, account membership, and account level features", ScopeAccount),
		g("1af1fa2adc104452b74a9a3364202f20", "Account Settings Write", "Grants write access to Account resources, account membership, and account level features", ScopeAccount),
		g("9c88f9c5bce24ce7af9a958ba9c504db", "Analytics Read", "Grants read access to analytics", ScopeZone),
		g("7cf72faf220841aabcfdfab81c43c4f6", "Billing Read", "Grants read access to billing profile, subscriptions, and access to fetch invoices and entitlements", ScopeAccount),
		g("07bea2220b2343fa9fae15656c0d8e88", "Bot Management Read", "Grants read access to BOT Management", ScopeZone),
		g("3b94c49258ec4573b06d51d99b6416c0", "Bot Management Write", "Grants write access to BOT Management", ScopeZone),
		g("e17beae8b8cb423a99b1730f21238bed", "Cache Purge", "Grants access to purge cache", ScopeZone),
		g("82e64a83756745bbbb1c9c2701bf816b", GroupDNSRead, "Grants read access to DNS", ScopeZone),
		g("4755a26eedb94da69e1066d98aa820be", GroupDNSWrite, "Grants write access to DNS", ScopeZone),
		g("4ec32dfcb35641c5bb32d5ef1ab963b4", "Firewall Services Read", "Grants read access to Firewall resources", ScopeZone),
		g("43137f8d07884d3198dc0ee77ca6e79b", "Firewall Services Write", "Grants write access to Firewall resources", ScopeZone),
		g("3518d0f75557482e952c6762d3e64903", "Memberships Read", "Grants read access to a user's account memberships,", ScopeUser),
		g("b415b70a4fd1412886f164451f20405c", "Page Rules Read", "Grants read access to Page Rules", ScopeZone),
		g("ed07f6c337da4195b4e72a1fb2c6bcae", "Page Rules Write", "Grants write access to Page Rules", ScopeZone),
		g("7b7216b327b04b8fbc8f524e1f9b7531", "SSL and Certificates Read", "Grants read access to SSL configuration and cert management", ScopeZone),
		g("c03055bc037c4ea9afb9a9f104b7b721", "SSL and Certificates Write", "Grants write access to SSL configuration and cert management", ScopeZone),
		g("8acbe5bb0d54464ab867149d7f7cf8ac", "User Details Read", "Grants read access to user details", ScopeUser),
		g("8b47d2786a534c08a1f94ee8f9f599ef", "Workers KV Storage Read", "Grants read access to Cloudflare Workers KV Storage", ScopeAccount),
		g("f7f0eda5697f475c90846e879bab8666", "Workers KV Storage Write", "Grants write access to Cloudflare Workers KV Storage", ScopeAccount),
		g("2072033d694d415a936eaeb94e6405b8", "Workers Routes Read", "Grants read access to Cloudflare Workers and Workers KV Storage", ScopeZone),
		g("28f4b596e7d643029c524985477ae49a", "Workers Routes Write", "Grants write access to Cloudflare Workers and Workers KV Storage", ScopeZone),
		g("1a71c399035b4950a1bd1466bbe4f420", "Workers Scripts Read", "Grants read access to Cloudflare Workers scripts", ScopeAccount),
		g("e086da7e2179491d91ee5f35b3ca210a", "Workers Scripts Write", "Grants write access to Cloudflare Workers scripts", ScopeAccount),
		g("c8fed203ed3043cba015a93ad1616f1f", GroupZoneRead, "Grants read access to zone management", ScopeZone),
		g("517b21aee92c4d89936c976ba6e4be55", "Zone Settings Read", "Grants read access to zone settings", ScopeZone),
		g("3030687196b94b638145a3953da2b699", "Zone Settings Write", "Grants write access to zone settings", ScopeZone),
		g("e6d2666161e84845a636613608cee8d5", GroupZoneWrite, "Grants write access to zone management", ScopeZone),
	}
}

// DefaultFixture is the user dev@raxx.app (id DefaultUserID), member of the
// accounts "Raxx" (zones example.com, raxx.dev, moosequest.app) and "Other
// Team" (zone other-team.io), with the built-in permission-group catalogue
// and one token, "handoff-provisioner" (id DefaultProvisionerTokenID, value
// generated at New), the provisioner token docs/vendors/cloudflare.md
// documents: API Tokens Write on the user (to mint, list, read and revoke
// narrowed tokens) and Zone Read on the zones handoffs may use, here the
// three of Raxx (so that it resolves their names with GET /zones; it does
// not see other-team.io).
func DefaultFixture() Fixture {
	a := func(name, content string) FixtureDNSRecord {
		return FixtureDNSRecord{Type: "A", Name: name, Content: content, TTL: 1, Proxied: true}
	}
	return Fixture{
		User: FixtureUser{ID: DefaultUserID, Email: DefaultUserEmail},
		Accounts: []FixtureAccount{
			{ID: DefaultAccountID, Name: DefaultAccountName, Zones: []FixtureZone{
				{ID: DefaultZoneExampleID, Name: "example.com", DNSRecords: []FixtureDNSRecord{a("@", "192.0.2.10"), a("www", "192.0.2.10")}},
				{ID: DefaultZoneRaxxDevID, Name: "raxx.dev", DNSRecords: []FixtureDNSRecord{a("@", "192.0.2.20"),
					{Type: "TXT", Name: "@", Content: "\"v=spf1 -all\"", TTL: 3600}}},
				{ID: DefaultZoneMooseQuestID, Name: "moosequest.app", DNSRecords: []FixtureDNSRecord{a("@", "192.0.2.30"), a("api", "192.0.2.31")}},
			}},
			{ID: DefaultOtherAccountID, Name: DefaultOtherAccountName, Zones: []FixtureZone{
				{ID: DefaultZoneOtherTeamID, Name: "other-team.io", DNSRecords: []FixtureDNSRecord{a("@", "198.51.100.7")}},
			}},
		},
		Tokens: []FixtureToken{{
			ID: DefaultProvisionerTokenID, Name: DefaultProvisionerName, Provisioner: true,
			Policies: []FixturePolicy{{
				Effect:           "allow",
				PermissionGroups: []string{GroupAPITokensWrite},
				Resources:        map[string]any{ScopeUser + "." + DefaultUserID: "*"},
			}, {
				Effect:           "allow",
				PermissionGroups: []string{GroupZoneRead},
				Resources: map[string]any{
					ScopeZone + "." + DefaultZoneExampleID:    "*",
					ScopeZone + "." + DefaultZoneRaxxDevID:    "*",
					ScopeZone + "." + DefaultZoneMooseQuestID: "*",
				},
			}},
		}},
	}
}

var (
	hexID32   = regexp.MustCompile(`^[0-9a-f]{32}$`)
	zoneNameR = regexp.MustCompile(`^([a-zA-Z0-9][\-a-zA-Z0-9]*\.)+[\-a-zA-Z0-9]{2,20}$`)
	// tokenValueR is the alphabet and length of Cloudflare token values.
	tokenValueR = regexp.MustCompile(`^[A-Za-z0-9_-]{40,80}$`)
)

var zoneStatuses = map[string]bool{"initializing": true, "pending": true, "active": true, "moved": true}

// validate reports the first structural problem of a fixture (policies are
// checked when the state is built, as the API checks a token body).
func (fx *Fixture) validate() error {
	if !hexID32.MatchString(fx.User.ID) {
		return fmt.Errorf("fixture: user.id %q is not 32 lowercase hex digits", fx.User.ID)
	}
	ids := map[string]bool{}
	names := map[string]bool{}
	for _, a := range fx.Accounts {
		if !hexID32.MatchString(a.ID) || a.Name == "" {
			return fmt.Errorf("fixture: account %q needs an id of 32 lowercase hex digits and a name", a.Name)
		}
		if ids[a.ID] {
			return fmt.Errorf("fixture: id %s is used twice", a.ID)
		}
		ids[a.ID] = true
		for _, z := range a.Zones {
			if !hexID32.MatchString(z.ID) {
				return fmt.Errorf("fixture: zone %q: id %q is not 32 lowercase hex digits", z.Name, z.ID)
			}
			if !zoneNameR.MatchString(z.Name) || len(z.Name) > 253 {
				return fmt.Errorf("fixture: zone name %q is not a domain name", z.Name)
			}
			if ids[z.ID] || names[strings.ToLower(z.Name)] {
				return fmt.Errorf("fixture: zone %s (%s) is listed twice", z.Name, z.ID)
			}
			ids[z.ID], names[strings.ToLower(z.Name)] = true, true
			if z.Status != "" && !zoneStatuses[z.Status] {
				return fmt.Errorf("fixture: zone %s: status %q is not initializing, pending, active or moved", z.Name, z.Status)
			}
		}
	}
	groups := map[string]bool{}
	for _, g := range fx.PermissionGroups {
		if g.ID == "" || g.Name == "" || len(g.Scopes) == 0 {
			return fmt.Errorf("fixture: permission group %q needs an id, a name and a scope", g.Name)
		}
		if groups[g.ID] || groups[g.Name] {
			return fmt.Errorf("fixture: permission group %q is listed twice", g.Name)
		}
		groups[g.ID], groups[g.Name] = true, true
		for _, sc := range g.Scopes {
			if sc != ScopeZone && sc != ScopeAccount && sc != ScopeUser {
				return fmt.Errorf("fixture: permission group %q: unknown scope %q", g.Name, sc)
			}
		}
	}
	provisioners := 0
	for _, t := range fx.Tokens {
		if t.Name == "" {
			return fmt.Errorf("fixture: every token needs a name")
		}
		if t.ID != "" && !hexID32.MatchString(t.ID) {
			return fmt.Errorf("fixture: token %s: id %q is not 32 lowercase hex digits", t.Name, t.ID)
		}
		if t.Value != "" && !tokenValueR.MatchString(t.Value) {
			return fmt.Errorf("fixture: token %s: a value must be 40 to 80 characters of A-Z, a-z, 0-9, - and _", t.Name)
		}
		if t.Status != "" && t.Status != statusActive && t.Status != statusDisabled {
			return fmt.Errorf("fixture: token %s: status %q is not active or disabled", t.Name, t.Status)
		}
		for _, c := range append(append([]string(nil), t.RequestIPIn...), t.RequestIPNotIn...) {
			if _, ok := parseCIDR(c); !ok {
				return fmt.Errorf("fixture: token %s: %q is not an IP address or CIDR", t.Name, c)
			}
		}
		if t.Provisioner {
			provisioners++
		}
	}
	if provisioners > 1 {
		return fmt.Errorf("fixture: %d tokens are marked provisioner; at most one may be", provisioners)
	}
	return nil
}

// parseCIDR reads an IPv4 or IPv6 CIDR, or a bare address as a one-address
// prefix. Chosen: Cloudflare documents CIDRs only; bare addresses are
// accepted as the dashboard accepts them.
func parseCIDR(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}
