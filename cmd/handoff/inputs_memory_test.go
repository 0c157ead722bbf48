//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raxx-app/handoff/internal/spec"
)

// envMeasure turns on TestValidatePeakMemory, which writes about 1.5 GB of
// adversarial repositories and takes minutes: run it by hand,
//
//	HANDOFF_MEASURE_MEMORY=1 go test ./cmd/handoff -run TestValidatePeakMemory -v -timeout 30m
//
// (a value other than 1 measures only the repositories whose name holds it,
// such as HANDOFF_MEASURE_MEMORY="policy error").
// It reports peak RSS (VmHWM of the handoff process), wall time and output size of `handoff validate` on
// each; it fails only when a run exceeds peakRSSLimit (memory, not time:
// a loaded machine cannot fail it).
const envMeasure = "HANDOFF_MEASURE_MEMORY"

// envChild makes the test binary run handoff's main instead of the tests,
// so that each measured run is a process of its own.
const envChild = "HANDOFF_TEST_RUN_MAIN"

const peakRSSLimit = 200 << 20

// TestRunMainInChild is not a test: it is the child process of
// TestValidatePeakMemory (the test binary re-run with envChild set), which
// runs handoff as main does, arguments after "--".
func TestRunMainInChild(t *testing.T) {
	if os.Getenv(envChild) == "" {
		t.Skip("only the child process of TestValidatePeakMemory")
	}
	args := []string{"handoff"}
	for i, a := range os.Args {
		if a == "--" {
			args = append(args, os.Args[i+1:]...)
			break
		}
	}
	setMemoryLimit(os.Getenv)
	code := runContext(context.Background(), args, os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	// The peak RSS of this process image alone: getrusage would include
	// the parent's, which the child shares until exec on Linux.
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				_ = os.WriteFile(os.Getenv(envChild), []byte(strings.TrimSpace(v)), 0o644)
			}
		}
	}
	os.Exit(code)
}

// adversarial describes one repository to measure: specs/ is filled by
// fill (handoff.hcl is the ordinary one).
type adversarial struct {
	name string
	fill func(t *testing.T, specs string)
}

func writeN(t *testing.T, specs string, n int, file func(i int) (string, []byte)) {
	t.Helper()
	for i := range n {
		name, data := file(i)
		if err := os.WriteFile(filepath.Join(specs, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// padTo repeats unit inside prefix … suffix up to size bytes.
func padTo(prefix, unit, suffix string, size int) []byte {
	var b bytes.Buffer
	b.WriteString(prefix)
	for b.Len()+len(unit)+len(suffix) <= size {
		b.WriteString(unit)
	}
	b.WriteString(suffix)
	return b.Bytes()
}

func ordinarySpec(i int) []byte {
	return fmt.Appendf(nil, `handoff "bench-%05d-20260621" {
  card        = %d
  description = "Generated benchmark task %d"
  ttl         = "24h"
  approved_by = "ops"

  github {
    repository  = "raxx-app/TradeMasterAPI"
    permissions = { contents = "write", pull_requests = "write", issues = "write" }
  }

  infisical {
    environment = "staging"
    read        = ["/MooseQuest/queue/staging/APPLE_IAP_*"]
  }

  apple_iap {
    environment = "sandbox"
    bundle_id   = "com.raxx.trademaster"
  }

  mcp {
    allow   = ["github_pr_create", "github_pr_comment", "infisical_get_secret"]
    exclude = ["filesystem_write_outside_worktree", "stripe_charge", "heroku_scale"]
  }
}
`, i, 10000+i, i)
}

var adversarialRepos = []adversarial{
	{"10000 ordinary specs (the benchmark)", func(t *testing.T, specs string) {
		writeN(t, specs, 10000, func(i int) (string, []byte) {
			return fmt.Sprintf("bench-%05d-20260621.hcl", i), ordinarySpec(i)
		})
	}},
	{"10000 maximum-size specs, lists of one-character strings", func(t *testing.T, specs string) {
		writeN(t, specs, 10000, func(i int) (string, []byte) {
			slug := fmt.Sprintf("big-%05d", i)
			return slug + ".hcl", padTo(fmt.Sprintf("handoff %q {\ncard = 1\nttl = \"1h\"\napproved_by = \"o\"\nmcp {\nallow = [", slug),
				`"a",`, "]\n}\n}\n", spec.MaxFileSize)
		})
	}},
	{"10000 maximum-size specs, every list element a policy error", func(t *testing.T, specs string) {
		writeN(t, specs, 10000, func(i int) (string, []byte) {
			slug := fmt.Sprintf("bad-%05d", i)
			return slug + ".hcl", padTo(fmt.Sprintf("handoff %q {\ncard = 1\nttl = \"1h\"\napproved_by = \"o\"\ninfisical {\nread = [", slug),
				`"x",`, "]\n}\n}\n", spec.MaxFileSize)
		})
	}},
	{"10000 2 KB specs, every list element a policy error", func(t *testing.T, specs string) {
		writeN(t, specs, 10000, func(i int) (string, []byte) {
			slug := fmt.Sprintf("bad-%05d", i)
			return slug + ".hcl", padTo(fmt.Sprintf("handoff %q {\ncard = 1\nttl = \"1h\"\napproved_by = \"o\"\nmcp {\nallow = [", slug),
				`"*",`, "]\n}\n}\n", 2048)
		})
	}},
	{"10000 maximum-size specs, every line a syntax error", func(t *testing.T, specs string) {
		writeN(t, specs, 10000, func(i int) (string, []byte) {
			return fmt.Sprintf("err-%05d.hcl", i), padTo("", "a b c\n", "", spec.MaxFileSize)
		})
	}},
	{"10000 maximum-size specs of comments", func(t *testing.T, specs string) {
		writeN(t, specs, 10000, func(i int) (string, []byte) {
			return fmt.Sprintf("cmt-%05d.hcl", i), padTo("", "# a comment line that is not a handoff\n", "", spec.MaxFileSize)
		})
	}},
	{"one 25 MB binary", func(t *testing.T, specs string) {
		b := make([]byte, 25<<20)
		_, _ = rand.NewChaCha8([32]byte{1}).Read(b)
		writeN(t, specs, 1, func(int) (string, []byte) { return "x.hcl", b })
	}},
	{"one 25 MB text file of syntax errors", func(t *testing.T, specs string) {
		writeN(t, specs, 1, func(int) (string, []byte) { return "x.hcl", padTo("", "a b c\n", "", 25<<20) })
	}},
	{"10000 random 4 KB binaries", func(t *testing.T, specs string) {
		r := rand.NewChaCha8([32]byte{2})
		writeN(t, specs, 10000, func(i int) (string, []byte) {
			b := make([]byte, 4096)
			_, _ = r.Read(b)
			return fmt.Sprintf("bin-%05d.hcl", i), b
		})
	}},
	{"30000 files that are not specs", func(t *testing.T, specs string) {
		writeN(t, specs, 30000, func(i int) (string, []byte) { return fmt.Sprintf("note-%05d.txt", i), []byte("x") })
	}},
}

func TestValidatePeakMemory(t *testing.T) {
	if os.Getenv(envMeasure) == "" {
		t.Skipf("set %s=1 to measure (minutes, 1.5 GB of disk)", envMeasure)
	}
	cfg, err := os.ReadFile("../../handoff.hcl")
	if err != nil {
		t.Fatal(err)
	}
	only := os.Getenv(envMeasure)
	for _, a := range adversarialRepos {
		if only != "1" && !strings.Contains(a.name, only) {
			continue
		}
		dir := t.TempDir()
		specs := filepath.Join(dir, "specs")
		if err := os.Mkdir(specs, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "handoff.hcl"), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		a.fill(t, specs)

		cmd := exec.Command(os.Args[0], "-test.run=^TestRunMainInChild$", "--", "-no-color", "validate", dir)
		hwm := filepath.Join(t.TempDir(), "vmhwm")
		cmd.Env = append(os.Environ(), envChild+"="+hwm)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		wall := time.Since(start)
		if cmd.ProcessState == nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		raw, err := os.ReadFile(hwm)
		if err != nil {
			t.Fatalf("%s: no peak RSS from the child: %v\n%s", a.name, err, stderr.String())
		}
		var kib int64
		if _, err := fmt.Sscanf(string(raw), "%d kB", &kib); err != nil {
			t.Fatalf("%s: VmHWM %q: %v", a.name, raw, err)
		}
		rss := kib << 10
		last := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		t.Logf("%-62s peak RSS %4d MiB, %6.2f s, exit %d, stderr %6d bytes: %s",
			a.name, rss>>20, wall.Seconds(), cmd.ProcessState.ExitCode(), stderr.Len(), last)
		if rss > peakRSSLimit {
			t.Errorf("%s: peak RSS %d MiB, above %d MiB", a.name, rss>>20, peakRSSLimit>>20)
		}
		os.RemoveAll(dir)
	}
}
