package cloudflaresrv

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// Token statuses as stored; "expired" is derived from expires_on.
const (
	statusActive   = "active"
	statusDisabled = "disabled"
	statusExpired  = "expired"
)

// state is everything the server holds. It is guarded by Server.mu; token
// usage counters have their own lock (Server.usageMu).
type state struct {
	User          FixtureUser       `json:"user"`
	Accounts      []*account        `json:"accounts"`
	Zones         []*zone           `json:"zones"`
	Records       []*dnsRecord      `json:"dns_records"`
	Groups        []PermissionGroup `json:"permission_groups"`
	Tokens        []*token          `json:"tokens"`
	ProvisionerID string            `json:"provisioner_token_id,omitempty"`
	accountByID   map[string]*account
	zoneByID      map[string]*zone
	groupByID     map[string]*PermissionGroup
	groupByName   map[string]*PermissionGroup
	tokenByID     map[string]*token
	tokenByFpr    map[string]*token
}

type account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type zone struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	AccountID   string     `json:"account_id"`
	Status      string     `json:"status"`
	NameServers []string   `json:"name_servers"`
	CreatedOn   time.Time  `json:"created_on"`
	ModifiedOn  time.Time  `json:"modified_on"`
	ActivatedOn *time.Time `json:"activated_on"`
}

type dnsRecord struct {
	ID         string    `json:"id"`
	ZoneID     string    `json:"zone_id"`
	Type       string    `json:"type"`
	Name       string    `json:"name"`
	Content    string    `json:"content"`
	TTL        int       `json:"ttl"`
	Proxied    bool      `json:"proxied"`
	Priority   *int      `json:"priority,omitempty"`
	Comment    *string   `json:"comment"`
	CreatedOn  time.Time `json:"created_on"`
	ModifiedOn time.Time `json:"modified_on"`
}

// token is a user API token. Value is kept for fixture tokens only (they are
// configuration); a minted token is known by its fingerprint alone.
type token struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Status         string     `json:"status"`
	Fingerprint    string     `json:"fingerprint"`
	Value          string     `json:"value,omitempty"`
	IssuedOn       time.Time  `json:"issued_on"`
	ModifiedOn     time.Time  `json:"modified_on"`
	LastUsedOn     *time.Time `json:"last_used_on,omitempty"`
	NotBefore      *time.Time `json:"not_before,omitempty"`
	ExpiresOn      *time.Time `json:"expires_on,omitempty"`
	Policies       []*policy  `json:"policies"`
	RequestIPIn    []string   `json:"request_ip_in,omitempty"`
	RequestIPNotIn []string   `json:"request_ip_not_in,omitempty"`
	Uses           int64      `json:"uses"`

	in, notIn []netip.Prefix
}

// policy is one policy of a token: permission groups by id and resources in
// Cloudflare's form ("*" or, under an account key, a map of zone keys).
type policy struct {
	ID               string         `json:"id"`
	Effect           string         `json:"effect"`
	PermissionGroups []string       `json:"permission_groups"`
	Resources        map[string]any `json:"resources"`
}

func newState() *state {
	return &state{
		accountByID: map[string]*account{}, zoneByID: map[string]*zone{},
		groupByID: map[string]*PermissionGroup{}, groupByName: map[string]*PermissionGroup{},
		tokenByID: map[string]*token{}, tokenByFpr: map[string]*token{},
	}
}

// index rebuilds the lookup maps from the slices.
func (st *state) index() error {
	st.accountByID = map[string]*account{}
	st.zoneByID = map[string]*zone{}
	st.groupByID = map[string]*PermissionGroup{}
	st.groupByName = map[string]*PermissionGroup{}
	st.tokenByID = map[string]*token{}
	st.tokenByFpr = map[string]*token{}
	for _, a := range st.Accounts {
		st.accountByID[a.ID] = a
	}
	for _, z := range st.Zones {
		if st.accountByID[z.AccountID] == nil {
			return fmt.Errorf("zone %s: unknown account %s", z.Name, z.AccountID)
		}
		st.zoneByID[z.ID] = z
	}
	for _, r := range st.Records {
		if st.zoneByID[r.ZoneID] == nil {
			return fmt.Errorf("dns record %s: unknown zone %s", r.ID, r.ZoneID)
		}
	}
	for i := range st.Groups {
		g := &st.Groups[i]
		st.groupByID[g.ID] = g
		st.groupByName[g.Name] = g
	}
	for _, t := range st.Tokens {
		if len(t.Fingerprint) != 64 || st.tokenByID[t.ID] != nil || st.tokenByFpr[t.Fingerprint] != nil {
			return fmt.Errorf("token %s: malformed or listed twice", t.ID)
		}
		if err := t.compile(); err != nil {
			return fmt.Errorf("token %s: %w", t.ID, err)
		}
		st.tokenByID[t.ID] = t
		st.tokenByFpr[t.Fingerprint] = t
	}
	return nil
}

// compile parses the token's IP condition.
func (t *token) compile() error {
	t.in, t.notIn = nil, nil
	for _, c := range t.RequestIPIn {
		p, ok := parseCIDR(c)
		if !ok {
			return fmt.Errorf("request.ip.in: %q is not a CIDR", c)
		}
		t.in = append(t.in, p)
	}
	for _, c := range t.RequestIPNotIn {
		p, ok := parseCIDR(c)
		if !ok {
			return fmt.Errorf("request.ip.not_in: %q is not a CIDR", c)
		}
		t.notIn = append(t.notIn, p)
	}
	return nil
}

// status is the token's status at now: expired once expires_on is reached.
func (t *token) status(now time.Time) string {
	if t.Status == statusDisabled {
		return statusDisabled
	}
	if t.ExpiresOn != nil && !now.Before(*t.ExpiresOn) {
		return statusExpired
	}
	return statusActive
}

// usable reports whether the token authenticates at now: active, within
// not_before and expires_on.
func (t *token) usable(now time.Time) bool {
	if t.status(now) != statusActive {
		return false
	}
	return t.NotBefore == nil || !now.Before(*t.NotBefore)
}

// allowsIP checks condition.request.ip: the address must be in one of the
// "in" prefixes (when there are any) and in none of the "not_in" ones.
func (t *token) allowsIP(ip netip.Addr) bool {
	for _, p := range t.notIn {
		if p.Contains(ip) {
			return false
		}
	}
	if len(t.in) == 0 {
		return true
	}
	for _, p := range t.in {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (st *state) addToken(t *token) {
	st.Tokens = append(st.Tokens, t)
	st.tokenByID[t.ID] = t
	st.tokenByFpr[t.Fingerprint] = t
}

func (st *state) removeToken(t *token) {
	for i, x := range st.Tokens {
		if x == t {
			st.Tokens = append(st.Tokens[:i], st.Tokens[i+1:]...)
			break
		}
	}
	delete(st.tokenByID, t.ID)
	delete(st.tokenByFpr, t.Fingerprint)
}

func (st *state) setFingerprint(t *token, fpr string) {
	delete(st.tokenByFpr, t.Fingerprint)
	t.Fingerprint = fpr
	st.tokenByFpr[fpr] = t
}

func (st *state) recordsOf(zoneID string) []*dnsRecord {
	var out []*dnsRecord
	for _, r := range st.Records {
		if r.ZoneID == zoneID {
			out = append(out, r)
		}
	}
	return out
}

// group resolves a permission group by id or, for fixtures, by name.
func (st *state) group(idOrName string) *PermissionGroup {
	if g := st.groupByID[idOrName]; g != nil {
		return g
	}
	return st.groupByName[idOrName]
}

// buildState turns a validated fixture into the initial state.
func buildState(fx Fixture, now time.Time) (*state, error) {
	st := newState()
	st.User = fx.User
	groups := fx.PermissionGroups
	if len(groups) == 0 {
		groups = DefaultPermissionGroups()
	}
	st.Groups = append([]PermissionGroup(nil), groups...)
	sort.SliceStable(st.Groups, func(i, j int) bool { return st.Groups[i].Name < st.Groups[j].Name })
	created := now.Add(-90 * 24 * time.Hour).Truncate(time.Second)
	for _, fa := range fx.Accounts {
		st.Accounts = append(st.Accounts, &account{ID: fa.ID, Name: fa.Name})
		for _, fz := range fa.Zones {
			z := &zone{ID: fz.ID, Name: strings.ToLower(fz.Name), AccountID: fa.ID, Status: fz.Status,
				NameServers: []string{"ada.ns.cloudflare.com", "bob.ns.cloudflare.com"}, CreatedOn: created, ModifiedOn: created}
			if z.Status == "" {
				z.Status = "active"
			}
			if z.Status == "active" {
				act := created.Add(time.Hour)
				z.ActivatedOn = &act
			}
			st.Zones = append(st.Zones, z)
			for _, fr := range fz.DNSRecords {
				rec, aerr := newDNSRecord(z, dnsInput{Type: fr.Type, Name: fr.Name, Content: fr.Content, TTL: fr.TTL, Proxied: fr.Proxied}, created)
				if aerr != nil {
					return nil, fmt.Errorf("fixture: zone %s: record %s %s: %s", z.Name, fr.Type, fr.Name, aerr.errs[0].Message)
				}
				st.Records = append(st.Records, rec)
			}
		}
	}
	if err := st.index(); err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	for _, ft := range fx.Tokens {
		t := &token{ID: ft.ID, Name: ft.Name, Status: ft.Status, Value: ft.Value, IssuedOn: created, ModifiedOn: created,
			NotBefore: ft.NotBefore, ExpiresOn: ft.ExpiresOn, RequestIPIn: ft.RequestIPIn, RequestIPNotIn: ft.RequestIPNotIn}
		if t.ID == "" {
			t.ID = newID()
		}
		if t.Status == "" {
			t.Status = statusActive
		}
		if t.Value == "" {
			t.Value = newTokenValue()
		}
		t.Fingerprint = fingerprint(t.Value)
		if st.tokenByID[t.ID] != nil || st.tokenByFpr[t.Fingerprint] != nil {
			return nil, fmt.Errorf("fixture: token %s is listed twice", t.Name)
		}
		for _, fp := range ft.Policies {
			raw := map[string]any{"effect": fp.Effect, "resources": fp.Resources}
			if fp.Effect == "" {
				raw["effect"] = "allow"
			}
			var pgs []any
			for _, name := range fp.PermissionGroups {
				g := st.group(name)
				if g == nil {
					return nil, fmt.Errorf("fixture: token %s: unknown permission group %q", t.Name, name)
				}
				pgs = append(pgs, map[string]any{"id": g.ID})
			}
			raw["permission_groups"] = pgs
			ps, aerr := st.parsePolicies([]any{raw}, nil, true)
			if aerr != nil {
				return nil, fmt.Errorf("fixture: token %s: %s", t.Name, aerr.errs[0].Message)
			}
			t.Policies = append(t.Policies, ps...)
		}
		if err := t.compile(); err != nil {
			return nil, fmt.Errorf("fixture: token %s: %w", t.Name, err)
		}
		st.addToken(t)
		if ft.Provisioner {
			st.ProvisionerID = t.ID
		}
	}
	return st, nil
}

// Identifiers and token values.

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("cloudflaresrv: crypto/rand: %v", err))
	}
	return hex.EncodeToString(b[:])
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// newTokenValue returns a 40-character value in the alphabet of
// Cloudflare's token values (e.g. 8M7wS6hCpXVc-DoRnPPY_UCWPgy8aea4Wy6kCe5T).
func newTokenValue() string {
	var b [40]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("cloudflaresrv: crypto/rand: %v", err))
	}
	for i := range b {
		b[i] = tokenAlphabet[int(b[i])%len(tokenAlphabet)]
	}
	return string(b[:])
}

// fingerprint is the SHA-256 of a token value, in hex: all the server keeps
// of a minted token.
func fingerprint(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}
