package aws

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/raxx-app/handoff/internal/provider/httpx"
)

// STS sessions cannot be revoked one by one. handoff revokes a handoff's
// live sessions at once with a statement in an inline policy of the role:
//
//	{"Sid":"HandoffDeny<slug>","Effect":"Deny","Action":"*","Resource":"*",
//	 "Condition":{"StringEquals":{"aws:SourceIdentity":"<slug>"},
//	              "DateLessThan":{"aws:TokenIssueTime":"<revocation time>"}}}
//
// It denies every session of that handoff issued before the revocation
// time, leaves other handoffs alone, and lets a later session of the same
// slug work (after an operator lifts the kill by deleting the statement).

// RevocationMargin is added to the role's MaxSessionDuration before an
// entry is pruned: clock skew between handoff and AWS, and sessions issued
// while MaxSessionDuration was being changed.
const RevocationMargin = 15 * time.Minute

// sidPrefix starts the Sid of every statement handoff manages; statements
// without it are never touched.
const sidPrefix = "HandoffDeny"

// DenyEntry is one handoff's revocation: sessions whose source identity is
// SourceIdentity and that were issued before Since are denied.
type DenyEntry struct {
	SourceIdentity string
	Since          time.Time
	Sid            string
}

// RevocationSid is the stable Sid of a source identity's statement. Sids
// must be alphanumeric: lower-case letters and digits are kept, every other
// byte becomes "Z" and two upper-case hex digits ("-" is "Z2D"), so the
// mapping is one-to-one for any source identity.
func RevocationSid(sourceIdentity string) string {
	var b strings.Builder
	b.WriteString(sidPrefix)
	for i := 0; i < len(sourceIdentity); i++ {
		ch := sourceIdentity[i]
		if ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' {
			b.WriteByte(ch)
			continue
		}
		fmt.Fprintf(&b, "Z%02X", ch)
	}
	return b.String()
}

// RoleName returns the role name of a role ARN
// (arn:aws:iam::ACCOUNT:role/PATH/NAME).
func RoleName(roleARN string) (string, error) {
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", fmt.Errorf("aws: %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", roleARN)
	}
	name := parts[5][strings.LastIndex(parts[5], "/")+1:]
	if name == "" {
		return "", fmt.Errorf("aws: %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", roleARN)
	}
	return name, nil
}

func newLocalError(op, msg, remedy string) *httpx.APIError {
	return &httpx.APIError{Surface: Surface, Op: op, Message: msg, Remedy: remedy}
}

// RoleMaxSession reads a role's MaxSessionDuration (GetRole).
func (c *Client) RoleMaxSession(ctx context.Context, roleARN string) (time.Duration, error) {
	name, err := RoleName(roleARN)
	if err != nil {
		return 0, err
	}
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	out, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: awssdk.String(name)})
	if err != nil {
		return 0, translate(ctx, "read role "+name, err)
	}
	d := time.Hour
	if out.Role != nil && out.Role.MaxSessionDuration != nil {
		d = time.Duration(*out.Role.MaxSessionDuration) * time.Second
	}
	return d, nil
}

// readPolicy reads an inline policy of a role; a missing policy is an empty
// document.
func (c *Client) readPolicy(ctx context.Context, role, policyName string) (Document, bool, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	out, err := c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: awssdk.String(role), PolicyName: awssdk.String(policyName)})
	if err != nil {
		terr := translate(ctx, "read revocation policy "+policyName+" of role "+role, err)
		var e *Error
		if errors.As(terr, &e) && e.Code == "NoSuchEntity" && strings.Contains(e.Message, "role policy with name") {
			return Document{Version: PolicyVersion}, false, nil
		}
		return Document{}, false, terr
	}
	raw, err := url.QueryUnescape(awssdk.ToString(out.PolicyDocument))
	if err != nil {
		return Document{}, false, fmt.Errorf("aws: read revocation policy %s of role %s: the document is not URL-encoded: %w", policyName, role, err)
	}
	doc, err := ParseDocument([]byte(raw))
	if err != nil {
		return Document{}, false, fmt.Errorf("aws: read revocation policy %s of role %s: %w", policyName, role, err)
	}
	return doc, true, nil
}

// entryOf reads a statement handoff wrote; ok is false for any other
// statement.
func entryOf(st Statement) (DenyEntry, bool) {
	if !strings.HasPrefix(st.Sid, sidPrefix) || st.Effect != Deny {
		return DenyEntry{}, false
	}
	si := st.Condition["StringEquals"]["aws:SourceIdentity"]
	at := st.Condition["DateLessThan"]["aws:TokenIssueTime"]
	if len(si) != 1 || len(at) != 1 {
		return DenyEntry{}, false
	}
	t, err := time.Parse(time.RFC3339, at[0])
	if err != nil {
		return DenyEntry{}, false
	}
	return DenyEntry{SourceIdentity: si[0], Since: t.UTC(), Sid: st.Sid}, true
}

func denyStatement(sourceIdentity string, before time.Time) Statement {
	return Statement{
		Sid: RevocationSid(sourceIdentity), Effect: Deny, Action: Value{"*"}, Resource: Value{"*"},
		Condition: Condition{
			"StringEquals": {"aws:SourceIdentity": Value{sourceIdentity}},
			"DateLessThan": {"aws:TokenIssueTime": Value{before.UTC().Format(time.RFC3339)}},
		},
	}
}

// DenySessions revokes every session of one handoff (its source identity)
// issued before issuedBefore, on one role. It reads the role's inline
// policy policyName (missing is empty), adds or moves forward the
// handoff's statement (never back: a revocation is not undone by a late
// retry), prunes handoff statements that can no longer match a live
// session (older than the role's MaxSessionDuration plus
// RevocationMargin), and writes the document back with PutRolePolicy when
// it changed. Statements handoff did not write are kept as they are. It is
// idempotent. The time is rounded up to the second, so a session issued in
// the same second is revoked too.
//
// Two DenySessions on the same role must not run at once (IAM has no
// conditional write); callers serialize them.
func (c *Client) DenySessions(ctx context.Context, roleARN, policyName, sourceIdentity string, issuedBefore time.Time) error {
	if sourceIdentity == "" || policyName == "" {
		return errors.New("aws: deny sessions: a source identity and a policy name are required")
	}
	role, err := RoleName(roleARN)
	if err != nil {
		return err
	}
	op := "revoke sessions of " + sourceIdentity + " on role " + role
	maxSession, err := c.RoleMaxSession(ctx, roleARN)
	if err != nil {
		return err
	}
	doc, existed, err := c.readPolicy(ctx, role, policyName)
	if err != nil {
		return err
	}
	before := issuedBefore.UTC()
	if t := before.Truncate(time.Second); !t.Equal(before) {
		before = t.Add(time.Second)
	}
	cutoff := c.now().Add(-(maxSession + RevocationMargin))
	want := RevocationSid(sourceIdentity)
	var kept []Statement
	found := false
	for _, st := range doc.Statement {
		e, ours := entryOf(st)
		switch {
		case !ours:
			kept = append(kept, st)
		case st.Sid == want || e.SourceIdentity == sourceIdentity:
			if found {
				continue // a duplicate of ours: drop it
			}
			found = true
			if e.Since.After(before) {
				before = e.Since
			}
			kept = append(kept, denyStatement(sourceIdentity, before))
		case e.Since.Before(cutoff):
			// Every session this entry could match has expired.
		default:
			kept = append(kept, st)
		}
	}
	if !found {
		kept = append(kept, denyStatement(sourceIdentity, before))
	}
	sortStatements(kept)
	next := Document{Version: PolicyVersion, ID: doc.ID, Statement: kept}
	body, err := next.JSON()
	if err != nil {
		return fmt.Errorf("aws: %s: %w", op, err)
	}
	if existed {
		if old, err := doc.normalized(); err == nil && old == string(body) {
			return nil
		}
	}
	if n := IAMSize(body); n > MaxRoleInlinePolicySize {
		return &Error{APIError: newLocalError(op,
			fmt.Sprintf("the revocation policy would be %d characters, over IAM's %d for a role's inline policies", n, MaxRoleInlinePolicySize),
			fmt.Sprintf("too many handoffs of this role were revoked in the last %s: wait for older entries to age out, or spread handoffs over more roles", maxSession+RevocationMargin)),
			sentinel: ErrPolicyTooLarge}
	}
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err = c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: awssdk.String(role), PolicyName: awssdk.String(policyName),
		PolicyDocument: awssdk.String(string(body))})
	if err != nil {
		terr := translate(ctx, op, err)
		var e *Error
		if errors.As(terr, &e) && e.Code == "LimitExceeded" {
			e.Remedy = "the role's inline policies together exceed IAM's 10,240 characters: shrink the role's other inline policies, or wait for older revocations to age out"
		}
		return terr
	}
	return nil
}

// normalized is the document in the form DenySessions writes (for the
// no-change check).
func (d Document) normalized() (string, error) {
	sts := append([]Statement(nil), d.Statement...)
	sortStatements(sts)
	b, err := Document{Version: d.Version, ID: d.ID, Statement: sts}.JSON()
	return string(b), err
}

// sortStatements keeps statements in a stable order: foreign statements
// first as they were, then handoff's by Sid.
func sortStatements(sts []Statement) {
	sort.SliceStable(sts, func(i, j int) bool {
		oi, oj := strings.HasPrefix(sts[i].Sid, sidPrefix), strings.HasPrefix(sts[j].Sid, sidPrefix)
		if oi != oj {
			return !oi
		}
		return oi && sts[i].Sid < sts[j].Sid
	})
}

// DenyEntries lists the handoffs revoked on a role (the statements
// DenySessions wrote in policyName), sorted by source identity. A missing
// policy has none.
func (c *Client) DenyEntries(ctx context.Context, roleARN, policyName string) ([]DenyEntry, error) {
	role, err := RoleName(roleARN)
	if err != nil {
		return nil, err
	}
	doc, _, err := c.readPolicy(ctx, role, policyName)
	if err != nil {
		return nil, err
	}
	var out []DenyEntry
	for _, st := range doc.Statement {
		if e, ok := entryOf(st); ok {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SourceIdentity < out[j].SourceIdentity })
	return out, nil
}
