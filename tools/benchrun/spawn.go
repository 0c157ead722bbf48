package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The children are measured through a spawner: this program started again
// with spawnEnv set, which runs the child and reports its rusage on fd 3.
// On Linux, a child started by a large process reports that process's peak
// resident set as its own: Go starts children with vfork (CLONE_VM), and
// execve records the peak of the memory it leaves, the parent's, in the
// child's ru_maxrss. benchrun holds the dev servers and their state, so
// every child it started itself would show at least their size; the
// spawner is small.
const spawnEnv = "HANDOFF_BENCHRUN_SPAWN"

// spawnReport is what the spawner says of the child it ran.
type spawnReport struct {
	Code   int           `json:"code"`
	Wall   time.Duration `json:"wall"`
	CPU    time.Duration `json:"cpu"`
	MaxRSS int64         `json:"max_rss"`
	// Err is why the child could not be run.
	Err string `json:"err,omitempty"`
}

func init() {
	if os.Getenv(spawnEnv) == "1" {
		os.Exit(spawnMain(os.Args[1:]))
	}
}

// spawnMain runs args[1:] (args[0] is "--") with this process's
// directory, environment (spawnEnv removed) and standard files, and
// writes its spawnReport to fd 3.
func spawnMain(args []string) int {
	report := os.NewFile(3, "report")
	if report == nil {
		return 2
	}
	defer report.Close()
	var rep spawnReport
	if len(args) < 2 || args[0] != "--" {
		rep.Err = "spawner: want -- NAME ARGS"
		_ = json.NewEncoder(report).Encode(rep)
		return 2
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, spawnEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	start := time.Now()
	err := cmd.Run()
	rep.Wall = time.Since(start)
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		rep.Err = err.Error()
	}
	if ps := cmd.ProcessState; ps != nil {
		rep.Code = ps.ExitCode()
		rep.CPU = ps.UserTime() + ps.SystemTime()
		rep.MaxRSS = maxRSS(ps)
	}
	if err := json.NewEncoder(report).Encode(rep); err != nil {
		return 2
	}
	return 0
}
