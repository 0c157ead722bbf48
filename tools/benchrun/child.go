package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// childTimeout bounds every child process but the simulation (simTimeout):
// a hung command fails the run instead of hanging make bench.
const childTimeout = 5 * time.Minute

// result is what one child process did.
type result struct {
	Code int
	Wall time.Duration
	// CPU is the child's user plus system time (rusage).
	CPU    time.Duration
	MaxRSS int64 // bytes; 0 when the platform does not report it
	Stdout string
	Stderr string
}

// runChild runs name with args in dir with exactly env (KEY=VALUE) and
// measures its wall time, from start to exit, its CPU time and its peak
// resident set. It is killed after childTimeout.
func runChild(ctx context.Context, dir string, env []string, name string, args ...string) (result, error) {
	return runChildFor(ctx, childTimeout, dir, env, name, args...)
}

// runChildFor is runChild with another timeout. The child is started by
// the spawner (see spawnEnv), so that its peak RSS is its own.
func runChildFor(ctx context.Context, timeout time.Duration, dir string, env []string, name string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	what := name + " " + strings.Join(args, " ")
	self, err := os.Executable()
	if err != nil {
		return result{}, fmt.Errorf("%s: the spawner: %w", what, err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return result{}, err
	}
	defer pr.Close()
	cmd := exec.CommandContext(ctx, self, append([]string{"--", name}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(append([]string(nil), env...), spawnEnv+"=1")
	cmd.ExtraFiles = []*os.File{pw}
	killGroup(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", what, err)
	}
	var rep spawnReport
	decodeErr := json.NewDecoder(pr).Decode(&rep)
	waitErr := cmd.Wait()
	r := result{Code: rep.Code, Wall: rep.Wall, CPU: rep.CPU, MaxRSS: rep.MaxRSS, Stdout: stdout.String(), Stderr: stderr.String()}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return r, fmt.Errorf("%s: killed after %s", what, timeout)
	}
	if ctx.Err() != nil {
		return r, fmt.Errorf("%s: %w", what, ctx.Err())
	}
	if decodeErr != nil {
		return r, fmt.Errorf("%s: the spawner said nothing (%v, %v): %s", what, decodeErr, waitErr, tail(r.Stderr, 5))
	}
	if rep.Err != "" {
		return r, fmt.Errorf("%s: %s", what, rep.Err)
	}
	return r, nil
}

// failure describes a child that did not do what was expected, with the
// end of its output (stderr never holds a secret; stdout is a plan).
func failure(what string, r result, why string) error {
	return fmt.Errorf("%s: %s (exit %d, %s)\n--- stderr (last lines) ---\n%s--- stdout (last lines) ---\n%s",
		what, why, r.Code, r.Wall.Round(time.Millisecond), tail(r.Stderr, 40), tail(r.Stdout, 20))
}

// tail is the last n lines of s, newline-terminated.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[… %d lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n") + "\n"
}

// baseEnv is the part of this process's environment a child keeps: where
// to find programs and its home, and the Go runtime's tuning if the caller
// set any. Nothing else leaks in (no host GITHUB_TOKEN, no real Infisical
// credentials).
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOGC", "GOMAXPROCS", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
