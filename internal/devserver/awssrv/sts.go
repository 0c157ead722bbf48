package awssrv

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/awssrv/iameval"
)

// Limits of sts:AssumeRole.
const (
	// sessionPolicyMaxChars is the documented plaintext limit of the Policy
	// parameter.
	sessionPolicyMaxChars = 2048
	// chainedMaxDuration caps sessions assumed with role-session
	// credentials (role chaining).
	chainedMaxDuration = 3600
	// packedCapacity is the size of the packed binary form of session
	// policies and tags in this server's model (see packedPercent).
	packedCapacity = 1024
)

type assumeRoleResult struct {
	XMLName          xml.Name          `xml:"AssumeRoleResult"`
	SourceIdentity   string            `xml:"SourceIdentity,omitempty"`
	AssumedRoleUser  assumedRoleUserEl `xml:"AssumedRoleUser"`
	Credentials      credentialsEl     `xml:"Credentials"`
	PackedPolicySize *int              `xml:"PackedPolicySize,omitempty"`
}

type assumedRoleUserEl struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type credentialsEl struct {
	AccessKeyID     string  `xml:"AccessKeyId"`
	SecretAccessKey string  `xml:"SecretAccessKey"`
	SessionToken    string  `xml:"SessionToken"`
	Expiration      xmlTime `xml:"Expiration"`
}

type getCallerIdentityResult struct {
	XMLName xml.Name `xml:"GetCallerIdentityResult"`
	Arn     string   `xml:"Arn"`
	UserID  string   `xml:"UserId"`
	Account string   `xml:"Account"`
}

// getCallerIdentity needs no permission: AWS answers it even when a policy
// denies sts:GetCallerIdentity explicitly.
func (s *Server) getCallerIdentity(c *call) (any, *apiError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	acct := s.st.AccountID
	res := getCallerIdentityResult{Arn: c.caller.arn(acct), Account: acct}
	if ss := c.caller.sess; ss != nil {
		res.UserID = ss.RoleID + ":" + ss.SessionName
	} else {
		res.UserID = c.caller.user.UserID
	}
	return res, nil
}

func (s *Server) assumeRole(c *call) (any, *apiError) {
	var v validator
	roleARN, sentARN := c.param("RoleArn")
	if v.required(roleARN, sentARN, "roleArn") {
		v.length(roleARN, "roleArn", 20, 2048)
	}
	sessName, sentName := c.param("RoleSessionName")
	if v.required(sessName, sentName, "roleSessionName") {
		v.length(sessName, "roleSessionName", 2, 64)
		v.pattern(sessName, "roleSessionName", nameTokenRe, `[\w+=,.@-]*`)
	}
	duration := 3600
	rawDur, sentDur := c.param("DurationSeconds")
	if sentDur {
		if n, ok := v.intRange(rawDur, "durationSeconds", 900, 43200); ok {
			duration = n
		}
	}
	sourceID, sentSI := c.param("SourceIdentity")
	if sentSI {
		v.length(sourceID, "sourceIdentity", 2, 64)
		v.pattern(sourceID, "sourceIdentity", nameTokenRe, `[\w+=,.@-]*`)
	}
	externalID, sentExt := c.param("ExternalId")
	if sentExt {
		v.length(externalID, "externalId", 2, 1224)
		v.pattern(externalID, "externalId", externalIDRe, `[\w+=,.@:\/-]*`)
	}
	policy, sentPolicy := c.param("Policy")
	if sentPolicy {
		v.length(policy, "policy", 1, 0)
		if policy != "" {
			v.pattern(policy, "policy", policyTextRe, `[\u0009\u000A\u000D\u0020-\u00FF]+`)
		}
	}
	tags, sentTags := c.tagList("Tags")
	v.tags(tags, "tags")
	transitive := c.memberList("TransitiveTagKeys")
	if len(transitive) > 50 {
		n := strconv.Itoa(len(transitive))
		v.fail(&n, "transitiveTagKeys", "have length less than or equal to 50")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if policy != "" && len(policy) > sessionPolicyMaxChars {
		return nil, errValidation(fmt.Sprintf("Value '%s' at 'policy' failed to satisfy constraint: Member must have length less than or equal to %d", policy, sessionPolicyMaxChars))
	}
	if _, sent := c.param("PolicyArns.member.1.arn"); sent {
		// Managed policies are not modelled by this server.
		return nil, errInvalidParameterValue("PolicyArns are not supported by the local AWS server; pass an inline session policy.")
	}
	caller := c.caller
	chained := caller.sess != nil
	if chained && duration > chainedMaxDuration {
		return nil, errValidationMsg("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if duplicateTagKey(tags) {
		return nil, errInvalidParameterValue("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
	}
	tagKeys := map[string]bool{}
	for _, t := range tags {
		tagKeys[strings.ToLower(t.Key)] = true
	}
	for _, k := range transitive {
		if !tagKeys[strings.ToLower(k)] {
			return nil, errInvalidParameterValue("The specified transitive tag key must be included in the requested tags.")
		}
	}
	if _, sent := c.param("SerialNumber"); sent {
		return nil, errAccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code. ")
	}

	// Role chaining: the source identity and transitive tags persist.
	if chained {
		prev := caller.sess
		if prev.SourceIdentity != "" {
			if sentSI && sourceID != prev.SourceIdentity {
				return nil, errAccessDenied(fmt.Sprintf("User: %s is not authorized to perform: sts:SetSourceIdentity on resource: %s because the source identity of a role session cannot be changed",
					s.callerARN(c), roleARN))
			}
			sourceID = prev.SourceIdentity
		}
		for _, k := range prev.TransitiveTagKeys {
			for _, t := range prev.Tags {
				if strings.EqualFold(t.Key, k) && !tagKeys[strings.ToLower(k)] {
					tags = append(tags, t)
					transitive = append(transitive, t.Key)
					tagKeys[strings.ToLower(k)] = true
				}
			}
		}
	}

	s.mu.RLock()
	acct := s.st.AccountID
	r := s.roleByARN(roleARN)
	target := &authzTarget{}
	if r != nil {
		target.trust = r.trust
	}
	s.mu.RUnlock()

	extra := func(ctx *iameval.Context) {
		ctx.Set("sts:RoleSessionName", sessName)
		if sentExt {
			ctx.Set("sts:ExternalId", externalID)
		}
		if sentSI {
			ctx.Set("sts:SourceIdentity", sourceID)
		}
		if len(tags) > 0 {
			keys := make([]string, 0, len(tags))
			for _, t := range tags {
				ctx.Set("aws:RequestTag/"+t.Key, t.Value)
				keys = append(keys, t.Key)
			}
			ctx.Set("aws:TagKeys", keys...)
		}
		if len(transitive) > 0 {
			ctx.Set("sts:TransitiveTagKeys", transitive...)
		}
	}
	if err := s.authorize(c, "sts:AssumeRole", roleARN, extra, target); err != nil {
		return nil, err
	}
	if sentTags && len(tags) > 0 {
		if err := s.authorize(c, "sts:TagSession", roleARN, extra, target); err != nil {
			return nil, err
		}
	}
	if sentSI {
		if err := s.authorize(c, "sts:SetSourceIdentity", roleARN, extra, target); err != nil {
			return nil, err
		}
	}
	if sentDur && duration > r.MaxSessionDuration {
		return nil, errValidationMsg("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	var parsed *iameval.Policy
	if policy != "" {
		p, err := iameval.Parse(policy, iameval.Session)
		if err != nil {
			return nil, errMalformedPolicy(err.Error())
		}
		parsed = p
	}
	var packed *int
	if policy != "" || len(tags) > 0 {
		pct := packedPercent(policy, tags, transitive)
		if pct > 100 {
			what := "session policy"
			switch {
			case policy == "":
				what = "session tags"
			case len(tags) > 0:
				what = "session policy and session tags"
			}
			return nil, errPackedPolicyTooLarge(fmt.Sprintf("Packed size of %s consumes %d%% of allotted space.", what, pct))
		}
		packed = &pct
	}

	now := c.now
	ss := &session{
		AccessKeyID: newKeyID("ASIA"), SecretAccessKey: newSecret(), SessionToken: newSessionToken(),
		Role: strings.ToLower(r.Name), RoleARN: r.arn(acct), RoleID: r.RoleID, SessionName: sessName,
		SourceIdentity: sourceID, Tags: tags, TransitiveTagKeys: transitive, Policy: policy, policy: parsed,
		IssuedAt: now, Expiration: now.Add(time.Duration(duration) * time.Second).Truncate(time.Second),
		Caller: s.callerARN(c), Chained: chained,
	}
	if packed != nil {
		ss.PackedPolicySize = *packed
	}
	s.mu.Lock()
	s.st.pruneSessions(now)
	s.st.Sessions[ss.AccessKeyID] = ss
	if live := s.st.Roles[strings.ToLower(r.Name)]; live != nil {
		t := now
		live.LastUsed, live.LastUsedRegion = &t, c.region
	}
	s.mu.Unlock()

	return assumeRoleResult{
		SourceIdentity:  sourceID,
		AssumedRoleUser: assumedRoleUserEl{AssumedRoleID: r.RoleID + ":" + sessName, Arn: ss.arn(acct)},
		Credentials: credentialsEl{AccessKeyID: ss.AccessKeyID, SecretAccessKey: ss.SecretAccessKey,
			SessionToken: ss.SessionToken, Expiration: xmlTime(ss.Expiration)},
		PackedPolicySize: packed,
	}, nil
}

func (s *Server) callerARN(c *call) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return c.caller.arn(s.st.AccountID)
}

// roleByARN finds the role an ARN names in this account, path included.
// Callers hold s.mu.
func (s *Server) roleByARN(arn string) *role {
	prefix := "arn:aws:iam::" + s.st.AccountID + ":role/"
	rest, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		return nil
	}
	name := rest[strings.LastIndex(rest, "/")+1:]
	r := s.st.Roles[strings.ToLower(name)]
	if r == nil || r.arn(s.st.AccountID) != arn {
		return nil
	}
	return r
}

// pruneSessions forgets sessions that expired more than a day ago.
func (st *state) pruneSessions(now time.Time) {
	for k, ss := range st.Sessions {
		if now.Sub(ss.Expiration) > 24*time.Hour {
			delete(st.Sessions, k)
		}
	}
}

// packedPercent models STS's packed size: the session policy, compacted
// and deflated, plus every tag key and value with a small overhead, as a
// percentage of a fixed capacity. AWS does not publish its packing; the
// model keeps its observable shape (policies compress, tags are expensive,
// a full 2,048-character policy fits, fifty long tags do not).
func packedPercent(policy string, tags []tag, transitive []string) int {
	n := 0
	if policy != "" {
		var compact bytes.Buffer
		if json.Compact(&compact, []byte(policy)) != nil {
			compact.Reset()
			compact.WriteString(policy)
		}
		var z bytes.Buffer
		w, _ := flate.NewWriter(&z, flate.BestCompression)
		_, _ = w.Write(compact.Bytes())
		_ = w.Close()
		n += z.Len()
	}
	for _, t := range tags {
		n += len(t.Key) + len(t.Value) + 8
	}
	for _, k := range transitive {
		n += len(k) + 2
	}
	return int(math.Ceil(100 * float64(n) / packedCapacity))
}
