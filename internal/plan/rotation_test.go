package plan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/rotation"
)

// The plans of the rotation document's goldens: a create that enrolls a
// client secret, a revocation that removes one and a replace that moves
// an entry's expiry, with a live document edited by hand; the repair of a
// drift alone; and a document that is not written.

func clientSecretEntry(slug string, expires time.Time) rotation.Entry {
	return rotation.NewEntry(slug, "staging", "/MooseQuest/handoffs/"+slug+"/INFISICAL_CLIENT_SECRET", "client secret of its Infisical identity", expires)
}

func rotationLocation(r *Rotation) *Rotation {
	r.Environment, r.Folder, r.Secret = "prod", "/Platform/rotation/subscriptions", "HANDOFF_SUBSCRIPTIONS"
	return r
}

func rotationMixPlan() *Plan {
	create := iapCreate()
	create.Rotation = &RotationChange{Add: []rotation.Entry{clientSecretEntry(iapSlug, t0.Add(24*time.Hour))}}
	revoke := pastTTLRevoke()
	revoke.Rotation = &RotationChange{Remove: []rotation.Entry{clientSecretEntry(revoke.Slug, t0.Add(-time.Hour))}}
	replace := foundersNoOp()
	replace.Changes[0].Action, replace.Changes[0].Reason = Replace, "spec changed"
	replace.Reason = "spec changed"
	replace.Rotation = &RotationChange{
		Remove: []rotation.Entry{clientSecretEntry(foundersSlug, t0.Add(22*time.Hour))},
		Add:    []rotation.Entry{clientSecretEntry(foundersSlug, t0.Add(24*time.Hour))},
	}
	p := newTestPlan(create, replace, revoke)
	forged := rotation.NewEntry("payments-admin", "prod", "/Payments/live/STRIPE_SECRET_KEY", "Stripe key, read by reference", t0.Add(48*time.Hour))
	p.Rotation = rotationLocation(&Rotation{Live: "valid", Write: true, Entries: 2,
		Reason: "apply rewrites it for the changes of " + iapSlug + ", " + foundersSlug + ", weekly-report-20260620, and a repair: the live document holds 1 entry no manifest says (edited by hand, or left stale by an apply that stopped before writing it)",
		Repair: &RotationChange{Remove: []rotation.Entry{forged}}})
	return p
}

func rotationRepairPlan() *Plan {
	p := newTestPlan(iapNoOp(), foundersNoOp())
	p.Rotation = rotationLocation(&Rotation{Live: "valid", Write: true, Entries: 2,
		Reason: "apply rewrites it for a repair: the live document lacks 1 entry the manifests say (edited by hand, or left stale by an apply that stopped before writing it)",
		Repair: &RotationChange{Add: []rotation.Entry{clientSecretEntry(iapSlug, t0.Add(20*time.Hour))}}})
	return p
}

func rotationNotWrittenPlan() *Plan {
	p := newTestPlan(iapCreate())
	p.Rotation = rotationLocation(&Rotation{Live: "foreign", Entries: 1,
		Reason: "not written: the secret is not these handoffs' document (it lists the handoffs under /Other/handoffs in environment staging); fix it by hand, then apply"})
	p.Policy.Warnings = []string{"Rotation document not written"}
	return p
}

func rotationScenarios() []Scenario {
	return []Scenario{
		{"rotation-mix", rotationMixPlan(), allFormats},
		{"rotation-repair", rotationRepairPlan(), allFormats},
		{"rotation-not-written", rotationNotWrittenPlan(), allFormats},
	}
}

func TestRotationGolden(t *testing.T) {
	for _, sc := range rotationScenarios() {
		for _, f := range sc.Formats {
			t.Run(sc.Name+"/"+f, func(t *testing.T) {
				checkGolden(t, sc.Name+"."+f+".golden", renderFormat(t, f, sc.Plan))
			})
		}
	}
}

// TestRotationPlanShape: the document's repair alone is a change; the
// summary says the document is written; the JSON round-trips and the
// renderers do not modify the plan.
func TestRotationPlanShape(t *testing.T) {
	repair := rotationRepairPlan()
	if !repair.HasChanges() || repair.Summary() != (Summary{NoOp: 2}) {
		t.Errorf("a repair alone: has changes %t, summary %+v", repair.HasChanges(), repair.Summary())
	}
	if got := summaryLine(repair); got != "Plan: 0 to create, 0 to refresh, 0 to replace, 0 to revoke, and the rotation document (1 to add, 0 to remove)." {
		t.Errorf("summary line %q", got)
	}
	if got := summaryLine(rotationNotWrittenPlan()); got != "Plan: 1 to create, 0 to refresh, 0 to replace, 0 to revoke." {
		t.Errorf("summary line of a document not written %q", got)
	}
	noop := newTestPlan(iapNoOp())
	noop.Rotation = rotationLocation(&Rotation{Live: "valid", Entries: 1})
	if noop.HasChanges() {
		t.Error("a document up to date is a change")
	}
	if s := renderFormat(t, "text", noop); !strings.Contains(s, "up to date, 1 entry") {
		t.Errorf("a document up to date is not said to be:\n%s", s)
	}
	for _, sc := range rotationScenarios() {
		before, _ := json.Marshal(sc.Plan)
		var buf bytes.Buffer
		if err := RenderJSON(&buf, sc.Plan); err != nil {
			t.Fatal(err)
		}
		for _, f := range allFormats {
			renderFormat(t, f, sc.Plan)
		}
		if after, _ := json.Marshal(sc.Plan); !bytes.Equal(before, after) {
			t.Errorf("%s: rendering modified the plan", sc.Name)
		}
		var back Plan
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&back, sc.Plan.Canonical()) {
			t.Errorf("%s: JSON does not round-trip", sc.Name)
		}
	}
}
