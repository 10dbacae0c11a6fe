package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/internal/simulate"
)

const simulateUsage = `usage: pushpipe simulate --site-key KEY [--ingest URL] [--visitors N] [--events N] [--rate EVENTS_PER_SEC]
                         [--batch N] [--invalid FRACTION] [--concurrency N] [--days N] [--seed N]
                         [--origin URL] [--accepted-ids FILE] [--progress]`

// simulateFlags are the flags of `pushpipe simulate` beyond simulate.Config.
type simulateFlags struct {
	cfg         simulate.Config
	acceptedIDs string
	progress    bool
}

func parseSimulate(args []string, stderr io.Writer) (simulateFlags, error) {
	f := simulateFlags{cfg: simulate.DefaultConfig()}
	c := &f.cfg
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, simulateUsage); fs.PrintDefaults() }
	fs.StringVar(&c.IngestURL, "ingest", c.IngestURL, "base URL of the ingest service")
	fs.StringVar(&c.SiteKey, "site-key", "", "the site's public key, as `pushpipe site create` prints it (required)")
	fs.IntVar(&c.Visitors, "visitors", c.Visitors, "number of simulated browsers")
	fs.IntVar(&c.Events, "events", 0, "stop after this many events (0: when every visitor is done)")
	fs.Float64Var(&c.Rate, "rate", 0, "events offered per second, retries included (0: as fast as ingest answers)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "at most this many events per beacon (1 to 100)")
	fs.Float64Var(&c.Invalid, "invalid", 0, "fraction of events made invalid on purpose, such as 0.015")
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "beacons in flight at once")
	fs.IntVar(&c.Days, "days", c.Days, "spread the events' client timestamps over this many past days (0 to 7)")
	fs.Int64Var(&c.Seed, "seed", 0, "random seed; the same seed gives the same visitors and events (default: a random seed, printed)")
	fs.StringVar(&c.Origin, "origin", "", "scheme://host of the simulated pages, also sent as the Origin header (must be an allowed origin of the site)")
	fs.StringVar(&f.acceptedIDs, "accepted-ids", "", "write the ids of the accepted events to this file, one per line")
	fs.BoolVar(&f.progress, "progress", false, "show a progress bar on stderr")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	seeded := false
	fs.Visit(func(fl *flag.Flag) { seeded = seeded || fl.Name == "seed" })
	if !seeded {
		c.Seed = randomSeed()
	}
	return f, c.Validate()
}

func randomSeed() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// cmdSimulate sends synthetic traffic to ingest and prints one summary line.
// It exits 1 when some events were neither accepted nor rejected.
func cmdSimulate(ctx context.Context, e *env, args []string) int {
	f, err := parseSimulate(args, e.stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		flagProblems(e.stderr, "simulate", err, simulateUsage)
		return 2
	}
	var ids *os.File
	if f.acceptedIDs != "" {
		if ids, err = os.Create(f.acceptedIDs); err != nil {
			return fail(e, "simulate", fmt.Errorf("accepted ids file: %w", err))
		}
		defer func() { _ = ids.Close() }()
	}
	var progress io.Writer
	if f.progress {
		progress = e.stderr
	}
	res, runErr := simulate.Run(ctx, f.cfg, progress)
	printSimulateSummary(e, res, f.cfg.Seed)
	if ids != nil {
		if err := writeIDs(ids, res.AcceptedIDs); err != nil {
			return fail(e, "simulate", err)
		}
	}
	switch {
	case runErr != nil:
		return fail(e, "simulate", runErr)
	case res.Failed > 0:
		fmt.Fprintf(e.stderr, "pushpipe simulate: %d events were neither accepted nor rejected\n", res.Failed)
		return 1
	}
	return 0
}

func printSimulateSummary(e *env, res simulate.Result, seed int64) {
	fmt.Fprintf(e.stdout, "simulate: sent=%d accepted=%d rejected=%d failed=%d invalid=%d requests=%d retries=%d p50=%s p99=%s seed=%d\n",
		res.Sent, res.Accepted, res.Rejected, res.Failed, res.Invalid, res.Requests, res.Retries,
		res.Percentile(0.50).Round(time.Microsecond), res.Percentile(0.99).Round(time.Microsecond), seed)
	reasons := make([]string, 0, len(res.Failures))
	for r := range res.Failures {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(e.stderr, "simulate: %d events failed: %s\n", res.Failures[r], r)
	}
}

func writeIDs(f *os.File, ids []string) error {
	w := bufio.NewWriter(f)
	for _, id := range ids {
		if _, err := w.WriteString(id + "\n"); err != nil {
			return fmt.Errorf("write accepted ids: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write accepted ids: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write accepted ids: %w", err)
	}
	return nil
}
