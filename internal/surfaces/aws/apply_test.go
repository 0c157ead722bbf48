package aws_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/raxx-app/handoff/internal/devserver/awssrv"
	"github.com/raxx-app/handoff/internal/manifest"
	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
	"github.com/raxx-app/handoff/internal/surface"
	awssurface "github.com/raxx-app/handoff/internal/surfaces/aws"
)

const (
	mqSlug    = "moosequest-queue"
	tmSlug    = "trademaster-api"
	mqParam   = "/raxx/moosequest-queue/APPLE_IAP_KEY_ID"
	mqSecret  = "/raxx/moosequest-queue/STRIPE_TEST_SECRET_KEY"
	tmParam   = "/raxx/trademaster-api/DATABASE_URL"
	prodParam = "/prod/payments/STRIPE_LIVE_KEY"
)

// TestLifecycleThroughTheLocalServer: create, refresh, revoke and verify of
// a handoff through the local AWS server with the real client, and what
// STS was asked for.
func TestLifecycleThroughTheLocalServer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.surface()
	h := e.ssmHandoff(mqSlug)

	// Create.
	if got := names(s.Steps(surface.OpCreate, nil, nil)); !slices.Equal(got, []string{"assume role", "revoke earlier sessions"}) {
		t.Errorf("create steps %q", got)
	}
	res := e.create(h)
	if got := e.takeSteps(); !slices.Equal(got, []string{"assume role", "revoke earlier sessions"}) {
		t.Errorf("create announced %q", got)
	}
	rec := recordOf(t, res)
	r := awssurface.Decode(rec)
	sessions := e.srv.Sessions()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions", len(sessions))
	}
	ss := sessions[0]
	if ss.SessionName != mqSlug || ss.SourceIdentity != mqSlug || ss.Tags["handoff"] != mqSlug || ss.RoleARN != e.role() ||
		ss.Policy != r.CompiledPolicy || !ss.Expiration.Equal(e.now().Add(time.Hour)) {
		t.Errorf("STS was asked for %+v", ss)
	}
	if !r.IssuedAt.Equal(e.now()) || !r.ExpiresAt.Equal(e.now().Add(time.Hour)) || r.SessionRegion != "us-east-1" ||
		r.KeyFingerprint != manifest.Fingerprint(res.Secrets["AWS_ACCESS_KEY_ID"]) || res.Fingerprint != r.KeyFingerprint ||
		r.AssumedRoleARN != "arn:aws:sts::123456789012:assumed-role/raxx-handoff-agent/moosequest-queue" || r.PackedPolicySize <= 0 {
		t.Errorf("record %+v", r)
	}
	if got := sortedKeys(res.Secrets); !slices.Equal(got, []string{"AWS_ACCESS_KEY_ID", "AWS_REGION", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) ||
		res.Secrets["AWS_REGION"] != "us-east-1" {
		t.Errorf("secrets %v", got)
	}
	if !slices.Equal(s.Secrets(nil), []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"}) {
		t.Errorf("Secrets() = %v", s.Secrets(nil))
	}
	sess := s.Session(rec, "")
	if len(sess.Env) != 4 || sess.Env[2].Name != "AWS_SESSION_TOKEN" || sess.Env[2].Secret != "AWS_SESSION_TOKEN" || sess.Env[2].Value != "" {
		t.Errorf("session %+v", sess)
	}
	first := credsOf(res)
	if err := e.read(first, mqParam); err != nil {
		t.Fatalf("the session cannot read its own path: %v", err)
	}
	// Verify: nothing to report.
	vreq := e.request(mqSlug, h)
	vreq.Vault, vreq.Live = memVault{secrets: res.Secrets}, live(mqSlug, res, manifestOf(mqSlug, rec, false, false))
	if v := s.Verify(ctx, vreq, rec); len(v) != 0 {
		t.Errorf("verify after create: %v", v)
	}

	// Refresh, 55 minutes later: a new session, the old one denied.
	e.advance(55 * time.Minute)
	res2, err := s.Refresh(ctx, e.request(mqSlug, h), rec)
	e.seen(res2, err)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.takeSteps(); !slices.Equal(got, []string{"assume role", "revoke earlier sessions"}) {
		t.Errorf("refresh announced %q", got)
	}
	second := credsOf(res2)
	if err := e.read(first, mqParam); !denied(err) {
		t.Errorf("the replaced session still reads: %v", err)
	}
	if err := e.read(second, mqParam); err != nil {
		t.Errorf("the new session cannot read: %v", err)
	}
	rec2 := recordOf(t, res2)
	r2 := awssurface.Decode(rec2)
	if r2.CompiledPolicy != r.CompiledPolicy || !r2.ExpiresAt.Equal(e.now().Add(time.Hour)) || r2.KeyFingerprint == r.KeyFingerprint {
		t.Errorf("refreshed record %+v", r2)
	}
	vreq = e.request(mqSlug, h)
	vreq.Vault, vreq.Live = memVault{secrets: res2.Secrets}, live(mqSlug, res2, manifestOf(mqSlug, rec2, false, false))
	if v := s.Verify(ctx, vreq, rec2); len(v) != 0 {
		t.Errorf("verify after refresh: %v", v)
	}
	// The old record, with the vault holding the new session: drift only.
	vreq.Live = live(mqSlug, res2, manifestOf(mqSlug, rec, false, false))
	if v := s.Verify(ctx, vreq, rec); len(v) != 2 || scope(v) ||
		!strings.Contains(v[0].Message, "is not the one the manifest records") || !strings.Contains(v[1].Message, "denies this session") {
		t.Errorf("verify of the replaced record: %v", v)
	}

	// Revoke: the session ends at once.
	e.advance(time.Minute)
	rreq := e.request(mqSlug, h)
	if n := len(s.Steps(surface.OpRevoke, rreq, rec2)); n != 1 {
		t.Errorf("revoke lists %d steps", n)
	}
	if err := s.Revoke(ctx, rreq, rec2); err != nil {
		e.text(err.Error())
		t.Fatal(err)
	}
	if got := e.takeSteps(); !slices.Equal(got, []string{"revoke sessions"}) {
		t.Errorf("revoke announced %q", got)
	}
	if err := e.read(second, mqParam); !denied(err) {
		t.Errorf("the revoked session still reads: %v", err)
	}
	// Verify of the revoked handoff: its session is denied.
	vreq = e.request(mqSlug, h)
	vreq.Live = live(mqSlug, surface.Result{}, manifestOf(mqSlug, rec2, false, true))
	if v := s.Verify(ctx, vreq, rec2); len(v) != 0 {
		t.Errorf("verify of the revoked handoff: %v", v)
	}
	// Someone deletes the revocation policy: verify says the revoked
	// session is live again (a scope violation).
	adminID, adminSecret := e.srv.Credentials(awssrv.DefaultAdminName)
	e.secrets = append(e.secrets, adminSecret)
	admin := iam.NewFromConfig(awssdk.Config{Region: "us-east-1", BaseEndpoint: awssdk.String(e.ts.URL), Retryer: fastRetryer,
		Credentials: credentials.NewStaticCredentialsProvider(adminID, adminSecret, "")})
	if _, err := admin.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: awssdk.String(awssrv.DefaultAgentRole), PolicyName: awssdk.String("handoff-revocations")}); err != nil {
		t.Fatal(err)
	}
	for _, killed := range []bool{false, true} {
		vreq.Live = live(mqSlug, surface.Result{}, manifestOf(mqSlug, rec2, killed, !killed))
		v := s.Verify(ctx, vreq, rec2)
		if len(v) != 1 || !v[0].Scope || !strings.Contains(v[0].Message, "is revoked, but the handoff-revocations policy of role") {
			t.Errorf("verify of a revoked handoff whose deny is gone (killed %t): %v", killed, v)
		}
		e.text(fmt.Sprint(v))
	}
	// Revoke again: idempotent, and the entry is back.
	if err := s.Revoke(ctx, e.request(mqSlug, nil), rec2); err != nil {
		t.Fatal(err)
	}
	if v := s.Verify(ctx, vreq, rec2); len(v) != 0 {
		t.Errorf("verify after revoking again: %v", v)
	}
	if err := s.Revoke(ctx, e.request(mqSlug, nil), rec2); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	e.text(s.DescribeRevoke(rec2, false), s.DescribeRevoke(rec, true))
}

// TestLeastPrivilegeThroughSSM: with the SDK's SSM client and the minted
// credentials, each handoff reads its own parameter path and nothing
// beside it; after its revocation it reads nothing, while another
// handoff's session on the same role keeps working. (`handoff revoke SLUG`
// and `handoff revoke -surface aws SLUG` both end the session with this
// Revoke; the apply tests run both through apply.)
func TestLeastPrivilegeThroughSSM(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.surface()
	mq := credsOf(e.create(e.ssmHandoff(mqSlug)))
	tm := credsOf(e.create(e.ssmHandoff(tmSlug)))

	if got, err := e.readPath(mq, "/raxx/moosequest-queue"); err != nil || len(got) != 3 {
		t.Errorf("moosequest-queue reads its path: %v %v", got, err)
	}
	if err := e.read(mq, mqSecret); err != nil {
		t.Errorf("moosequest-queue reads its SecureString: %v", err)
	}
	for _, p := range []string{tmParam, prodParam, "/shared/feature-flags"} {
		if err := e.read(mq, p); !denied(err) {
			t.Errorf("moosequest-queue reads %s: %v", p, err)
		}
	}
	for _, p := range []string{"/raxx/trademaster-api", "/raxx", "/"} {
		if _, err := e.readPath(mq, p); !denied(err) {
			t.Errorf("moosequest-queue lists %s: %v", p, err)
		}
	}
	if err := e.read(tm, tmParam); err != nil {
		t.Errorf("trademaster-api reads its path: %v", err)
	}
	if err := e.read(tm, mqParam); !denied(err) {
		t.Errorf("trademaster-api reads moosequest-queue's path: %v", err)
	}

	e.advance(time.Minute)
	if err := s.Revoke(ctx, e.request(mqSlug, nil), recordOfCreds(t, e, mqSlug)); err != nil {
		t.Fatal(err)
	}
	if err := e.read(mq, mqParam); !denied(err) {
		t.Errorf("moosequest-queue reads after its revocation: %v", err)
	}
	if _, err := e.readPath(mq, "/raxx/moosequest-queue"); !denied(err) {
		t.Errorf("moosequest-queue lists after its revocation: %v", err)
	}
	if err := e.read(tm, tmParam); err != nil {
		t.Errorf("trademaster-api no longer reads after the other's revocation: %v", err)
	}
}

// recordOfCreds is the record of slug's last session, rebuilt from the
// server (for a revocation without keeping the create's result).
func recordOfCreds(t *testing.T, e *env, slug string) surface.Record {
	t.Helper()
	for _, ss := range slices.Backward(e.srv.Sessions()) {
		if ss.SourceIdentity == slug {
			return []byte(fmt.Sprintf(`{"role_arn":%q,"duration":"1h0m0s","compiled_policy":%q,"session_name":%q,"source_identity":%q,`+
				`"session_region":"us-east-1","issued_at":%q,"expires_at":%q,"access_key_fingerprint":"x","revocation_policy":"handoff-revocations"}`,
				ss.RoleARN, ss.Policy, slug, slug, ss.IssuedAt.Format(time.RFC3339), ss.Expiration.Format(time.RFC3339)))
		}
	}
	t.Fatalf("no session of %s", slug)
	return nil
}

// TestStoppedRunsLeaveNothingLive: a run stopped after AssumeRole (before
// the deny, or before the vault write) leaves a session no manifest
// records; the next create, refresh or revocation of the slug ends it, and
// never the session it mints itself.
func TestStoppedRunsLeaveNothingLive(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// next is the next run's operation on the slug; rec is the record
		// of the last session that reached the manifest (nil: none).
		next func(e *env, s *awssurface.Surface, rec surface.Record) (surface.Result, error)
	}{
		{"create again", func(e *env, s *awssurface.Surface, _ surface.Record) (surface.Result, error) {
			return s.Create(ctx, e.request(mqSlug, e.ssmHandoff(mqSlug)))
		}},
		{"revoke leftovers then create", func(e *env, s *awssurface.Surface, rec surface.Record) (surface.Result, error) {
			if err := s.Revoke(ctx, e.request(mqSlug, e.ssmHandoff(mqSlug)), rec); err != nil {
				return surface.Result{}, err
			}
			return s.Create(ctx, e.request(mqSlug, e.ssmHandoff(mqSlug)))
		}},
		{"refresh", func(e *env, s *awssurface.Surface, rec surface.Record) (surface.Result, error) {
			return s.Refresh(ctx, e.request(mqSlug, e.ssmHandoff(mqSlug)), rec)
		}},
	} {
		for _, stop := range []string{"revoke earlier sessions", ""} {
			t.Run(tc.name+"/stopped at "+orEnd(stop), func(t *testing.T) {
				e := newEnv(t)
				s := e.surface()
				var rec surface.Record
				var old awsprov.Credentials
				if tc.name == "refresh" {
					res := e.create(e.ssmHandoff(mqSlug))
					rec, old = recordOf(t, res), credsOf(res)
					e.advance(50 * time.Minute)
				}
				// The stopped run: its session never reaches the vault.
				e.stopAt = stop
				res, err := s.Create(ctx, e.request(mqSlug, e.ssmHandoff(mqSlug)))
				e.seen(res, err)
				e.stopAt = ""
				if stop != "" && !errors.Is(err, errCrash) {
					t.Fatalf("stopped run: %v", err)
				}
				lost := e.lastWire()
				if err := e.read(lost, mqParam); err != nil && stop != "" {
					t.Fatalf("the lost session does not work before the next run: %v", err)
				}
				// The next run, 30 seconds later (a lease's expiry).
				e.advance(30 * time.Second)
				next, err := tc.next(e, s, rec)
				e.seen(next, err)
				if err != nil {
					t.Fatal(err)
				}
				if err := e.read(lost, mqParam); !denied(err) {
					t.Errorf("the lost session still reads: %v", err)
				}
				if old.AccessKeyID != "" {
					if err := e.read(old, mqParam); !denied(err) {
						t.Errorf("the recorded session still reads: %v", err)
					}
				}
				if err := e.read(credsOf(next), mqParam); err != nil {
					t.Errorf("the new session cannot read: %v", err)
				}
			})
		}
	}
}

func orEnd(step string) string {
	if step == "" {
		return "the vault write"
	}
	return step
}

// TestClockSkew: the deny of a create or refresh is dated on AWS's clock,
// so a machine whose clock is minutes ahead of AWS's, or behind, neither
// kills its own new session nor spares the old one.
func TestClockSkew(t *testing.T) {
	ctx := context.Background()
	for _, skew := range []time.Duration{-3 * time.Minute, 3 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			e := newEnv(t)
			s := e.surface()
			h := e.ssmHandoff(mqSlug)
			req := e.request(mqSlug, h)
			req.Now = req.Now.Add(skew)
			res, err := s.Create(ctx, req)
			e.seen(res, err)
			if err != nil {
				t.Fatal(err)
			}
			e.advance(50 * time.Minute)
			req = e.request(mqSlug, h)
			req.Now = req.Now.Add(skew)
			res2, err := s.Refresh(ctx, req, recordOf(t, res))
			e.seen(res2, err)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.read(credsOf(res), mqParam); !denied(err) {
				t.Errorf("the replaced session still reads: %v", err)
			}
			if err := e.read(credsOf(res2), mqParam); err != nil {
				t.Errorf("the new session cannot read: %v", err)
			}
		})
	}
}

// TestRevocationsOfManyHandoffsAtOnce: apply revokes many handoffs of one
// role at once. Each revocation is a read-modify-write of the role's one
// revocation policy; the surface serializes them per role, so no entry is
// lost, and the server saw each read-modify-write whole.
func TestRevocationsOfManyHandoffsAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Two surfaces, as two registries in one process would be.
			s := e.surface()
			errs[i] = s.Revoke(ctx, e.request(fmt.Sprintf("task-%02d", i), e.ssmHandoff(fmt.Sprintf("task-%02d", i))), nil)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// The server's decisions on the role: GetRole, GetRolePolicy,
	// PutRolePolicy, GetRolePolicy (the read-back), never interleaved.
	var seq []string
	for _, d := range e.srv.Decisions() {
		if d.Resource == e.role() {
			seq = append(seq, strings.TrimPrefix(d.Action, "iam:"))
		}
	}
	entries, err := e.client.DenyEntries(ctx, e.role(), awssurface.RevocationPolicy)
	if err != nil || len(entries) != n {
		t.Fatalf("%d entries (%v), want %d", len(entries), err, n)
	}
	block := []string{"GetRole", "GetRolePolicy", "PutRolePolicy", "GetRolePolicy"}
	if len(seq) != n*len(block) {
		t.Fatalf("%d IAM calls on the role: %v", len(seq), seq)
	}
	for i := 0; i < len(seq); i += len(block) {
		if !slices.Equal(seq[i:i+len(block)], block) {
			t.Fatalf("interleaved read-modify-writes at call %d: %v", i, seq)
		}
	}
}

// TestRevocationPolicySizeAndPruning: the role's revocation policy holds as
// many handoffs as IAM's 10,240 characters allow; the next revocation is
// refused with the reason and the remedy, and succeeds once the oldest
// entries are older than the longest session the role allows (plus the
// margin) and are pruned.
func TestRevocationPolicySizeAndPruning(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.surface()
	slug := func(i int) string { return fmt.Sprintf("handoff-with-a-long-slug-%03d", i) }
	var refused error
	fit := 0
	for i := range 80 {
		if err := s.Revoke(ctx, e.request(slug(i), e.ssmHandoff(slug(i))), nil); err != nil {
			refused = err
			break
		}
		fit++
	}
	e.text(fmt.Sprint(refused))
	// The role's other inline policy counts too: IAM's aggregate limit is
	// what refuses, with the remedy.
	if refused == nil || !errors.Is(refused, awsprov.ErrPolicyTooLarge) || !strings.Contains(refused.Error(), "10,240 characters") ||
		!strings.Contains(refused.Error(), "wait for older revocations to age out") || fit < 20 {
		t.Fatalf("after %d revocations: %v", fit, refused)
	}
	doc := e.srv.RolePolicies(awssrv.DefaultAgentRole)[awssurface.RevocationPolicy]
	if n := awsprov.IAMSize([]byte(doc)); n > awsprov.MaxRoleInlinePolicySize {
		t.Errorf("the policy holds %d characters", n)
	}
	// Half an hour later: still full (those sessions may still be live).
	e.advance(30 * time.Minute)
	if err := s.Revoke(ctx, e.request(slug(fit), e.ssmHandoff(slug(fit))), nil); !errors.Is(err, awsprov.ErrPolicyTooLarge) {
		t.Errorf("a revocation 30m later: %v", err)
	}
	// Past the role's MaxSessionDuration (1h) and the 15-minute margin:
	// the old entries are pruned.
	e.advance(45*time.Minute + time.Second)
	if err := s.Revoke(ctx, e.request(slug(fit), e.ssmHandoff(slug(fit))), nil); err != nil {
		t.Fatal(err)
	}
	entries, err := e.client.DenyEntries(ctx, e.role(), awssurface.RevocationPolicy)
	if err != nil || len(entries) != 1 || entries[0].SourceIdentity != slug(fit) {
		t.Errorf("entries after pruning: %v %v", entries, err)
	}
}

// TestVerifyScopeViolations: a recorded session wider than the spec (a
// statement it does not ask for, another role, a longer session) is a
// scope violation; a folder whose key is not the recorded one is drift.
func TestVerifyScopeViolations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.surface()
	h := e.ssmHandoff(mqSlug)
	res := e.create(h)
	r := awssurface.Decode(recordOf(t, res))
	tamper := func(f func(r *awssurface.Record)) surface.Record {
		c := *r
		f(&c)
		return recordOf(t, surface.Result{Record: &c})
	}
	wider := tamper(func(r *awssurface.Record) {
		doc, err := awsprov.ParseDocument([]byte(r.CompiledPolicy))
		if err != nil {
			t.Fatal(err)
		}
		doc.Statement[0].Resource = append(doc.Statement[0].Resource, "arn:aws:ssm:us-east-1:123456789012:parameter/prod/*")
		b, _ := doc.JSON()
		r.CompiledPolicy = string(b)
	})
	otherRole := tamper(func(r *awssurface.Record) { r.RoleARN = e.srv.RoleARN(awssrv.DefaultReaderRole) })
	longer := tamper(func(r *awssurface.Record) { r.ExpiresAt = r.IssuedAt.Add(2 * time.Hour) })
	for _, tc := range []struct {
		name string
		rec  surface.Record
		want string
	}{
		{"wider policy", wider, "the session's policy allows ssm:getparameter on arn:aws:ssm:us-east-1:123456789012:parameter/prod/*, which the spec does not"},
		{"other role", otherRole, "the session is of role arn:aws:iam::123456789012:role/handoff/raxx-handoff-reader"},
		{"longer session", longer, "the session lasts 2h0m0s, the spec allows 1h0m0s"},
	} {
		req := e.request(mqSlug, h)
		req.Vault, req.Live = memVault{secrets: res.Secrets}, live(mqSlug, res, manifestOf(mqSlug, tc.rec, false, false))
		v := s.Verify(ctx, req, tc.rec)
		e.text(fmt.Sprint(v))
		if !slices.ContainsFunc(v, func(x surface.Violation) bool { return x.Scope && strings.Contains(x.Message, tc.want) }) {
			t.Errorf("%s: %v", tc.name, v)
		}
	}
	// A folder that lost its token and holds another key: drift.
	other := map[string]string{"AWS_ACCESS_KEY_ID": "ASIAOTHERKEYOTHERKEY", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1"}
	req := e.request(mqSlug, h)
	req.Vault, req.Live = memVault{secrets: other}, live(mqSlug, surface.Result{Secrets: other}, nil)
	v := s.Verify(ctx, req, recordOf(t, res))
	if len(v) != 2 || scope(v) || !strings.Contains(v[0].Message, "AWS_SESSION_TOKEN is missing") || !strings.Contains(v[1].Message, "is not the one the manifest records") {
		t.Errorf("drift: %v", v)
	}
	// Expired: drift, and AWS is not asked.
	e.advance(61 * time.Minute)
	req = e.request(mqSlug, h)
	if v := s.Verify(ctx, req, recordOf(t, res)); len(v) != 1 || v[0].Scope || !strings.Contains(v[0].Message, "expired") {
		t.Errorf("expired: %v", v)
	}
}

// TestErrorsNameTheSurfaceAndNoSecret: a role the provisioner may not
// assume fails with the vendor's error and the remedy; a handoff without
// an aws block, an expired one, and no client are refused before any
// request.
func TestErrorsNameTheSurfaceAndNoSecret(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.surface()
	outside := e.handoff(mqSlug, "8h", `
    role_arn = "arn:aws:iam::123456789012:role/not-for-handoffs"
    sqs_send = ["`+jobsQueue+`"]`)
	res, err := s.Create(ctx, e.request(mqSlug, outside))
	e.seen(res, err)
	if !errors.Is(err, awsprov.ErrAccessDenied) || !strings.Contains(err.Error(), "aws: assume role") || !strings.Contains(err.Error(), "handoff moosequest-queue") {
		t.Errorf("AssumeRole refused: %v", err)
	}
	if res.Compensate != nil || len(res.Secrets) != 0 {
		t.Error("a refused mint returned something")
	}
	req := e.request(mqSlug, e.ssmHandoff(mqSlug))
	req.ExpiresAt = req.Now
	if _, err := s.Create(ctx, req); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired handoff: %v", err)
	}
	if _, err := s.Create(ctx, e.request("x", e.handoffWithout("other-task"))); err == nil {
		t.Error("created without an aws block")
	}
	none := awssurface.New(nil)
	if _, err := none.Create(ctx, e.request(mqSlug, e.ssmHandoff(mqSlug))); err == nil || !strings.Contains(err.Error(), "no AWS client") {
		t.Errorf("no client: %v", err)
	}
	if err := none.Revoke(ctx, e.request(mqSlug, nil), nil); err != nil {
		t.Errorf("revoking nothing needs no client: %v", err)
	}
	if n := e.srv.RequestCount("sts", "AssumeRole"); n != 1 {
		t.Errorf("%d AssumeRole requests", n)
	}
	// A failed deny after the mint: the result can undo the session.
	e.kit.Faults.Add(devkitFault("POST /iam/PutRolePolicy"))
	res, err = s.Create(ctx, e.request(mqSlug, e.ssmHandoff(mqSlug)))
	e.seen(res, err)
	if err == nil || res.Compensate == nil {
		t.Fatalf("failed deny: %v", err)
	}
	lost := e.lastWire()
	e.kit.Faults.Clear()
	if err := res.Compensate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.read(lost, mqParam); !denied(err) {
		t.Errorf("the compensated session still reads: %v", err)
	}
}

func names(steps []surface.Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Name
	}
	return out
}

func scope(v []surface.Violation) bool {
	return slices.ContainsFunc(v, func(x surface.Violation) bool { return x.Scope })
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
