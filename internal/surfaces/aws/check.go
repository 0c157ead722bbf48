package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/sync/errgroup"

	"github.com/raxx-app/handoff/internal/plan"
	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
	"github.com/raxx-app/handoff/internal/surface"
)

// roleReadConcurrency bounds the role reads CheckPlanLive makes at once.
const roleReadConcurrency = 4

// CheckPlanLive proves, before anything is minted, that the provisioner's
// AWS credentials work and reach every role a create, replace or refresh
// of in.Uses assumes: it reads each distinct role once (iam:GetRole, the
// read apply makes anyway before it writes the role's revocation policy),
// so a plan makes as many AWS requests as there are distinct roles to mint
// sessions of, and none when nothing is minted. Credentials AWS refuses
// (a wrong secret key signs wrongly), a role the provisioner may not read
// and a role that does not exist are errors of the plan, which stop apply
// before it writes anything; each names the role and AWS's error code,
// never a secret. It writes nothing. The error is a failure to ask AWS
// (throttled after the retries, unreachable).
//
// A plan without any AWS credentials (the chain found none: the plan job
// of a pull request, which has no AWS identity by design) is warned that
// the roles went unchecked; apply checks them (CheckMint).
//
// A read role does not prove that its trust policy lets the provisioner
// assume it: only sts:AssumeRole says so, and it mints a session.
func (s *Surface) CheckPlanLive(ctx context.Context, in surface.PlanInput) (hcl.Diagnostics, error) {
	type target struct {
		subject *hcl.Range
		slugs   []string
	}
	targets := map[string]*target{}
	for _, u := range in.Uses {
		switch u.Change.Action {
		case plan.Create, plan.Replace, plan.Refresh:
		default:
			continue
		}
		role, subject := roleOf(u)
		if _, _, ok := roleParts(role); !ok {
			continue // the policy check reports it
		}
		t := targets[role]
		if t == nil {
			t = &target{subject: subject}
			targets[role] = t
		}
		if u.Spec != nil {
			t.slugs = append(t.slugs, u.Spec.Slug.Value)
		}
	}
	if len(targets) == 0 {
		return nil, nil
	}
	roles := make([]string, 0, len(targets))
	for r := range targets {
		roles = append(roles, r)
	}
	sort.Strings(roles)

	c, err := s.client()
	if err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "AWS client not configured",
			Detail:   fmt.Sprintf("Handoff reads each AWS role a session is minted of before it mints (%s), and cannot: %v.", strings.Join(roles, ", "), err),
			Subject:  targets[roles[0]].subject,
		}}, nil
	}
	errs := make([]error, len(roles))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(roleReadConcurrency)
	for i, role := range roles {
		g.Go(func() error {
			err := s.readRole(gctx, c, role)
			if err != nil && !refused(err) {
				return fmt.Errorf("aws: read role %s before minting its sessions: %w", role, err)
			}
			errs[i] = err
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var diags hcl.Diagnostics
	for i, role := range roles {
		if errs[i] == nil {
			continue
		}
		t := targets[role]
		if noCredentials(errs[i]) {
			// The plan job of a pull request has no AWS identity, by
			// design (docs/vendors/aws.md): say what went unchecked, once.
			// Apply checks it before anything of a handoff is made
			// (CheckMint), with the apply job's identity.
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "AWS roles not checked: no AWS credentials",
				Detail: fmt.Sprintf("This plan has no AWS identity (a pull request's plan job has none), so it could not read %s before sessions are minted of them. Apply reads each role with the provisioner's identity before anything of a handoff is made, and stops there if AWS refuses.",
					strings.Join(roles, ", ")),
				Subject: t.subject,
			})
			break
		}
		diags = append(diags, roleDiagnostic(role, t.slugs, t.subject, errs[i]))
	}
	return diags, nil
}

// CheckMint reads, before anything of the handoff is made, the role its
// session is about to be minted of (surface.PreMintChecker): credentials
// AWS refuses, or a role the provisioner cannot read, stop the handoff
// with nothing to undo, as the plan would have. A role this surface
// already read in this run (the plan's check) is not read again.
func (s *Surface) CheckMint(ctx context.Context, req *surface.Request) error {
	role, _ := roleOf(surface.Use{Spec: req.Spec, Change: plan.Change{After: req.Planned}})
	if _, _, ok := roleParts(role); !ok {
		return nil // Create refuses it
	}
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := s.readRole(ctx, c, role); err != nil {
		if !refused(err) {
			return fmt.Errorf("aws: handoff %s: read role %s before minting its session: %w", req.Slug, role, err)
		}
		d := roleDiagnostic(role, []string{req.Slug}, nil, err)
		return fmt.Errorf("aws: handoff %s: %s. %s", req.Slug, d.Summary, d.Detail)
	}
	return nil
}

// readRole reads role with c (iam:GetRole) unless this surface read it
// already with c.
func (s *Surface) readRole(ctx context.Context, c *awsprov.Client, role string) error {
	s.readMu.Lock()
	done := s.read[c][role]
	s.readMu.Unlock()
	if done {
		return nil
	}
	if _, err := c.RoleMaxSession(ctx, role); err != nil {
		return err
	}
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.read == nil {
		s.read = map[*awsprov.Client]map[string]bool{}
	}
	if s.read[c] == nil {
		s.read[c] = map[string]bool{}
	}
	s.read[c][role] = true
	return nil
}

// refused reports whether AWS (or the credential chain) refused the read,
// a finding about the credentials or the role, rather than failing to
// answer (throttled after the retries, a 5xx, unreachable).
func refused(err error) bool {
	var ae *awsprov.Error
	switch {
	case errors.Is(err, awsprov.ErrCredentials), errors.Is(err, awsprov.ErrAccessDenied), errors.Is(err, awsprov.ErrNotFound):
		return true
	case errors.As(err, &ae) && ae.Code != "" && ae.Status < 500 && !errors.Is(err, awsprov.ErrThrottled):
		return true
	}
	return false
}

// noCredentials reports whether err says the credential chain found no
// credentials at all (rather than credentials AWS refused).
func noCredentials(err error) bool {
	var ae *awsprov.Error
	return errors.Is(err, awsprov.ErrCredentials) && errors.As(err, &ae) && ae.Code == ""
}

// roleOf is the role a use mints a session of, and where the spec names
// it: the grant after the change (a refresh mints the recorded grant's
// role), else the spec's.
func roleOf(u surface.Use) (string, *hcl.Range) {
	b := Of(u.Spec)
	var role string
	if a := u.Change.After; a != nil {
		role = a.Attributes[AttrRoleARN]
	}
	if b == nil {
		return role, nil
	}
	if role == "" {
		role = b.RoleARN.Value
	}
	if b.RoleARN.Valid() && b.RoleARN.Value == role {
		return role, b.RoleARN.Range.Ptr()
	}
	return role, b.DefRange.Ptr()
}

// roleDiagnostic is the plan's error for a role the provisioner could not
// read. AWS's message is cut to its first line: AWS appends to some (a
// signature mismatch) the canonical request, whose signed headers may
// carry a session token.
func roleDiagnostic(role string, slugs []string, subject *hcl.Range, err error) *hcl.Diagnostic {
	name, _ := awsprov.RoleName(role)
	code, answer, remedy := "", err.Error(), ""
	var ae *awsprov.Error
	if errors.As(err, &ae) {
		code = ae.Code
		msg, _, _ := strings.Cut(ae.Message, "\n")
		answer = strings.TrimSpace(msg)
		if ae.Status != 0 {
			answer += fmt.Sprintf(" (HTTP %d", ae.Status)
			if ae.RequestID != "" {
				answer += ", request " + ae.RequestID
			}
			answer += ")"
		}
	}
	var summary string
	switch {
	case errors.Is(err, awsprov.ErrCredentials) && code == "":
		summary = fmt.Sprintf("No AWS credentials to read role %s with", name)
		remedy = ae.Remedy
	case errors.Is(err, awsprov.ErrCredentials):
		summary = fmt.Sprintf("AWS refused the provisioner's credentials reading role %s: %s", name, code)
		remedy = "The provisioner's AWS credentials are missing, unknown, expired or wrongly signed (a wrong AWS_SECRET_ACCESS_KEY signs wrongly): fix AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the web identity, check the system clock, and plan again."
	case errors.Is(err, awsprov.ErrAccessDenied):
		summary = fmt.Sprintf("The provisioner may not read AWS role %s: %s", name, code)
		remedy = "The provisioner's identity policy must allow, on each role prepared for handoffs, iam:GetRole, iam:GetRolePolicy and iam:PutRolePolicy (to revoke sessions) and sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity (to mint them); a role outside it is not one handoff may use. AWS answers the same for a role that does not exist when that policy names the roles by path. Check role_arn, or the provisioner's policy (docs/vendors/aws.md)."
	case errors.Is(err, awsprov.ErrNotFound):
		summary = fmt.Sprintf("AWS role %s does not exist: %s", name, code)
		remedy = "Check role_arn (and aws_role_arns in handoff.hcl), or create the role as docs/vendors/aws.md says."
	default:
		summary = fmt.Sprintf("AWS refused to read role %s: %s", name, code)
		if ae != nil {
			remedy = ae.Remedy
		}
	}
	how := "AWS answered"
	if code == "" {
		how = "the request never reached AWS"
	}
	if remedy != "" && !strings.HasSuffix(remedy, ".") {
		remedy += "."
	}
	detail := fmt.Sprintf("Before it mints a session of %s (for %s), handoff reads the role with the provisioner's AWS credentials (iam:GetRole, as apply does), and %s: %s. %s Nothing is minted until then.",
		role, strings.Join(slugs, ", "), how, answer, remedy)
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: subject}
}

// Ensure the capabilities are kept.
var _ surface.PreMintChecker = (*Surface)(nil)
