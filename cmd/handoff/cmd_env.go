package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/policy"
	"github.com/raxx-app/handoff/internal/surface"
	infsurface "github.com/raxx-app/handoff/internal/surfaces/infisical"
	"github.com/raxx-app/handoff/internal/workspace"
)

// envFormatVersion versions `handoff env -format json`.
const envFormatVersion = 1

func init() { register(envCommand) }

func envCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "env",
		Usage:     "print the session context for the orchestrator: env names, vault references, MCP lists",
		ArgsUsage: "SLUG",
		Description: "The context an orchestrator hands the agent: the names of the handoff's secrets with their vault\n" +
			"references, the vault paths it may read, and the MCP allow/exclude lists. Refused, like gate,\n" +
			"unless the handoff is active, unexpired and applied from the spec on disk.\n" +
			"Values only with -reveal, and then read with the handoff's OWN identity (its client id and\n" +
			"secret from its folder), so the vault's audit log names the handoff, and nothing outside its\n" +
			"grant can be read. Exit status: 0, 1.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "json", Usage: "output `FORMAT`: json or dotenv"},
			&cli.BoolFlag{Name: "reveal", Usage: "include secret values, read with the handoff's own identity"},
			chdirFlag(),
		},
		Action: func(c *cli.Context) error {
			slug, err := slugArg(c)
			if err != nil {
				return err
			}
			format := c.String("format")
			if format != "json" && format != "dotenv" {
				return usageError(c, fmt.Errorf("-format %q: want json or dotenv", format), true)
			}
			ws, err := e.loadWorkspace(c, "env", c.String("chdir"))
			if err != nil {
				return err
			}
			m, journal, err := readManifest(c.Context, ws, slug)
			if err != nil {
				return exitf(exitError, "handoff env: %v", err)
			}
			if reason := gateRefusal(ws, slug, m, journal); reason != "" {
				return exitf(exitError, "handoff env: %s refused: %s", slug, reason)
			}
			sc := newSessionContext(ws, m)
			if c.Bool("reveal") {
				if err := sc.reveal(c, ws, m); err != nil {
					return exitf(exitError, "handoff env: -reveal: %v", err)
				}
			}
			if format == "dotenv" {
				if err := sc.writeDotenv(e.stdout); err != nil {
					return exitf(exitError, "handoff env: %v", err)
				}
				return nil
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(sc)
		},
	}
}

// sessionContext is `handoff env`'s output, the session context of the
// design (documented in docs/json-formats.md): the environment of the
// agent's session, with secrets as vault references unless revealed.
type sessionContext struct {
	FormatVersion int    `json:"format_version"`
	Slug          string `json:"slug"`
	Card          int    `json:"card,omitempty"`
	// Env is the agent's environment, in order: the handoff's own settings
	// first, then its secrets (a vault reference, or the value with
	// -reveal), then with -reveal the secrets of its read paths.
	Env envVars `json:"env"`
	// Read are the vault paths beyond its folder the handoff may read.
	Read             []string `json:"read"`
	MCPTools         []string `json:"mcp_tools"`
	MCPToolsExcluded []string `json:"mcp_tools_excluded"`
	// Revealed says whether Env holds secret values or references.
	Revealed bool `json:"revealed"`

	project, environment, folder string
	// names maps folder secrets to their variables.
	names map[string]string
}

// envVar is one variable of the session's environment.
type envVar struct {
	Name  string
	Value string
	// secret says Value is a credential's: a vault reference until
	// revealed. Without -reveal, dotenv never sets the variable.
	secret bool
}

// envVars marshals as a JSON object that keeps its order.
type envVars []envVar

func (v envVars) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.Name)
		val, _ := json.Marshal(kv.Value)
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func newSessionContext(ws *workspace.Workspace, m *manifest.Manifest) *sessionContext {
	sc := &sessionContext{FormatVersion: envFormatVersion, Slug: m.Slug, Card: m.Card, Read: []string{},
		MCPTools: []string{}, MCPToolsExcluded: []string{},
		project: ws.Settings.ProjectID, environment: ws.Settings.Environment, folder: handoffFolder(ws, m.Slug),
		names: map[string]string{}}
	sc.Env = envVars{
		{Name: "HANDOFF_TASK_SLUG", Value: m.Slug},
		{Name: "HANDOFF_EXPIRES_AT", Value: m.ExpiresAt.UTC().Format(time.RFC3339)},
		{Name: "INFISICAL_SITE_URL", Value: ws.Settings.SiteURL},
		{Name: "INFISICAL_PROJECT_ID", Value: ws.Settings.ProjectID},
		{Name: "INFISICAL_ENVIRONMENT", Value: ws.Settings.Environment},
		{Name: "INFISICAL_SECRET_PATH", Value: sc.folder},
	}
	// What each surface puts in the session (surface.SessionContributor):
	// the names of its secrets, its plain settings, its read paths and
	// lists. The core names no surface.
	reg := ws.Registry()
	for _, name := range reg.SortNames(m.Surfaces.Names()) {
		s, ok := reg.Get(name)
		if !ok {
			continue
		}
		sess, ok := s.(surface.SessionContributor)
		if !ok {
			continue
		}
		x := sess.Session(m.Surfaces[name], sc.folder)
		for _, v := range x.Env {
			if v.Secret != "" {
				sc.names[v.Secret] = v.Name
			} else {
				sc.Env = append(sc.Env, envVar{Name: v.Name, Value: v.Value})
			}
		}
		sc.Read = append(sc.Read, x.Read...)
		if tools, ok := x.Lists["mcp_tools"]; ok {
			sc.MCPTools = nonNil(tools)
		}
		if tools, ok := x.Lists["mcp_tools_excluded"]; ok {
			sc.MCPToolsExcluded = nonNil(tools)
		}
	}
	// Every secret of the folder is a credential, whichever surface wrote
	// it.
	for _, name := range m.Secrets {
		sc.Env = append(sc.Env, envVar{Name: sc.sessionName(name), Value: sc.ref(sc.environment, sc.folder, name), secret: true})
	}
	return sc
}

// sessionName is the variable a folder secret is known by in the agent's
// session: the name its surface gives it (GH_HANDOFF_TOKEN is GH_TOKEN),
// else its own.
func (sc *sessionContext) sessionName(secret string) string {
	if n, ok := sc.names[secret]; ok {
		return n
	}
	return secret
}

func (sc *sessionContext) ref(env, folder, name string) string {
	return fmt.Sprintf("infisical://%s/%s%s/%s", sc.project, env, folder, name)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// reveal reads the values as the handoff's own identity: its folder, and
// the secrets of its read paths (a glob on the last element, or ** for
// everything below).
func (sc *sessionContext) reveal(c *cli.Context, ws *workspace.Workspace, m *manifest.Manifest) error {
	prov, err := ws.Infisical()
	if err != nil {
		return err
	}
	rec := infsurface.Decode(m.Surfaces[infsurface.Name])
	if rec == nil {
		return fmt.Errorf("handoff %s has no Infisical identity to read its secrets with", m.Slug)
	}
	idName, secretName := cmp.Or(rec.ClientIDSecret, "INFISICAL_CLIENT_ID"), cmp.Or(rec.ClientSecretSecret, "INFISICAL_CLIENT_SECRET")
	env, folder := sc.environment, sc.folder
	id, err := prov.GetSecret(c.Context, env, folder, idName)
	if err != nil {
		return fmt.Errorf("reading %s/%s: %w", folder, idName, err)
	}
	sec, err := prov.GetSecret(c.Context, env, folder, secretName)
	if err != nil {
		return fmt.Errorf("reading %s/%s: %w", folder, secretName, err)
	}
	own, err := prov.AsIdentity(c.Context, id.Value, sec.Value)
	if err != nil {
		return err
	}
	mine, err := own.ListSecrets(c.Context, env, folder, false)
	if err != nil {
		return fmt.Errorf("reading %s as %s: %w", folder, rec.IdentityName, err)
	}
	values := map[string]string{}
	for _, s := range mine {
		values[sc.sessionName(s.Key)] = s.Value
	}
	for i := range sc.Env {
		if !sc.Env[i].secret {
			continue
		}
		v, ok := values[sc.Env[i].Name]
		if !ok {
			return fmt.Errorf("%s is missing from %s: run handoff apply", sc.Env[i].Name, folder)
		}
		sc.Env[i].Value = v
	}
	readEnv := cmp.Or(rec.Environment, env)
	for _, p := range sc.Read {
		dir, glob := path.Split(p)
		dir = cmp.Or(strings.TrimSuffix(dir, "/"), "/")
		recursive := glob == "**"
		list, err := own.ListSecrets(c.Context, readEnv, dir, recursive)
		if err != nil {
			return fmt.Errorf("reading %s as %s: %w", p, rec.IdentityName, err)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].FullPath() < list[j].FullPath() })
		for _, s := range list {
			if ok, _ := path.Match(glob, s.Key); ok || recursive {
				sc.Env = append(sc.Env, envVar{Name: s.Key, Value: s.Value, secret: true})
			}
		}
	}
	sc.Revealed = true
	return nil
}

// writeDotenv prints KEY="value" lines a shell or a dotenv loader reads,
// then the read paths and the MCP lists.
//
// Without -reveal, a credential's variable is never set: its vault
// reference is named in a comment instead. A reference under the
// credential's own name (GH_TOKEN="infisical://…") would hand every tool
// that reads the variable a fake token; and a <NAME>_REF variable could
// still be taken for a real one (a secret named GITHUB gives GITHUB_REF,
// which GitHub Actions sets) and would be exported by `set -a` all the
// same. A comment is read by people and by nothing else; programs that
// resolve references read -format json. Every name is checked to be a
// shell variable's, and every value and comment is escaped, so that a name
// or a value from the vault cannot add a line.
func (sc *sessionContext) writeDotenv(w io.Writer) error {
	if err := policy.ValidateSlug(sc.Slug); err != nil {
		return err
	}
	var b strings.Builder
	var refs []envVar
	for _, v := range sc.Env {
		if !envNameRE.MatchString(v.Name) {
			return fmt.Errorf("%q is not a shell variable name: refusing to print it", v.Name)
		}
		if v.secret && !sc.Revealed {
			refs = append(refs, v)
		}
	}
	fmt.Fprintf(&b, "# handoff %s: session context.\n", strconv.Quote(sc.Slug))
	if len(refs) > 0 {
		fmt.Fprintf(&b, "# Its %s %s not set here, so that sourcing this file never hands a tool a\n"+
			"# vault reference in place of a credential; each is named below with its reference.\n"+
			"# 'handoff env -format dotenv -reveal %s' prints the values,\n"+
			"# read with the handoff's own identity.\n",
			plural(len(refs), "credential"), oneOrManyVerb(len(refs)), sc.Slug)
		width := 0
		for _, v := range refs {
			width = max(width, len(v.Name))
		}
		for _, v := range refs {
			fmt.Fprintf(&b, "#   %-*s  %s\n", width, v.Name, strconv.Quote(v.Value))
		}
	}
	kv := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, dotenvQuote(v)) }
	for _, v := range sc.Env {
		if !v.secret || sc.Revealed {
			kv(v.Name, v.Value)
		}
	}
	kv("HANDOFF_READ_PATHS", strings.Join(sc.Read, ","))
	kv("HANDOFF_MCP_TOOLS", strings.Join(sc.MCPTools, ","))
	kv("HANDOFF_MCP_TOOLS_EXCLUDED", strings.Join(sc.MCPToolsExcluded, ","))
	_, err := io.WriteString(w, b.String())
	return err
}

// envNameRE is a POSIX shell variable name.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func oneOrManyVerb(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// dotenvQuote double-quotes v with the escapes dotenv loaders and POSIX
// shells agree on.
func dotenvQuote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`", "\n", `\n`)
	return `"` + r.Replace(v) + `"`
}
