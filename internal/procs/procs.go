// Package procs starts and supervises child processes of the pushpipe binary
// for end-to-end runs (smoke test, e2e tests): free ports, readiness waits, a
// named group of roles that can be signalled, restarted and stopped.
package procs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// FreePorts asks the kernel for n free loopback TCP ports.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// WaitHTTP polls url until it answers 200 or timeout passes.
func WaitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("wait for %s: %w", url, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %w", url, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type child struct {
	args    []string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// Group is a set of named child processes of one binary.
type Group struct {
	bin string
	env []string

	mu       sync.Mutex
	children map[string]*child
}

// NewGroup runs bin with env for every child.
func NewGroup(bin string, env []string) *Group {
	return &Group{bin: bin, env: env, children: map[string]*child{}}
}

// Start runs bin with args as name, appending its output to logPath. The
// child gets SIGKILL if this process dies, so nothing is left behind.
func (g *Group) Start(_ context.Context, name, logPath string, args ...string) error {
	c := &child{args: args, logPath: logPath}
	if err := g.spawn(c); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	g.mu.Lock()
	g.children[name] = c
	g.mu.Unlock()
	return nil
}

func (g *Group) spawn(c *child) error {
	logf, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// Not CommandContext: the caller decides when a child stops (StopAll), so
	// a cancelled context still gets an orderly stop rather than a kill.
	cmd := exec.Command(g.bin, c.args...) //nolint:noctx // lifetime managed by StopAll
	cmd.Env = g.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return err
	}
	c.cmd, c.done = cmd, make(chan struct{})
	go func(done chan struct{}) {
		_ = cmd.Wait()
		_ = logf.Close()
		close(done)
	}(c.done)
	return nil
}

func (g *Group) get(name string) (*child, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.children[name]
	if !ok {
		return nil, fmt.Errorf("no child named %q", name)
	}
	return c, nil
}

// Signal sends sig to the named child and, for SIGKILL, waits until it is gone.
func (g *Group) Signal(name string, sig syscall.Signal) error {
	c, err := g.get(name)
	if err != nil {
		return err
	}
	if err := c.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s: %w", name, err)
	}
	if sig == syscall.SIGKILL {
		<-c.done
	}
	return nil
}

// Restart starts the named child again with the same arguments; it must have exited.
func (g *Group) Restart(_ context.Context, name string) error {
	c, err := g.get(name)
	if err != nil {
		return err
	}
	select {
	case <-c.done:
	default:
		return fmt.Errorf("restart %s: still running", name)
	}
	if err := g.spawn(c); err != nil {
		return fmt.Errorf("restart %s: %w", name, err)
	}
	return nil
}

// StopAll sends SIGTERM to every child, then SIGKILL to those still running after budget.
func (g *Group) StopAll(budget time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.children {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.Now().Add(budget)
	for _, c := range g.children {
		select {
		case <-c.done:
		case <-time.After(time.Until(deadline)):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
}
