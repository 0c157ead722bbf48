package cloudflaresrv

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

// The user API token routes: list, create, read, update, delete, roll,
// verify, and the permission-group catalogue.

// tokenJSON is a token as Cloudflare renders it. Value appears only in the
// answer to the creation.
type tokenJSON struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	Status     string        `json:"status"`
	IssuedOn   string        `json:"issued_on"`
	ModifiedOn string        `json:"modified_on"`
	LastUsedOn *string       `json:"last_used_on,omitempty"`
	NotBefore  *string       `json:"not_before,omitempty"`
	ExpiresOn  *string       `json:"expires_on,omitempty"`
	Policies   []policyJSON  `json:"policies"`
	Condition  conditionJSON `json:"condition"`
	Value      string        `json:"value,omitempty"`
}

type policyJSON struct {
	ID               string         `json:"id"`
	Effect           string         `json:"effect"`
	Resources        map[string]any `json:"resources"`
	PermissionGroups []groupRefJSON `json:"permission_groups"`
}

type groupRefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type conditionJSON struct {
	RequestIP *requestIPJSON `json:"request.ip,omitempty"`
}

type requestIPJSON struct {
	In    []string `json:"in,omitempty"`
	NotIn []string `json:"not_in,omitempty"`
}

// renderToken renders t at now; the caller holds s.mu.
func (s *Server) renderToken(t *token, now time.Time) tokenJSON {
	out := tokenJSON{ID: t.ID, Name: t.Name, Status: t.status(now), IssuedOn: tokenTime(t.IssuedOn),
		ModifiedOn: tokenTime(t.ModifiedOn), Policies: []policyJSON{}}
	s.usageMu.Lock()
	if t.LastUsedOn != nil {
		v := tokenTime(*t.LastUsedOn)
		out.LastUsedOn = &v
	}
	s.usageMu.Unlock()
	if t.NotBefore != nil {
		v := tokenTime(*t.NotBefore)
		out.NotBefore = &v
	}
	if t.ExpiresOn != nil {
		v := tokenTime(*t.ExpiresOn)
		out.ExpiresOn = &v
	}
	for _, p := range t.Policies {
		pj := policyJSON{ID: p.ID, Effect: p.Effect, Resources: p.Resources, PermissionGroups: []groupRefJSON{}}
		for _, id := range p.PermissionGroups {
			name := ""
			if g := s.st.groupByID[id]; g != nil {
				name = g.Name
			}
			pj.PermissionGroups = append(pj.PermissionGroups, groupRefJSON{ID: id, Name: name})
		}
		out.Policies = append(out.Policies, pj)
	}
	if len(t.RequestIPIn) > 0 || len(t.RequestIPNotIn) > 0 {
		out.Condition.RequestIP = &requestIPJSON{In: t.RequestIPIn, NotIn: t.RequestIPNotIn}
	}
	return out
}

// tokenInput is a validated token body.
type tokenInput struct {
	name      string
	status    string
	policies  []*policy
	notBefore *time.Time
	expiresOn *time.Time
	ipIn      []string
	ipNotIn   []string
}

// parseTokenBody validates a create (existing nil) or update body as
// Cloudflare does; the caller holds s.mu.
func (s *Server) parseTokenBody(body map[string]any, existing *token, now time.Time) (*tokenInput, *apiError) {
	in := &tokenInput{}
	name, ok := body["name"].(string)
	switch {
	case !ok || name == "":
		return nil, errValidation("name must be present")
	case len([]rune(name)) > 120:
		return nil, errValidation("name must be at most 120 characters")
	}
	in.name = name
	var current []*policy
	if existing != nil {
		current = existing.Policies
		in.status = existing.Status
		if st, present := body["status"]; present && st != nil {
			switch st {
			case statusActive, statusDisabled:
				in.status = st.(string)
			default:
				return nil, errValidation("status must be active or disabled")
			}
		}
	}
	policies, aerr := s.st.parsePolicies(body["policies"], current, existing == nil)
	if aerr != nil {
		return nil, aerr
	}
	in.policies = policies
	if in.notBefore, aerr = parseTimeField(body, "not_before"); aerr != nil {
		return nil, aerr
	}
	if in.expiresOn, aerr = parseTimeField(body, "expires_on"); aerr != nil {
		return nil, aerr
	}
	// Chosen: a new token must not be born expired; an update may keep a
	// past expiry (the token stays expired).
	if existing == nil && in.expiresOn != nil && !in.expiresOn.After(now) {
		return nil, errValidation("expires_on must be in the future")
	}
	if in.notBefore != nil && in.expiresOn != nil && !in.notBefore.Before(*in.expiresOn) {
		return nil, errValidation("not_before must be before expires_on")
	}
	if in.ipIn, in.ipNotIn, aerr = parseCondition(body["condition"]); aerr != nil {
		return nil, aerr
	}
	return in, nil
}

func parseTimeField(body map[string]any, key string) (*time.Time, *apiError) {
	raw, present := body[key]
	if !present || raw == nil {
		return nil, nil
	}
	str, ok := raw.(string)
	if !ok {
		return nil, errValidation("%s must be a date-time such as 2020-01-01T00:00:00Z", key)
	}
	t, err := time.Parse(time.RFC3339, str)
	if err != nil {
		return nil, errValidation("%s must be a date-time such as 2020-01-01T00:00:00Z", key)
	}
	t = t.UTC()
	return &t, nil
}

// parseCondition reads condition.request.ip (Cloudflare's newer API also
// spells it request_ip; both are accepted).
func parseCondition(raw any) ([]string, []string, *apiError) {
	if raw == nil {
		return nil, nil, nil
	}
	cond, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, errValidation("condition must be an object")
	}
	rip, present := cond["request.ip"]
	if !present {
		rip = cond["request_ip"]
	}
	if rip == nil {
		return nil, nil, nil
	}
	m, ok := rip.(map[string]any)
	if !ok {
		return nil, nil, errValidation("condition.request.ip must be an object")
	}
	in, aerr := cidrList(m["in"], "in")
	if aerr != nil {
		return nil, nil, aerr
	}
	notIn, aerr := cidrList(m["not_in"], "not_in")
	if aerr != nil {
		return nil, nil, aerr
	}
	return in, notIn, nil
}

func cidrList(raw any, field string) ([]string, *apiError) {
	if raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, errValidation("condition.request.ip.%s must be a list of CIDRs", field)
	}
	var out []string
	for _, item := range list {
		str, ok := item.(string)
		if !ok {
			return nil, errValidation("condition.request.ip.%s must be a list of CIDRs", field)
		}
		if _, ok := parseCIDR(str); !ok {
			return nil, errValidation("%s is not a valid IPv4 or IPv6 CIDR", str)
		}
		out = append(out, str)
	}
	return out, nil
}

func (s *Server) createToken(c *call) (*reply, *apiError) {
	body, aerr := c.bodyObject()
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, aerr := s.parseTokenBody(body, nil, c.now)
	if aerr != nil {
		return nil, aerr
	}
	// Chosen: Cloudflare's words for a full quota are not public.
	if q := int(s.tokenQuota.Load()); q > 0 && len(s.st.Tokens) >= q {
		return nil, errValidation("You have reached the maximum number of API tokens (%d)", q)
	}
	value := newTokenValue()
	now := c.now.Truncate(time.Second)
	t := &token{ID: newID(), Name: in.name, Status: statusActive, Fingerprint: fingerprint(value),
		IssuedOn: now, ModifiedOn: now, NotBefore: in.notBefore, ExpiresOn: in.expiresOn,
		Policies: in.policies, RequestIPIn: in.ipIn, RequestIPNotIn: in.ipNotIn}
	if err := t.compile(); err != nil {
		return nil, errValidation("%v", err)
	}
	s.st.addToken(t)
	out := s.renderToken(t, c.now)
	out.Value = value
	return &reply{result: out}, nil
}

func (s *Server) listTokens(c *call) (*reply, *apiError) {
	q := c.r.URL.Query()
	page, aerr := intParam(q.Get("page"), "page", 1, 1, 1<<30)
	if aerr != nil {
		return nil, aerr
	}
	perPage, aerr := intParam(q.Get("per_page"), "per_page", 20, 5, 50)
	if aerr != nil {
		return nil, aerr
	}
	dir := q.Get("direction")
	if dir != "" && dir != "asc" && dir != "desc" {
		return nil, errValidation("direction must be asc or desc")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	toks := append([]*token(nil), s.st.Tokens...)
	// Chosen: tokens are ordered by issue time (then id); desc is newest
	// first.
	sort.SliceStable(toks, func(i, j int) bool {
		a, b := toks[i], toks[j]
		if !a.IssuedOn.Equal(b.IssuedOn) {
			return a.IssuedOn.Before(b.IssuedOn) != (dir == "desc")
		}
		return (a.ID < b.ID) != (dir == "desc")
	})
	lo, hi, info := paginate(len(toks), page, perPage)
	out := []tokenJSON{}
	for _, t := range toks[lo:hi] {
		out = append(out, s.renderToken(t, c.now))
	}
	return &reply{result: out, info: info}, nil
}

func (s *Server) getToken(c *call) (*reply, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.st.tokenByID[c.r.PathValue("token_id")]
	if t == nil {
		return nil, errTokenNotFound()
	}
	return &reply{result: s.renderToken(t, c.now)}, nil
}

func (s *Server) updateToken(c *call) (*reply, *apiError) {
	body, aerr := c.bodyObject()
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tokenByID[c.r.PathValue("token_id")]
	if t == nil {
		return nil, errTokenNotFound()
	}
	in, aerr := s.parseTokenBody(body, t, c.now)
	if aerr != nil {
		return nil, aerr
	}
	// Chosen: PUT replaces the token's name, status, policies, validity and
	// condition; fields left out are cleared.
	t.Name, t.Status, t.Policies = in.name, in.status, in.policies
	t.NotBefore, t.ExpiresOn = in.notBefore, in.expiresOn
	t.RequestIPIn, t.RequestIPNotIn = in.ipIn, in.ipNotIn
	t.ModifiedOn = c.now.Truncate(time.Second)
	if err := t.compile(); err != nil {
		return nil, errValidation("%v", err)
	}
	return &reply{result: s.renderToken(t, c.now)}, nil
}

func (s *Server) deleteToken(c *call) (*reply, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.r.PathValue("token_id")
	t := s.st.tokenByID[id]
	if t == nil {
		return nil, errTokenNotFound()
	}
	s.st.removeToken(t)
	if s.st.ProvisionerID == id {
		s.st.ProvisionerID = ""
	}
	return &reply{result: map[string]string{"id": id}}, nil
}

// rollToken gives the token a new value; the old one stops working at once.
func (s *Server) rollToken(c *call) (*reply, *apiError) {
	if c.body != nil {
		if _, ok := c.body.(map[string]any); !ok {
			return nil, errMalformedJSON()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tokenByID[c.r.PathValue("token_id")]
	if t == nil {
		return nil, errTokenNotFound()
	}
	value := newTokenValue()
	s.st.setFingerprint(t, fingerprint(value))
	if t.Value != "" {
		t.Value = value // a fixture token's value is configuration: keep it current
	}
	t.ModifiedOn = c.now.Truncate(time.Second)
	return &reply{result: value}, nil
}

// verifyToken answers for the request's own token, which authenticate
// already found working.
func (s *Server) verifyToken(c *call) (*reply, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := c.tok
	res := struct {
		ID        string  `json:"id"`
		Status    string  `json:"status"`
		NotBefore *string `json:"not_before,omitempty"`
		ExpiresOn *string `json:"expires_on,omitempty"`
	}{ID: t.ID, Status: t.status(c.now)}
	if t.NotBefore != nil {
		v := tokenTime(*t.NotBefore)
		res.NotBefore = &v
	}
	if t.ExpiresOn != nil {
		v := tokenTime(*t.ExpiresOn)
		res.ExpiresOn = &v
	}
	return &reply{result: res, messages: []cfMessage{{Code: codeTokenValid, Message: msgTokenValid}}}, nil
}

func (s *Server) listPermissionGroups(c *call) (*reply, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := append([]PermissionGroup(nil), s.st.Groups...)
	n := len(out)
	return &reply{result: out, info: &resultInfo{Page: 1, PerPage: n, Count: n, TotalCount: n, TotalPages: 1}}, nil
}

// intParam reads an integer query parameter within [lo, hi]. Chosen: out
// of range values are refused rather than clamped.
func intParam(raw, name string, def, lo, hi int) (int, *apiError) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, &apiError{status: http.StatusBadRequest, errs: []cfMessage{{Code: codeTokenValidation,
			Message: "Invalid " + name + ": must be a whole number between " + strconv.Itoa(lo) + " and " + strconv.Itoa(hi)}}}
	}
	return n, nil
}

// paginate slices n items into pages.
func paginate(n, page, perPage int) (int, int, *resultInfo) {
	lo := min((page-1)*perPage, n)
	hi := min(lo+perPage, n)
	pages := (n + perPage - 1) / perPage
	return lo, hi, &resultInfo{Page: page, PerPage: perPage, Count: hi - lo, TotalCount: n, TotalPages: pages}
}
