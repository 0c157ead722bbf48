package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

const testRunURL = "https://github.com/raxx-app/handoffs/actions/runs/9876543210"

// renderFormat renders p in one of the golden formats.
func renderFormat(t *testing.T, format string, p *Plan) string {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "text":
		err = RenderText(&buf, p, TextOptions{})
	case "text-color":
		err = RenderText(&buf, p, TextOptions{Color: true})
	case "json":
		err = RenderJSON(&buf, p)
	case "md":
		var s string
		s, err = RenderMarkdown(p, MarkdownOptions{RunURL: testRunURL})
		buf.WriteString(s)
	default:
		t.Fatalf("unknown format %q", format)
	}
	if err != nil {
		t.Fatalf("render %s: %v", format, err)
	}
	return buf.String()
}

// checkGolden compares got with testdata/<name>, or rewrites the file with
// -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/plan -update to create it)", err)
	}
	if string(want) != got {
		dmp := diffmatchpatch.New()
		a, b, lines := dmp.DiffLinesToChars(string(want), got)
		diffs := dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines)
		var d strings.Builder
		for _, x := range diffs {
			prefix := "  "
			switch x.Type {
			case diffmatchpatch.DiffInsert:
				prefix = "+ "
			case diffmatchpatch.DiffDelete:
				prefix = "- "
			default:
				continue
			}
			for _, l := range strings.SplitAfter(strings.TrimSuffix(x.Text, "\n"), "\n") {
				d.WriteString(prefix + strings.TrimSuffix(l, "\n") + "\n")
			}
		}
		t.Errorf("%s differs from the output (- golden, + got); rerun with -update if intended:\n%s", path, d.String())
	}
}

func TestGolden(t *testing.T) {
	for _, sc := range Scenarios() {
		for _, f := range sc.Formats {
			t.Run(sc.Name+"/"+f, func(t *testing.T) {
				checkGolden(t, sc.Name+"."+f+".golden", renderFormat(t, f, sc.Plan))
			})
		}
	}
}

// TestRenderDoesNotModifyPlan: rendering is read-only.
func TestRenderDoesNotModifyPlan(t *testing.T) {
	for _, sc := range Scenarios() {
		before, _ := json.Marshal(sc.Plan)
		for _, f := range allFormats {
			renderFormat(t, f, sc.Plan)
		}
		if after, _ := json.Marshal(sc.Plan); !bytes.Equal(before, after) {
			t.Errorf("%s: rendering modified the plan", sc.Name)
		}
	}
}

func scenario(t *testing.T, name string) *Plan {
	t.Helper()
	for _, sc := range Scenarios() {
		if sc.Name == name {
			return sc.Plan
		}
	}
	t.Fatalf("no scenario %q", name)
	return nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestTextSummaryLine(t *testing.T) {
	for _, tc := range []struct{ scenario, want string }{
		{"empty", "No changes. Live credentials match the specs."},
		{"no-change", "No changes. Live credentials match the specs."},
		{"two-creates", "Plan: 2 to create, 0 to refresh, 0 to replace, 0 to revoke."},
		{"refresh", "Plan: 0 to create, 1 to refresh, 0 to replace, 0 to revoke."},
		{"replace-escalation", "Plan: 0 to create, 0 to refresh, 1 to replace, 0 to revoke."},
		{"revoke", "Plan: 0 to create, 0 to refresh, 0 to replace, 2 to revoke."},
		{"mix", "Plan: 1 to create, 1 to refresh, 1 to replace, 1 to revoke."},
		{"held", "No changes. 3 handoffs are held back and not minted: see above."},
		{"held-with-changes", "Plan: 1 to create, 0 to refresh, 0 to replace, 0 to revoke."},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			p := scenario(t, tc.scenario)
			if got := lastLine(renderFormat(t, "text", p)); got != tc.want {
				t.Errorf("last line = %q, want %q", got, tc.want)
			}
			if got := summaryLine(p); got != tc.want {
				t.Errorf("summaryLine = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestHeldHandoffsAreShown: a plan that holds handoffs back never says
// that the live credentials match the specs, and says, in text and in
// Markdown, who revoked each, when, why and how to proceed.
func TestHeldHandoffsAreShown(t *testing.T) {
	for _, format := range []string{"text", "md"} {
		out := renderFormat(t, format, scenario(t, "held"))
		if format == "text" { // unwrap the comment lines
			out = strings.Join(strings.Fields(strings.ReplaceAll(out, "\n  #", " ")), " ")
		}
		if strings.Contains(out, noChangesSentence) {
			t.Errorf("%s: a plan holding handoffs back says %q", format, noChangesSentence)
		}
		for _, want := range []string{
			"tombstoned by alice at", "token pasted in a log", "handoff untombstone iap-notif-handler-20260621", "or give the task a new slug",
			"surface stripe killed by bob", "handoff untombstone founders-checkout-20260621",
			"when its spec was deleted", "give the task a new slug; or delete this spec",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: the held plan lacks %q:\n%s", format, want, out)
			}
		}
		if strings.Contains(out, "\x1b") {
			t.Errorf("%s: a control character of a manifest's reason reaches the output", format)
		}
	}
	// With changes, the held handoff is listed too, and not counted as an
	// unchanged one that is not shown.
	out := renderFormat(t, "text", scenario(t, "held-with-changes"))
	if !strings.Contains(out, "expired at 2026-06-21T06:00:00Z") || strings.Contains(out, "unchanged handoff is not shown") {
		t.Errorf("held beside changes:\n%s", out)
	}
}

// TestDescriptionIsShown: the spec's description appears in every format,
// on one line, bounded, and escaped for Markdown.
func TestDescriptionIsShown(t *testing.T) {
	p := scenario(t, "two-creates")
	for _, format := range []string{"text", "json", "md"} {
		if out := renderFormat(t, format, p); !strings.Contains(out, "StoreKit 2 server notification handler") {
			t.Errorf("%s lacks the description", format)
		}
	}
	md := renderFormat(t, "md", scenario(t, "held-with-changes"))
	if !strings.Contains(md, "_Handles the StoreKit 2 server notifications of the App Store: renewals,") || !strings.Contains(md, "ma…_") {
		t.Errorf("Markdown does not show the description on one bounded line:\n%s", md)
	}
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"  a\n\tb  ", "a b"},
		{strings.Repeat("é", MaxDescription), strings.Repeat("é", MaxDescription)},
		{strings.Repeat("é", MaxDescription+1), strings.Repeat("é", MaxDescription-1) + "…"},
	} {
		got := ClipDescription(tc.in)
		if got != tc.want || utf8.RuneCountInString(got) > MaxDescription {
			t.Errorf("ClipDescription(%.20q) = %.20q (%d characters), want %.20q", tc.in, got, utf8.RuneCountInString(got), tc.want)
		}
	}
}

func TestTextShapes(t *testing.T) {
	mix := renderFormat(t, "text", scenario(t, "mix"))
	for _, want := range []string{
		`  + handoff "founders-checkout-20260621" {`,
		`  ~ handoff "iap-notif-handler-20260621" {`,
		`-/+ handoff "pricing-page-20260620" {`,
		`  - handoff "weekly-report-20260620" {`,
		`  # handoff "iap-notif-handler-20260621" will be refreshed: token expires in 8m`,
		`2 unchanged handoffs are not shown.`,
		`# (3 unchanged surfaces hidden: infisical, mcp, apple_iap)`,
		`# (!) escalation: new MCP tool stripe_price_update`,
	} {
		if !strings.Contains(mix, want) {
			t.Errorf("mix text lacks %q", want)
		}
	}
	if strings.Contains(mix, "docs-sync-20260621") {
		t.Error("an unchanged handoff is listed")
	}
	repl := renderFormat(t, "text", scenario(t, "replace-escalation"))
	for _, want := range []string{
		`~ contents: "read" → "write"  (!) escalation`,
		`+ issues        = "write"  (!) escalation`,
		`~ repository: "raxx-app/TradeMasterAPI" → "raxx-app/TradeMasterWeb"  (!) escalation`,
		`+ "/MooseQuest/queue/staging/APPLE_IAP_*",  (!) escalation`,
		`~ expires_at: "2026-06-21T09:40:00Z" → (known after apply)`,
		`    pull_requests = "write"`,
	} {
		if !strings.Contains(repl, want) {
			t.Errorf("replace text lacks %q:\n%s", want, repl)
		}
	}
	creates := renderFormat(t, "text", scenario(t, "two-creates"))
	if !strings.Contains(creates, `+ contents      = "write"`) {
		t.Errorf("create does not render permissions as key = value:\n%s", creates)
	}
}

func TestTextColor(t *testing.T) {
	for _, sc := range Scenarios() {
		var buf bytes.Buffer
		if err := RenderText(&buf, sc.Plan, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "\x1b") {
			t.Errorf("%s: escape sequence in text without colour", sc.Name)
		}
	}
	color := renderFormat(t, "text-color", scenario(t, "mix"))
	for _, want := range []string{
		"  " + ansiGreen + "+" + ansiReset + ` handoff "founders`,
		"  " + ansiYellow + "~" + ansiReset + ` handoff "iap`,
		ansiMagenta + "-/+" + ansiReset + ` handoff "pricing`,
		"  " + ansiRed + "-" + ansiReset + ` handoff "weekly`,
		ansiBoldRed + "(!) escalation" + ansiReset,
	} {
		if !strings.Contains(color, want) {
			t.Errorf("coloured text lacks %q", want)
		}
	}
	if got, want := stripANSI(color), renderFormat(t, "text", scenario(t, "mix")); got != want {
		t.Error("coloured text differs from plain text once the escape sequences are removed")
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\x1b' {
			if j := strings.IndexByte(s[i:], 'm'); j >= 0 {
				i += j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestTextWrapsProseOnly(t *testing.T) {
	p := scenario(t, "mix")
	var buf bytes.Buffer
	if err := RenderText(&buf, p, TextOptions{Width: 50}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	header, _, _ := strings.Cut(out, "\n\n")
	for _, l := range strings.Split(header, "\n") {
		if n := utf8.RuneCountInString(l); n > 50 && strings.Contains(strings.TrimSpace(l), " ") {
			t.Errorf("prose line of %d characters at width 50: %q", n, l)
		}
	}
	// Diff lines are never wrapped.
	if !strings.Contains(out, `~ repository`) && !strings.Contains(out, `+ read_paths`) && !strings.Contains(out, `"/MooseQuest/queue/staging/STRIPE_PRICE_*",  (!) escalation`) {
		t.Errorf("a diff line was wrapped:\n%s", out)
	}
}

// jsonKeys returns the keys of the top-level object in document order.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %v %v", tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestJSONShape(t *testing.T) {
	out := renderFormat(t, "json", scenario(t, "empty"))
	want := []string{"format_version", "has_changes", "summary", "handoff_version", "created_at", "git_commit",
		"environment", "handoff_root", "state_fingerprint", "specs_digest", "policy", "handoffs"}
	if got := jsonKeys(t, []byte(out)); !reflect.DeepEqual(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if hs, ok := doc["handoffs"].([]any); !ok || len(hs) != 0 {
		t.Errorf("handoffs of an empty plan = %#v, want []", doc["handoffs"])
	}
	if doc["format_version"] != float64(FormatVersion) || doc["has_changes"] != false {
		t.Errorf("format_version/has_changes = %v/%v", doc["format_version"], doc["has_changes"])
	}

	// A plan without a format version or with nil slices still renders the
	// current version and [] arrays.
	var buf bytes.Buffer
	if err := RenderJSON(&buf, &Plan{Handoffs: []Handoff{{Slug: "a-b-c", Action: Create}}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"format_version": ` + strconv.Itoa(FormatVersion), `"checks": []`, `"changes": []`, `"has_changes": true`, `"create": 1`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("JSON lacks %s:\n%s", want, buf.String())
		}
	}
}

// TestJSONRoundTrip: the JSON decodes into a Plan equal to the canonical
// form of the one rendered (summary and has_changes are computed).
func TestJSONRoundTrip(t *testing.T) {
	for _, sc := range Scenarios() {
		var buf bytes.Buffer
		if err := RenderJSON(&buf, sc.Plan); err != nil {
			t.Fatal(err)
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

// TestJSONDocumented: every key the JSON can hold is described in JSON.md.
func TestJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile("JSON.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() != reflect.TypeFor[Plan]().PkgPath() {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("JSON.md does not describe %s.%s (`%s`)", typ.Name(), f.Name, name)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[jsonPlan]())
	if !strings.Contains(string(doc), "The current version is `format_version` "+strconv.Itoa(FormatVersion)+".") {
		t.Errorf("JSON.md does not state the current format_version %d", FormatVersion)
	}
}

func TestGrantEscalations(t *testing.T) {
	g := func(repo string, perms map[string]string, paths ...string) *Grant {
		return &Grant{Repository: repo, Permissions: perms, ReadPaths: paths}
	}
	for _, tc := range []struct {
		name          string
		before, after *Grant
		want          []string
	}{
		{"create escalates nothing", nil, g("o/r", map[string]string{"contents": "write"}), nil},
		{"revoke escalates nothing", g("o/r", map[string]string{"contents": "write"}), nil, nil},
		{"same", g("o/r", map[string]string{"contents": "read"}), g("o/r", map[string]string{"contents": "read"}), nil},
		{"read to write", g("o/r", map[string]string{"contents": "read"}), g("o/r", map[string]string{"contents": "write"}), []string{"contents: read → write"}},
		{"write to read narrows", g("o/r", map[string]string{"contents": "write"}), g("o/r", map[string]string{"contents": "read"}), nil},
		{"new permission", g("o/r", nil), g("o/r", map[string]string{"issues": "write"}), []string{"issues: none → write"}},
		{"removed permission narrows", g("o/r", map[string]string{"issues": "write"}), g("o/r", nil), nil},
		{"unknown level", g("o/r", map[string]string{"x": "read"}), g("o/r", map[string]string{"x": "triage"}), []string{"x: read → triage"}},
		{"new repository", g("o/a", nil), g("o/b", nil), []string{"new repository o/b"}},
		{"wider path", g("", nil, "/h/s/**"), g("", nil, "/h/s/**", "/q/X_*"), []string{"wider vault path /q/X_*"}},
		{"path under an existing /**", g("", nil, "/q/**"), g("", nil, "/q/a/*"), nil},
		{"mode to live", &Grant{Mode: "test"}, &Grant{Mode: "live"}, []string{"mode: test → live"}},
		{"mode to test", &Grant{Mode: "live"}, &Grant{Mode: "test"}, nil},
		{"environment to sandbox", &Grant{Environment: "production"}, &Grant{Environment: "sandbox"}, nil},
		{"environment change", &Grant{Environment: "staging"}, &Grant{Environment: "prod"}, []string{"environment: staging → prod"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := GrantEscalations(tc.before, tc.after); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("GrantEscalations = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMarkdownThousandHandoffsFits(t *testing.T) {
	p := scenario(t, "many")
	out, err := RenderMarkdown(p, MarkdownOptions{RunURL: testRunURL})
	if err != nil {
		t.Fatal(err)
	}
	n := utf8.RuneCountInString(out)
	if n > GitHubCommentLimit {
		t.Fatalf("%d characters, over GitHub's %d", n, GitHubCommentLimit)
	}
	if n < GitHubCommentLimit-1000 {
		t.Errorf("only %d characters: the limit is not filled", n)
	}
	if !strings.HasPrefix(out, DefaultMarkdownMarker+"\n") {
		t.Error("the marker does not start the comment")
	}
	for _, want := range []string{
		"### handoff plan: " + p.Summary().String(),
		"**Policy:** ✅ passed",
		"more handoffs not shown** (",
		"[workflow run](" + testRunURL + ")",
		"privilege escalations** in 200 handoffs",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the comment lacks %q", want)
		}
	}
	checkMarkdownWellFormed(t, out)
	// Escalating handoffs come first: the first row is a replace.
	_, table, _ := strings.Cut(out, tableHeader)
	if !strings.HasPrefix(table, "| `-/+` replace ⚠️ |") {
		t.Errorf("first row is not an escalating replace: %.80q", table)
	}
}

// checkMarkdownWellFormed checks what a cut inside markup would break:
// balanced <details>, table rows with the right number of cells, the
// trailing newline.
func checkMarkdownWellFormed(t *testing.T, s string) {
	t.Helper()
	if o, c := strings.Count(s, "<details>"), strings.Count(s, "</details>"); o != c {
		t.Errorf("%d <details> but %d </details>", o, c)
	}
	if o, c := strings.Count(s, "<sub>"), strings.Count(s, "</sub>"); o != c {
		t.Errorf("%d <sub> but %d </sub>", o, c)
	}
	if !strings.HasSuffix(s, "\n") || strings.HasSuffix(s, "\n\n\n") {
		t.Error("the comment does not end with exactly one line break")
	}
	cells := 0
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "|") {
			cells = 0
			continue
		}
		if !strings.HasSuffix(l, " |") && !strings.HasSuffix(l, ":|") && !strings.HasSuffix(l, "--|") {
			t.Errorf("table row does not end with a cell: %q", l)
		}
		n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|")
		if cells == 0 {
			cells = n
		} else if n != cells {
			t.Errorf("row with %d separators in a table of %d: %q", n, cells, l)
		}
	}
}

// TestMarkdownDegrades walks the mix plan down every level by lowering the
// limit to the size of each level.
func TestMarkdownDegrades(t *testing.T) {
	p := scenario(t, "mix")
	m := newMarkdown(p, MarkdownOptions{RunURL: testRunURL})
	prev := -1
	notes := map[int]string{
		mdFull:        "<details><summary><code>~</code> refresh",
		mdChangedOnly: "unchanged handoffs are not listed",
		mdCollapsed:   "Per-handoff details are collapsed",
		mdTableOnly:   "Per-handoff details are left out",
	}
	for level := mdFull; level < mdPartial; level++ {
		want := m.render(level)
		size := utf8.RuneCountInString(want)
		if prev >= 0 && size >= prev {
			t.Errorf("level %d (%d characters) is not smaller than level %d (%d)", level, size, level-1, prev)
		}
		prev = size
		got, err := RenderMarkdown(p, MarkdownOptions{RunURL: testRunURL, MaxBytes: size})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("limit %d: not level %d", size, level)
		}
		if !strings.Contains(got, notes[level]) {
			t.Errorf("level %d lacks %q", level, notes[level])
		}
		if level > mdFull && strings.Contains(got, "docs-sync-20260621") {
			t.Errorf("level %d lists an unchanged handoff", level)
		}
		checkMarkdownWellFormed(t, got)
		if _, err := RenderMarkdown(p, MarkdownOptions{RunURL: testRunURL, MaxBytes: size - 1}); err != nil {
			t.Fatal(err)
		}
		if got, _ := RenderMarkdown(p, MarkdownOptions{RunURL: testRunURL, MaxBytes: size - 1}); got == want {
			t.Errorf("level %d returned over its limit", level)
		}
	}

	// Below the table-only size: rows are dropped one by one, escalations
	// first, and the rest is counted. Limits are sampled, then the boundary
	// of the minimal form is found exactly.
	tableOnly := utf8.RuneCountInString(m.render(mdTableOnly))
	check := func(limit int) (string, error) {
		got, err := RenderMarkdown(p, MarkdownOptions{RunURL: testRunURL, MaxBytes: limit})
		if err != nil {
			return "", err
		}
		if n := utf8.RuneCountInString(got); n > limit {
			t.Fatalf("limit %d: %d characters", limit, n)
		}
		for _, want := range []string{DefaultMarkdownMarker, p.Summary().String(), "**Policy:**", "not shown**", testRunURL} {
			if !strings.Contains(got, want) {
				t.Fatalf("limit %d lacks %q:\n%s", limit, want, got)
			}
		}
		checkMarkdownWellFormed(t, got)
		return got, nil
	}
	failed := 0
	for limit := tableOnly - 1; limit > 0; limit -= 11 {
		if _, err := check(limit); err != nil {
			failed = limit
			break
		}
	}
	if failed == 0 {
		t.Fatal("no limit is too small")
	}
	var minimal string
	for limit := failed; ; limit++ {
		got, err := check(limit)
		if err == nil {
			minimal = got
			if n := utf8.RuneCountInString(got); n != limit {
				t.Errorf("the smallest limit that works is %d, but the minimal form has %d characters", limit, n)
			}
			break
		}
		if !strings.Contains(err.Error(), "more than the limit") {
			t.Errorf("error %q does not say the limit is too small", err)
		}
	}
	if strings.Contains(minimal, tableHeader) {
		t.Errorf("the minimal form still has a table:\n%s", minimal)
	}
	if !strings.Contains(minimal, "**4 more handoffs not shown** (2 with changes, 2 unchanged)") && !strings.Contains(minimal, "**6 more handoffs not shown** (4 with changes, 2 unchanged)") {
		t.Errorf("the minimal form does not count what it leaves out:\n%s", minimal)
	}
}

func TestMarkdownMarker(t *testing.T) {
	p := scenario(t, "two-creates")
	for _, tc := range []struct{ marker, want string }{
		{"", "<!-- handoff-plan -->"},
		{"<!-- handoff-plan:prod -->", "<!-- handoff-plan:prod -->"},
		{"handoff plan prod", "<!-- handoff plan prod -->"},
		{"<!-- a --> <b>x</b> <!-- b -->", "<!-- <!- - a - -> <b>x</b> <!- - b - -> -->"},
	} {
		got, err := RenderMarkdown(p, MarkdownOptions{Marker: tc.marker})
		if err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(got, "\n"); first != tc.want {
			t.Errorf("marker %q: first line %q, want %q", tc.marker, first, tc.want)
		}
	}
}

// TestMarkdownEscapes: text from specs and the planner cannot inject markup.
func TestMarkdownEscapes(t *testing.T) {
	p := scenario(t, "two-creates")
	evil := "</details><img src=x onerror=alert(1)> | [click](https://evil.example) `x` **b**"
	p.Handoffs[0].Reason = evil
	p.Handoffs[0].Changes[0].Reason = evil
	p.Handoffs[0].Changes[1].After.Permissions["a|b"] = "wr`ite"
	p.Policy.Warnings = []string{evil}
	got, err := RenderMarkdown(p, MarkdownOptions{RunURL: "javascript:alert(1)"})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<img", "</details><img", "[click](", "javascript:", "**b**"} {
		if strings.Contains(got, bad) {
			t.Errorf("output contains %q", bad)
		}
	}
	checkMarkdownWellFormed(t, got)
}
