package devstack

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// progress writes human-readable lines prefixed with the service name. It is
// safe for concurrent use by the services starting in parallel.
type progress struct {
	mu *sync.Mutex
	w  io.Writer
}

func (p progress) printf(svc, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = fmt.Fprintf(p.w, "%s: %s\n", svc, fmt.Sprintf(format, args...))
}

// step runs fn, printing what it does, a heartbeat every 15 s, and how long it took.
func (p progress) step(svc, what string, fn func() error) error {
	p.printf(svc, "%s…", what)
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.printf(svc, "  still working (%s)", time.Since(start).Round(time.Second))
			}
		}
	}()
	if err := fn(); err != nil {
		return err
	}
	p.printf(svc, "  done in %s", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// lookTool finds a program on PATH or explains which Debian package provides it.
func lookTool(name, debPackage string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s not found on PATH; install it: sudo apt-get install %s", ErrMissingTool, name, debPackage)
	}
	return path, nil
}

// runTool runs a short-lived command (made with exec.CommandContext), appending its output to logFile (and to
// extra, when given). On failure the error carries the last lines of output.
func runTool(cmd *exec.Cmd, logFile string, extra io.Writer) error {
	logf, err := openLog(logFile)
	if err != nil {
		return err
	}
	defer func() { _ = logf.Close() }()
	_, _ = fmt.Fprintf(logf, "\n==== %s: running %s\n", time.Now().Format(time.RFC3339), strings.Join(cmd.Args, " "))
	tail := &tailBuffer{max: 2048}
	out := io.MultiWriter(logf, tail)
	if extra != nil {
		out = io.MultiWriter(out, extra)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s\n(full output in %s)", strings.Join(cmd.Args[:min(2, len(cmd.Args))], " "), err, indent(tail.String()), logFile)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return strings.Join(lines, "\n")
}

// linePrefixer writes each complete line to w with a prefix; used to show
// apt-get progress on the progress writer.
type linePrefixer struct {
	p    progress
	svc  string
	part []byte
}

func (l *linePrefixer) Write(b []byte) (int, error) {
	l.part = append(l.part, b...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			return len(b), nil
		}
		if line := strings.TrimSpace(string(l.part[:i])); line != "" {
			l.p.printf(l.svc, "  %s", line)
		}
		l.part = l.part[i+1:]
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// dirSize sums the sizes of the regular files directly in dir.
func dirSize(dir string) (files int, bytes int64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			files++
			bytes += info.Size()
		}
	}
	return files, bytes
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
