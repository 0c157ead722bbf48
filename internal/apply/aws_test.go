package apply_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path"
	"sort"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/raxx-app/handoff/internal/devserver/awssrv"
	"github.com/raxx-app/handoff/internal/manifest"
	awsprov "github.com/raxx-app/handoff/internal/provider/aws"
	awssurface "github.com/raxx-app/handoff/internal/surfaces/aws"
)

// awsSlug is the fixture handoff of the aws surface: an STS session of the
// agent role reading its SSM path.
const awsSlug = "moosequest-queue-20260621"

func init() {
	registerProbe(vendorProbe{
		surface: awssurface.Name, errPrefix: "aws:",
		secrets:      []string{awssurface.SecretAccessKeyID, awssurface.SecretSecretAccessKey, awssurface.SecretSessionToken},
		orphans:      awsOrphans,
		snapshot:     awsSnapshot,
		dispatchable: awsDispatchable,
		safeToRetry:  awsSafeToRetry,
	})
	registerCrashCase(crashCase{slug: awsSlug, surface: awssurface.Name, scenarios: lifecycleScenarios(awsSlug, awssurface.Name, 55*time.Minute)})
}

// awsRecord is the aws entry of m, nil when it has none or it is killed.
func awsRecord(m *manifest.Manifest) *awssurface.Record {
	if m == nil || m.Status != manifest.Active || m.Killed()[awssurface.Name] {
		return nil
	}
	return awssurface.Decode(m.Surfaces[awssurface.Name])
}

// awsLiveSessions are the sessions of the local AWS server that work now:
// not expired, and not denied by their role's revocation policy.
func awsLiveSessions(w *world) []awssrv.SessionInfo {
	now := w.now()
	var out []awssrv.SessionInfo
	for _, ss := range w.srv.AWS.Sessions() {
		if !now.Before(ss.Expiration) {
			continue
		}
		role := ss.RoleARN[strings.LastIndex(ss.RoleARN, "/")+1:]
		if since, ok := awsDenied(w.srv.AWS.RolePolicies(role)[awssurface.RevocationPolicy], ss.SourceIdentity); ok && ss.IssuedAt.Before(since) {
			continue
		}
		out = append(out, ss)
	}
	return out
}

// awsDenied reads the date before which a revocation policy denies the
// sessions of sourceIdentity (read here, not with the client, so that the
// tests' probes send no request).
func awsDenied(doc, sourceIdentity string) (time.Time, bool) {
	if doc == "" {
		return time.Time{}, false
	}
	d, err := awsprov.ParseDocument([]byte(doc))
	if err != nil {
		return time.Time{}, false
	}
	for _, st := range d.Statement {
		si := st.Condition["StringEquals"]["aws:SourceIdentity"]
		at := st.Condition["DateLessThan"]["aws:TokenIssueTime"]
		if st.Effect != awsprov.Deny || len(si) != 1 || si[0] != sourceIdentity || len(at) != 1 {
			continue
		}
		if t, err := time.Parse(time.RFC3339, at[0]); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// awsOrphans are the live sessions no active manifest records (by the
// fingerprint of their access key id).
func awsOrphans(w *world, ms map[string]*manifest.Manifest) []string {
	named := map[string]bool{}
	for _, m := range ms {
		if r := awsRecord(m); r != nil {
			named[r.KeyFingerprint] = true
		}
	}
	var out []string
	for _, ss := range awsLiveSessions(w) {
		if !named[manifest.Fingerprint(ss.AccessKeyID)] {
			out = append(out, fmt.Sprintf("session %s of %s (source identity %s, issued %s) works and no active manifest names it",
				ss.SessionName, ss.RoleARN, ss.SourceIdentity, ss.IssuedAt.Format(time.RFC3339)))
		}
	}
	return out
}

// awsSnapshot is the handoff's live sessions, without ids or times.
func awsSnapshot(w *world, slug string, m *manifest.Manifest) any {
	type session struct{ Role, Name, Policy, Tag string }
	var live []session
	for _, ss := range awsLiveSessions(w) {
		if ss.SourceIdentity == slug {
			live = append(live, session{ss.RoleARN, ss.SessionName, ss.Policy, ss.Tags["handoff"]})
		}
	}
	if live == nil && !m.Surfaces.Has(awssurface.Name) {
		return nil
	}
	sort.Slice(live, func(i, j int) bool { return fmt.Sprint(live[i]) < fmt.Sprint(live[j]) })
	return struct{ Live []session }{live}
}

// awsDispatchable: the session in the folder reads the first SSM path of
// the record, with the SDK's SSM client.
func awsDispatchable(w *world, slug string, m *manifest.Manifest) []string {
	r := awsRecord(m)
	if r == nil || len(r.SSMRead) == 0 {
		return nil
	}
	folder := path.Join(root, slug)
	get := func(name string) string {
		s, _ := w.srv.Infisical.Secret(env, folder, name)
		return s.Value
	}
	ts := httptest.NewServer(w.srv.AWS)
	defer ts.Close()
	client := ssm.NewFromConfig(awssdk.Config{Region: get(awssurface.SecretRegion), BaseEndpoint: awssdk.String(ts.URL),
		Credentials: credentials.NewStaticCredentialsProvider(get(awssurface.SecretAccessKeyID), get(awssurface.SecretSecretAccessKey), get(awssurface.SecretSessionToken)),
		HTTPClient:  ts.Client(), Retryer: awsRetryer})
	if _, err := client.GetParametersByPath(context.Background(), &ssm.GetParametersByPathInput{Path: awssdk.String(r.SSMRead[0])}); err != nil {
		w.text(err.Error())
		return []string{fmt.Sprintf("its session cannot read %s: %v", r.SSMRead[0], err)}
	}
	return nil
}

// awsSafeToRetry: the world's AWS client, built as the workspace builds
// it, repeats every STS and IAM call once after a 5xx or a dropped
// connection (the SDK's retryer; AWS's operations are safe to repeat: a
// repeated AssumeRole mints another session of the slug, which the deny
// that follows ends).
func awsSafeToRetry(route, _ string) (safe, known bool) {
	if strings.HasPrefix(route, "POST /sts/") || strings.HasPrefix(route, "POST /iam/") {
		return true, true
	}
	return false, false
}

// awsRetryer is the workspace's retryer (workspace.AWSAttempts: one
// retry), without the waits.
func awsRetryer() awssdk.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 2; o.Backoff = noWait{} })
}

type noWait struct{}

func (noWait) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }
