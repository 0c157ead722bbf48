package cloudflaresrv

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// DNS records: GET and POST /zones/{zone_id}/dns_records, outside the
// contract subset and minimal (see the package documentation).

type dnsRecordJSON struct {
	ID         string         `json:"id"`
	ZoneID     string         `json:"zone_id"`
	ZoneName   string         `json:"zone_name"`
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Content    string         `json:"content"`
	Proxiable  bool           `json:"proxiable"`
	Proxied    bool           `json:"proxied"`
	TTL        int            `json:"ttl"`
	Priority   *int           `json:"priority,omitempty"`
	Locked     bool           `json:"locked"`
	Meta       map[string]any `json:"meta"`
	Comment    *string        `json:"comment"`
	Tags       []string       `json:"tags"`
	CreatedOn  string         `json:"created_on"`
	ModifiedOn string         `json:"modified_on"`
}

func renderRecord(r *dnsRecord, z *zone) dnsRecordJSON {
	return dnsRecordJSON{ID: r.ID, ZoneID: z.ID, ZoneName: z.Name, Name: r.Name, Type: r.Type, Content: r.Content,
		Proxiable: proxiable(r.Type), Proxied: r.Proxied, TTL: r.TTL, Priority: r.Priority,
		Meta:    map[string]any{"auto_added": false, "managed_by_apps": false, "managed_by_argo_tunnel": false},
		Comment: r.Comment, Tags: []string{}, CreatedOn: zoneTime(r.CreatedOn), ModifiedOn: zoneTime(r.ModifiedOn)}
}

func proxiable(typ string) bool { return typ == "A" || typ == "AAAA" || typ == "CNAME" }

// dnsInput is a record body before validation.
type dnsInput struct {
	Type     string
	Name     string
	Content  string
	TTL      int
	Proxied  bool
	Priority *int
	Comment  *string
}

var dnsLabel = regexp.MustCompile(`^(\*|[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)$`)

func dnsError(code int, msg string) *apiError { return newError(http.StatusBadRequest, code, msg) }

// newDNSRecord validates in for zone z and returns the record. Names are
// made fully qualified: "@" or "" is the apex, a name not ending in the zone
// gets it appended.
func newDNSRecord(z *zone, in dnsInput, now time.Time) (*dnsRecord, *apiError) {
	typ := strings.ToUpper(in.Type)
	switch typ {
	case "A", "AAAA", "CNAME", "TXT", "MX", "NS":
	default:
		return nil, dnsError(codeDNSType, "DNS record type is invalid.")
	}
	name := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(in.Name)), ".")
	switch {
	case name == "" || name == "@":
		name = z.Name
	case name != z.Name && !strings.HasSuffix(name, "."+z.Name):
		name += "." + z.Name
	}
	if len(name) > 253 {
		return nil, dnsError(codeDNSName, "DNS name is invalid.")
	}
	for _, l := range strings.Split(name, ".") {
		if !dnsLabel.MatchString(l) {
			return nil, dnsError(codeDNSName, "DNS name is invalid.")
		}
	}
	content := strings.TrimSpace(in.Content)
	switch typ {
	case "A":
		if a, err := netip.ParseAddr(content); err != nil || !a.Is4() {
			return nil, dnsError(codeDNSContentA, "Content for A record must be a valid IPv4 address.")
		}
	case "AAAA":
		if a, err := netip.ParseAddr(content); err != nil || !a.Is6() || a.Is4In6() {
			return nil, dnsError(codeDNSContent6, "Content for AAAA record must be a valid IPv6 address.")
		}
	case "CNAME", "NS", "MX":
		if content == "" || strings.ContainsAny(content, " \t") {
			return nil, dnsError(codeDNSContent, "Content for "+typ+" record is invalid.")
		}
	case "TXT":
		if content == "" || len(content) > 4096 {
			return nil, dnsError(codeDNSContent, "Content for TXT record is invalid.")
		}
	}
	ttl := in.TTL
	if ttl == 0 {
		ttl = 1
	}
	if ttl != 1 && (ttl < 60 || ttl > 86400) {
		return nil, dnsError(codeDNSTTL, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
	}
	if in.Proxied && !proxiable(typ) {
		return nil, dnsError(codeDNSContent, "Records of type "+typ+" cannot be proxied.")
	}
	r := &dnsRecord{ID: newID(), ZoneID: z.ID, Type: typ, Name: name, Content: content, TTL: ttl, Proxied: in.Proxied,
		Comment: in.Comment, CreatedOn: now, ModifiedOn: now}
	if typ == "MX" {
		p := 10
		if in.Priority != nil {
			p = *in.Priority
		}
		if p < 0 || p > 65535 {
			return nil, dnsError(codeDNSContent, "Priority for MX record must be between 0 and 65535.")
		}
		r.Priority = &p
	}
	return r, nil
}

// listDNSRecords is GET /zones/{zone_id}/dns_records: DNS Read or DNS Write.
// Chosen: per_page is 5 to 5,000,000 (default 100) as Cloudflare documents
// it; filters type, name (fully qualified) and content are exact.
func (s *Server) listDNSRecords(c *call) (*reply, *apiError) {
	q := c.r.URL.Query()
	page, aerr := intParam(q.Get("page"), "page", 1, 1, 1<<30)
	if aerr != nil {
		return nil, aerr
	}
	perPage, aerr := intParam(q.Get("per_page"), "per_page", 100, 5, 5000000)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, aerr := s.zoneFor(c, GroupDNSRead, GroupDNSWrite)
	if aerr != nil {
		return nil, aerr
	}
	typ, name, content := strings.ToUpper(q.Get("type")), strings.ToLower(q.Get("name")), q.Get("content")
	var recs []*dnsRecord
	for _, r := range s.st.recordsOf(z.ID) {
		if (typ == "" || r.Type == typ) && (name == "" || r.Name == name) && (content == "" || r.Content == content) {
			recs = append(recs, r)
		}
	}
	lo, hi, info := paginate(len(recs), page, perPage)
	out := []dnsRecordJSON{}
	for _, r := range recs[lo:hi] {
		out = append(out, renderRecord(r, z))
	}
	return &reply{result: out, info: info}, nil
}

// createDNSRecord is POST /zones/{zone_id}/dns_records: DNS Write.
func (s *Server) createDNSRecord(c *call) (*reply, *apiError) {
	body, aerr := c.bodyObject()
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z, aerr := s.zoneFor(c, GroupDNSWrite)
	if aerr != nil {
		return nil, aerr
	}
	var in dnsInput
	in.Type, _ = body["type"].(string)
	in.Name, _ = body["name"].(string)
	in.Content, _ = body["content"].(string)
	if n, ok := body["ttl"].(json.Number); ok {
		v, err := n.Int64()
		if err != nil || v > 1<<31 || v < -1<<31 {
			return nil, dnsError(codeDNSTTL, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
		}
		in.TTL = int(v)
	}
	in.Proxied, _ = body["proxied"].(bool)
	if n, ok := body["priority"].(json.Number); ok {
		if v, err := n.Int64(); err == nil && v >= 0 && v <= 65535 {
			p := int(v)
			in.Priority = &p
		} else {
			return nil, dnsError(codeDNSContent, "Priority for MX record must be between 0 and 65535.")
		}
	}
	if cm, ok := body["comment"].(string); ok {
		in.Comment = &cm
	}
	r, aerr := newDNSRecord(z, in, c.now)
	if aerr != nil {
		return nil, aerr
	}
	for _, o := range s.st.recordsOf(z.ID) {
		if o.Name != r.Name {
			continue
		}
		if o.Type == r.Type && o.Content == r.Content {
			return nil, dnsError(codeDNSIdentical, "An identical record already exists.")
		}
		if o.Type == "CNAME" || r.Type == "CNAME" {
			if proxiable(o.Type) && proxiable(r.Type) {
				return nil, dnsError(codeDNSConflict, "An A, AAAA, or CNAME record with that host already exists.")
			}
		}
	}
	s.st.Records = append(s.st.Records, r)
	return &reply{result: renderRecord(r, z)}, nil
}
