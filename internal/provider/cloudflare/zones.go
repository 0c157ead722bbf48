package cloudflare

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
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
// permission on, so a token with API Tokens Write alone sees none (look
// zones up with a short-lived token holding Zone Read, minted for that).
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
