package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pushpipe/pushpipe/internal/testkit/pushservice"
)

const pushserviceUsage = `usage: pushpipe dev pushservice [--addr HOST:PORT] [--verbose]

Runs a test push service until interrupted: it checks VAPID, TTL and the
aes128gcm encryption of each push like a real push service, decrypts it as
the browser would, records it, and answers as each subscription is scripted.

control API (JSON):
  POST /subscriptions                  {"script":[{"status":429,"retry_after":"30"}],"then":{"status":410},
                                        "application_server_key":"B..."}  (every field optional)
                                       -> {"id","endpoint","keys":{"p256dh","auth"}}: the browser's PushSubscription
  PUT  /subscriptions/{id}/behaviour   a new script for the subscription
  GET  /subscriptions/{id}/deliveries  what arrived: claims, TTL, urgency, topic, plaintext, status, reason
  GET  /counts                         totals by status
  answers: {"status":N, "retry_after":"S", "delay":"1.5s", "hang":true}; status 0 or none: 201

flags:
`

// cmdDevPushservice runs the test push service (package
// internal/testkit/pushservice) on --addr until ctx ends.
func cmdDevPushservice(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("dev pushservice", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, pushserviceUsage); fs.PrintDefaults() }
	addr := fs.String("addr", "127.0.0.1:18090", "address to listen on")
	verbose := fs.Bool("verbose", false, "log every push request, not only refused ones")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "pushpipe dev pushservice: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	srv := pushservice.New(pushservice.Options{Addr: *addr, Logger: log})
	if err := srv.Start(); err != nil {
		fmt.Fprintf(e.stderr, "pushpipe dev pushservice: %v\n", err)
		return 1
	}
	fmt.Fprintln(e.stdout, srv.URL())
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		fmt.Fprintf(e.stderr, "pushpipe dev pushservice: %v\n", err)
		return 1
	}
	return 0
}
