package session

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/raxx-app/handoff/internal/manifest"
	"github.com/raxx-app/handoff/internal/provider/infisical"
	"github.com/raxx-app/handoff/internal/surface"
	"github.com/raxx-app/handoff/internal/vault"
)

// FormatVersion versions the JSON of a Context (`handoff env -format
// json`, documented in docs/json-formats.md).
const FormatVersion = 1

// The variables a session sets besides what the surfaces contribute.
const (
	VarTaskSlug         = "HANDOFF_TASK_SLUG"
	VarExpiresAt        = "HANDOFF_EXPIRES_AT"
	VarReadPaths        = "HANDOFF_READ_PATHS"
	VarMCPTools         = "HANDOFF_MCP_TOOLS"
	VarMCPToolsExcluded = "HANDOFF_MCP_TOOLS_EXCLUDED"
	// VarSecretPath is the handoff's folder, for the vault's CLI.
	VarSecretPath  = "INFISICAL_SECRET_PATH"
	VarEnvironment = "INFISICAL_ENVIRONMENT"
)

// The session's lists, as surfaces name them in surface.Session.Lists.
const (
	ListMCPTools         = "mcp_tools"
	ListMCPToolsExcluded = "mcp_tools_excluded"
)

// Place is where the handoff lives in the vault.
type Place struct {
	// SiteURL and ProjectID locate the vault; Environment is the
	// environment of the handoffs' folders.
	SiteURL, ProjectID, Environment string
	// Folder is the handoff's folder, <handoff_root>/<slug>.
	Folder string
}

// Context is the session context of one handoff: the environment of the
// agent's session, secrets as vault references unless revealed.
type Context struct {
	FormatVersion int    `json:"format_version"`
	Slug          string `json:"slug"`
	Card          int    `json:"card,omitempty"`
	// Env is the agent's environment, in order: the handoff's own settings
	// first, then its secrets (a vault reference, or the value once
	// revealed), then once revealed the secrets of its read paths.
	Env Vars `json:"env"`
	// Read are the vault paths beyond its folder the handoff may read.
	Read             []string `json:"read"`
	MCPTools         []string `json:"mcp_tools"`
	MCPToolsExcluded []string `json:"mcp_tools_excluded"`
	// Revealed says whether Env holds secret values or references.
	Revealed bool `json:"revealed"`

	place Place
	// readEnv is the environment of Read ("" the folder's).
	readEnv string
	// secretOf maps a variable a surface contributes to the folder secret
	// holding its value.
	secretOf map[string]string
}

// Var is one variable of the session's environment.
type Var struct {
	Name  string
	Value string
	// secret names the folder secret holding the value (Value is then a
	// vault reference until revealed); from is the vault path of a read
	// path's secret.
	secret, from string
}

// String names the variable without its value.
func (v Var) String() string { return "session.Var{" + v.Name + "}" }

// GoString is String.
func (v Var) GoString() string { return v.String() }

// Format prints String for every verb, so no fmt verb reveals a value.
func (v Var) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(v.String())) }

// Vars marshals as a JSON object that keeps its order.
type Vars []Var

// MarshalJSON writes {"NAME":"value",…} in order.
func (v Vars) MarshalJSON() ([]byte, error) {
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

// New builds the session context of m from what its surfaces contribute
// through reg, secrets as vault references.
func New(m *manifest.Manifest, reg *surface.Registry, p Place) *Context {
	c := &Context{FormatVersion: FormatVersion, Slug: m.Slug, Card: m.Card, Read: []string{},
		MCPTools: []string{}, MCPToolsExcluded: []string{}, place: p, secretOf: map[string]string{}}
	c.Env = Vars{
		{Name: VarTaskSlug, Value: m.Slug},
		{Name: VarExpiresAt, Value: m.ExpiresAt.UTC().Format(time.RFC3339)},
		{Name: infisical.EnvSiteURL, Value: p.SiteURL},
		{Name: infisical.EnvProjectID, Value: p.ProjectID},
		{Name: VarEnvironment, Value: p.Environment},
		{Name: VarSecretPath, Value: p.Folder},
	}
	names := map[string]string{} // folder secret -> variable
	for _, name := range reg.SortNames(m.Surfaces.Names()) {
		s, ok := reg.Get(name)
		if !ok {
			continue
		}
		sess, ok := s.(surface.SessionContributor)
		if !ok {
			continue
		}
		x := sess.Session(m.Surfaces[name], p.Folder)
		for _, v := range x.Env {
			switch {
			case v.Secret != "":
				if _, dup := names[v.Secret]; !dup {
					names[v.Secret] = v.Name
				}
				if _, dup := c.secretOf[v.Name]; !dup {
					c.secretOf[v.Name] = v.Secret
				}
			case v.Value != "":
				c.Env = append(c.Env, Var{Name: v.Name, Value: v.Value})
			}
		}
		c.Read = append(c.Read, x.Read...)
		if x.ReadEnvironment != "" {
			c.readEnv = x.ReadEnvironment
		}
		if tools, ok := x.Lists[ListMCPTools]; ok {
			c.MCPTools = nonNil(tools)
		}
		if tools, ok := x.Lists[ListMCPToolsExcluded]; ok {
			c.MCPToolsExcluded = nonNil(tools)
		}
	}
	for _, secret := range m.Secrets {
		c.Env = append(c.Env, Var{Name: cmp.Or(names[secret], secret), Value: c.ref(p.Environment, p.Folder, secret), secret: secret})
	}
	return c
}

func (c *Context) ref(env, folder, name string) string {
	return fmt.Sprintf("infisical://%s/%s%s/%s", c.place.ProjectID, env, folder, name)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Reader is what Reveal reads a vault with.
type Reader interface {
	GetSecret(ctx context.Context, env, folder, key string) (vault.Secret, error)
	ListSecrets(ctx context.Context, env, folder string, recursive bool) ([]vault.Secret, error)
}

// Login logs in to the vault as the identity whose universal-auth client
// id and client secret are given, and returns a Reader acting as it and
// the function that logs its access token out.
type Login func(ctx context.Context, clientID, clientSecret string) (Reader, func(context.Context) error, error)

// Vault is how Reveal reaches the vault.
type Vault struct {
	// Provisioner reads the handoff identity's client id and client secret
	// in its folder, and nothing else.
	Provisioner Reader
	// Login logs in as the handoff's identity.
	Login Login
}

// Reveal replaces the references of Env with the values, read as the
// handoff's own identity: its folder, then the secrets of its read paths
// (a glob on the last element, or ** for everything below), appended to
// Env under their own names. The identity's access token is logged out
// before Reveal returns, even when ctx is cancelled; an error logging it
// out is an error of Reveal. On error, Env keeps its references.
func (c *Context) Reveal(ctx context.Context, v Vault) error {
	idName, okID := c.secretOf[infisical.EnvClientID]
	secretName, okSecret := c.secretOf[infisical.EnvClientSecret]
	if !okID || !okSecret {
		return fmt.Errorf("handoff %s has no vault identity of its own to read its secrets with: its spec has no infisical block, "+
			"so nothing but the provisioner can read its folder; add the block to hand the agent its credentials as itself", c.Slug)
	}
	env, folder := c.place.Environment, c.place.Folder
	id, err := v.Provisioner.GetSecret(ctx, env, folder, idName)
	if err != nil {
		return fmt.Errorf("reading %s/%s: %w", folder, idName, err)
	}
	sec, err := v.Provisioner.GetSecret(ctx, env, folder, secretName)
	if err != nil {
		return fmt.Errorf("reading %s/%s: %w", folder, secretName, err)
	}
	own, logout, err := v.Login(ctx, id.Value, sec.Value)
	if err != nil {
		return err
	}
	revealed, err := c.read(ctx, own)
	// Also when ctx is cancelled: the token must not outlive the reads.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if lerr := logout(lctx); lerr != nil {
		err = errors.Join(err, fmt.Errorf("logging out the access token of the handoff's identity: %w", lerr))
	}
	if err != nil {
		return err
	}
	c.Env, c.Revealed = revealed, true
	return nil
}

// read returns Env with the values own reads.
func (c *Context) read(ctx context.Context, own Reader) (Vars, error) {
	env, folder := c.place.Environment, c.place.Folder
	mine, err := own.ListSecrets(ctx, env, folder, false)
	if err != nil {
		return nil, fmt.Errorf("reading %s as the handoff's identity: %w", folder, err)
	}
	values := make(map[string]string, len(mine))
	for _, s := range mine {
		values[s.Key] = s.Value
	}
	out := make(Vars, len(c.Env))
	copy(out, c.Env)
	for i := range out {
		if out[i].secret == "" {
			continue
		}
		val, ok := values[out[i].secret]
		if !ok {
			return nil, fmt.Errorf("%s is missing from %s: run handoff apply", out[i].Name, folder)
		}
		out[i].Value = val
	}
	readEnv := cmp.Or(c.readEnv, env)
	for _, p := range c.Read {
		dir, glob := path.Split(p)
		dir = cmp.Or(strings.TrimSuffix(dir, "/"), "/")
		recursive := glob == "**"
		list, err := own.ListSecrets(ctx, readEnv, dir, recursive)
		if err != nil {
			return nil, fmt.Errorf("reading %s as the handoff's identity: %w", p, err)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].FullPath() < list[j].FullPath() })
		for _, s := range list {
			if ok, _ := path.Match(glob, s.Key); ok || recursive {
				out = append(out, Var{Name: s.Key, Value: s.Value, from: s.FullPath()})
			}
		}
	}
	return out, nil
}

// Environ is the session's environment for a process: Env, then
// HANDOFF_READ_PATHS, HANDOFF_MCP_TOOLS and HANDOFF_MCP_TOOLS_EXCLUDED
// (comma-separated). Each name is set once, the first occurrence winning:
// the handoff's own settings and secrets come before the secrets of its
// read paths, which cannot shadow them. A name no environment can hold
// (empty, with '=' or NUL) is left out. notes say what was left out and
// why, naming variables and vault paths, never values.
func (c *Context) Environ() (vars Vars, notes []string) {
	all := append(Vars{}, c.Env...)
	all = append(all,
		Var{Name: VarReadPaths, Value: strings.Join(c.Read, ",")},
		Var{Name: VarMCPTools, Value: strings.Join(c.MCPTools, ",")},
		Var{Name: VarMCPToolsExcluded, Value: strings.Join(c.MCPToolsExcluded, ",")},
	)
	seen := map[string]bool{}
	for _, v := range all {
		if !ValidName(v.Name) {
			notes = append(notes, fmt.Sprintf("%s is not a valid variable name: left out", cmp.Or(v.from, fmt.Sprintf("%q", v.Name))))
			continue
		}
		if seen[v.Name] {
			notes = append(notes, fmt.Sprintf("%s %s is shadowed by the session's own %s: left out", v.Name, cmp.Or(v.from, "(a second one)"), v.Name))
			continue
		}
		seen[v.Name] = true
		vars = append(vars, v)
	}
	return vars, notes
}

// ValidName reports whether name can be an environment variable's name.
func ValidName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "=\x00")
}

// WriteDotenv prints KEY="value" lines a shell or a dotenv loader reads:
// Environ, secrets as values once revealed.
//
// Before Reveal, a credential's variable is never set: its vault reference
// is named in a comment instead. A reference under the credential's own
// name (GH_TOKEN="infisical://…") would hand every tool that reads the
// variable a fake token; and a <NAME>_REF variable could still be taken for
// a real one (a secret named GITHUB gives GITHUB_REF, which GitHub Actions
// sets) and would be exported by `set -a` all the same. A comment is read
// by people and by nothing else; programs that resolve references read the
// JSON. Every name must be a shell variable's and the slug a slug, and
// values and references are escaped, so that nothing from the vault can
// add a line.
func (c *Context) WriteDotenv(w io.Writer) error {
	if !slugRE.MatchString(c.Slug) {
		return fmt.Errorf("%q is not a handoff slug: refusing to print it", c.Slug)
	}
	vars, _ := c.Environ()
	var refs []Var
	for _, v := range vars {
		if !shellNameRE.MatchString(v.Name) {
			return fmt.Errorf("%q is not a shell variable name: refusing to print it", v.Name)
		}
		if v.secret != "" && !c.Revealed {
			refs = append(refs, v)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# handoff %s: session context.\n", c.Slug)
	if len(refs) > 0 {
		are := "credentials are"
		if len(refs) == 1 {
			are = "credential is"
		}
		fmt.Fprintf(&b, "# Its %d %s not set here, so that sourcing this file never hands a tool a\n"+
			"# vault reference in place of a credential; each is named below with its reference.\n"+
			"# 'handoff env -format dotenv -reveal %s' prints the values,\n"+
			"# read with the handoff's own identity.\n", len(refs), are, c.Slug)
		width := 0
		for _, v := range refs {
			width = max(width, len(v.Name))
		}
		for _, v := range refs {
			fmt.Fprintf(&b, "#   %-*s  %s\n", width, v.Name, strconv.Quote(v.Value))
		}
	}
	for _, v := range vars {
		if v.secret == "" || c.Revealed {
			fmt.Fprintf(&b, "%s=%s\n", v.Name, DotenvQuote(v.Value))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shellNameRE is a POSIX shell variable name; slugRE a handoff slug's
// characters.
var (
	shellNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	slugRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// DotenvQuote double-quotes v with the escapes dotenv loaders and POSIX
// shells agree on.
func DotenvQuote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`", "\n", `\n`)
	return `"` + r.Replace(v) + `"`
}
