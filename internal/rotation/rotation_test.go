package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/vault"
)

var expiry = time.Date(2026, 6, 22, 9, 0, 0, 0, time.UTC)

func entry(slug, endpoint string) Entry {
	return NewEntry(slug, "staging", endpoint, "client secret of its Infisical identity", expiry)
}

func TestNewEntry(t *testing.T) {
	e := NewEntry("iap-notif-handler-20260621", "staging", "/r/iap-notif-handler-20260621/INFISICAL_CLIENT_SECRET", "x", expiry.In(time.FixedZone("CEST", 7200)))
	want := Entry{TokenName: "INFISICAL_CLIENT_SECRET", ConsumerID: "handoff-iap-notif-handler-20260621", Env: "staging", Active: true,
		UpdateEndpoint: "/r/iap-notif-handler-20260621/INFISICAL_CLIENT_SECRET", UpdateMethod: "INFISICAL_WRITE", Required: false,
		Capabilities: []string{"update"}, Description: "handoff iap-notif-handler-20260621: x", AutoRevokeAfter: expiry}
	if !e.Equal(want) || e.AutoRevokeAfter.Location() != time.UTC {
		t.Errorf("NewEntry = %+v, want %+v", e, want)
	}
}

// TestMarshalIsDeterministic: the same entries in any order, repeated or
// not, give the same bytes; the keys come in the documented order.
func TestMarshalIsDeterministic(t *testing.T) {
	a := entry("aaa-task", "/r/aaa-task/INFISICAL_CLIENT_SECRET")
	b := entry("bbb-task", "/r/bbb-task/CLOUDFLARE_API_TOKEN")
	c := entry("bbb-task", "/r/bbb-task/INFISICAL_CLIENT_SECRET")
	cases := []struct {
		name    string
		entries []Entry
	}{
		{"sorted", []Entry{a, b, c}},
		{"reversed", []Entry{c, b, a}},
		{"repeated", []Entry{b, a, c, a, b}},
	}
	want := string(New("staging", "/r", []Entry{a, b, c}).Marshal())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(New("staging", "/r", tc.entries).Marshal()); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	order := []string{`"schema_version"`, `"managed_by"`, `"environment"`, `"handoff_root"`, `"subscriptions"`,
		`"token_name"`, `"consumer_id"`, `"env"`, `"active"`, `"update_endpoint"`, `"update_method"`, `"required"`,
		`"capabilities"`, `"description"`, `"auto_revoke_after"`}
	last := -1
	for _, k := range order {
		i := strings.Index(want, k)
		if i <= last {
			t.Errorf("key %s out of order in\n%s", k, want)
		}
		last = i
	}
	if empty := string(New("staging", "/r", nil).Marshal()); !strings.Contains(empty, `"subscriptions": []`) {
		t.Errorf("an empty document: %s", empty)
	}
	back, err := Parse([]byte(want))
	if err != nil || string(back.Marshal()) != want {
		t.Errorf("round trip: %v\n%s", err, back.Marshal())
	}
}

// TestParseNeverQuotesTheValue: the secret at a configured location may be
// a credential; what Parse says of it names no part of it.
func TestParseNeverQuotesTheValue(t *testing.T) {
	const secret = "sk_live_51HzQ3xExampleSecretValue"
	for _, raw := range []string{
		secret,
		`{"schema_version": "` + secret + `"}`,
		`{"subscriptions": "` + secret + `"}`,
		`["` + secret + `"]`,
		`{"managed_by": "` + secret + `", "schema_version": 1}`,
		`{"managed_by": "handoff"}`,
	} {
		d, err := Parse([]byte(raw))
		live := &Live{}
		live.Classify([]byte(raw), 3, "staging", "/r")
		msg := fmt.Sprint(err) + " " + live.Problem
		if strings.Contains(msg, "sk_live") || strings.Contains(msg, "Example") {
			t.Errorf("%q: the message quotes the value: %s", raw, msg)
		}
		if err == nil && d.ManagedBy == ManagedBy {
			t.Errorf("%q parsed as a document", raw)
		}
		if err != nil && !errors.Is(err, ErrNotDocument) {
			t.Errorf("%q: %v does not wrap ErrNotDocument", raw, err)
		}
	}
}

func TestClassify(t *testing.T) {
	ours := string(New("staging", "/r", []Entry{entry("aaa-task", "/r/aaa-task/X")}).Marshal())
	cases := []struct {
		name, raw string
		want      State
		writable  bool
	}{
		{"empty", "  \n", StateMissing, true},
		{"ours", ours, StateValid, true},
		{"not json", "hello", StateInvalid, false},
		{"other root", strings.Replace(ours, `"/r"`, `"/other"`, 1), StateForeign, false},
		{"other environment", strings.Replace(ours, `"environment": "staging"`, `"environment": "prod"`, 1), StateForeign, false},
		{"later schema", strings.Replace(ours, `"schema_version": 1`, `"schema_version": 2`, 1), StateForeign, false},
		{"not managed by handoff", strings.Replace(ours, `"managed_by": "handoff"`, `"managed_by": "velvet"`, 1), StateForeign, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := &Live{}
			l.Classify([]byte(tc.raw), 4, "staging", "/r")
			if l.State != tc.want || l.Writable() != tc.writable {
				t.Errorf("state %s writable %t (%s), want %s %t", l.State, l.Writable(), l.Problem, tc.want, tc.writable)
			}
			if (l.State == StateValid) != l.Matches([]byte(tc.raw)) {
				t.Errorf("Matches = %t for state %s", l.Matches([]byte(tc.raw)), l.State)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	a := entry("aaa-task", "/r/aaa-task/INFISICAL_CLIENT_SECRET")
	b := entry("bbb-task", "/r/bbb-task/INFISICAL_CLIENT_SECRET")
	b2 := b
	b2.AutoRevokeAfter = expiry.Add(time.Hour)
	c := entry("ccc-task", "/r/ccc-task/INFISICAL_CLIENT_SECRET")
	add, remove := Diff([]Entry{a, b}, []Entry{b2, c, a})
	if len(add) != 2 || !add[0].Equal(b2) || !add[1].Equal(c) {
		t.Errorf("add = %+v", add)
	}
	if len(remove) != 1 || !remove[0].Equal(b) {
		t.Errorf("remove = %+v", remove)
	}
	if add, remove := Diff([]Entry{a, b}, []Entry{b, a}); add != nil || remove != nil {
		t.Errorf("same entries: %v %v", add, remove)
	}
}

type getter struct {
	sec vault.Secret
	err error
}

func (g getter) GetSecret(context.Context, string, string, string) (vault.Secret, error) {
	return g.sec, g.err
}

func TestRead(t *testing.T) {
	loc := Location{Environment: "prod", Folder: "/Platform/rotation", Secret: "HANDOFF_SUBSCRIPTIONS"}
	ours := string(New("staging", "/r", nil).Marshal())
	cases := []struct {
		name string
		g    Getter
		want State
	}{
		{"missing", getter{err: fmt.Errorf("get: %w", vault.ErrNotFound)}, StateMissing},
		{"forbidden", getter{err: errors.New("infisical: 403 Forbidden")}, StateUnread},
		{"ours", getter{sec: vault.Secret{Value: ours, Version: 7}}, StateValid},
		{"no getter", nil, StateUnread},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := Read(context.Background(), tc.g, loc, "staging", "/r")
			if l.State != tc.want {
				t.Errorf("state %s (%s), want %s", l.State, l.Problem, tc.want)
			}
			if !strings.Contains(l.FingerprintLine(), "/Platform/rotation/HANDOFF_SUBSCRIPTIONS") || strings.Contains(l.FingerprintLine(), "403") {
				t.Errorf("fingerprint line %q", l.FingerprintLine())
			}
		})
	}
}
