package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/raxx-app/handoff/internal/provider/infisical"
)

// The release handoff holds one credential of each vendor surface: an
// STS session narrowed to one SSM path, a Heroku token that reads config
// vars, a Cloudflare token with DNS Write on one zone.
const (
	release      = "moosequest-release-20260621"
	releaseParam = "/raxx/moosequest-queue/config/REGION" // under its ssm_read
	otherParam   = "/raxx/trademaster-api/DATABASE_URL"   // the role may, the session may not
	herokuApp    = "moosequest-staging"
	ownZone      = "example.com"
	otherZone    = "raxx.dev" // the provisioner sees it; the token does not reach it
)

// releaseCreds are the values apply wrote to the release handoff's folder.
type releaseCreds map[string]string

// releaseCredentials reads the release handoff's folder with the
// provisioner (one listing) and adds every value to the scan. The release
// spec has no infisical block, hence no identity of its own: `handoff exec`
// and `env -reveal` refuse it, and an orchestrator reads its folder with
// its own access, as the demo does here.
func (d *demo) releaseCredentials(ctx context.Context) (releaseCreds, error) {
	cfg, err := infisical.ConfigFromEnv(func(k string) string { return d.vars[k] }, infisical.Config{})
	if err != nil {
		return nil, err
	}
	prov, err := infisical.New(cfg)
	if err != nil {
		return nil, err
	}
	defer func() { _ = prov.Logout(context.WithoutCancel(ctx)) }()
	list, err := prov.ListSecrets(ctx, "staging", "/MooseQuest/handoffs/"+release, false)
	if err != nil {
		return nil, err
	}
	c := releaseCreds{}
	for _, s := range list {
		c[s.Key] = s.Value
		if s.Key != "PROVISION_MANIFEST" && s.Key != "AWS_REGION" {
			d.secrets = append(d.secrets, s.Value)
		}
	}
	for _, k := range []string{"CLOUDFLARE_API_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "HEROKU_API_KEY"} {
		if c[k] == "" {
			return nil, fmt.Errorf("%s is missing from the release handoff's folder", k)
		}
	}
	return c, nil
}

// releaseGranted shows each credential doing what its spec grants, on its
// vendor's local server, and refused one step beyond.
func (d *demo) releaseGranted(ctx context.Context, c releaseCreds) error {
	// AWS: the session reads its SSM path; the role could read the other
	// parameter, the session policy compiled from the spec does not.
	v, err := d.ssmGet(ctx, c, releaseParam)
	if err != nil {
		return fmt.Errorf("the release's STS session cannot read %s: %w", releaseParam, err)
	}
	d.say("AWS_SESSION_TOKEN: ssm GetParameter %s: %s", releaseParam, v)
	if _, err := d.ssmGet(ctx, c, otherParam); !awsDenied(err) {
		return fmt.Errorf("the release's STS session read %s: %v", otherParam, err)
	}
	d.say("AWS_SESSION_TOKEN: ssm GetParameter %s: AccessDeniedException (the role may, the session policy does not)", otherParam)

	// Heroku: read-protected reads the app's config vars, sets none.
	names, status, err := d.herokuConfigVars(ctx, c["HEROKU_API_KEY"])
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("the release's Heroku token cannot read %s's config vars: %d %v", herokuApp, status, err)
	}
	d.say("HEROKU_API_KEY: GET /apps/%s/config-vars: 200 (%s; values not shown)", herokuApp, strings.Join(names, ", "))
	if status, err := d.heroku(ctx, c["HEROKU_API_KEY"], http.MethodPatch, "/apps/"+herokuApp+"/config-vars", `{"RAILS_ENV":"staging"}`, nil); err != nil || status != http.StatusForbidden {
		return fmt.Errorf("setting a config var with a read-protected token: want 403, got %d %v", status, err)
	}
	d.say("HEROKU_API_KEY: PATCH /apps/%s/config-vars: 403 (read-protected: it sets nothing)", herokuApp)

	// Cloudflare: DNS Write on its zone, nothing on another.
	own, other, err := d.zoneIDs(ctx)
	if err != nil {
		return err
	}
	if status, err := d.createTXT(ctx, c["CLOUDFLARE_API_TOKEN"], own); err != nil || status != http.StatusOK {
		return fmt.Errorf("the release's Cloudflare token cannot write %s's DNS: %d %v", ownZone, status, err)
	}
	d.say("CLOUDFLARE_API_TOKEN: POST /zones/<%s>/dns_records (TXT _release): 200", ownZone)
	if status, err := d.createTXT(ctx, c["CLOUDFLARE_API_TOKEN"], other); err != nil || status != http.StatusForbidden {
		return fmt.Errorf("the release's Cloudflare token on %s: want 403, got %d %v", otherZone, status, err)
	}
	d.say("CLOUDFLARE_API_TOKEN: POST /zones/<%s>/dns_records: 403 (outside the token's one zone)", otherZone)
	return nil
}

// releaseKilled shows the Cloudflare token refused after revoke -surface
// cloudflare, and the handoff's other credentials still working.
func (d *demo) releaseKilled(ctx context.Context, c releaseCreds) error {
	own, _, err := d.zoneIDs(ctx)
	if err != nil {
		return err
	}
	if status, err := d.createTXT(ctx, c["CLOUDFLARE_API_TOKEN"], own); err != nil || status == http.StatusOK {
		return fmt.Errorf("the killed Cloudflare token still writes %s's DNS: %d %v", ownZone, status, err)
	} else {
		d.say("CLOUDFLARE_API_TOKEN: POST /zones/<%s>/dns_records: %d (the token is deleted)", ownZone, status)
	}
	if _, err := d.ssmGet(ctx, c, releaseParam); err != nil {
		return fmt.Errorf("killing cloudflare ended the STS session too: %w", err)
	}
	d.say("AWS_SESSION_TOKEN: ssm GetParameter %s: still read (only cloudflare was killed)", releaseParam)
	return nil
}

// releaseRevoked shows the release's session and token refused once its
// spec is deleted.
func (d *demo) releaseRevoked(ctx context.Context, c releaseCreds) error {
	if _, err := d.ssmGet(ctx, c, releaseParam); !awsDenied(err) {
		return fmt.Errorf("the revoked STS session still reads %s: %v", releaseParam, err)
	}
	d.say("AWS_SESSION_TOKEN: ssm GetParameter %s: AccessDeniedException (the role's deny names the handoff)", releaseParam)
	if _, status, err := d.herokuConfigVars(ctx, c["HEROKU_API_KEY"]); err != nil || status != http.StatusUnauthorized {
		return fmt.Errorf("the revoked Heroku token: want 401, got %d %v", status, err)
	}
	d.say("HEROKU_API_KEY: GET /apps/%s/config-vars: 401 (the authorization is deleted)", herokuApp)
	return nil
}

// ssmGet reads one parameter with the release's session, signed on the dev
// servers' clock, which the local AWS server checks signatures against.
func (d *demo) ssmGet(ctx context.Context, c releaseCreds, name string) (string, error) {
	off, err := d.clockOffset(ctx)
	if err != nil {
		return "", err
	}
	client := ssm.NewFromConfig(awssdk.Config{
		Region:           c["AWS_REGION"],
		BaseEndpoint:     awssdk.String(d.vars["AWS_ENDPOINT_URL"]),
		Credentials:      credentials.NewStaticCredentialsProvider(c["AWS_ACCESS_KEY_ID"], c["AWS_SECRET_ACCESS_KEY"], c["AWS_SESSION_TOKEN"]),
		RetryMaxAttempts: 1,
	}, func(o *ssm.Options) {
		o.HTTPSignerV4 = devClockSigner{inner: v4.NewSigner(), offset: off}
	})
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: awssdk.String(name), WithDecryption: awssdk.Bool(true)})
	if err != nil {
		return "", err
	}
	return awssdk.ToString(out.Parameter.Value), nil
}

// devClockSigner signs at the dev servers' clock.
type devClockSigner struct {
	inner  *v4.Signer
	offset time.Duration
}

func (s devClockSigner) SignHTTP(ctx context.Context, creds awssdk.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return s.inner.SignHTTP(ctx, creds, r, payloadHash, service, region, time.Now().Add(s.offset), optFns...)
}

func awsDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "AccessDeniedException"
}

// clockOffset is how far the dev servers' clock is ahead of the wall
// clock.
func (d *demo) clockOffset(ctx context.Context) (time.Duration, error) {
	var body struct {
		Now time.Time `json:"now"`
	}
	if err := d.getJSON(ctx, d.vars["HANDOFF_DEV_CLOCK_URL"], "", &body); err != nil {
		return 0, err
	}
	return time.Until(body.Now), nil
}

// heroku sends one request to the local Heroku API with token; out, when
// set, receives the JSON answer of a 200.
func (d *demo) heroku(ctx context.Context, token, method, path, body string, out any) (int, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(d.vars["HANDOFF_HEROKU_API_URL"], "/")+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.heroku+json; version=3")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && out != nil {
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// herokuConfigVars reads the app's config vars with token: their names,
// sorted (the values join the scan, never the output).
func (d *demo) herokuConfigVars(ctx context.Context, token string) ([]string, int, error) {
	vars := map[string]string{}
	status, err := d.heroku(ctx, token, http.MethodGet, "/apps/"+herokuApp+"/config-vars", "", &vars)
	var names []string
	for k, v := range vars {
		names = append(names, k)
		d.secrets = append(d.secrets, v)
	}
	sort.Strings(names)
	return names, status, err
}

// zoneIDs resolves the two zones' ids with the provisioner's token (which
// has Zone Read on both).
func (d *demo) zoneIDs(ctx context.Context) (own, other string, err error) {
	id := func(name string) (string, error) {
		var page struct {
			Result []struct {
				ID string `json:"id"`
			} `json:"result"`
		}
		if err := d.getJSON(ctx, d.vars["HANDOFF_CLOUDFLARE_API_URL"]+"/zones?name="+name, "Bearer "+d.vars["CLOUDFLARE_API_TOKEN"], &page); err != nil {
			return "", err
		}
		if len(page.Result) != 1 {
			return "", fmt.Errorf("zone %s: %d zones", name, len(page.Result))
		}
		return page.Result[0].ID, nil
	}
	if own, err = id(ownZone); err != nil {
		return "", "", err
	}
	other, err = id(otherZone)
	return own, other, err
}

// createTXT adds a TXT record to zone with token and returns the status.
func (d *demo) createTXT(ctx context.Context, token, zone string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.vars["HANDOFF_CLOUDFLARE_API_URL"]+"/zones/"+zone+"/dns_records",
		strings.NewReader(`{"type":"TXT","name":"_release","content":"moosequest release","ttl":60}`))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
