package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// DefaultLabel is the label every alert issue carries.
const DefaultLabel = "handoff-alert"

// Kind is what an alert is about.
type Kind string

const (
	// KindScope: a handoff's credentials can do more than its spec allows.
	KindScope Kind = "scope"
	// KindVendor: a vendor answers 5xx (or not at all).
	KindVendor Kind = "vendor"
)

// Finding is one problem seen by a run.
type Finding struct {
	Kind Kind
	// Subject is the handoff slug (KindScope) or the surface's vendor
	// name (KindVendor).
	Subject string
	// Lines describe it, one fact each (verify's messages).
	Lines []string
	// Since is when the run first saw it (KindVendor): an open issue's
	// first-seen time wins over it.
	Since time.Time
}

// Key names the finding's issue: "scope/<slug>" or "vendor/<name>".
func (f Finding) Key() string { return string(f.Kind) + "/" + f.Subject }

// Issue is an open issue as Sync sees it.
type Issue struct {
	Number int
	Title  string
	Body   string
	URL    string
}

// Issues is the issue tracker: GitHub's issues of one repository.
type Issues interface {
	// Open lists the open issues that carry label.
	Open(ctx context.Context, label string) ([]Issue, error)
	Create(ctx context.Context, title, body string, labels []string) (Issue, error)
	// Update replaces the body of issue number.
	Update(ctx context.Context, number int, title, body string) error
	Comment(ctx context.Context, number int, body string) error
	// Close closes issue number as completed.
	Close(ctx context.Context, number int) error
}

// Options configure Sync.
type Options struct {
	// Label marks alert issues (default DefaultLabel).
	Label string
	// Now is when this run happens.
	Now time.Time
	// RunURL links the run that saw the problem ("" for none).
	RunURL string
}

// Action is one thing Sync did, for the run's log.
type Action struct {
	// Verb is "opened", "updated", "changed" (updated with a comment) or
	// "closed".
	Verb   string
	Key    string
	Number int
	URL    string
}

func (a Action) String() string {
	return fmt.Sprintf("%s alert issue #%d (%s)", a.Verb, a.Number, a.Key)
}

// marker is the hidden first line of an alert issue's body.
type marker struct {
	Key       string
	FirstSeen time.Time
	Digest    string
}

var markerRE = regexp.MustCompile(`<!-- handoff-alert key="([^"]+)" first-seen="([^"]+)" digest="([0-9a-f]*)" -->`)

func (m marker) String() string {
	return fmt.Sprintf(`<!-- handoff-alert key="%s" first-seen="%s" digest="%s" -->`, m.Key, m.FirstSeen.UTC().Format(time.RFC3339), m.Digest)
}

// parseMarker reads an issue body's marker; ok is false for an issue that
// is not an alert of handoff's (a person's issue with the same label).
func parseMarker(body string) (marker, bool) {
	m := markerRE.FindStringSubmatch(body)
	if m == nil {
		return marker{}, false
	}
	t, err := time.Parse(time.RFC3339, m[2])
	if err != nil {
		return marker{}, false
	}
	return marker{Key: m[1], FirstSeen: t, Digest: m[3]}, true
}

// digest fingerprints what was seen, so that a change is told apart from
// the same problem persisting.
func digest(lines []string) string {
	s := append([]string(nil), lines...)
	sort.Strings(s)
	sum := sha256.Sum256([]byte(strings.Join(s, "\n")))
	return hex.EncodeToString(sum[:8])
}

// FirstSeen returns, by key, when the open alert issues say their problem
// was first seen: a vendor failure's clock survives from run to run there.
func FirstSeen(open []Issue) map[string]time.Time {
	out := map[string]time.Time{}
	for _, is := range open {
		if m, ok := parseMarker(is.Body); ok {
			out[m.Key] = m.FirstSeen
		}
	}
	return out
}

// Title is an alert issue's title.
func Title(f Finding) string {
	switch f.Kind {
	case KindScope:
		return "handoff: scope violation on " + f.Subject
	case KindVendor:
		return "handoff: " + f.Subject + " is failing"
	}
	return "handoff: " + f.Key()
}

func body(f Finding, m marker, opts Options) string {
	var b strings.Builder
	b.WriteString(m.String() + "\n")
	switch f.Kind {
	case KindScope:
		fmt.Fprintf(&b, "## Scope violation: `%s`\n\n", f.Subject)
		b.WriteString("`handoff verify` found credentials of this handoff that can do more than its spec allows.\n\n")
	case KindVendor:
		fmt.Fprintf(&b, "## %s is failing\n\n", f.Subject)
		b.WriteString("handoff cannot read this vendor's live state: provisioning and revocation there are blocked.\n\n")
	}
	for _, l := range f.Lines {
		fmt.Fprintf(&b, "- %s\n", oneLine(l))
	}
	fmt.Fprintf(&b, "\nFirst seen: %s · last seen: %s", m.FirstSeen.UTC().Format(time.RFC3339), opts.Now.UTC().Format(time.RFC3339))
	if opts.RunURL != "" {
		fmt.Fprintf(&b, " · [run](%s)", opts.RunURL)
	}
	b.WriteString("\n\n")
	switch f.Kind {
	case KindScope:
		fmt.Fprintf(&b, "What to do: `handoff revoke %s`, then find out how it was widened. ", f.Subject)
	case KindVendor:
		b.WriteString("What to do: check the vendor's status page; the next scheduled apply retries. ")
	}
	b.WriteString("handoff closes this issue when a run finds the problem gone.\n")
	return b.String()
}

// oneLine keeps a finding to one Markdown list item.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Sync makes the open alert issues match findings: it opens an issue for a
// finding without one, updates the body of one that persists (with a
// comment when what is seen changed), and closes (as completed) each open
// alert whose key checked reports and that has no finding. Keys the run
// could not check (a vendor down, a slug not verified) are left as they
// are. Each issue is found by its marker, never duplicated; an error stops
// Sync with the actions done so far.
func Sync(ctx context.Context, issues Issues, findings []Finding, checked func(key string) bool, opts Options) ([]Action, error) {
	if opts.Label == "" {
		opts.Label = DefaultLabel
	}
	open, err := issues.Open(ctx, opts.Label)
	if err != nil {
		return nil, err
	}
	byKey := map[string]Issue{}
	for _, is := range open {
		m, ok := parseMarker(is.Body)
		if !ok {
			continue
		}
		if _, dup := byKey[m.Key]; !dup || is.Number < byKey[m.Key].Number {
			byKey[m.Key] = is // the oldest, should a person have copied one
		}
	}
	var acts []Action
	seen := map[string]bool{}
	for _, f := range findings {
		key := f.Key()
		seen[key] = true
		m := marker{Key: key, FirstSeen: opts.Now, Digest: digest(f.Lines)}
		if !f.Since.IsZero() && f.Since.Before(m.FirstSeen) {
			m.FirstSeen = f.Since
		}
		is, ok := byKey[key]
		if !ok {
			created, err := issues.Create(ctx, Title(f), body(f, m, opts), []string{opts.Label})
			if err != nil {
				return acts, err
			}
			acts = append(acts, Action{Verb: "opened", Key: key, Number: created.Number, URL: created.URL})
			continue
		}
		old, _ := parseMarker(is.Body)
		m.FirstSeen = old.FirstSeen
		if err := issues.Update(ctx, is.Number, Title(f), body(f, m, opts)); err != nil {
			return acts, err
		}
		verb := "updated"
		if old.Digest != m.Digest {
			verb = "changed"
			var c strings.Builder
			fmt.Fprintf(&c, "What handoff sees changed at %s:\n\n", opts.Now.UTC().Format(time.RFC3339))
			for _, l := range f.Lines {
				fmt.Fprintf(&c, "- %s\n", oneLine(l))
			}
			if err := issues.Comment(ctx, is.Number, c.String()); err != nil {
				return acts, err
			}
		}
		acts = append(acts, Action{Verb: verb, Key: key, Number: is.Number, URL: is.URL})
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if seen[key] || checked == nil || !checked(key) {
			continue
		}
		is := byKey[key]
		note := fmt.Sprintf("Clean at %s: handoff no longer sees this problem.", opts.Now.UTC().Format(time.RFC3339))
		if opts.RunURL != "" {
			note += fmt.Sprintf(" ([run](%s))", opts.RunURL)
		}
		if err := issues.Comment(ctx, is.Number, note); err != nil {
			return acts, err
		}
		if err := issues.Close(ctx, is.Number); err != nil {
			return acts, err
		}
		acts = append(acts, Action{Verb: "closed", Key: key, Number: is.Number, URL: is.URL})
	}
	return acts, nil
}
