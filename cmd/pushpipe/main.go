// Command pushpipe is the single Pushpipe binary: one subcommand per role.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: it gets the remaining arguments and returns an exit code.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

// env is what every subcommand may touch of the outside world, passed in so tests can call run.
type env struct {
	getenv  func(string) string
	environ []string // for reporting unknown PUSHPIPE_* settings
	stdout  io.Writer
	stderr  io.Writer
}

func commands() map[string]command {
	return map[string]command{
		"ingest":       {"run the beacon ingest HTTP service", cmdIngest},
		"stream":       {"run the stream consumers (ClickHouse sink)", cmdStream},
		"api":          {"run the dashboard API", cmdAPI},
		"sender":       {"run the Web Push sender (push-requests topic)", cmdSender},
		"all":          {"run every role in one process", cmdAll},
		"migrate":      {"apply Postgres and ClickHouse migrations", cmdMigrate},
		"dev":          {"manage the local stack: dev up|down|status|env", cmdDev},
		"site":         {"manage sites: site create --name NAME [--origin URL]...", cmdSite},
		"simulate":     {"send realistic synthetic traffic to ingest", cmdSimulate},
		"smoke":        {"end-to-end smoke run with a crash of the stream role", cmdSmoke},
		"bench-ingest": {"measure ingest throughput and latency under steady load", cmdBenchIngest},
		"demo":         {"migrate, create a demo site once, print URLs and keys, run all", cmdDemo},

		"bench-segments-latency": {"measure event-to-segment_entered latency under steady load", cmdBenchSegmentsLatency},
		"e2e-automations":        {"automations and campaigns end to end through separate processes", cmdE2EAutomations},
		"chaos":                  {"kill -9 each component in turn under load; exactly-once and no double sends checked", cmdChaos},
		"api-fuzz":               {"schemathesis against the dashboard API's OpenAPI document, authenticated", cmdAPIFuzz},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{getenv: os.Getenv, environ: os.Environ(), stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, e *env) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "pushpipe: unknown command %q (run 'pushpipe help' for the list)\n", args[0])
		return 2
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: pushpipe <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, cmds[n].summary)
	}
}
