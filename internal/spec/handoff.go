package spec

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Handoff is one parsed spec file: a single handoff "<slug>" block.
//
// The blocks of its credential surfaces are held by name (Block); their
// types belong to the surfaces' packages. Scalar fields follow the rule of
// the package: a field whose Valid method reports false was absent or
// invalid, and the parser has already reported any error about it.
type Handoff struct {
	// Filename is the path of the spec file, as used in every range.
	Filename string
	// DefRange is the header of the block, `handoff "<slug>"`.
	DefRange hcl.Range
	// Slug is the block label; its Range is the label's.
	Slug String
	// Card is the number of the task card the handoff serves.
	Card Int
	// Description says in a sentence what the agent does.
	Description String
	// TTL is how long the handoff's credentials may live, at most the
	// policy's max_ttl.
	TTL Duration
	// ApprovedBy names who approved the handoff.
	ApprovedBy String

	// LiveApproval records the operator approval required for live
	// financial credentials (H7); nil when absent.
	LiveApproval *LiveApproval

	blocks map[string]Block
	order  []string
}

// Block returns the block of surface name, if the spec has one.
func (h *Handoff) Block(name string) (Block, bool) {
	if h == nil {
		return nil, false
	}
	b, ok := h.blocks[name]
	return b, ok
}

// SetBlock sets (or, with b nil, removes) the block of surface name; tests
// and tools that build handoffs use it. Surfaces keeps the language's order
// for blocks the parser set, then the order of calls.
func (h *Handoff) SetBlock(name string, b Block) {
	if b == nil {
		if _, ok := h.blocks[name]; ok {
			delete(h.blocks, name)
			for i, n := range h.order {
				if n == name {
					h.order = append(h.order[:i:i], h.order[i+1:]...)
					break
				}
			}
		}
		return
	}
	if h.blocks == nil {
		h.blocks = map[string]Block{}
	}
	if _, ok := h.blocks[name]; !ok {
		h.order = append(h.order, name)
	}
	h.blocks[name] = b
}

// Surfaces returns the names of the surfaces the handoff declares, in the
// installed language's order (names it does not know last, by name).
func (h *Handoff) Surfaces() []string {
	if h == nil {
		return nil
	}
	out := append([]string(nil), h.order...)
	rank := Installed().rank
	slices.SortStableFunc(out, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return out
}

// HasSurface reports whether the handoff declares surface name.
func (h *Handoff) HasSurface(name string) bool {
	_, ok := h.Block(name)
	return ok
}

// BlockRange is the header of surface name's block, else the handoff's.
func (h *Handoff) BlockRange(name string) hcl.Range {
	if b, ok := h.Block(name); ok {
		return b.Range()
	}
	return h.DefRange
}

// LiveApproval is the live_approval block: who approved live financial
// access and why. Package policy requires both to be non-empty.
type LiveApproval struct {
	DefRange hcl.Range // the block header
	By       String    // the approving operator
	Reason   String    // why live access is needed
}

// Range is the block header.
func (a *LiveApproval) Range() hcl.Range { return a.DefRange }

// SlugFromFilename returns the slug a spec file name implies: its base name
// without ".hcl.json" or ".hcl". It returns "" for other names.
func SlugFromFilename(filename string) string {
	base := filename
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	for _, ext := range []string{".hcl.json", ".hcl"} {
		if s, ok := strings.CutSuffix(base, ext); ok {
			return s
		}
	}
	return ""
}

// ParseHandoffFile parses one spec file. The syntax follows the name: HCL
// JSON for names ending in ".json", native HCL otherwise. It returns nil
// when the file has syntax errors or holds no handoff block; otherwise it
// returns the handoff with every value it could decode, together with all
// diagnostics. It never touches the file system.
func ParseHandoffFile(filename string, src []byte) (*Handoff, hcl.Diagnostics) {
	return Installed().ParseHandoffFile(filename, src)
}

// ParseHandoffFile parses one spec file in language l; see the function
// ParseHandoffFile.
func (l *Language) ParseHandoffFile(filename string, src []byte) (*Handoff, hcl.Diagnostics) {
	var body hcl.Body
	var diags hcl.Diagnostics
	fast, ok := (*hclsyntax.Body)(nil), false
	if !strings.HasSuffix(filename, ".json") { // see parseSyntax
		fast, ok = fastParseBody(filename, src)
	}
	if ok {
		body = fast // what parseSyntax gives, without diagnostics
	} else {
		file, fileDiags := parseSyntax(filename, src)
		if fileDiags.HasErrors() || file == nil || file.Body == nil {
			return nil, fileDiags
		}
		body, diags = file.Body, fileDiags
	}
	d := &decoder{diags: diags}
	top := d.content(body, l.specFile, FileRange(filename))
	var blk *hcl.Block
	for _, b := range top.content.Blocks {
		if blk == nil {
			blk = b
			continue
		}
		slug := ""
		if len(b.Labels) > 0 {
			slug = b.Labels[0]
		}
		d.errorf(b.DefRange, "More than one handoff in a spec file",
			"A spec file declares exactly one handoff; the first is at %s. Move this one to specs/%s.hcl.",
			RangeString(blk.DefRange), slug)
	}
	if blk == nil {
		if !d.diags.HasErrors() {
			d.errorf(FileRange(filename), "Missing handoff block",
				"A spec file declares one handoff. Add a block such as:\n\nhandoff %q {\n  card        = 3629\n  ttl         = \"24h\"\n  approved_by = \"ops\"\n}",
				SlugFromFilename(filename))
		}
		return nil, d.diags
	}
	if len(blk.Labels) != 1 {
		// HCL has already reported the missing or extra label.
		return nil, d.diags
	}
	h := l.decodeHandoff(d, filename, blk)
	return h, d.diags
}

func (l *Language) decodeHandoff(d *decoder, filename string, blk *hcl.Block) *Handoff {
	b := d.content(blk.Body, l.handoff, blk.DefRange)
	h := &Handoff{
		Filename:    filename,
		DefRange:    blk.DefRange,
		Slug:        String{Value: blk.Labels[0], Range: blk.LabelRanges[0]},
		Card:        d.integer(b, "card"),
		Description: d.str(b, "description", ""),
		TTL:         d.duration(b, "ttl", ""),
		ApprovedBy:  d.str(b, "approved_by", ""),
	}
	for _, s := range l.surfaces {
		if blk := d.single(b, s.Spec.Type); blk != nil {
			body := &Body{d: d, b: d.content(blk.Body, s.Spec, blk.DefRange)}
			if v := s.Decode(body, h); v != nil {
				h.SetBlock(s.Spec.Type, v)
			}
		}
	}
	if blk := d.single(b, liveApprovalSyntax.Type); blk != nil {
		s := d.content(blk.Body, liveApprovalSyntax, blk.DefRange)
		h.LiveApproval = &LiveApproval{DefRange: blk.DefRange, By: d.str(s, "by", ""), Reason: d.str(s, "reason", "")}
	}
	return h
}
