package cloudflare

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Zone is a zone as handoff needs it.
type Zone struct {
	ID          string
	Name        string
	Status      string
	AccountID   string
	AccountName string
}

type zoneJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Account struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"account"`
}

// normalizeZoneName lowercases a zone name and drops a trailing dot.
func normalizeZoneName(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}

// ZonesByName looks up each name with GET /zones?name=NAME (an exact,
// case-insensitive match) and returns the zones by the names as given. It
// fails naming every zone that does not exist or that the client's token
// cannot see: Cloudflare lists only the zones a token holds some zone
// permission on, so a token with API Tokens Write alone sees none (the
// provisioner token also holds Zone Read on the zones handoffs may use).
func (c *Client) ZonesByName(ctx context.Context, names []string) (map[string]Zone, error) {
	out := make(map[string]Zone, len(names))
	var missing []string
	looked := map[string]*Zone{} // by normalized name; nil when not found
	for _, given := range names {
		name := normalizeZoneName(given)
		if name == "" || strings.ContainsAny(name, ": /?&") {
			return nil, fmt.Errorf("cloudflare: %q is not a zone name", given)
		}
		z, done := looked[name]
		if !done {
			var zones []zoneJSON
			_, err := c.do(ctx, &call{op: "look up zone " + name, method: http.MethodGet, path: "/zones",
				query: url.Values{"name": {name}}}, &zones)
			if err != nil {
				return nil, err
			}
			for _, zj := range zones {
				if strings.EqualFold(zj.Name, name) {
					z = &Zone{ID: zj.ID, Name: zj.Name, Status: zj.Status, AccountID: zj.Account.ID, AccountName: zj.Account.Name}
					break
				}
			}
			looked[name] = z
			if z == nil {
				missing = append(missing, name)
			}
		}
		if z != nil {
			out[given] = *z
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("cloudflare: zone %s does not exist or the token cannot see it (a token sees only zones it holds a zone permission on)",
			strings.Join(quoteAll(missing), ", "))
	}
	return out, nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// MaxZonePages bounds Zones: 200 pages of 50, 10,000 zones.
const MaxZonePages = 200

// Zones lists every zone the client's token sees (GET /zones, 50 a page):
// the zones it holds some zone permission on. A provisioner whose Zone Read
// is limited to the zones handoffs may use lists just those, in one page
// up to 50. More than MaxZonePages pages is an error saying to narrow it.
func (c *Client) Zones(ctx context.Context) ([]Zone, error) {
	var all []Zone
	for page := 1; ; page++ {
		if page > MaxZonePages {
			return nil, fmt.Errorf("cloudflare: the token sees more than %d zones: give it Zone Read on the zones handoffs use only", MaxZonePages*50)
		}
		var zones []zoneJSON
		info, err := c.do(ctx, &call{op: "list zones", method: http.MethodGet, path: "/zones",
			query: url.Values{"page": {strconv.Itoa(page)}, "per_page": {"50"}}}, &zones)
		if err != nil {
			return nil, err
		}
		for _, zj := range zones {
			all = append(all, Zone{ID: zj.ID, Name: zj.Name, Status: zj.Status, AccountID: zj.Account.ID, AccountName: zj.Account.Name})
		}
		if info == nil || len(zones) == 0 || page >= info.TotalPages {
			return all, nil
		}
	}
}
