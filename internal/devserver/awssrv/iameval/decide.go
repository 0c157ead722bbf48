package iameval

// PolicyType names a kind of policy in AccessDenied messages.
type PolicyType string

// The policy types AWS names in AccessDenied messages.
const (
	IdentityBased PolicyType = "identity-based"
	SessionPolicy PolicyType = "session"
	ResourceBased PolicyType = "resource-based"
)

// Input is every policy that applies to one request, for Decide.
type Input struct {
	// Identity holds the caller's identity-based policies: an IAM user's
	// inline policies, or for a role session the role's inline policies.
	Identity []*Policy
	// Session is the session policy of a role session (nil: none passed).
	Session *Policy
	// Resource is the resource-based policy of the target, when it has one
	// (the trust policy of a role for sts:AssumeRole).
	Resource *Policy
	// ResourceRequired says the resource-based policy must allow whatever
	// the identity policies say: true for role trust policies, which are
	// both a resource-based policy and a gate.
	ResourceRequired bool
}

// Decision is the outcome of a request.
type Decision struct {
	Allowed bool
	// Explicit is set when a Deny statement matched.
	Explicit bool
	// Type is the kind of policy that denied (Explicit) or that failed to
	// allow; empty when allowed.
	Type PolicyType
	// Sid is the Sid of the deciding Deny statement, if it has one.
	Sid string
}

// Decide evaluates a same-account request the way AWS does: an explicit
// Deny in any policy wins; a trust policy that names the caller directly
// allows on its own (still bounded by a session policy); otherwise the
// identity-based policies must allow, the session policy (if any) must
// allow, and a required resource-based policy must allow.
func Decide(in Input, r *Request) Decision {
	var idAllow bool
	for _, p := range in.Identity {
		switch m := p.Eval(r); m.Effect {
		case Denied:
			return Decision{Explicit: true, Type: IdentityBased, Sid: m.Sid}
		case Allowed:
			idAllow = true
		}
	}
	var sess Match
	if in.Session != nil {
		sess = in.Session.Eval(r)
		if sess.Effect == Denied {
			return Decision{Explicit: true, Type: SessionPolicy, Sid: sess.Sid}
		}
	}
	var res Match
	if in.Resource != nil {
		res = in.Resource.Eval(r)
		if res.Effect == Denied {
			return Decision{Explicit: true, Type: ResourceBased, Sid: res.Sid}
		}
	}
	if in.ResourceRequired && res.Effect != Allowed {
		return Decision{Type: ResourceBased}
	}
	if !(res.Effect == Allowed && res.Direct) && !idAllow {
		return Decision{Type: IdentityBased}
	}
	if in.Session != nil && sess.Effect != Allowed {
		return Decision{Type: SessionPolicy}
	}
	return Decision{Allowed: true}
}
