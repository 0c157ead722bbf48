package cloudflaresrv

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	cloudflare "github.com/cloudflare/cloudflare-go"
)

// TestCloudflareSDKAgrees drives the local server with Cloudflare's own Go
// client (cloudflare-go v0.119.0, the newest release of the v0 line the
// module proxy serves): it creates a narrowed token, verifies it, lists
// zones with it and deletes it. Every request the SDK builds and every
// answer it decodes must work unchanged, which proves that the emulator
// speaks the API as Cloudflare's client expects it.
func TestCloudflareSDKAgrees(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	sdk := func(token string) *cloudflare.API {
		t.Helper()
		api, err := cloudflare.NewWithAPIToken(token,
			cloudflare.BaseURL(e.base),
			cloudflare.HTTPClient(e.ts.Client()),
			cloudflare.UsingRateLimit(1000), // the SDK's own pacing (4/s) would only slow the test
			cloudflare.UsingRetryPolicy(0, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		return api
	}
	prov := sdk(e.prov)

	v, err := prov.VerifyAPIToken(ctx)
	if err != nil || v.ID != DefaultProvisionerTokenID || v.Status != "active" {
		t.Fatalf("verify the provisioner: %+v, %v", v, err)
	}
	groups, err := prov.ListAPITokensPermissionGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]cloudflare.APITokenPermissionGroups{}
	for _, g := range groups {
		ids[g.Name] = g
	}
	if g := ids[GroupDNSWrite]; g.ID != "4755a26eedb94da69e1066d98aa820be" || len(g.Scopes) != 1 || g.Scopes[0] != ScopeZone {
		t.Fatalf("DNS Write as the SDK reads it: %+v", g)
	}

	expires := testNow.Add(2 * time.Hour)
	notBefore := testNow
	created, err := prov.CreateAPIToken(ctx, cloudflare.APIToken{
		Name:      "handoff-sdk-check",
		NotBefore: &notBefore,
		ExpiresOn: &expires,
		Policies: []cloudflare.APITokenPolicies{{
			Effect:           "allow",
			Resources:        map[string]interface{}{ScopeZone + "." + DefaultZoneMooseQuestID: "*"},
			PermissionGroups: []cloudflare.APITokenPermissionGroups{{ID: ids[GroupZoneRead].ID}, {ID: ids[GroupDNSWrite].ID}},
		}},
		Condition: &cloudflare.APITokenCondition{RequestIP: &cloudflare.APITokenRequestIPCondition{In: []string{"127.0.0.0/8", "::1/128"}}},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.ID == "" || len(created.Value) != 40 || created.Status != "active" || !created.ExpiresOn.Equal(expires) ||
		len(created.Policies) != 1 || created.Policies[0].PermissionGroups[1].Name != GroupDNSWrite ||
		created.Condition == nil || len(created.Condition.RequestIP.In) != 2 {
		t.Fatalf("created token as the SDK reads it: %+v", created)
	}

	narrowed := sdk(created.Value)
	cv, err := narrowed.VerifyAPIToken(ctx)
	if err != nil || cv.ID != created.ID || cv.Status != "active" || !cv.ExpiresOn.Equal(expires) {
		t.Fatalf("verify the new token: %+v, %v", cv, err)
	}
	zones, err := narrowed.ListZones(ctx)
	if err != nil || len(zones) != 1 || zones[0].Name != "moosequest.app" || zones[0].ID != DefaultZoneMooseQuestID ||
		zones[0].Account.ID != DefaultAccountID || zones[0].Status != "active" {
		t.Fatalf("zones of the new token: %+v, %v", zones, err)
	}
	id, err := narrowed.ZoneIDByName("moosequest.app")
	if err != nil || id != DefaultZoneMooseQuestID {
		t.Fatalf("ZoneIDByName: %q, %v", id, err)
	}
	if _, err := narrowed.ZoneIDByName("example.com"); err == nil {
		t.Fatal("the token narrowed to moosequest.app finds example.com")
	}

	got, err := prov.GetAPIToken(ctx, created.ID)
	if err != nil || got.Value != "" || got.Name != "handoff-sdk-check" {
		t.Fatalf("read back: %+v, %v", got, err)
	}
	if err := prov.DeleteAPIToken(ctx, created.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = narrowed.VerifyAPIToken(ctx)
	var authz *cloudflare.AuthorizationError
	if !errors.As(err, &authz) || !authz.InternalErrorCodeIs(codeInvalidAPIToken) || !strings.HasSuffix(authz.RayID(), "-DEV") {
		t.Fatalf("verify after delete: %v", err)
	}
	err = prov.DeleteAPIToken(ctx, created.ID)
	var nf *cloudflare.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("delete again: %v", err)
	}
	_, err = narrowed.ListZones(ctx)
	var authn *cloudflare.AuthenticationError
	if !errors.As(err, &authn) || !strings.Contains(err.Error(), "Invalid access token") {
		t.Fatalf("zones after delete: %v", err)
	}
}
