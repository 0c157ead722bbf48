package cloudflaresrv

import (
	"net/http"
	"sort"
	"strings"
)

// zoneJSON is a zone as Cloudflare renders it (the fields of the contract's
// zones_zone, plus status, paused, type and plan).
type zoneJSON struct {
	ID                  string        `json:"id"`
	Name                string        `json:"name"`
	Status              string        `json:"status"`
	Paused              bool          `json:"paused"`
	Type                string        `json:"type"`
	DevelopmentMode     int           `json:"development_mode"`
	NameServers         []string      `json:"name_servers"`
	OriginalNameServers []string      `json:"original_name_servers"`
	OriginalRegistrar   *string       `json:"original_registrar"`
	OriginalDNSHost     *string       `json:"original_dnshost"`
	ModifiedOn          string        `json:"modified_on"`
	CreatedOn           string        `json:"created_on"`
	ActivatedOn         *string       `json:"activated_on"`
	Meta                zoneMetaJSON  `json:"meta"`
	Owner               zoneOwnerJSON `json:"owner"`
	Account             account       `json:"account"`
	Plan                zonePlanJSON  `json:"plan"`
}

type zoneMetaJSON struct {
	Step                   int  `json:"step"`
	CustomCertificateQuota int  `json:"custom_certificate_quota"`
	PageRuleQuota          int  `json:"page_rule_quota"`
	PhishingDetected       bool `json:"phishing_detected"`
}

type zoneOwnerJSON struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Email string `json:"email"`
}

type zonePlanJSON struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Price             int    `json:"price"`
	Currency          string `json:"currency"`
	Frequency         string `json:"frequency"`
	IsSubscribed      bool   `json:"is_subscribed"`
	CanSubscribe      bool   `json:"can_subscribe"`
	LegacyID          string `json:"legacy_id"`
	LegacyDiscount    bool   `json:"legacy_discount"`
	ExternallyManaged bool   `json:"externally_managed"`
}

// renderZone renders z; the caller holds s.mu.
func (s *Server) renderZone(z *zone) zoneJSON {
	out := zoneJSON{ID: z.ID, Name: z.Name, Status: z.Status, Type: "full", NameServers: z.NameServers,
		ModifiedOn: zoneTime(z.ModifiedOn), CreatedOn: zoneTime(z.CreatedOn),
		Meta:    zoneMetaJSON{Step: 2, PageRuleQuota: 3},
		Owner:   zoneOwnerJSON{ID: s.st.User.ID, Type: "user", Email: s.st.User.Email},
		Account: *s.st.accountByID[z.AccountID],
		Plan: zonePlanJSON{ID: "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", Name: "Free Website", Currency: "USD",
			LegacyID: "free"},
	}
	if z.ActivatedOn != nil {
		v := zoneTime(*z.ActivatedOn)
		out.ActivatedOn = &v
	}
	return out
}

// zoneFilter is one of GET /zones' name filters: "op:value" where op is one
// of Cloudflare's operators (equal by default).
type zoneFilter struct {
	op, value string
}

var filterOps = map[string]bool{
	"equal": true, "not_equal": true, "starts_with": true, "ends_with": true, "contains": true,
	"starts_with_case_sensitive": true, "ends_with_case_sensitive": true, "contains_case_sensitive": true,
}

func parseFilter(raw string) zoneFilter {
	if op, v, ok := strings.Cut(raw, ":"); ok && filterOps[op] {
		return zoneFilter{op: op, value: v}
	}
	return zoneFilter{op: "equal", value: raw}
}

func (f zoneFilter) match(s string) bool {
	v := f.value
	if !strings.HasSuffix(f.op, "_case_sensitive") {
		s, v = strings.ToLower(s), strings.ToLower(v)
	}
	switch strings.TrimSuffix(f.op, "_case_sensitive") {
	case "not_equal":
		return s != v
	case "starts_with":
		return strings.HasPrefix(s, v)
	case "ends_with":
		return strings.HasSuffix(s, v)
	case "contains":
		return strings.Contains(s, v)
	}
	return s == v
}

func badQuery(msg string) *apiError {
	return newError(http.StatusBadRequest, codeTokenValidation, msg)
}

// listZones is GET /zones: the zones the token reaches, filtered by name,
// status, account.id and account.name (all or any of them, per match),
// ordered and paginated.
func (s *Server) listZones(c *call) (*reply, *apiError) {
	q := c.r.URL.Query()
	page, aerr := intParam(q.Get("page"), "page", 1, 1, 1<<30)
	if aerr != nil {
		return nil, aerr
	}
	perPage, aerr := intParam(q.Get("per_page"), "per_page", 20, 5, 50)
	if aerr != nil {
		return nil, aerr
	}
	order, dir, match := q.Get("order"), q.Get("direction"), q.Get("match")
	switch order {
	case "", "name", "status", "account.id", "account.name":
	default:
		return nil, badQuery("order must be one of name, status, account.id, account.name")
	}
	if dir != "" && dir != "asc" && dir != "desc" {
		return nil, badQuery("direction must be asc or desc")
	}
	if match != "" && match != "all" && match != "any" {
		return nil, badQuery("match must be all or any")
	}
	if st := q.Get("status"); st != "" && !zoneStatuses[st] {
		return nil, badQuery("status must be one of initializing, pending, active, moved")
	}
	if len(q.Get("name")) > 253 || len(q.Get("account.name")) > 253 {
		return nil, badQuery("name filters must be at most 253 characters")
	}
	var tests []func(z *zone, a *account) bool
	if v := q.Get("name"); v != "" {
		f := parseFilter(v)
		tests = append(tests, func(z *zone, _ *account) bool { return f.match(z.Name) })
	}
	if v := q.Get("status"); v != "" {
		tests = append(tests, func(z *zone, _ *account) bool { return z.Status == v })
	}
	if v := q.Get("account.id"); v != "" {
		tests = append(tests, func(_ *zone, a *account) bool { return a.ID == v })
	}
	if v := q.Get("account.name"); v != "" {
		f := parseFilter(v)
		tests = append(tests, func(_ *zone, a *account) bool { return f.match(a.Name) })
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	var zones []*zone
	for _, z := range s.st.Zones {
		if !s.st.reaches(c.tok, z) {
			continue
		}
		a := s.st.accountByID[z.AccountID]
		if matches(tests, match == "any", z, a) {
			zones = append(zones, z)
		}
	}
	key := func(z *zone) string {
		a := s.st.accountByID[z.AccountID]
		switch order {
		case "status":
			return z.Status
		case "account.id":
			return a.ID
		case "account.name":
			return a.Name
		}
		return z.Name
	}
	sort.SliceStable(zones, func(i, j int) bool {
		ki, kj := key(zones[i]), key(zones[j])
		if ki == kj {
			return zones[i].Name < zones[j].Name // ties by name, ascending
		}
		return (ki < kj) != (dir == "desc")
	})
	lo, hi, info := paginate(len(zones), page, perPage)
	out := []zoneJSON{}
	for _, z := range zones[lo:hi] {
		out = append(out, s.renderZone(z))
	}
	return &reply{result: out, info: info}, nil
}

func matches(tests []func(*zone, *account) bool, anyOf bool, z *zone, a *account) bool {
	if len(tests) == 0 {
		return true
	}
	for _, t := range tests {
		ok := t(z, a)
		if anyOf && ok {
			return true
		}
		if !anyOf && !ok {
			return false
		}
	}
	return !anyOf
}

// zoneFor finds the path's zone and checks that the token holds one of the
// named groups on it. Chosen: a zone that does not exist is refused like one
// the token does not reach, so a token learns nothing of other zones.
func (s *Server) zoneFor(c *call, groups ...string) (*zone, *apiError) {
	z := s.st.zoneByID[c.r.PathValue("zone_id")]
	if z == nil || !s.st.holds(c.tok, zoneTarget(z), groups...) {
		return nil, errAuthentication()
	}
	return z, nil
}

// getZone is GET /zones/{zone_id} (outside the contract): Zone Read.
func (s *Server) getZone(c *call) (*reply, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, aerr := s.zoneFor(c, GroupZoneRead, GroupZoneWrite)
	if aerr != nil {
		return nil, aerr
	}
	return &reply{result: s.renderZone(z)}, nil
}
