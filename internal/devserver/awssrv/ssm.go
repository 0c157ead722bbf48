package awssrv

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// epochTime is a timestamp as the JSON protocol writes it: seconds since
// the epoch, with a fraction.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	return []byte(strconv.FormatFloat(float64(tt.UnixMilli())/1000, 'f', -1, 64)), nil
}

// parameterEl is the Parameter shape.
type parameterEl struct {
	ARN              string    `json:"ARN"`
	DataType         string    `json:"DataType"`
	LastModifiedDate epochTime `json:"LastModifiedDate"`
	Name             string    `json:"Name"`
	Selector         string    `json:"Selector,omitempty"`
	Type             string    `json:"Type"`
	Value            string    `json:"Value"`
	Version          int64     `json:"Version"`
}

type getParameterResult struct {
	Parameter parameterEl `json:"Parameter"`
}

type getParametersResult struct {
	InvalidParameters []string      `json:"InvalidParameters"`
	Parameters        []parameterEl `json:"Parameters"`
}

type getParametersByPathResult struct {
	NextToken  string        `json:"NextToken,omitempty"`
	Parameters []parameterEl `json:"Parameters"`
}

// Input readers for the JSON protocol: a member of the wrong type is a
// SerializationException, as the service answers.

func (c *call) jsonString(name string) (string, bool, *apiError) {
	c.read(name)
	raw, ok := c.jsonIn[name]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", true, errSerialization(fmt.Sprintf("STRING_VALUE can not be converted to %s", name))
	}
	return s, true, nil
}

func (c *call) jsonBool(name string) (bool, *apiError) {
	c.read(name)
	raw, ok := c.jsonIn[name]
	if !ok || string(raw) == "null" {
		return false, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) != nil {
		return false, errSerialization(fmt.Sprintf("NUMBER_VALUE can not be converted to a Boolean (%s)", name))
	}
	return b, nil
}

func (c *call) jsonInt(name string) (int, bool, *apiError) {
	c.read(name)
	raw, ok := c.jsonIn[name]
	if !ok || string(raw) == "null" {
		return 0, false, nil
	}
	var n int
	if json.Unmarshal(raw, &n) != nil {
		return 0, true, errSerialization(fmt.Sprintf("STRING_VALUE can not be converted to an Integer (%s)", name))
	}
	return n, true, nil
}

func (c *call) jsonStrings(name string) ([]string, bool, *apiError) {
	c.read(name)
	raw, ok := c.jsonIn[name]
	if !ok || string(raw) == "null" {
		return nil, false, nil
	}
	var l []string
	if json.Unmarshal(raw, &l) != nil {
		return nil, true, errSerialization(fmt.Sprintf("Unexpected list element type for %s", name))
	}
	return l, true, nil
}

// parameterARN is the ARN IAM authorizes a parameter (or path) by.
func (s *Server) parameterARN(region, name string) string {
	s.mu.RLock()
	acct := s.st.AccountID
	s.mu.RUnlock()
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return "arn:aws:ssm:" + region + ":" + acct + ":parameter" + name
}

// lookupParam finds a parameter visible in region (parameters live in the
// fixture's region only, as Parameter Store is regional). Callers hold s.mu.
func (s *Server) lookupParam(region, name string) *parameter {
	if region != s.st.Region {
		return nil
	}
	return s.st.Params[name]
}

func (s *Server) paramElement(c *call, p *parameter, decrypt bool, selector string) parameterEl {
	el := parameterEl{ARN: s.parameterARN(c.region, p.Name), DataType: "text", LastModifiedDate: epochTime(p.LastModified),
		Name: p.Name, Selector: selector, Type: p.Type, Value: p.Value, Version: p.Version}
	if p.Type == "SecureString" && !decrypt {
		el.Value = p.Ciphertext
	}
	return el
}

// splitSelector separates "name:version" or "name:label".
func splitSelector(name string) (string, string) {
	i := strings.LastIndexByte(name, ':')
	if i <= 0 {
		return name, ""
	}
	return name[:i], name[i:]
}

func validName(v *validator, name, member string) string {
	name = strings.TrimSpace(name)
	v.length(name, member, 1, 2048)
	if strings.ContainsAny(name, " \t\n") {
		v.fail(&name, member, "satisfy regular expression pattern: ^[^\\s]+$")
	}
	return name
}

func (s *Server) getParameter(c *call) (any, *apiError) {
	raw, sent, err := c.jsonString("Name")
	if err != nil {
		return nil, err
	}
	decrypt, err := c.jsonBool("WithDecryption")
	if err != nil {
		return nil, err
	}
	var v validator
	if !sent {
		v.fail(nil, "name", "not be null")
	}
	name := validName(&v, raw, "name")
	if e := v.err(); e != nil {
		return nil, e
	}
	base, selector := splitSelector(name)
	if e := s.authorize(c, "ssm:GetParameter", s.parameterARN(c.region, base), nil, nil); e != nil {
		return nil, e
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.lookupParam(c.region, base)
	if p == nil {
		return nil, errParameterNotFound()
	}
	if selector != "" {
		ver, perr := strconv.ParseInt(selector[1:], 10, 64)
		if perr != nil || ver != p.Version {
			return nil, errParameterVersionNotFound(fmt.Sprintf("Systems Manager could not find version %s of %s. Verify the version and try again.", selector[1:], base))
		}
	}
	return getParameterResult{Parameter: s.paramElement(c, p, decrypt, selector)}, nil
}

func (s *Server) getParameters(c *call) (any, *apiError) {
	names, sent, err := c.jsonStrings("Names")
	if err != nil {
		return nil, err
	}
	decrypt, err := c.jsonBool("WithDecryption")
	if err != nil {
		return nil, err
	}
	var v validator
	if !sent {
		v.fail(nil, "names", "not be null")
	} else if len(names) < 1 || len(names) > 10 {
		n := strconv.Itoa(len(names))
		if len(names) < 1 {
			v.fail(&n, "names", "have length greater than or equal to 1")
		} else {
			v.fail(&n, "names", "have length less than or equal to 10")
		}
	}
	for i := range names {
		names[i] = validName(&v, names[i], fmt.Sprintf("names.%d.member", i+1))
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	for _, n := range names {
		base, _ := splitSelector(n)
		if e := s.authorize(c, "ssm:GetParameters", s.parameterARN(c.region, base), nil, nil); e != nil {
			return nil, e
		}
	}
	res := getParametersResult{InvalidParameters: []string{}, Parameters: []parameterEl{}}
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		base, selector := splitSelector(n)
		p := s.lookupParam(c.region, base)
		if p == nil {
			res.InvalidParameters = append(res.InvalidParameters, n)
			continue
		}
		if selector != "" {
			if ver, perr := strconv.ParseInt(selector[1:], 10, 64); perr != nil || ver != p.Version {
				res.InvalidParameters = append(res.InvalidParameters, n)
				continue
			}
		}
		res.Parameters = append(res.Parameters, s.paramElement(c, p, decrypt, selector))
	}
	return res, nil
}

type pageToken struct {
	Path   string `json:"p"`
	Offset int    `json:"o"`
}

func (s *Server) getParametersByPath(c *call) (any, *apiError) {
	path, sent, err := c.jsonString("Path")
	if err != nil {
		return nil, err
	}
	recursive, err := c.jsonBool("Recursive")
	if err != nil {
		return nil, err
	}
	decrypt, err := c.jsonBool("WithDecryption")
	if err != nil {
		return nil, err
	}
	maxResults, sentMax, err := c.jsonInt("MaxResults")
	if err != nil {
		return nil, err
	}
	token, sentToken, err := c.jsonString("NextToken")
	if err != nil {
		return nil, err
	}
	var v validator
	if !sent {
		v.fail(nil, "path", "not be null")
	}
	path = validName(&v, path, "path")
	if sentMax {
		if maxResults < 1 || maxResults > 10 {
			n := strconv.Itoa(maxResults)
			if maxResults < 1 {
				v.fail(&n, "maxResults", "have value greater than or equal to 1")
			} else {
				v.fail(&n, "maxResults", "have value less than or equal to 10")
			}
		}
	} else {
		maxResults = 10
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	if !strings.HasPrefix(path, "/") {
		return nil, errValidationMsg("The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\" if it's hierarchical.")
	}
	typeFilter, ferr := c.typeFilter()
	if ferr != nil {
		return nil, ferr
	}
	resourcePath := path
	if len(resourcePath) > 1 {
		resourcePath = strings.TrimSuffix(resourcePath, "/")
	}
	if e := s.authorize(c, "ssm:GetParametersByPath", s.parameterARN(c.region, resourcePath), nil, nil); e != nil {
		return nil, e
	}
	offset := 0
	if sentToken {
		b, derr := base64.RawURLEncoding.DecodeString(token)
		var pt pageToken
		if derr != nil || json.Unmarshal(b, &pt) != nil || pt.Path != path || pt.Offset < 0 {
			return nil, errInvalidNextToken()
		}
		offset = pt.Offset
	}
	prefix := path
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var names []string
	if c.region == s.st.Region {
		for name, p := range s.st.Params {
			rest, ok := strings.CutPrefix(name, prefix)
			if !ok || rest == "" || (!recursive && strings.Contains(rest, "/")) {
				continue
			}
			if typeFilter != nil && !typeFilter[p.Type] {
				continue
			}
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if offset > len(names) {
		return nil, errInvalidNextToken()
	}
	res := getParametersByPathResult{Parameters: []parameterEl{}}
	end := offset + maxResults
	if end > len(names) {
		end = len(names)
	}
	for _, n := range names[offset:end] {
		res.Parameters = append(res.Parameters, s.paramElement(c, s.st.Params[n], decrypt, ""))
	}
	if end < len(names) {
		b, _ := json.Marshal(pageToken{Path: path, Offset: end})
		res.NextToken = base64.RawURLEncoding.EncodeToString(b)
	}
	return res, nil
}

// typeFilter reads ParameterFilters; this server supports the Type key
// with the Equals option (others answer InvalidFilterKey / Option).
func (c *call) typeFilter() (map[string]bool, *apiError) {
	c.read("ParameterFilters")
	raw, ok := c.jsonIn["ParameterFilters"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var filters []struct {
		Key    string   `json:"Key"`
		Option string   `json:"Option"`
		Values []string `json:"Values"`
	}
	if json.Unmarshal(raw, &filters) != nil {
		return nil, errSerialization("Unexpected list element type for ParameterFilters")
	}
	if len(filters) == 0 {
		return nil, nil
	}
	out := map[string]bool{}
	for _, f := range filters {
		if f.Key != "Type" {
			return nil, &apiError{status: 400, code: "InvalidFilterKey", noMessage: true}
		}
		if f.Option != "" && f.Option != "Equals" {
			return nil, &apiError{status: 400, code: "InvalidFilterOption", message: fmt.Sprintf("The filter option %q is not valid for key Type.", f.Option)}
		}
		if len(f.Values) == 0 {
			return nil, &apiError{status: 400, code: "InvalidFilterValue", message: "The filter value is not valid."}
		}
		for _, v := range f.Values {
			out[v] = true
		}
	}
	return out, nil
}
