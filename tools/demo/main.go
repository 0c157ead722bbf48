// Command demo is `make demo`: the whole GitOps story of handoff, run with
// the handoff binary against `handoff dev` in a temporary git repository
// made from examples/gitops, for two handoffs: one with a GitHub token and
// its own Infisical identity, and one with an AWS STS session, a Heroku
// token and a Cloudflare token. It prints one heading per stage and what a user
// would see; it never prints a secret value, and checks so at the end.
//
//	go run ./tools/demo -bin bin/handoff
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/plan"
	"github.com/raxx-app/handoff/internal/provider/infisical"
)

const (
	slug      = "iap-notif-handler-20260621"
	otherPath = "/MooseQuest/queue/staging" // STRIPE_* there belongs to another task
	otherKey  = "STRIPE_TEST_SECRET_KEY"
	prNumber  = 42
)

func main() {
	bin := flag.String("bin", "bin/handoff", "the handoff binary")
	template := flag.String("template", "examples/gitops", "the GitOps repository template")
	keep := flag.Bool("keep", false, "keep the temporary repository and print its path")
	flag.Parse()
	start := time.Now()
	if err := run(context.Background(), *bin, *template, *keep, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo failed: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("\nDemo complete in %s.\n", time.Since(start).Round(100*time.Millisecond))
}

// demo is one run: the dev servers, the repository, the environment of the
// commands, and every output shown, for the final secret scan.
type demo struct {
	out     io.Writer
	bin     string
	repo    string
	env     []string
	vars    map[string]string
	step    int
	shown   []string
	secrets []string
}

func run(ctx context.Context, bin, template string, keep bool, out io.Writer) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("git"); err != nil {
		return errors.New("the demo needs git on the PATH (it makes a temporary GitOps repository)")
	}
	tmp, err := os.MkdirTemp("", "handoff-demo-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintf(out, "(keeping %s)\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	d := &demo{out: out, bin: bin, repo: filepath.Join(tmp, "gitops")}

	d.stage("handoff dev: local GitHub, Infisical, Cloudflare, AWS and Heroku API servers (no account needed)")
	stop, err := d.startDev(ctx, filepath.Join(tmp, "dev"))
	if err != nil {
		return err
	}
	defer stop()

	d.stage("a GitOps repository from " + template + " (handoff.hcl, the workflow; no spec yet)")
	if err := d.makeRepo(template); err != nil {
		return err
	}

	d.stage("pull request #42 adds specs/" + slug + ".hcl and specs/" + release + ".hcl: validate, then plan posted as a PR comment")
	d.git("checkout", "-q", "-b", "add-"+slug)
	for _, s := range []string{slug, release} {
		if err := copyFile(filepath.Join(template, "specs", s+".hcl"), filepath.Join(d.repo, "specs", s+".hcl")); err != nil {
			return err
		}
	}
	d.git("add", "specs")
	d.git("commit", "-q", "-m", "Add handoffs "+slug+" and "+release)
	if _, err := d.handoff(0, "validate"); err != nil {
		return err
	}
	if _, err := d.handoff(2, "plan", "-pr-comment", "-detailed-exitcode", "-pr", fmt.Sprint(prNumber)); err != nil {
		return err
	}
	if err := d.showComment(ctx); err != nil {
		return err
	}

	d.stage("merge: the push to main runs handoff apply -auto-approve")
	d.git("checkout", "-q", "main")
	d.git("merge", "-q", "--no-ff", "-m", "Merge pull request #42", "add-"+slug)
	if _, err := d.handoff(0, "apply", "-auto-approve"); err != nil {
		return err
	}

	d.stage("the rotation service's subscription document: the long-lived credentials, by vault path")
	if _, err := d.handoff(0, "rotation"); err != nil {
		return err
	}

	d.stage("the orchestrator's dispatch gate, then the session context")
	for _, s := range []string{slug, release} {
		if _, err := d.handoff(0, "gate", s); err != nil {
			return err
		}
		if _, err := d.handoff(0, "env", s); err != nil {
			return err
		}
	}

	d.stage("the handoff's own identity reads its folder, and is denied another task's secret")
	if err := d.leastPrivilege(ctx); err != nil {
		return err
	}

	d.stage("the release handoff's credentials, each on its vendor's local server: granted, and refused one step beyond")
	creds, err := d.releaseCredentials(ctx)
	if err != nil {
		return err
	}
	if err := d.releaseGranted(ctx, creds); err != nil {
		return err
	}

	d.stage("61 minutes later (the dev servers' clock, not sleep): the tokens' and the session's hour is over")
	if err := d.advanceClock(ctx, "61m"); err != nil {
		return err
	}
	for _, s := range []string{slug, release} {
		if _, err := d.handoff(1, "gate", s); err != nil {
			return err
		}
	}
	d.say("the scheduled apply (every 15 minutes) refreshes them:")
	if _, err := d.handoff(0, "apply", "-auto-approve"); err != nil {
		return err
	}
	for _, s := range []string{slug, release} {
		if _, err := d.handoff(0, "gate", s); err != nil {
			return err
		}
	}
	if creds, err = d.releaseCredentials(ctx); err != nil {
		return err
	}

	d.stage("the kill switch for one surface: the release's DNS work is done")
	if _, err := d.handoff(0, "revoke", "-surface", "cloudflare", "-reason", "DNS records done", release); err != nil {
		return err
	}
	if err := d.releaseKilled(ctx, creds); err != nil {
		return err
	}
	if _, err := d.handoff(0, "gate", release); err != nil {
		return err
	}
	if _, err := d.handoff(0, "verify", release); err != nil {
		return err
	}
	d.say("the kill took the Cloudflare token out of the rotation document too:")
	if _, err := d.handoff(0, "rotation", "-check"); err != nil {
		return err
	}

	d.stage("pull request #43 deletes the specs; its merge revokes everything")
	d.git("checkout", "-q", "-b", "remove-"+slug)
	d.git("rm", "-q", filepath.Join("specs", slug+".hcl"), filepath.Join("specs", release+".hcl"))
	d.git("commit", "-q", "-m", "Remove handoffs "+slug+" and "+release)
	if _, err := d.handoff(2, "plan", "-detailed-exitcode"); err != nil {
		return err
	}
	d.git("checkout", "-q", "main")
	d.git("merge", "-q", "--no-ff", "-m", "Merge pull request #43", "remove-"+slug)
	// Every live handoff revoked at once reads like a lost specs/ folder:
	// the mass-revocation guard holds it (exit 5) until the operator says
	// the merge meant it.
	if _, err := d.handoff(5, "apply", "-auto-approve"); err != nil {
		return err
	}
	d.say("the merge meant it: the operator applies with -allow-mass-revocation")
	if _, err := d.handoff(0, "apply", "-auto-approve", "-allow-mass-revocation"); err != nil {
		return err
	}
	for _, s := range []string{slug, release} {
		if _, err := d.handoff(1, "gate", s); err != nil {
			return err
		}
	}
	if err := d.releaseRevoked(ctx, creds); err != nil {
		return err
	}
	if _, err := d.handoff(0, "rotation", "-check"); err != nil {
		return err
	}

	d.stage("the audit trail: the manifest's history and the vault's log of the identity's reads")
	if _, err := d.handoff(0, "audit", slug); err != nil {
		return err
	}

	d.stage("secret scan")
	return d.scan()
}

func (d *demo) stage(title string) {
	d.step++
	fmt.Fprintf(d.out, "\n== %d. %s\n", d.step, title)
}

func (d *demo) say(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.shown = append(d.shown, msg)
	fmt.Fprintln(d.out, msg)
}

// startDev starts `handoff dev` and loads the provisioner's environment it
// writes; stop interrupts it.
func (d *demo) startDev(ctx context.Context, dir string) (stop func(), err error) {
	cmd := exec.CommandContext(ctx, d.bin, "dev", "-dir", dir, "-state", "none")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
		pw.Close()
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			d.say("%s", line)
			if strings.Contains(line, "control:") {
				ready <- nil
				break
			}
		}
		ready <- errors.New("handoff dev stopped before it was ready")
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case err = <-ready:
	case <-time.After(15 * time.Second):
		err = errors.New("handoff dev did not start within 15 s")
	}
	if err != nil {
		stop()
		return nil, err
	}
	d.vars, err = readEnvFile(filepath.Join(dir, "dev.env"))
	if err != nil {
		stop()
		return nil, err
	}
	for _, k := range []string{"INFISICAL_CLIENT_SECRET", "GITHUB_TOKEN", "CLOUDFLARE_API_TOKEN", "AWS_SECRET_ACCESS_KEY", "HEROKU_API_KEY"} {
		d.secrets = append(d.secrets, d.vars[k])
	}
	d.env = os.Environ()
	for k, v := range d.vars {
		d.env = append(d.env, k+"="+v)
	}
	// A run outside Actions: no annotations, no color, the dev clock.
	d.env = append(d.env, "NO_COLOR=1", "GITHUB_ACTIONS=", "GIT_AUTHOR_NAME=demo", "GIT_AUTHOR_EMAIL=demo@handoff.local",
		"GIT_COMMITTER_NAME=demo", "GIT_COMMITTER_EMAIL=demo@handoff.local")
	return stop, nil
}

// readEnvFile reads the KEY='value' lines `handoff dev` writes.
func readEnvFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		v = strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
		vars[k] = strings.ReplaceAll(v, `'\''`, "'")
	}
	return vars, nil
}

func (d *demo) makeRepo(template string) error {
	if err := os.MkdirAll(filepath.Join(d.repo, "specs"), 0o755); err != nil {
		return err
	}
	for _, f := range []string{"handoff.hcl", "README.md", ".github/workflows/handoff.yml"} {
		src := filepath.Join(template, f)
		if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) && f != "handoff.hcl" {
			continue
		}
		if err := copyFile(src, filepath.Join(d.repo, f)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(d.repo, "specs", ".gitkeep"), nil, 0o644); err != nil {
		return err
	}
	if err := appendFile(filepath.Join(d.repo, "handoff.hcl"), rotationBlock); err != nil {
		return err
	}
	d.git("init", "-q", "-b", "main")
	d.git("add", ".")
	d.git("commit", "-q", "-m", "GitOps repository for handoff")
	d.say("%s: handoff.hcl (with a rotation block), .github/workflows/handoff.yml, specs/ (empty)", d.repo)
	return nil
}

// rotationBlock enrolls the demo's long-lived credentials in the rotation
// service's subscription document. The demo keeps it in the folder above
// the handoff root, which the dev server has; a real setup gives it a
// folder of its own (docs/getting-started.md).
const rotationBlock = `
# Enrollment in the organisation's rotation service: apply keeps its
# subscription document, handoff rotation prints it (docs/product.md).
rotation {
  path   = "/MooseQuest"
  secret = "HANDOFF_SUBSCRIPTIONS"
}
`

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

func (d *demo) git(args ...string) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = d.repo, d.env
	if out, err := cmd.CombinedOutput(); err != nil {
		panic(fmt.Sprintf("git %s: %v\n%s", strings.Join(args, " "), err, out))
	}
}

// handoff runs the binary in the repository, shows the command and its
// output, and fails unless it exits with want.
func (d *demo) handoff(want int, args ...string) (string, error) {
	fmt.Fprintf(d.out, "$ handoff %s\n", strings.Join(args, " "))
	cmd := exec.Command(d.bin, args...)
	cmd.Dir, cmd.Env = d.repo, d.env
	// One writer for both: exec gives the command one pipe for stdout and
	// stderr, so its lines come out in the order it wrote them (apply's
	// steps on stderr before "Apply complete" on stdout), as on a terminal.
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		code = xe.ExitCode()
	} else if err != nil {
		return "", err
	}
	d.shown = append(d.shown, out.String())
	if s := strings.TrimRight(out.String(), "\n"); s != "" {
		fmt.Fprintln(d.out, indent(s))
	}
	fmt.Fprintf(d.out, "  (exit %d)\n", code)
	if code != want {
		return "", fmt.Errorf("handoff %s exited %d, want %d", strings.Join(args, " "), code, want)
	}
	return out.String(), nil
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// showComment prints the plan comment as the GitHub dev server stored it.
func (d *demo) showComment(ctx context.Context) error {
	url := fmt.Sprintf("%s/repos/%s/issues/%d/comments", d.vars["HANDOFF_GITHUB_API_URL"], d.vars["GITHUB_REPOSITORY"], prNumber)
	var comments []struct {
		Body string `json:"body"`
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	}
	if err := d.getJSON(ctx, url, "token "+d.vars["GITHUB_TOKEN"], &comments); err != nil {
		return err
	}
	var found []int
	for i, c := range comments {
		if strings.Contains(c.Body, plan.DefaultMarkdownMarker) {
			found = append(found, i)
		}
	}
	if len(found) != 1 {
		return fmt.Errorf("pull request #%d has %d plan comments, want one", prNumber, len(found))
	}
	c := comments[found[0]]
	d.say("the comment on %s#%d, as the GitHub server received it (by %s):", d.vars["GITHUB_REPOSITORY"], prNumber, c.User.Login)
	d.say("%s", indent("│ "+strings.ReplaceAll(strings.TrimRight(c.Body, "\n"), "\n", "\n│ ")))
	return nil
}

func (d *demo) getJSON(ctx context.Context, url, auth string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// leastPrivilege logs in as the handoff's own identity, with the client id
// and secret apply wrote to its folder, as the agent would: it reads its
// folder and is refused a secret outside its grant. Its GitHub token reaches
// its one repository only.
func (d *demo) leastPrivilege(ctx context.Context) error {
	getenv := func(k string) string { return d.vars[k] }
	cfg, err := infisical.ConfigFromEnv(getenv, infisical.Config{})
	if err != nil {
		return err
	}
	prov, err := infisical.New(cfg)
	if err != nil {
		return err
	}
	folder := "/MooseQuest/handoffs/" + slug
	id, err := prov.GetSecret(ctx, "staging", folder, "INFISICAL_CLIENT_ID")
	if err != nil {
		return err
	}
	sec, err := prov.GetSecret(ctx, "staging", folder, "INFISICAL_CLIENT_SECRET")
	if err != nil {
		return err
	}
	d.secrets = append(d.secrets, sec.Value)
	own, err := prov.AsIdentity(ctx, id.Value, sec.Value)
	if err != nil {
		return err
	}
	mine, err := own.ListSecrets(ctx, "staging", folder, false)
	if err != nil {
		return fmt.Errorf("the handoff could not read its own folder: %w", err)
	}
	var names []string
	token := ""
	for _, s := range mine {
		names = append(names, s.Key)
		if s.Key == "GH_HANDOFF_TOKEN" {
			token = s.Value
		}
	}
	d.secrets = append(d.secrets, token)
	d.say("as infisical-handoff_%s: read %s: %s (values not shown)", slug, folder, strings.Join(names, ", "))
	_, err = own.GetSecret(ctx, "staging", otherPath, otherKey)
	if !infisical.IsForbidden(err) {
		return fmt.Errorf("reading %s/%s as the handoff: want 403, got %v", otherPath, otherKey, err)
	}
	d.say("as infisical-handoff_%s: read %s/%s: denied (403, another task's secret)", slug, otherPath, otherKey)

	api := d.vars["HANDOFF_GITHUB_API_URL"]
	var repo struct {
		FullName string `json:"full_name"`
	}
	if err := d.getJSON(ctx, api+"/repos/raxx-app/TradeMasterAPI", "token "+token, &repo); err != nil {
		return fmt.Errorf("the handoff's GitHub token cannot read its repository: %w", err)
	}
	d.say("GH_HANDOFF_TOKEN: GET /repos/%s: 200", repo.FullName)
	err = d.getJSON(ctx, api+"/repos/raxx-app/MooseQuest", "token "+token, &repo)
	if err == nil || !strings.Contains(err.Error(), "404") {
		return fmt.Errorf("the handoff's GitHub token reached another repository: %v", err)
	}
	d.say("GH_HANDOFF_TOKEN: GET /repos/raxx-app/MooseQuest: 404 (outside the token's one repository)")
	return nil
}

func (d *demo) advanceClock(ctx context.Context, by string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.vars["HANDOFF_DEV_CLOCK_URL"], strings.NewReader(`{"advance":"`+by+`"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("advancing the dev clock: %s %s", resp.Status, body)
	}
	d.say("POST /_dev/clock {\"advance\":%q} -> %s", by, strings.TrimSpace(string(body)))
	return nil
}

// scan checks that no output shown holds a secret value the demo knows:
// the provisioner's, the Actions token, the handoff's client secret and
// token.
func (d *demo) scan() error {
	n := 0
	for _, s := range d.secrets {
		if len(s) < 8 {
			continue
		}
		n++
		for _, o := range d.shown {
			if strings.Contains(o, s) {
				return fmt.Errorf("a secret value (%d chars) appeared in the output", len(s))
			}
		}
	}
	d.say("%d outputs scanned for %d secret values minted or configured in this run: none found", len(d.shown), n)
	return nil
}
