package planfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/raxx-app/handoff/internal/atomicfile"
	"github.com/raxx-app/handoff/internal/plan"
)

// Version is the version of the plan file envelope this handoff writes, and
// the newest it reads.
const Version = 1

// MaxSize is the largest plan file Read accepts, in bytes. A plan of 10,000
// handoffs takes a few tens of megabytes.
const MaxSize = 256 << 20

// maxSize is MaxSize, lowered by tests.
var maxSize int64 = MaxSize

// Errors of Read, for errors.Is. The error returned says what is wrong and
// what to do; these only classify it.
var (
	// ErrNotPlanFile: the input is not a plan file at all (another JSON
	// document, such as the output of plan -json, or not JSON).
	ErrNotPlanFile = errors.New("not a handoff plan file")
	// ErrCorrupt: the input is a plan file that is truncated, corrupted or
	// was edited after handoff plan wrote it.
	ErrCorrupt = errors.New("plan file is corrupt")
	// ErrUnsupportedVersion: the plan file, or the plan in it, was written by
	// a newer handoff.
	ErrUnsupportedVersion = errors.New("plan file version not supported")
)

// fileError is an error of Read with its class.
type fileError struct {
	kind error
	msg  string
}

func (e *fileError) Error() string { return e.msg }
func (e *fileError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &fileError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// envelope is the plan file document. Field order is the file's key order.
type envelope struct {
	Version  int             `json:"handoff_plan_file"`
	Plan     json.RawMessage `json:"plan"`
	Checksum string          `json:"checksum"`
}

const checksumPrefix = "sha256:"

func checksum(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return checksumPrefix + hex.EncodeToString(sum[:])
}

// Marshal returns the plan file for p: the envelope, indented, ending with a
// newline. The plan is stored in its canonical form (p.Canonical()), with
// format_version set to plan.FormatVersion when p leaves it zero. p is not
// modified.
func Marshal(p *plan.Plan) ([]byte, error) {
	if p == nil {
		return nil, errors.New("plan file: nil plan")
	}
	c := p.Canonical()
	if c.FormatVersion == 0 {
		c.FormatVersion = plan.FormatVersion
	}
	if c.FormatVersion != plan.FormatVersion {
		return nil, fmt.Errorf("plan file: the plan has format_version %d; this handoff writes %d", c.FormatVersion, plan.FormatVersion)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("plan file: encode plan: %w", err)
	}
	out, err := json.MarshalIndent(envelope{Version: Version, Plan: raw, Checksum: checksum(raw)}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("plan file: encode: %w", err)
	}
	return append(out, '\n'), nil
}

// Write writes the plan file for p to w.
func Write(w io.Writer, p *plan.Plan) error {
	b, err := Marshal(p)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("plan file: write: %w", err)
	}
	return nil
}

// WriteFile writes the plan file for p at path with mode 0600, atomically
// (package atomicfile): a reader never sees half a plan, and on error path
// is left as it was.
func WriteFile(path string, p *plan.Plan) error {
	b, err := Marshal(p)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("plan file: %w", err)
	}
	return nil
}

// Read reads a plan file and returns its plan, after checking the envelope
// version, the checksum, and that every field is known to this handoff. The
// errors wrap ErrNotPlanFile, ErrCorrupt or ErrUnsupportedVersion and say
// what to do.
func Read(r io.Reader) (*plan.Plan, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("plan file: read: %w", err)
	}
	if int64(len(data)) > maxSize {
		return nil, errorf(ErrCorrupt, "plan file is larger than %d MiB; this is not a plan written by handoff plan -out", maxSize>>20)
	}
	return Unmarshal(data)
}

// ReadFile reads the plan file at path; errors name the path.
func ReadFile(path string) (*plan.Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("plan file: %w", err)
	}
	defer f.Close()
	p, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

const rerun = "run handoff plan -out FILE again"

// Unmarshal decodes a plan file held in memory; see Read.
func Unmarshal(data []byte) (*plan.Plan, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errorf(ErrCorrupt, "plan file is empty; %s", rerun)
	}
	if trimmed[0] != '{' {
		return nil, errorf(ErrNotPlanFile, "not a handoff plan file (not a JSON object); write one with handoff plan -out FILE")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) && se.Offset >= int64(len(trimmed)) {
			return nil, errorf(ErrCorrupt, "plan file is truncated (it ends after %d bytes); %s", len(data), rerun)
		}
		return nil, errorf(ErrCorrupt, "plan file is not valid JSON (%v); %s", err, rerun)
	}

	vraw, ok := fields["handoff_plan_file"]
	if !ok {
		if _, ok := fields["format_version"]; ok {
			return nil, errorf(ErrNotPlanFile, "not a handoff plan file: this looks like the output of handoff plan -json, which is for reading; write a plan file with handoff plan -out FILE")
		}
		return nil, errorf(ErrNotPlanFile, "not a handoff plan file (no handoff_plan_file field); write one with handoff plan -out FILE")
	}
	var version int
	if err := json.Unmarshal(vraw, &version); err != nil {
		return nil, errorf(ErrCorrupt, "plan file version %s is not a number; %s", vraw, rerun)
	}
	if version > Version {
		return nil, errorf(ErrUnsupportedVersion, "plan file version %d is newer than this handoff (max %d): upgrade handoff", version, Version)
	}
	if version < 1 {
		return nil, errorf(ErrCorrupt, "plan file version %d is not valid; %s", version, rerun)
	}
	for k := range fields {
		if k != "handoff_plan_file" && k != "plan" && k != "checksum" {
			return nil, errorf(ErrCorrupt, "plan file has an unknown field %q; it was edited or written by another tool; %s", k, rerun)
		}
	}

	rawPlan, ok := fields["plan"]
	if !ok || bytes.Equal(bytes.TrimSpace(rawPlan), []byte("null")) {
		return nil, errorf(ErrCorrupt, "plan file holds no plan; %s", rerun)
	}
	var want string
	if craw, ok := fields["checksum"]; !ok {
		return nil, errorf(ErrCorrupt, "plan file has no checksum (truncated or edited?); %s", rerun)
	} else if err := json.Unmarshal(craw, &want); err != nil || !validChecksum(want) {
		return nil, errorf(ErrCorrupt, "plan file checksum %s is not of the form sha256:<64 hex digits>; %s", craw, rerun)
	}
	var canonical bytes.Buffer
	if err := json.Compact(&canonical, rawPlan); err != nil {
		return nil, errorf(ErrCorrupt, "plan file holds an invalid plan (%v); %s", err, rerun)
	}
	if got := checksum(canonical.Bytes()); got != want {
		return nil, errorf(ErrCorrupt, "plan file checksum mismatch (recorded %s, computed %s): the plan was changed after handoff plan wrote it; %s", shortSum(want), shortSum(got), rerun)
	}

	// The format version first, so that a newer plan is reported as such
	// rather than as an unknown field.
	var probe struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(rawPlan, &probe); err != nil || probe.FormatVersion == nil {
		return nil, errorf(ErrCorrupt, "plan file holds a plan without a format_version; %s", rerun)
	}
	if v := *probe.FormatVersion; v > plan.FormatVersion {
		return nil, errorf(ErrUnsupportedVersion, "plan format_version %d is newer than this handoff (max %d): upgrade handoff", v, plan.FormatVersion)
	} else if v < 1 {
		return nil, errorf(ErrCorrupt, "plan format_version %d is not valid; %s", v, rerun)
	}
	dec := json.NewDecoder(bytes.NewReader(rawPlan))
	dec.DisallowUnknownFields()
	var p plan.Plan
	if err := dec.Decode(&p); err != nil {
		return nil, errorf(ErrCorrupt, "plan file holds a plan this handoff cannot read (%v); %s", strings.TrimPrefix(err.Error(), "json: "), rerun)
	}
	return &p, nil
}

func validChecksum(s string) bool {
	h, ok := strings.CutPrefix(s, checksumPrefix)
	if !ok || len(h) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil && strings.ToLower(h) == h
}

func shortSum(s string) string {
	if len(s) > len(checksumPrefix)+12 {
		return s[:len(checksumPrefix)+12] + "…"
	}
	return s
}
