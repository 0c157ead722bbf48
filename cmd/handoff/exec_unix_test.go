//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func execChildSignals(mode string) int {
	switch mode {
	case "kill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		time.Sleep(time.Minute)
		return 98
	case "trap":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
		fmt.Println("ready")
		s := (<-c).(syscall.Signal)
		fmt.Println("got", int(s))
		return 40 + int(s)
	case "hang":
		fmt.Println("ready")
		time.Sleep(time.Minute)
		return 97
	}
	return 96
}

// TestExecHelperMain is not a test: it is handoff itself (the test binary
// re-run with envExecMain set), run as main runs it, with the arguments
// after "--", so that signals can be sent to it.
func TestExecHelperMain(t *testing.T) {
	if os.Getenv(envExecMain) == "" {
		t.Skip("only handoff in the exec signal tests")
	}
	args := []string{"handoff"}
	for i, a := range os.Args {
		if a == "--" {
			args = append(args, os.Args[i+1:]...)
			break
		}
	}
	// As main does.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runContext(ctx, args, os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// TestExecSignals sends each signal exec passes on to a handoff process
// running exec, and checks that the command got it and that its status
// (40+N after handling it, 128+N when killed by it) is exec's.
func TestExecSignals(t *testing.T) {
	c := newExecGitOps(t)
	c.must(0, "apply", "-auto-approve")
	var mu sync.Mutex
	var outputs []string
	t.Cleanup(func() { c.outputs = append(c.outputs, outputs...) })
	for _, tc := range []struct {
		sig  syscall.Signal
		mode string
		want int
	}{
		{syscall.SIGINT, "trap", 40 + 2},
		{syscall.SIGTERM, "trap", 40 + 15},
		{syscall.SIGHUP, "trap", 40 + 1},
		{syscall.SIGQUIT, "trap", 40 + 3},
		{syscall.SIGTERM, "hang", 128 + 15},
		{syscall.SIGHUP, "hang", 128 + 1},
	} {
		t.Run(fmt.Sprintf("%s-%s", tc.mode, tc.sig), func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestExecHelperMain$", "--",
				"-no-color", "exec", "-chdir", c.dir, iapSlug, "--", os.Args[0], "-test.run=^TestExecHelperChild$", "--", tc.mode)
			cmd.Env = []string{envExecMain + "=1", envExecChild + "=1"}
			for k, v := range c.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			// Its own process group: never the foreground group of the
			// terminal `go test` may run in, where exec would leave
			// SIGINT and SIGQUIT to the terminal.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill() }()
			r := bufio.NewReader(out)
			line, err := r.ReadString('\n')
			if line != "ready\n" {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("the command did not start: %q %v\n%s", line, err, stderr.String())
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(r)
			_ = cmd.Wait()
			if got := cmd.ProcessState.ExitCode(); got != tc.want {
				t.Errorf("exec exited %d, want %d\nstdout: %s\nstderr: %s", got, tc.want, rest, stderr.String())
			}
			if tc.mode == "trap" && string(rest) != fmt.Sprintf("got %d\n", int(tc.sig)) {
				t.Errorf("the command printed %q", rest)
			}
			mu.Lock()
			outputs = append(outputs, stderr.String())
			mu.Unlock()
		})
	}
}

func TestForwardSignal(t *testing.T) {
	for _, tc := range []struct {
		sig        syscall.Signal
		foreground bool
		want       bool
	}{
		{syscall.SIGINT, false, true},
		{syscall.SIGQUIT, false, true},
		{syscall.SIGTERM, false, true},
		{syscall.SIGHUP, false, true},
		// The terminal's keys reach the whole foreground group already.
		{syscall.SIGINT, true, false},
		{syscall.SIGQUIT, true, false},
		{syscall.SIGTERM, true, true},
		{syscall.SIGHUP, true, true},
	} {
		if got := forwardSignal(tc.sig, tc.foreground); got != tc.want {
			t.Errorf("forwardSignal(%s, foreground %v) = %v", tc.sig, tc.foreground, got)
		}
	}
}
