package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/raxx-app/handoff/internal/manifest"
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
				return sc.writeDotenv(e.stdout)
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(sc)
		},
	}
}

// sessionContext is `handoff env`'s output (format documented in
// docs/json-formats.md).
type sessionContext struct {
	FormatVersion int        `json:"format_version"`
	Slug          string     `json:"slug"`
	Card          int        `json:"card,omitempty"`
	ExpiresAt     time.Time  `json:"expires_at"`
	Vault         vaultRef   `json:"vault"`
	Env           []envEntry `json:"env"`
	// Read are the vault paths beyond its folder the handoff may read.
	Read []string  `json:"read,omitempty"`
	MCP  *mcpLists `json:"mcp,omitempty"`
	// Revealed says whether Env holds values.
	Revealed bool `json:"revealed"`
}

type vaultRef struct {
	SiteURL     string `json:"site_url,omitempty"`
	ProjectID   string `json:"project_id"`
	Environment string `json:"environment"`
	Folder      string `json:"folder"`
}

type envEntry struct {
	Name string `json:"name"`
	// Ref is infisical://<project>/<environment><folder>/<NAME>.
	Ref   string `json:"ref"`
	Value string `json:"value,omitempty"`
}

type mcpLists struct {
	Allow   []string `json:"allow"`
	Exclude []string `json:"exclude"`
}

func newSessionContext(ws *workspace.Workspace, m *manifest.Manifest) *sessionContext {
	sc := &sessionContext{FormatVersion: envFormatVersion, Slug: m.Slug, Card: m.Card, ExpiresAt: m.ExpiresAt.UTC(),
		Vault: vaultRef{SiteURL: ws.Settings.SiteURL, ProjectID: ws.Settings.ProjectID, Environment: ws.Settings.Environment,
			Folder: handoffFolder(ws, m.Slug)}}
	for _, name := range m.Secrets {
		sc.Env = append(sc.Env, envEntry{Name: name, Ref: sc.ref(sc.Vault.Environment, sc.Vault.Folder, name)})
	}
	if inf := m.Surfaces.Infisical; inf != nil {
		sc.Read = append(sc.Read, inf.ReadPaths...)
	}
	if mc := m.Surfaces.MCP; mc != nil {
		sc.MCP = &mcpLists{Allow: nonNil(mc.Allow), Exclude: nonNil(mc.Exclude)}
	}
	return sc
}

func (sc *sessionContext) ref(env, folder, name string) string {
	return fmt.Sprintf("infisical://%s/%s%s/%s", sc.Vault.ProjectID, env, folder, name)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// reveal reads the values as the handoff's own identity: its folder, and
// the secrets of its read paths (globs on the last element).
func (sc *sessionContext) reveal(c *cli.Context, ws *workspace.Workspace, m *manifest.Manifest) error {
	prov, err := ws.Infisical()
	if err != nil {
		return err
	}
	rec := m.Surfaces.Infisical
	if rec == nil {
		return fmt.Errorf("handoff %s has no Infisical identity to read its secrets with", m.Slug)
	}
	idName, secretName := orDefault(rec.ClientIDSecret, "INFISICAL_CLIENT_ID"), orDefault(rec.ClientSecretSecret, "INFISICAL_CLIENT_SECRET")
	env, folder := sc.Vault.Environment, sc.Vault.Folder
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
	values := map[string]string{}
	mine, err := own.ListSecrets(c.Context, env, folder, false)
	if err != nil {
		return fmt.Errorf("reading %s as %s: %w", folder, rec.IdentityName, err)
	}
	for _, s := range mine {
		values[s.Key] = s.Value
	}
	for i := range sc.Env {
		v, ok := values[sc.Env[i].Name]
		if !ok {
			return fmt.Errorf("%s is missing from %s: run handoff apply", sc.Env[i].Name, folder)
		}
		sc.Env[i].Value = v
	}
	readEnv := orDefault(rec.Environment, env)
	for _, p := range sc.Read {
		if p == folder || strings.HasPrefix(p, folder+"/") {
			continue // its own folder, read above
		}
		dir, glob := path.Split(p)
		dir = orDefault(strings.TrimSuffix(dir, "/"), "/")
		recursive := glob == "**"
		list, err := own.ListSecrets(c.Context, readEnv, dir, recursive)
		if err != nil {
			return fmt.Errorf("reading %s as %s: %w", p, rec.IdentityName, err)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].FullPath() < list[j].FullPath() })
		for _, s := range list {
			if ok, _ := path.Match(glob, s.Key); ok || recursive {
				sc.Env = append(sc.Env, envEntry{Name: s.Key, Ref: sc.ref(readEnv, s.Path, s.Key), Value: s.Value})
			}
		}
	}
	sc.Revealed = true
	return nil
}

// writeDotenv prints KEY="value" lines a shell or a dotenv loader reads.
// Without values, references are comments: nothing is set to a reference
// by mistake.
func (sc *sessionContext) writeDotenv(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# handoff %s: session context, expires %s\n", sc.Slug, sc.ExpiresAt.Format(time.RFC3339))
	kv := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, dotenvQuote(v)) }
	kv("HANDOFF_SLUG", sc.Slug)
	kv("HANDOFF_EXPIRES_AT", sc.ExpiresAt.Format(time.RFC3339))
	kv("HANDOFF_VAULT_FOLDER", sc.Vault.Folder)
	if sc.MCP != nil {
		kv("HANDOFF_MCP_ALLOW", strings.Join(sc.MCP.Allow, ","))
		kv("HANDOFF_MCP_EXCLUDE", strings.Join(sc.MCP.Exclude, ","))
	}
	for _, en := range sc.Env {
		if sc.Revealed {
			kv(en.Name, en.Value)
		} else {
			fmt.Fprintf(&b, "# %s <- %s (value with -reveal)\n", en.Name, en.Ref)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// dotenvQuote double-quotes v with the escapes dotenv loaders and POSIX
// shells agree on.
func dotenvQuote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`", "\n", `\n`)
	return `"` + r.Replace(v) + `"`
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
