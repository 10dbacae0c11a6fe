package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemon describes one long-running child process: where its pid and log
// go, how to recognise it and how to stop it.
type daemon struct {
	name    string
	pidFile string
	logFile string
	// marker is a string found in /proc/PID/cmdline of our process (a path
	// under the dev dir), so that a reused pid is not mistaken for ours.
	marker string
	// askStop, when set, asks the service to stop through its own protocol;
	// the stop signal follows only when that fails or takes too long.
	askStop func(ctx context.Context) error
	// stopSignal asks for a clean stop (SIGTERM, or SIGINT for Postgres' fast shutdown).
	stopSignal syscall.Signal
	// stopBudget is how long a clean stop may take before SIGKILL.
	stopBudget time.Duration
	logger     *slog.Logger
}

// child is a process started by this program; done closes when it exits.
type child struct {
	pid  int
	done chan struct{}
	err  error // valid after done is closed
}

// running returns the pid of our live process, if any.
func (d daemon) running() (int, bool) {
	pid, err := readPidFile(d.pidFile)
	if err != nil || !processAlive(pid, d.marker) {
		return 0, false
	}
	return pid, true
}

// start runs cmd detached (own process group, output appended to the log
// file, stdin /dev/null), records its pid and reaps it in a goroutine so
// that an early exit is seen during the readiness window. The process
// outlives this program.
func (d daemon) start(cmd *exec.Cmd) (*child, error) {
	logf, err := openLog(d.logFile)
	if err != nil {
		return nil, err
	}
	defer func() { _ = logf.Close() }() // the child keeps its own copy of the descriptor
	_, _ = fmt.Fprintf(logf, "\n==== %s: starting %s\n", time.Now().Format(time.RFC3339), strings.Join(cmd.Args, " "))
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	c := &child{pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	if err := writePidFile(d.pidFile, c.pid); err != nil {
		_ = syscall.Kill(-c.pid, syscall.SIGKILL)
		return nil, err
	}
	d.logger.Info("started", "component", d.name, "pid", c.pid, "log", d.logFile)
	return c, nil
}

// stop asks our process to stop (askStop, then the stop signal), waits up to
// the budget, then kills its process group. It is a no-op when nothing of
// ours runs.
func (d daemon) stop(ctx context.Context) error {
	pid, ok := d.running()
	if !ok {
		return removeIfExists(d.pidFile)
	}
	via, err := d.stopGracefully(ctx, pid)
	if err != nil {
		return err
	}
	if via == "" && ctx.Err() != nil {
		return fmt.Errorf("stop %s (pid %d) interrupted before it exited: %w", d.name, pid, ctx.Err())
	}
	if via == "" {
		d.logger.Warn("no clean stop within budget, sending SIGKILL", "component", d.name, "pid", pid, "budget", d.stopBudget)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		if !d.waitExit(context.WithoutCancel(ctx), pid, 5*time.Second) {
			return fmt.Errorf("stop %s: pid %d still alive after SIGKILL", d.name, pid)
		}
		via = "SIGKILL"
	}
	d.logger.Info("stopped", "component", d.name, "pid", pid, "via", via)
	return removeIfExists(d.pidFile)
}

// stopGracefully tries askStop, then the stop signal, each with the budget,
// and reports which one worked ("" when neither did).
func (d daemon) stopGracefully(ctx context.Context, pid int) (string, error) {
	if d.askStop != nil {
		err := d.askStop(ctx)
		if err == nil && d.waitExit(ctx, pid, d.stopBudget) {
			return "request", nil
		}
		d.logger.Warn("stop request did not work, sending the stop signal", "component", d.name, "pid", pid, "err", err)
	}
	if err := syscall.Kill(pid, d.stopSignal); err != nil && !errors.Is(err, syscall.ESRCH) {
		return "", fmt.Errorf("signal %s (pid %d): %w", d.name, pid, err)
	}
	if d.waitExit(ctx, pid, d.stopBudget) {
		return d.stopSignal.String(), nil
	}
	return "", nil
}

// waitExit polls until pid is gone; it reports false on timeout.
func (d daemon) waitExit(ctx context.Context, pid int, budget time.Duration) bool {
	deadline := time.Now().Add(budget)
	for processAlive(pid, d.marker) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// readiness is one check of whether a service answers.
type readiness func(ctx context.Context) error

// waitReady polls probe until it succeeds, the child exits, or the timeout
// passes. c may be nil when the process was started by an earlier run.
func (d daemon) waitReady(ctx context.Context, c *child, timeout time.Duration, probe readiness) error {
	var done <-chan struct{}
	if c != nil {
		done = c.done
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		err := tryProbe(ctx, probe)
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("%w: %s exited while starting (%w); read %s", ErrNotReady, d.name, c.err, d.logFile)
		case <-deadline.C:
			return fmt.Errorf("%w: %s not ready after %s (last check: %w); read %s", ErrNotReady, d.name, timeout, err, d.logFile)
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", d.name, ctx.Err())
		case <-tick.C:
		}
	}
}

func tryProbe(ctx context.Context, probe readiness) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return probe(ctx)
}

// processAlive reports whether pid is a live (not zombie) process whose
// command line contains marker.
func processAlive(pid int, marker string) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if zombie(pid) {
		return false
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	return marker == "" || bytes.Contains(cmdline, []byte(marker))
}

// zombie reports whether pid has exited but was not reaped (its parent may be
// an init that does not reap orphans).
func zombie(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X'
}

// portOpen reports whether something accepts TCP connections on addr.
func portOpen(addr string) bool {
	d := net.Dialer{Timeout: 300 * time.Millisecond}
	conn, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// checkPortsFree fails with ErrPortInUse when one of addrs already answers.
func checkPortsFree(svc string, addrs ...string) error {
	for _, a := range addrs {
		if portOpen(a) {
			return fmt.Errorf("%w: %s is taken by a process this dev stack did not start; stop it or pick another port for %s", ErrPortInUse, a, svc)
		}
	}
	return nil
}

func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("parse pid file %s: %w", path, err)
	}
	return pid, nil
}

func writePidFile(path string, pid int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create pid dir: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

func openLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create log dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	return f, nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// startReady starts cmd as the daemon and waits until probe succeeds; when
// the service does not become ready the process is stopped again, so that a
// failed up leaves nothing half-started behind.
func (d daemon) startReady(ctx context.Context, cmd *exec.Cmd, timeout time.Duration, probe readiness) error {
	c, err := d.start(cmd)
	if err != nil {
		return err
	}
	if err := d.waitReady(ctx, c, timeout, probe); err != nil {
		if stopErr := d.stop(context.WithoutCancel(ctx)); stopErr != nil {
			d.logger.Warn("stop after failed start", "component", d.name, "err", stopErr)
		}
		return err
	}
	return nil
}

// status reports pid, liveness and whether addr answers.
func (d daemon) status(addr string) Status {
	pid, ok := d.running()
	return Status{Name: d.name, Running: ok, Listening: portOpen(addr), PID: pid, Addr: addr, Log: d.logFile}
}
