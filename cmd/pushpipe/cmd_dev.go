package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/internal/devstack"
)

const devUsage = `usage: pushpipe dev <up|down|status|env|logs SERVICE [-n LINES]|pushservice [--addr HOST:PORT]>

  up       start whatever is not running (Kafka, ClickHouse, Postgres), wait until ready
  down     stop all three cleanly
  status   one line per service: state, pid, address
  env      print export lines for clients: eval $(pushpipe dev env)
  logs     print the end of a service log (kafka, clickhouse, postgres)
  pushservice  run a test push service (VAPID checks, RFC 8291 decryption, scripted answers)

environment:
  PUSHPIPE_DEV_DIR              state dir: cache, data, logs, pid files (default .dev)
  PUSHPIPE_DEV_KAFKA_PORT       broker port; the controller uses port+1 (default 19092)
  PUSHPIPE_DEV_CLICKHOUSE_PORT  native protocol port (default 19000)
  PUSHPIPE_DEV_POSTGRES_PORT    (default 15432)
  PUSHPIPE_DEV_PARTITIONS       partitions of the topics created at up (default 6)
`

// cmdDev manages the local stack (see package devstack).
func cmdDev(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		devPrintf(e.stdout, "%s", devUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "pushservice" {
		return cmdDevPushservice(ctx, e, args[1:])
	}
	stack, err := newDevStack(e)
	if err != nil {
		devPrintf(e.stderr, "pushpipe dev: %v\n", err)
		return 2
	}
	switch args[0] {
	case "up":
		return devUp(ctx, e, stack)
	case "down":
		return devDown(ctx, e, stack)
	case "status":
		return devStatus(e, stack)
	case "env":
		printDevEnv(e.stdout, stack.Env())
		return 0
	case "logs":
		return devLogs(e, stack, args[1:])
	default:
		devPrintf(e.stderr, "pushpipe dev: unknown subcommand %q\n%s", args[0], devUsage)
		return 2
	}
}

func newDevStack(e *env) (*devstack.Stack, error) {
	cfg, err := devstack.ConfigFromEnv(e.getenv)
	if err != nil {
		return nil, err
	}
	cfg.Progress = e.stderr
	cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return devstack.New(cfg)
}

func devUp(ctx context.Context, e *env, stack *devstack.Stack) int {
	start := time.Now()
	err := stack.Up(ctx)
	printDevStatus(e.stdout, stack.Status())
	if err != nil {
		devPrintf(e.stderr, "pushpipe dev up: %v\n", err)
		return 1
	}
	devPrintf(e.stderr, "stack ready in %s; for clients: eval $(pushpipe dev env)\n", time.Since(start).Round(100*time.Millisecond))
	return 0
}

func devDown(ctx context.Context, e *env, stack *devstack.Stack) int {
	if err := stack.Down(ctx); err != nil {
		devPrintf(e.stderr, "pushpipe dev down: %v\n", err)
		return 1
	}
	printDevStatus(e.stdout, stack.Status())
	return 0
}

// devStatus exits 0 when every service runs and answers, 1 otherwise.
func devStatus(e *env, stack *devstack.Stack) int {
	st := stack.Status()
	printDevStatus(e.stdout, st)
	for _, s := range st {
		if s.State() != "running" {
			return 1
		}
	}
	return 0
}

func printDevStatus(w io.Writer, st []devstack.Status) {
	for _, s := range st {
		pid := "-"
		if s.PID > 0 {
			pid = fmt.Sprint(s.PID)
		}
		devPrintf(w, "%-10s %-10s pid %-8s %-16s log %s\n", s.Name, s.State(), pid, s.Addr, s.Log)
	}
}

// printDevEnv prints sorted export lines, quoting values for the shell.
func printDevEnv(w io.Writer, vars map[string]string) {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		devPrintf(w, "export %s=%s\n", k, shellQuote(vars[k]))
	}
}

// shellQuote leaves plain values as they are and single-quotes the others.
func shellQuote(v string) string {
	plain := v != "" && strings.IndexFunc(v, func(r rune) bool { return !shellSafe(r) }) < 0
	if plain {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

func shellSafe(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r)
}

// devPrintf and devPrintln write to the terminal; a failed write there has no better place to go.
func devPrintf(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }

func devPrintln(w io.Writer, args ...any) { _, _ = fmt.Fprintln(w, args...) }

func devLogs(e *env, stack *devstack.Stack, args []string) int {
	fs := flag.NewFlagSet("dev logs", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	lines := fs.Int("n", 100, "number of lines from the end")
	if len(args) == 0 {
		devPrintln(e.stderr, "usage: pushpipe dev logs SERVICE [-n LINES] (kafka, clickhouse, postgres)")
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *lines < 1 {
		devPrintln(e.stderr, "pushpipe dev logs: -n must be at least 1")
		return 2
	}
	path, err := stack.LogFile(args[0])
	if err != nil {
		devPrintf(e.stderr, "pushpipe dev logs: %v\n", err)
		return 2
	}
	if err := tailFile(e.stdout, path, *lines); err != nil {
		devPrintf(e.stderr, "pushpipe dev logs: %v\n", err)
		return 1
	}
	return 0
}

// tailFile writes the last n lines of path to w.
func tailFile(w io.Writer, path string, n int) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no log yet at %s (run pushpipe dev up)", path)
	}
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer func() { _ = f.Close() }()
	ring := make([]string, 0, n)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if len(ring) == n {
			ring = ring[1:]
		}
		ring = append(ring, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read log: %w", err)
	}
	for _, l := range ring {
		devPrintln(w, l)
	}
	return nil
}
