// Package specref generates docs/spec-reference.md, the reference of the
// spec language, from the parser itself.
//
// Which blocks and arguments exist and which are required come from
// spec.Schema, the definitions the parser decodes against. Each argument's
// type is found by asking the parser which probe values it accepts, so a
// change of decoder shows up in the reference. Only the prose is kept here:
// one description per block and argument (descriptions.go), keyed by its
// path, such as "handoff.github.repository" or "config.policy.max_ttl".
// Generate refuses to run when the parser knows an argument the table does
// not describe, or the table describes one the parser does not know.
//
// Regenerate the reference with
//
//	go generate ./internal/specref
//
// or go test ./internal/specref -update; the test fails while
// docs/spec-reference.md differs from what Generate returns.
package specref

//go:generate go run ./gen -o ../../docs/spec-reference.md

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/raxx-app/handoff/internal/spec"
)

// ConfigPrefix starts the keys of handoff.hcl's blocks and arguments
// ("config.infisical.site_url"); keys of a spec file start with the block
// type ("handoff.ttl").
const ConfigPrefix = "config"

// Types of arguments, as the reference names them.
const (
	TypeString   = "string"
	TypeDuration = "duration"
	TypeNumber   = "whole number"
	TypeList     = "list of strings"
	TypeMap      = "map of strings"
)

// Block is a block of the language with its key and its place.
type Block struct {
	Key    string // "config.infisical", "handoff", "handoff.github"
	File   string // spec.FileSchema.Name
	Path   []spec.BlockSchema
	Schema spec.BlockSchema
}

// Arg is one argument of a block, with its key and its type.
type Arg struct {
	Key    string // block key + "." + name
	Block  *Block
	Schema spec.AttributeSchema
	Type   string // one of the Type constants
}

// Blocks lists every block of schema, depth first in the parser's order,
// with every argument's key.
func Blocks(schema []spec.FileSchema) []*Block {
	var out []*Block
	var walk func(file, prefix string, path []spec.BlockSchema, bs []spec.BlockSchema)
	walk = func(file, prefix string, path []spec.BlockSchema, bs []spec.BlockSchema) {
		for _, b := range bs {
			key := b.Type
			if prefix != "" {
				key = prefix + "." + b.Type
			}
			p := append(slices.Clip(path), b)
			out = append(out, &Block{Key: key, File: file, Path: p, Schema: b})
			walk(file, key, p, b.Blocks)
		}
	}
	for _, f := range schema {
		prefix := ""
		if f.Name == spec.ConfigFile {
			prefix = ConfigPrefix
		}
		walk(f.Name, prefix, nil, f.Blocks)
	}
	return out
}

// Check compares the parser's schema with the descriptions: every block
// and argument needs a description, and every description must name a
// block or argument the parser knows. A default may be documented only for
// an optional argument. It returns every problem at once.
func Check(schema []spec.FileSchema, descs map[string]Description) error {
	var errs []error
	known := map[string]bool{}
	for _, f := range schema {
		known[fileKey(f)] = true
		if d := descs[fileKey(f)]; strings.TrimSpace(d.Text) == "" || d.Default != "" {
			errs = append(errs, fmt.Errorf("file %s needs a description and no default: add %q to the table in internal/specref", f.Name, fileKey(f)))
		}
	}
	for _, b := range Blocks(schema) {
		known[b.Key] = true
		if d, ok := descs[b.Key]; !ok || strings.TrimSpace(d.Text) == "" {
			errs = append(errs, fmt.Errorf("block %s of %s has no description: add %q to the table in internal/specref", b.Key, b.File, b.Key))
		} else if d.Default != "" {
			errs = append(errs, fmt.Errorf("%s is a block; a default is documented only for an argument", b.Key))
		}
		for _, a := range b.Schema.Attributes {
			key := b.Key + "." + a.Name
			known[key] = true
			d, ok := descs[key]
			switch {
			case !ok || strings.TrimSpace(d.Text) == "":
				errs = append(errs, fmt.Errorf("argument %s of %s has no description: add %q to the table in internal/specref", key, b.File, key))
			case a.Required && d.Default != "":
				errs = append(errs, fmt.Errorf("argument %s is required but its description documents a default", key))
			}
		}
	}
	var unknown []string
	for k := range descs {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		errs = append(errs, fmt.Errorf("the table in internal/specref describes %s, which the parser does not know: remove or rename it", k))
	}
	return errors.Join(errs...)
}

// Args returns every argument of schema with the type the parser decodes
// it as.
func Args(schema []spec.FileSchema) ([]*Arg, error) {
	var out []*Arg
	var errs []error
	for _, b := range Blocks(schema) {
		for _, a := range b.Schema.Attributes {
			arg := &Arg{Key: b.Key + "." + a.Name, Block: b, Schema: a}
			t, err := probeType(b, a)
			if err != nil {
				errs = append(errs, err)
			}
			arg.Type = t
			out = append(out, arg)
		}
	}
	return out, errors.Join(errs...)
}

// probe is a value written in place of an argument to see whether the
// parser accepts it.
type probe struct {
	src string
}

var probes = []probe{{`"soon"`}, {`"90m"`}, {`7`}, {`1.5`}, {`["a", "b"]`}, {`{ a = "b" }`}}

// signatures are, for each type, which probes the parser accepts: a string
// takes any scalar (HCL converts numbers to strings), a duration only a
// string that parses as one, a whole number only an integer, a list only a
// list, a map only a map.
var signatures = []struct {
	typ    string
	accept []bool // in the order of probes
}{
	{TypeString, []bool{true, true, true, true, false, false}},
	{TypeDuration, []bool{false, true, false, false, false, false}},
	{TypeNumber, []bool{false, false, true, false, false, false}},
	{TypeList, []bool{false, false, false, false, true, false}},
	{TypeMap, []bool{false, false, false, false, false, true}},
}

// probeType finds the type of argument a of block b by asking the parser.
func probeType(b *Block, a spec.AttributeSchema) (string, error) {
	_, value, _ := strings.Cut(a.Example, "=")
	if errs := parseProbe(b, a.Name, strings.TrimSpace(value)); errs != "" {
		return "", fmt.Errorf("%s: the parser's own example %q does not parse: %s", b.Key+"."+a.Name, a.Example, errs)
	}
	got := make([]bool, len(probes))
	for i, p := range probes {
		got[i] = parseProbe(b, a.Name, p.src) == ""
	}
	for _, s := range signatures {
		if slices.Equal(s.accept, got) {
			return s.typ, nil
		}
	}
	var accepted []string
	for i, p := range probes {
		if got[i] {
			accepted = append(accepted, p.src)
		}
	}
	return "", fmt.Errorf("%s: cannot tell its type: the parser accepts %v of the probes; teach internal/specref the new type",
		b.Key+"."+a.Name, accepted)
}

// ProbeSource returns a minimal file holding the blocks of b's path, each
// with its required arguments written as the parser's examples, and, in the
// innermost block, name = value (name replaces the example when required).
// With name "" no argument is added.
func ProbeSource(b *Block, name, value string) string {
	var w strings.Builder
	var write func(i int, indent string)
	write = func(i int, indent string) {
		blk := b.Path[i]
		w.WriteString(indent + blk.Type)
		if blk.Label != "" {
			w.WriteString(` "probe-slug"`)
		}
		w.WriteString(" {\n")
		inner := indent + "  "
		last := i == len(b.Path)-1
		for _, a := range blk.Attributes {
			if a.Required && !(last && a.Name == name) {
				w.WriteString(inner + a.Example + "\n")
			}
		}
		if last {
			if name != "" {
				w.WriteString(inner + name + " = " + value + "\n")
			}
		} else {
			write(i+1, inner)
		}
		w.WriteString(indent + "}\n")
	}
	write(0, "")
	return w.String()
}

// Parse parses src as the kind of file b lives in and returns the parser's
// results: the config for handoff.hcl, the handoff for a spec file.
func Parse(b *Block, src string) (*spec.Config, *spec.Handoff, string) {
	var diags []string
	var cfg *spec.Config
	var h *spec.Handoff
	if b.File == spec.ConfigFile {
		c, ds := spec.ParseConfig(spec.ConfigFile, []byte(src))
		cfg = c
		for _, d := range ds {
			diags = append(diags, d.Error())
		}
	} else {
		hh, ds := spec.ParseHandoffFile(spec.SpecsDir+"/probe-slug.hcl", []byte(src))
		h = hh
		for _, d := range ds {
			diags = append(diags, d.Error())
		}
	}
	return cfg, h, strings.Join(diags, "; ")
}

// parseProbe returns the parser's diagnostics for name = value in block b,
// or "" when it accepts it.
func parseProbe(b *Block, name, value string) string {
	_, _, diags := Parse(b, ProbeSource(b, name, value))
	return diags
}

// Generate returns the Markdown of docs/spec-reference.md.
func Generate() ([]byte, error) {
	return generate(spec.Schema(), descriptions)
}

func generate(schema []spec.FileSchema, descs map[string]Description) ([]byte, error) {
	if err := Check(schema, descs); err != nil {
		return nil, err
	}
	args, err := Args(schema)
	if err != nil {
		return nil, err
	}
	types := map[string]string{}
	for _, a := range args {
		types[a.Key] = a.Type
	}
	var w bytes.Buffer
	w.WriteString(header)
	for _, f := range schema {
		fmt.Fprintf(&w, "\n## `%s`\n\n%s\n", f.Name, descs[fileKey(f)].Text)
		for _, b := range Blocks([]spec.FileSchema{f}) {
			writeBlock(&w, b, descs, types)
		}
	}
	w.WriteString(footer)
	return w.Bytes(), nil
}

// fileKey is the description key of a whole file.
func fileKey(f spec.FileSchema) string { return "file:" + f.Name }

func writeBlock(w *bytes.Buffer, b *Block, descs map[string]Description, types map[string]string) {
	var names []string
	for _, p := range b.Path {
		names = append(names, p.Type)
	}
	head := strings.Join(names, " › ")
	if b.Schema.Label != "" {
		head += ` "<` + b.Schema.Label + `>"`
	}
	fmt.Fprintf(w, "\n<a id=\"%s\"></a>\n\n### `%s`\n\n", anchor(b.Key), head)
	fmt.Fprintf(w, "%s\n", descs[b.Key].Text)
	if b.Schema.Label != "" {
		fmt.Fprintf(w, "\nThe block takes one label, the %s.\n", b.Schema.Label)
	}
	if len(b.Schema.Attributes) > 0 {
		w.WriteString("\n| argument | type | required | default | description |\n|---|---|---|---|---|\n")
		for _, a := range b.Schema.Attributes {
			key := b.Key + "." + a.Name
			d := descs[key]
			req := "no"
			if a.Required {
				req = "**yes**"
			}
			def := "—"
			switch {
			case d.Default == "":
			case strings.ContainsAny(d.Default[:1], `"[{0123456789`):
				def = "`" + d.Default + "`"
			default:
				def = d.Default
			}
			text := strings.TrimSpace(d.Text) + " Example: `" + a.Example + "`."
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s |\n", a.Name, types[key], req, cell(def), cell(text))
		}
	}
	if len(b.Schema.Blocks) > 0 {
		var nested []string
		for _, n := range b.Schema.Blocks {
			nested = append(nested, fmt.Sprintf("[`%s`](#%s)", n.Type, anchor(b.Key+"."+n.Type)))
		}
		fmt.Fprintf(w, "\nBlocks, each at most once: %s.\n", strings.Join(nested, ", "))
	}
}

// anchor is the link target of a block key: "handoff.github" → "handoff-github".
func anchor(key string) string { return strings.ReplaceAll(key, ".", "-") }

// cell escapes a table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

var header = `# Spec language reference

<!-- Generated by internal/specref from the parser (internal/spec). Do not
edit: change the descriptions in internal/specref/descriptions.go and run
go generate ./internal/specref (or go test ./internal/specref -update). -->

This page lists every block and argument that ` + "`handoff`" + ` parses, generated
from the parser's own definitions: the blocks and arguments, whether each is
required, and each argument's type (found by asking the parser which values it
accepts). The contract around it, commands, vault layout and manifest, is
[product.md](product.md).

A GitOps repository holds two kinds of files: ` + "`handoff.hcl`" + ` at its root and one
spec per handoff in ` + "`specs/<slug>.hcl`" + `. Both are native HCL; a spec may also be
written in HCL's JSON syntax as ` + "`specs/<slug>.hcl.json`" + `, with the same blocks and
arguments.

Rules that hold everywhere:

- Values are literals: strings, numbers, lists ` + "`[...]`" + ` and maps ` + "`{ ... }`" + `. No
  variables, functions or references.
- An unknown block or argument is an error, never a warning.
- Each block appears at most once in its parent; a spec file holds exactly one
  ` + "`handoff`" + ` block.
- Files are read whole and bounded: ` + "`handoff.hcl`" + ` and each spec are regular files
  (never a link, device or pipe) of at most ` + kib(spec.MaxFileSize) + `; ` + "`specs/`" + ` must
  exist and hold at most ` + thousands(spec.MaxSpecEntries) + ` entries, ` + mib(spec.MaxSpecBytes) + ` of spec files in all and
  ` + mib(spec.MaxParsedBytes) + ` once parsed; a file nests blocks, lists, maps, parentheses and
  template sequences at most ` + fmt.Sprint(spec.MaxNesting) + ` deep, holds at most ` + fmt.Sprint(spec.MaxOperators) + ` operators, and no number
  of more than ` + fmt.Sprint(spec.MaxNumberLength) + ` characters or with an exponent of more than two digits. Past a
  bound, one error says which, and nothing is applied. The commands about
  given handoffs (` + "`revoke`, `gate`, `env`, `verify SLUG`" + `) read no other spec.
- The parser checks structure and types only; ` + "`handoff validate`" + ` then checks the
  policy (ceilings, forbidden scopes, vault roots, live approvals). The rules of
  the policy are summarised in each description.

## Types

| type | written as | example |
|---|---|---|
| ` + TypeString + ` | a quoted string (a number is accepted and read as its decimal text) | ` + "`\"staging\"`" + ` |
| ` + TypeDuration + ` | a string with a number and a unit, ` + "`h`" + `, ` + "`m`" + ` or ` + "`s`" + ` (Go's time.ParseDuration) | ` + "`\"24h\"`, `\"90m\"`, `\"1h30m\"`" + ` |
| ` + TypeNumber + ` | an integer, unquoted | ` + "`3629`" + ` |
| ` + TypeList + ` | a list of quoted strings | ` + "`[\"a\", \"b\"]`" + ` |
| ` + TypeMap + ` | a map of names to quoted strings; keys unique | ` + "`{ contents = \"write\" }`" + ` |
`

const footer = `
## Environment

Settings of ` + "`handoff.hcl`" + ` that the environment overrides when set:
` + "`INFISICAL_SITE_URL`" + ` (site_url), ` + "`INFISICAL_ORGANIZATION_ID`" + ` (organization_id),
` + "`INFISICAL_PROJECT_ID`" + ` (project_id), ` + "`HANDOFF_GITHUB_API_URL`" + ` (api_url) and
` + "`HANDOFF_GITHUB_APP_ID`" + ` (app_id). An endpoint other than the vendor's default
that only ` + "`handoff.hcl`" + ` names is refused: a pull request can change it.

Credentials never appear in either file; they come from the environment only,
and each vendor's are needed only when a spec uses its surface (or a manifest
still records it):

| surface | the provisioner's credentials | API endpoint (the environment only) |
|---|---|---|
| the vault (` + "`infisical`" + `) | ` + "`INFISICAL_CLIENT_ID`" + `, ` + "`INFISICAL_CLIENT_SECRET`" + ` (universal auth); ` + "`CF_ACCESS_CLIENT_ID`" + ` / ` + "`CF_ACCESS_CLIENT_SECRET`" + ` when the vault sits behind Cloudflare Access | ` + "`INFISICAL_SITE_URL`" + ` |
| ` + "`github`" + ` | ` + "`GITHUB_APP_PRIVATE_KEY`" + ` (the PEM) or ` + "`GITHUB_APP_PRIVATE_KEY_FILE`" + ` (its path); ` + "`GITHUB_TOKEN`" + ` for ` + "`plan -pr-comment`" + ` | ` + "`HANDOFF_GITHUB_API_URL`" + ` |
| ` + "`cloudflare`" + ` | ` + "`CLOUDFLARE_API_TOKEN`" + `: a user API token with API Tokens Write and Zone Read on the allowed zones (docs/vendors/cloudflare.md) | ` + "`HANDOFF_CLOUDFLARE_API_URL`" + ` |
| ` + "`aws`" + ` | the AWS SDK's standard chain: ` + "`AWS_ACCESS_KEY_ID`" + `, ` + "`AWS_SECRET_ACCESS_KEY`" + ` and ` + "`AWS_SESSION_TOKEN`" + `, or ` + "`AWS_PROFILE`" + ` (shared config), or ` + "`AWS_ROLE_ARN`" + ` with ` + "`AWS_WEB_IDENTITY_TOKEN_FILE`" + ` (GitHub Actions OIDC), or a container or instance role; ` + "`AWS_REGION`" + ` (docs/vendors/aws.md) | ` + "`HANDOFF_AWS_ENDPOINT_URL`" + ` (or ` + "`AWS_ENDPOINT_URL`" + `) |
| ` + "`heroku`" + ` | ` + "`HEROKU_API_KEY`" + `: the dedicated Heroku account's global credential (docs/vendors/heroku.md) | ` + "`HANDOFF_HEROKU_API_URL`" + ` |

Plain http is refused except on a loopback address (the local servers of
` + "`handoff dev`" + `, which writes what they need to its ` + "`dev.env`" + `). ` + "`HANDOFF_DEV_CLOCK_URL`" + `
runs a command on ` + "`handoff dev`" + `'s clock instead of the wall clock (loopback only;
never set it in production).
`

func kib(n int) string { return fmt.Sprintf("%d KiB", n>>10) }
func mib(n int) string { return fmt.Sprintf("%d MiB", n>>20) }

// thousands writes n with a comma between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
