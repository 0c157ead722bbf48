package alert

import (
	"context"
	"strings"
	"testing"
	"time"
)

// fakeIssues is an in-memory tracker.
type fakeIssues struct {
	issues   map[int]*Issue
	closed   map[int]bool
	comments map[int][]string
	next     int
}

func newFake() *fakeIssues {
	return &fakeIssues{issues: map[int]*Issue{}, closed: map[int]bool{}, comments: map[int][]string{}, next: 1}
}

func (f *fakeIssues) Open(context.Context, string) ([]Issue, error) {
	var out []Issue
	for n := 1; n < f.next; n++ {
		if is := f.issues[n]; is != nil && !f.closed[n] {
			out = append(out, *is)
		}
	}
	return out, nil
}

func (f *fakeIssues) Create(_ context.Context, title, body string, _ []string) (Issue, error) {
	is := &Issue{Number: f.next, Title: title, Body: body}
	f.issues[f.next] = is
	f.next++
	return *is, nil
}

func (f *fakeIssues) Update(_ context.Context, n int, title, body string) error {
	f.issues[n].Title, f.issues[n].Body = title, body
	return nil
}

func (f *fakeIssues) Comment(_ context.Context, n int, body string) error {
	f.comments[n] = append(f.comments[n], body)
	return nil
}

func (f *fakeIssues) Close(_ context.Context, n int) error { f.closed[n] = true; return nil }

func verbs(acts []Action) string {
	var s []string
	for _, a := range acts {
		s = append(s, a.Verb+" "+a.Key)
	}
	return strings.Join(s, ", ")
}

func TestSyncRuns(t *testing.T) {
	t0 := time.Date(2026, 6, 21, 9, 0, 0, 0, time.UTC)
	scope := Finding{Kind: KindScope, Subject: "iap", Lines: []string{"infisical: scope violation: extra identity"}}
	scope2 := Finding{Kind: KindScope, Subject: "iap", Lines: []string{"infisical: scope violation: extra identity", "github: wider grant"}}
	vendor := Finding{Kind: KindVendor, Subject: "infisical", Lines: []string{"503"}, Since: t0.Add(-10 * time.Minute)}
	all := func(string) bool { return true }
	none := func(string) bool { return false }
	f := newFake()
	runs := []struct {
		name     string
		findings []Finding
		checked  func(string) bool
		want     string
	}{
		{"first sight opens", []Finding{scope, vendor}, all, "opened scope/iap, opened vendor/infisical"},
		{"persisting updates, no duplicate", []Finding{scope, vendor}, all, "updated scope/iap, updated vendor/infisical"},
		{"a change comments", []Finding{scope2}, none, "changed scope/iap"},
		{"unchecked keys stay open", nil, none, ""},
		{"clean closes", nil, all, "closed scope/iap, closed vendor/infisical"},
	}
	for i, r := range runs {
		acts, err := Sync(context.Background(), f, r.findings, r.checked, Options{Now: t0.Add(time.Duration(i) * 15 * time.Minute), RunURL: "https://x/runs/1"})
		if err != nil {
			t.Fatal(err)
		}
		if got := verbs(acts); got != r.want {
			t.Errorf("%s: %q, want %q", r.name, got, r.want)
		}
	}
	if f.next != 3 {
		t.Errorf("%d issues opened, want 2", f.next-1)
	}
	// The vendor's first failure, from before the first run, is kept.
	m, ok := parseMarker(f.issues[2].Body)
	if !ok || !m.FirstSeen.Equal(t0.Add(-10*time.Minute)) || f.issues[2].Title != "handoff: infisical is failing" {
		t.Errorf("vendor issue %+v: marker %+v", f.issues[2], m)
	}
	if len(f.comments[1]) != 2 || !strings.Contains(f.comments[1][0], "github: wider grant") || !strings.HasPrefix(f.comments[1][1], "Clean at") {
		t.Errorf("comments on the scope issue: %q", f.comments[1])
	}
	if got := FirstSeen([]Issue{*f.issues[2]}); !got["vendor/infisical"].Equal(t0.Add(-10 * time.Minute)) {
		t.Errorf("FirstSeen = %v", got)
	}
}

func TestIssuesWithoutAMarkerAreLeftAlone(t *testing.T) {
	f := newFake()
	_, _ = f.Create(context.Background(), "a person's issue", "labelled by hand", nil)
	acts, err := Sync(context.Background(), f, nil, func(string) bool { return true }, Options{Now: time.Now()})
	if err != nil || len(acts) != 0 || f.closed[1] {
		t.Fatalf("acts %v err %v closed %v", acts, err, f.closed[1])
	}
}
