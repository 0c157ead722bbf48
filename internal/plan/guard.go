package plan

import (
	"fmt"
	"math"
	"strconv"
)

// The names of the guard's limits, as handoff.hcl's policy block writes
// them and RevocationGuard.Exceeded lists them.
const (
	LimitMaxRevocations     = "max_revocations"
	LimitMaxRevocationShare = "max_revocation_share"
)

// AllowMassRevocationFlag is the flag of `handoff apply` that applies a
// plan whose revocation guard tripped.
const AllowMassRevocationFlag = "-allow-mass-revocation"

// RevocationGuard is the mass-revocation guard's account of a plan: how
// many live handoffs it revokes before their TTL ends because their spec
// is gone, against the policy's limits. A wrong directory, a lost specs/
// folder or a bad merge reads exactly like "every spec was deleted"; the
// guard makes apply refuse such a plan unless the operator passes
// AllowMassRevocationFlag.
//
// What counts: a live handoff whose spec is gone and whose TTL has not
// ended (an active manifest, or a folder of leftovers without a usable
// manifest), revoked by this plan's own decision. What does not: a
// revocation at the end of the TTL (Expired: the normal end of every
// handoff, H3, which the guard must never delay), the end of a revocation
// already under way (an operator's kill switch, or an apply that stopped
// part-way), the surfaces a changed spec drops, and `handoff revoke`,
// which never plans.
type RevocationGuard struct {
	// Live is the number of handoffs that hold credentials now (an active
	// manifest, or leftovers without a usable one), whatever this plan
	// does to them.
	Live int `json:"live"`
	// Revocations is the number of handoffs that count, Slugs their
	// slugs, sorted.
	Revocations int      `json:"revocations"`
	Slugs       []string `json:"slugs"`
	// Expired is the number of handoffs revoked at the end of their TTL;
	// they do not count.
	Expired int `json:"expired"`
	// MaxRevocations and MaxRevocationShare are the limits the plan was
	// checked against: the policy's max_revocations, and its
	// max_revocation_share as written ("50%").
	MaxRevocations     int    `json:"max_revocations"`
	MaxRevocationShare string `json:"max_revocation_share"`
	// Tripped says a limit is exceeded: apply refuses the plan unless run
	// with AllowMassRevocationFlag. Exceeded names the limits
	// (LimitMaxRevocations, LimitMaxRevocationShare).
	Tripped  bool     `json:"tripped"`
	Exceeded []string `json:"exceeded,omitempty"`
}

// RevocationLimits are the policy's bounds on the revocations of one plan.
type RevocationLimits struct {
	// Count: at most this many handoffs (max_revocations).
	Count int
	// SharePercent: at most this share of the live handoffs, in percent,
	// 0 to 100 (max_revocation_share). A single revocation never exceeds
	// it: in a repository of one or two handoffs, deleting a spec is not
	// a mass revocation.
	SharePercent float64
}

// Share renders SharePercent as handoff.hcl writes it: "50%", "12.5%".
func (l RevocationLimits) Share() string {
	return strconv.FormatFloat(l.SharePercent, 'f', -1, 64) + "%"
}

// Exceeded returns the limits that n revocations out of live handoffs
// exceed, in the order of the constants.
func (l RevocationLimits) Exceeded(n, live int) []string {
	var out []string
	if n > l.Count {
		out = append(out, LimitMaxRevocations)
	}
	if n >= 2 && float64(n)*100 > l.SharePercent*float64(live) {
		out = append(out, LimitMaxRevocationShare)
	}
	return out
}

// NewRevocationGuard returns the guard's account of slugs (the handoffs
// that count) among live handoffs, expired more revoked at the end of
// their TTL, checked against lim.
func NewRevocationGuard(live int, slugs []string, expired int, lim RevocationLimits) *RevocationGuard {
	g := &RevocationGuard{Live: live, Revocations: len(slugs), Slugs: append([]string{}, slugs...), Expired: expired}
	g.Check(lim)
	return g
}

// Check sets the limits, Tripped and Exceeded from g's counts and lim.
func (g *RevocationGuard) Check(lim RevocationLimits) {
	g.MaxRevocations, g.MaxRevocationShare = lim.Count, lim.Share()
	g.Exceeded = lim.Exceeded(g.Revocations, g.Live)
	g.Tripped = len(g.Exceeded) > 0
}

// Percent is the share of the live handoffs that count, rounded up to a
// whole percent (so that a share just above a limit never reads as equal
// to it).
func (g *RevocationGuard) Percent() int {
	if g.Live <= 0 {
		return 0
	}
	return int(math.Ceil(float64(g.Revocations) * 100 / float64(g.Live)))
}

// Sentence says what the guard found, with the numbers: "12 of the 14
// live handoffs (86%) would be revoked before their TTL ends, their specs
// gone; the policy allows at most 10 and 50% (max_revocations,
// max_revocation_share in handoff.hcl)".
func (g *RevocationGuard) Sentence() string {
	return fmt.Sprintf("%d of the %d live %s (%d%%) would be revoked before their TTL ends, their specs gone; "+
		"the policy allows at most %d and %s (%s, %s in handoff.hcl)",
		g.Revocations, g.Live, oneOrMany(g.Live, "handoff", "handoffs"), g.Percent(),
		g.MaxRevocations, g.MaxRevocationShare, LimitMaxRevocations, LimitMaxRevocationShare)
}
