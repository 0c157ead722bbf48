package awssrv

import (
	"encoding/xml"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/raxx-app/handoff/internal/devserver/awssrv/iameval"
)

// Limits of IAM roles.
const (
	// inlinePolicyAggregateLimit is IAM's limit on the sum of a role's
	// inline policies, whitespace not counted.
	inlinePolicyAggregateLimit = 10240
	maxRoleTags                = 50
	defaultListMaxItems        = 100
)

type roleEl struct {
	Path                     string          `xml:"Path"`
	RoleName                 string          `xml:"RoleName"`
	RoleID                   string          `xml:"RoleId"`
	Arn                      string          `xml:"Arn"`
	CreateDate               xmlTime         `xml:"CreateDate"`
	AssumeRolePolicyDocument string          `xml:"AssumeRolePolicyDocument"`
	Description              string          `xml:"Description,omitempty"`
	MaxSessionDuration       int             `xml:"MaxSessionDuration"`
	Tags                     *tagsEl         `xml:"Tags,omitempty"`
	RoleLastUsed             *roleLastUsedEl `xml:"RoleLastUsed,omitempty"`
}

type tagsEl struct {
	Members []tagEl `xml:"member"`
}

type tagEl struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type roleLastUsedEl struct {
	LastUsedDate *xmlTime `xml:"LastUsedDate,omitempty"`
	Region       string   `xml:"Region,omitempty"`
}

type getRoleResult struct {
	XMLName xml.Name `xml:"GetRoleResult"`
	Role    roleEl   `xml:"Role"`
}

type createRoleResult struct {
	XMLName xml.Name `xml:"CreateRoleResult"`
	Role    roleEl   `xml:"Role"`
}

type getRolePolicyResult struct {
	XMLName        xml.Name `xml:"GetRolePolicyResult"`
	RoleName       string   `xml:"RoleName"`
	PolicyName     string   `xml:"PolicyName"`
	PolicyDocument string   `xml:"PolicyDocument"`
}

type listRolePoliciesResult struct {
	XMLName     xml.Name `xml:"ListRolePoliciesResult"`
	PolicyNames namesEl  `xml:"PolicyNames"`
	IsTruncated bool     `xml:"IsTruncated"`
	Marker      string   `xml:"Marker,omitempty"`
}

type namesEl struct {
	Members []string `xml:"member"`
}

func (s *Server) roleElement(r *role, withLastUsed bool) roleEl {
	el := roleEl{Path: r.Path, RoleName: r.Name, RoleID: r.RoleID, Arn: r.arn(s.st.AccountID), CreateDate: xmlTime(r.CreateDate),
		AssumeRolePolicyDocument: iamURLEncode(r.TrustPolicy), Description: r.Description, MaxSessionDuration: r.MaxSessionDuration}
	if len(r.Tags) > 0 {
		el.Tags = &tagsEl{}
		for _, t := range r.Tags {
			el.Tags.Members = append(el.Tags.Members, tagEl(t))
		}
	}
	if withLastUsed {
		el.RoleLastUsed = &roleLastUsedEl{}
		if r.LastUsed != nil {
			t := xmlTime(*r.LastUsed)
			el.RoleLastUsed.LastUsedDate, el.RoleLastUsed.Region = &t, r.LastUsedRegion
		}
	}
	return el
}

// iamURLEncode encodes a policy document as IAM returns it: RFC 3986
// percent-encoding of everything but unreserved characters (spaces as %20,
// so both query and path unescaping read it back).
func iamURLEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

// policySize is a document's size as IAM counts it against its limits:
// characters, white space not counted.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// roleParam validates RoleName and finds the role (NoSuchEntity after
// authorization, as IAM answers).
func (c *call) roleName(v *validator) string {
	name, sent := c.param("RoleName")
	if v.required(name, sent, "roleName") {
		v.length(name, "roleName", 1, 64)
		if name != "" {
			v.pattern(name, "roleName", nameTokenRe, `[\w+=,.@-]+`)
		}
	}
	return name
}

func (c *call) policyName(v *validator) string {
	name, sent := c.param("PolicyName")
	if v.required(name, sent, "policyName") {
		v.length(name, "policyName", 1, 128)
		if name != "" {
			v.pattern(name, "policyName", nameTokenRe, `[\w+=,.@-]+`)
		}
	}
	return name
}

// roleResourceARN is the resource of an IAM role action: the role's ARN,
// path included, when it exists; else the ARN a role of that name would
// have at the root path.
func (s *Server) roleResourceARN(name string) (string, *role) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.st.Roles[strings.ToLower(name)]
	if r != nil {
		return r.arn(s.st.AccountID), r
	}
	return "arn:aws:iam::" + s.st.AccountID + ":role/" + name, nil
}

func errNoSuchRole(name string) *apiError {
	return errNoSuchEntity(fmt.Sprintf("The role with name %s cannot be found.", name))
}

func (s *Server) getRole(c *call) (any, *apiError) {
	var v validator
	name := c.roleName(&v)
	if err := v.err(); err != nil {
		return nil, err
	}
	arn, _ := s.roleResourceARN(name)
	if err := s.authorize(c, "iam:GetRole", arn, nil, nil); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.st.Roles[strings.ToLower(name)]
	if r == nil {
		return nil, errNoSuchRole(name)
	}
	return getRoleResult{Role: s.roleElement(r, true)}, nil
}

func (s *Server) createRole(c *call) (any, *apiError) {
	var v validator
	name := c.roleName(&v)
	path, sentPath := c.param("Path")
	if sentPath {
		v.length(path, "path", 1, 512)
		v.pattern(path, "path", iamPathRe, `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	} else {
		path = "/"
	}
	trust, sentTrust := c.param("AssumeRolePolicyDocument")
	if v.required(trust, sentTrust, "assumeRolePolicyDocument") {
		v.length(trust, "assumeRolePolicyDocument", 1, 131072)
		if trust != "" {
			v.pattern(trust, "assumeRolePolicyDocument", policyTextRe, `[\u0009\u000A\u000D\u0020-\u00FF]+`)
		}
	}
	desc, _ := c.param("Description")
	v.length(desc, "description", 0, 1000)
	v.pattern(desc, "description", descRe, `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`)
	maxDur := 3600
	if raw, sent := c.param("MaxSessionDuration"); sent {
		if n, ok := v.intRange(raw, "maxSessionDuration", 3600, 43200); ok {
			maxDur = n
		}
	}
	tags, _ := c.tagList("Tags")
	v.tags(tags, "tags")
	if _, sent := c.param("PermissionsBoundary"); sent {
		return nil, errInvalidInput("Permissions boundaries are not supported by the local AWS server.")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	arn := "arn:aws:iam::" + s.accountID() + ":role" + path + name
	if err := s.authorize(c, "iam:CreateRole", arn, nil, nil); err != nil {
		return nil, err
	}
	if len(tags) > 0 {
		if err := s.authorize(c, "iam:TagRole", arn, nil, nil); err != nil {
			return nil, err
		}
	}
	if duplicateTagKey(tags) {
		return nil, errInvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
	}
	if err := reservedTagKeys(tags); err != nil {
		return nil, err
	}
	parsed, err := iameval.Parse(trust, iameval.Trust)
	if err != nil {
		return nil, errMalformedPolicy(err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	if s.st.Roles[key] != nil {
		return nil, errEntityAlreadyExists(fmt.Sprintf("Role with name %s already exists.", name))
	}
	r := &role{Name: name, Path: path, RoleID: newID("AROA"), CreateDate: c.now, TrustPolicy: trust, trust: parsed,
		Description: desc, MaxSessionDuration: maxDur, Tags: tags}
	s.st.Roles[key] = r
	return createRoleResult{Role: s.roleElement(r, false)}, nil
}

func reservedTagKeys(tags []tag) *apiError {
	for _, t := range tags {
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return errInvalidInput("User is not authorized to work with tags that begin with aws: prefix.")
		}
	}
	return nil
}

func (s *Server) deleteRole(c *call) (any, *apiError) {
	var v validator
	name := c.roleName(&v)
	if err := v.err(); err != nil {
		return nil, err
	}
	arn, _ := s.roleResourceARN(name)
	if err := s.authorize(c, "iam:DeleteRole", arn, nil, nil); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	r := s.st.Roles[key]
	if r == nil {
		return nil, errNoSuchRole(name)
	}
	if len(r.Policies) > 0 {
		return nil, errDeleteConflict("Cannot delete entity, must delete policies first.")
	}
	delete(s.st.Roles, key)
	return nil, nil
}

func (s *Server) tagRole(c *call) (any, *apiError) {
	var v validator
	name := c.roleName(&v)
	tags, sent := c.tagList("Tags")
	if !sent {
		v.fail(nil, "tags", "not be null")
	}
	v.tags(tags, "tags")
	if err := v.err(); err != nil {
		return nil, err
	}
	arn, _ := s.roleResourceARN(name)
	if err := s.authorize(c, "iam:TagRole", arn, nil, nil); err != nil {
		return nil, err
	}
	if duplicateTagKey(tags) {
		return nil, errInvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
	}
	if err := reservedTagKeys(tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.Roles[strings.ToLower(name)]
	if r == nil {
		return nil, errNoSuchRole(name)
	}
	merged := append([]tag(nil), r.Tags...)
	for _, t := range tags {
		replaced := false
		for i := range merged {
			if strings.EqualFold(merged[i].Key, t.Key) {
				merged[i] = t
				replaced = true
			}
		}
		if !replaced {
			merged = append(merged, t)
		}
	}
	if len(merged) > maxRoleTags {
		return nil, errLimitExceeded(fmt.Sprintf("Cannot exceed quota for TagsPerRole: %d", maxRoleTags))
	}
	sort.Slice(merged, func(i, j int) bool { return merged[i].Key < merged[j].Key })
	r.Tags = merged
	return nil, nil
}

func (s *Server) putRolePolicy(c *call) (any, *apiError) {
	var v validator
	name := c.roleName(&v)
	polName := c.policyName(&v)
	doc, sent := c.param("PolicyDocument")
	if v.required(doc, sent, "policyDocument") {
		v.length(doc, "policyDocument", 1, 131072)
		if doc != "" {
			v.pattern(doc, "policyDocument", policyTextRe, `[\u0009\u000A\u000D\u0020-\u00FF]+`)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	arn, _ := s.roleResourceARN(name)
	if err := s.authorize(c, "iam:PutRolePolicy", arn, nil, nil); err != nil {
		return nil, err
	}
	parsed, err := iameval.Parse(doc, iameval.Identity)
	if err != nil {
		return nil, errMalformedPolicy(err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.Roles[strings.ToLower(name)]
	if r == nil {
		return nil, errNoSuchRole(name)
	}
	total := policySize(doc)
	for _, p := range r.Policies {
		if p.Name != polName {
			total += policySize(p.Document)
		}
	}
	if total > inlinePolicyAggregateLimit {
		return nil, errLimitExceeded(fmt.Sprintf("Maximum policy size of %d bytes exceeded for role %s", inlinePolicyAggregateLimit, r.Name))
	}
	if i, _ := findPolicy(r.Policies, polName); i >= 0 {
		r.Policies[i] = &inlinePolicy{Name: polName, Document: doc, parsed: parsed}
	} else {
		r.Policies = append(r.Policies, &inlinePolicy{Name: polName, Document: doc, parsed: parsed})
		sortPolicies(r.Policies)
	}
	return nil, nil
}

func errNoSuchRolePolicy(name string) *apiError {
	return errNoSuchEntity(fmt.Sprintf("The role policy with name %s cannot be found.", name))
}

func (s *Server) getRolePolicy(c *call) (any, *apiError) {
	var v validator
	name := c.roleName(&v)
	polName := c.policyName(&v)
	if err := v.err(); err != nil {
		return nil, err
	}
	arn, _ := s.roleResourceARN(name)
	if err := s.authorize(c, "iam:GetRolePolicy", arn, nil, nil); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.st.Roles[strings.ToLower(name)]
	if r == nil {
		return nil, errNoSuchRole(name)
	}
	_, p := findPolicy(r.Policies, polName)
	if p == nil {
		return nil, errNoSuchRolePolicy(polName)
	}
	return getRolePolicyResult{RoleName: r.Name, PolicyName: p.Name, PolicyDocument: iamURLEncode(p.Document)}, nil
}

func (s *Server) listRolePolicies(c *call) (any, *apiError) {
	var v validator
	name := c.roleName(&v)
	maxItems := defaultListMaxItems
	if raw, sent := c.param("MaxItems"); sent {
		if n, ok := v.intRange(raw, "maxItems", 1, 1000); ok {
			maxItems = n
		}
	}
	marker, sentMarker := c.param("Marker")
	if sentMarker {
		v.length(marker, "marker", 1, 320)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	arn, _ := s.roleResourceARN(name)
	if err := s.authorize(c, "iam:ListRolePolicies", arn, nil, nil); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.st.Roles[strings.ToLower(name)]
	if r == nil {
		return nil, errNoSuchRole(name)
	}
	start := 0
	if sentMarker {
		n, err := strconv.Atoi(strings.TrimPrefix(marker, "m"))
		if err != nil || !strings.HasPrefix(marker, "m") || n < 0 || n > len(r.Policies) {
			return nil, errInvalidInput("Invalid Marker.")
		}
		start = n
	}
	res := listRolePoliciesResult{PolicyNames: namesEl{Members: []string{}}}
	end := start + maxItems
	if end > len(r.Policies) {
		end = len(r.Policies)
	}
	for _, p := range r.Policies[start:end] {
		res.PolicyNames.Members = append(res.PolicyNames.Members, p.Name)
	}
	if end < len(r.Policies) {
		res.IsTruncated, res.Marker = true, "m"+strconv.Itoa(end)
	}
	return res, nil
}

func (s *Server) deleteRolePolicy(c *call) (any, *apiError) {
	var v validator
	name := c.roleName(&v)
	polName := c.policyName(&v)
	if err := v.err(); err != nil {
		return nil, err
	}
	arn, _ := s.roleResourceARN(name)
	if err := s.authorize(c, "iam:DeleteRolePolicy", arn, nil, nil); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.Roles[strings.ToLower(name)]
	if r == nil {
		return nil, errNoSuchRole(name)
	}
	i, _ := findPolicy(r.Policies, polName)
	if i < 0 {
		return nil, errNoSuchRolePolicy(polName)
	}
	r.Policies = append(r.Policies[:i], r.Policies[i+1:]...)
	return nil, nil
}

func (s *Server) accountID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.AccountID
}
