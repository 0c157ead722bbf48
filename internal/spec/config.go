package spec

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/json"
)

// ConfigFile is the name of the repository configuration file.
const ConfigFile = "handoff.hcl"

// Config is the parsed handoff.hcl: connection settings and policy. It holds
// no secret; provisioner credentials come from the environment only.
//
// The same type holds the default policy file (schema/default-policy.hcl),
// which has only a policy block.
type Config struct {
	// Filename is the path of the file, as used in every range.
	Filename string
	// Incomplete is true when the file had errors, so some values may be
	// missing; checks that need the whole file skip rather than guess.
	Incomplete bool

	// Vault is the vault's block (where the handoffs' folders are); nil
	// when absent. Package policy requires it.
	Vault VaultConfig
	// Apply is the apply block (how apply is run); nil when absent.
	Apply *ApplyConfig
	// Policy overrides the default policy; nil when absent.
	Policy *PolicyConfig
	// Rotation is where the rotation service's subscription document
	// lives; nil when absent (enrollment off).
	Rotation *RotationConfig

	blocks map[string]Block
}

// Block returns the handoff.hcl block of surface name (its Config), if
// written.
func (c *Config) Block(name string) (Block, bool) {
	if c == nil {
		return nil, false
	}
	b, ok := c.blocks[name]
	return b, ok
}

// SetBlock sets the handoff.hcl block of surface name (tests build configs
// with it); nil removes it.
func (c *Config) SetBlock(name string, b Block) {
	if b == nil {
		delete(c.blocks, name)
		return
	}
	if c.blocks == nil {
		c.blocks = map[string]Block{}
	}
	c.blocks[name] = b
}

// PolicyConfig is a policy block. Each field is valid only when written, so
// that package policy can override its defaults field by field; each
// surface's attributes are decoded by the surface (Surface).
type PolicyConfig struct {
	// DefRange is the block header.
	DefRange hcl.Range
	// MaxTTL is the longest TTL a handoff may ask for (never above 24h).
	MaxTTL Duration
	// MaxRevocations and MaxRevocationShare bound what one apply may
	// revoke of the live handoffs whose spec is gone before their TTL ends
	// (the mass-revocation guard of package reconcile): a count, and a
	// share written as a percentage ("25%").
	MaxRevocations     Int
	MaxRevocationShare String

	surfaces map[string]Block
}

// Surface returns what surface name decoded of the policy block (its
// DecodePolicy), if it declares policy attributes.
func (p *PolicyConfig) Surface(name string) (Block, bool) {
	if p == nil {
		return nil, false
	}
	b, ok := p.surfaces[name]
	return b, ok
}

// SetSurface sets what surface name decoded of the policy block.
func (p *PolicyConfig) SetSurface(name string, b Block) {
	if p.surfaces == nil {
		p.surfaces = map[string]Block{}
	}
	p.surfaces[name] = b
}

// ParseConfig parses handoff.hcl (or a file of the same language, such as
// the default policy) in the installed language. The syntax follows the
// name as for ParseHandoffFile. It returns a non-nil Config whenever the
// file is syntactically valid, marked Incomplete when other errors were
// found; nil on syntax errors.
func ParseConfig(filename string, src []byte) (*Config, hcl.Diagnostics) {
	return Installed().ParseConfig(filename, src)
}

// ParseConfig parses handoff.hcl in language l; see the function
// ParseConfig.
func (l *Language) ParseConfig(filename string, src []byte) (*Config, hcl.Diagnostics) {
	file, diags := parseSyntax(filename, src)
	if diags.HasErrors() || file == nil || file.Body == nil {
		return nil, diags
	}
	d := &decoder{diags: diags}
	top := d.content(file.Body, l.configFile, FileRange(filename))
	cfg := &Config{Filename: filename}
	if v := l.vault; v.Config != nil {
		if blk := d.single(top, v.Config.Type); blk != nil {
			cfg.Vault = v.Decode(&Body{d: d, b: d.content(blk.Body, v.Config, blk.DefRange)})
		}
	}
	for _, s := range l.surfaces {
		if s.Config == nil {
			continue
		}
		if blk := d.single(top, s.Config.Type); blk != nil {
			if b := s.DecodeConfig(&Body{d: d, b: d.content(blk.Body, s.Config, blk.DefRange)}); b != nil {
				cfg.SetBlock(s.Spec.Type, b)
			}
		}
	}
	if blk := d.single(top, rotationSyntax.Type); blk != nil {
		cfg.Rotation = decodeRotation(&Body{d: d, b: d.content(blk.Body, rotationSyntax, blk.DefRange)})
	}
	if blk := d.single(top, applySyntax.Type); blk != nil {
		cfg.Apply = decodeApply(&Body{d: d, b: d.content(blk.Body, applySyntax, blk.DefRange)}, blk.DefRange)
	}
	if blk := d.single(top, l.policy.Type); blk != nil {
		b := &Body{d: d, b: d.content(blk.Body, l.policy, blk.DefRange)}
		cfg.Policy = &PolicyConfig{DefRange: blk.DefRange, MaxTTL: b.Duration("max_ttl", ""),
			MaxRevocations: b.Int("max_revocations"), MaxRevocationShare: b.String("max_revocation_share", "")}
		for _, s := range l.surfaces {
			if s.DecodePolicy != nil {
				if v := s.DecodePolicy(b); v != nil {
					cfg.Policy.SetSurface(s.Spec.Type, v)
				}
			}
		}
	}
	cfg.Incomplete = d.diags.HasErrors()
	return cfg, d.diags
}

// parseSyntax parses src as HCL JSON when filename ends in ".json" and as
// native HCL otherwise.
func parseSyntax(filename string, src []byte) (*hcl.File, hcl.Diagnostics) {
	var f *hcl.File
	diags := checkShape(filename, src)
	switch {
	case diags.HasErrors():
	case strings.HasSuffix(filename, ".json"):
		f, diags = json.Parse(src, filename)
	default:
		f, diags = hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	}
	for _, d := range diags {
		if hint, ok := syntaxHints[d.Summary]; ok {
			d.Detail = strings.TrimSpace(d.Detail) + " " + hint
		}
	}
	return f, diags
}

// syntaxHints complete the parser's messages for common syntax errors with
// what to do about them.
var syntaxHints = map[string]string{
	"Invalid expression":                    "Write a value after the equals sign: a quoted string, a number, a list [...] or a map { ... }.",
	"Trailing comma in object":              "Remove the comma after the last property.",
	"Trailing comma in array":               "Remove the comma after the last element.",
	"Unterminated template string":          "Close the string with a double quote on the same line.",
	"Missing newline after argument":        "Put each argument on its own line, or separate map items with commas.",
	"Argument or block definition required": "Each line holds name = value or a block name { ... }; check the line for a stray character.",
}
