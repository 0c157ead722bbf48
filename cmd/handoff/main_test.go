package main

import (
	"bytes"
	"flag"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// runCLI runs the CLI in process with the given environment (nil: empty)
// and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return environ[k] }
	code := run(append([]string{"handoff"}, args...), strings.NewReader(""), &stdout, &stderr, getenv)
	return code, stdout.String(), stderr.String()
}

func itoa(i int) string { return strconv.Itoa(i) }
