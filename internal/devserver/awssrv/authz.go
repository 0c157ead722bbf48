package awssrv

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/devserver/awssrv/iameval"
)

// Decision is one authorization decision the server made, for tests.
type Decision struct {
	Time      time.Time
	Principal string // caller ARN
	Action    string
	Resource  string
	Allowed   bool
	// Reason is empty when allowed, else the tail of the AccessDenied
	// message ("because no session policy allows ...").
	Reason string
}

const decisionLogCap = 5000

// authzTarget is the resource-based side of a request: the role of an
// sts:AssumeRole (whose trust policy must allow).
type authzTarget struct {
	trust *iameval.Policy
}

// requestContext builds the condition keys of a request by caller. Callers
// hold s.mu (read).
func (s *Server) requestContext(c *call, p *principal) *iameval.Context {
	st := s.st
	ctx := &iameval.Context{}
	ctx.Set("aws:CurrentTime", c.now.Format(time.RFC3339))
	ctx.Set("aws:EpochTime", strconv.FormatInt(c.now.Unix(), 10))
	ctx.Set("aws:SecureTransport", strconv.FormatBool(c.r.TLS != nil))
	if host, _, err := net.SplitHostPort(c.r.RemoteAddr); err == nil {
		ctx.Set("aws:SourceIp", host)
	}
	if c.region != "" {
		ctx.Set("aws:RequestedRegion", c.region)
	}
	ctx.Set("aws:PrincipalAccount", st.AccountID)
	tags := map[string]string{}
	if p.sess != nil {
		ss := p.sess
		ctx.Set("aws:PrincipalArn", ss.RoleARN)
		ctx.Set("aws:PrincipalType", "AssumedRole")
		ctx.Set("aws:userid", ss.RoleID+":"+ss.SessionName)
		ctx.Set("aws:TokenIssueTime", ss.IssuedAt.Format(time.RFC3339Nano))
		if ss.SourceIdentity != "" {
			ctx.Set("aws:SourceIdentity", ss.SourceIdentity)
		}
		if r := st.Roles[ss.Role]; r != nil {
			for _, t := range r.Tags {
				tags[strings.ToLower(t.Key)] = t.Value
			}
		}
		// Session tags override the role's tags of the same key.
		for _, t := range ss.Tags {
			tags[strings.ToLower(t.Key)] = t.Value
		}
	} else {
		u := p.user
		ctx.Set("aws:PrincipalArn", u.arn(st.AccountID))
		ctx.Set("aws:PrincipalType", "User")
		ctx.Set("aws:userid", u.UserID)
		ctx.Set("aws:username", u.Name)
		for _, t := range u.Tags {
			tags[strings.ToLower(t.Key)] = t.Value
		}
	}
	for k, v := range tags {
		ctx.Set("aws:PrincipalTag/"+k, v)
	}
	return ctx
}

// authorize decides whether c.caller may perform action on resource, with
// extra condition keys set by the operation. target is non-nil for
// sts:AssumeRole (the role's trust policy). The answer to a refusal is
// AccessDenied in AWS's current words, naming the principal, the action,
// the resource and the kind of policy that denied or failed to allow.
func (s *Server) authorize(c *call, action, resource string, extra func(*iameval.Context), target *authzTarget) *apiError {
	s.mu.RLock()
	st := s.st
	p := c.caller
	ctx := s.requestContext(c, p)
	if extra != nil {
		extra(ctx)
	}
	in := iameval.Input{}
	req := &iameval.Request{Action: action, Resource: resource, Context: ctx,
		Principal: iameval.Principal{Account: st.AccountID, ARNs: []string{p.arn(st.AccountID)}}}
	if p.sess != nil {
		req.Principal.ARNs = append(req.Principal.ARNs, p.sess.RoleARN)
		// The role's policies as they are now: a Deny added to the role
		// applies at once to sessions already issued. A role deleted and
		// created again under the same name is another role (another
		// RoleId): the old sessions get no permissions from it.
		if r := st.Roles[p.sess.Role]; r != nil && r.RoleID == p.sess.RoleID {
			for _, pol := range r.Policies {
				in.Identity = append(in.Identity, pol.parsed)
			}
		}
		if p.sess.policy != nil {
			in.Session = p.sess.policy
		}
	} else {
		for _, pol := range p.user.Policies {
			in.Identity = append(in.Identity, pol.parsed)
		}
	}
	if target != nil {
		in.Resource, in.ResourceRequired = target.trust, true
	}
	callerARN := p.arn(st.AccountID)
	s.mu.RUnlock()

	d := iameval.Decide(in, req)
	rec := Decision{Time: c.now, Principal: callerARN, Action: action, Resource: resource, Allowed: d.Allowed}
	var apiErr *apiError
	if !d.Allowed {
		msg := "User: " + callerARN + " is not authorized to perform: " + action + " on resource: " + resource
		switch {
		case d.Explicit:
			rec.Reason = "with an explicit deny in " + article(d.Type) + " policy"
		case d.Type == iameval.ResourceBased && target != nil:
			// A role whose trust policy does not name the caller: AWS says
			// no more than that the caller is not authorized.
		default:
			rec.Reason = "because no " + string(d.Type) + " policy allows the " + action + " action"
		}
		if rec.Reason != "" {
			msg += " " + rec.Reason
		}
		apiErr = errAccessDenied(msg)
	}
	s.logMu.Lock()
	if len(s.decisions) >= decisionLogCap {
		s.decisions = append(s.decisions[:0], s.decisions[len(s.decisions)-decisionLogCap/2:]...)
	}
	s.decisions = append(s.decisions, rec)
	s.logMu.Unlock()
	return apiErr
}

func article(t iameval.PolicyType) string {
	if t == iameval.IdentityBased {
		return "an identity-based"
	}
	return "a " + string(t)
}
