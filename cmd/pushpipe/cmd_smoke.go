package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/procs"
	"github.com/pushpipe/pushpipe/internal/simulate"
	"github.com/pushpipe/pushpipe/stream"
)

// smokeFlags are the knobs of `pushpipe smoke`.
type smokeFlags struct {
	events   int
	invalid  float64
	rate     float64
	logDir   string
	settle   time.Duration
	noKill   bool
	visitors int
	group    string // the sink's consumer group
	topic    string // the events topic (PUSHPIPE_EVENTS_TOPIC)
	segGroup string // the segment evaluator's consumer group
}

func parseSmokeFlags(args []string, stderr io.Writer) (smokeFlags, error) {
	var f smokeFlags
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&f.events, "events", 20000, "beacon events to send")
	fs.Float64Var(&f.invalid, "invalid", 0.015, "fraction of events made invalid on purpose")
	fs.Float64Var(&f.rate, "rate", 4000, "offered load in events per second (0: unlimited)")
	fs.IntVar(&f.visitors, "visitors", 5000, "simulated browsers")
	fs.StringVar(&f.logDir, "logs", ".dev/logs", "folder for the roles' log files")
	fs.DurationVar(&f.settle, "settle", 90*time.Second, "how long to wait for ClickHouse to catch up")
	fs.BoolVar(&f.noKill, "no-kill", false, "do not SIGKILL the stream role mid-run")
	return f, fs.Parse(args)
}

// smokeResult is what the last line reports.
type smokeResult struct {
	sent, accepted, rejected, stored, duplicates, lost int
	segments                                           segmentsResult
}

func (r smokeResult) ok() bool {
	return r.accepted+r.rejected == r.sent && r.stored == r.accepted && r.duplicates == 0 && r.lost == 0 && r.segments.ok()
}

func (r smokeResult) String() string {
	return fmt.Sprintf("smoke: sent=%d accepted=%d rejected=%d stored=%d duplicates=%d lost=%d",
		r.sent, r.accepted, r.rejected, r.stored, r.duplicates, r.lost)
}

// cmdSmoke runs ingest, stream and api as separate processes of this binary on
// free ports against the local stack, sends simulated traffic with invalid
// events mixed in, SIGKILLs the stream process once mid-run and restarts it,
// then checks ClickHouse holds every accepted event exactly once.
func cmdSmoke(ctx context.Context, e *env, args []string) int {
	f, err := parseSmokeFlags(args, e.stderr)
	if err != nil {
		return 2
	}
	r := config.NewReader(e.getenv)
	c := loadCommon(r)
	sc := stream.LoadConfig(r)
	f.group, f.segGroup, f.topic = sc.Group, sc.SegmentsGroup, sc.Topic
	if !finish(r, e, "smoke") {
		return 2
	}
	res, err := smoke(ctx, e, c, f)
	if err != nil {
		return fail(e, "smoke", err)
	}
	fmt.Fprintln(e.stdout, res.segments.String())
	fmt.Fprintln(e.stdout, res.String())
	if !res.ok() {
		return 1
	}
	return 0
}

func smoke(ctx context.Context, e *env, c common, f smokeFlags) (smokeResult, error) {
	site, err := scratchSite(ctx, c, "smoke", e.stderr)
	if err != nil {
		return smokeResult{}, err
	}
	ch, err := c.openClickHouse(ctx)
	if err != nil {
		return smokeResult{}, err
	}
	defer func() { _ = ch.Close() }()
	fmt.Fprintf(e.stderr, "smoke: site %s; logs in %s\n", site.ID, f.logDir)
	segs, err := createSmokeSegments(ctx, c, site.ID)
	if err != nil {
		return smokeResult{}, err
	}

	if _, err := kafkax.EnsureTopics(ctx, c.Kafka, 6, 1, f.topic); err != nil {
		return smokeResult{}, err
	}
	ports, err := procs.FreePorts(2)
	if err != nil {
		return smokeResult{}, err
	}
	ingestAddr, apiAddr := fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])
	roles, err := startRoles(ctx, f.logDir, "smoke-", []string{"PUSHPIPE_INGEST_ADDR=" + ingestAddr, "PUSHPIPE_API_ADDR=" + apiAddr}, "ingest", "stream", "api")
	if err != nil {
		return smokeResult{}, err
	}
	defer roles.StopAll(10 * time.Second)
	for _, url := range []string{"http://" + ingestAddr + "/healthz", "http://" + apiAddr + "/healthz"} {
		if err := procs.WaitHTTP(ctx, url, 30*time.Second); err != nil {
			return smokeResult{}, fmt.Errorf("%w (see the logs in %s)", err, f.logDir)
		}
	}

	if err := waitCaughtUp(ctx, e.stderr, c.Kafka, f.group, f.topic); err != nil {
		return smokeResult{}, err
	}
	cfg := simulate.DefaultConfig()
	cfg.IngestURL, cfg.SiteKey = "http://"+ingestAddr, site.SiteKey
	cfg.Visitors, cfg.Events, cfg.Rate, cfg.Invalid, cfg.Days = f.visitors, f.events, f.rate, f.invalid, 2
	simDone := make(chan struct{})
	var sim simulate.Result
	var simErr error
	go func() {
		defer close(simDone)
		sim, simErr = simulate.Run(ctx, cfg, io.Discard)
	}()
	if !f.noKill {
		if err := killStreamMidRun(ctx, e.stderr, roles, ch, site.ID, f, simDone); err != nil {
			return smokeResult{}, err
		}
	}
	<-simDone
	if simErr != nil {
		return smokeResult{}, fmt.Errorf("simulate: %w", simErr)
	}
	if sim.Failed > 0 {
		fmt.Fprintf(e.stderr, "smoke: %d events were never acknowledged by ingest (counted as neither accepted nor rejected)\n", sim.Failed)
	}
	fmt.Fprintf(e.stderr, "smoke: sent %d events (%d accepted, %d rejected); waiting for ClickHouse\n", sim.Sent, sim.Accepted, sim.Rejected)
	res := smokeResult{sent: sim.Sent, accepted: sim.Accepted, rejected: sim.Rejected}
	if err := countStored(ctx, ch, site.ID, sim.AcceptedIDs, f.settle, &res); err != nil {
		return smokeResult{}, err
	}
	fmt.Fprintln(e.stderr, "smoke: waiting for the segment evaluator")
	res.segments, err = checkSegments(ctx, e.stderr, c, ch, f.segGroup, f.group, f.topic, site.ID, segs, f.settle)
	return res, err
}

// scratchSite creates a fresh site (migrating first) for one smoke or benchmark run.
func scratchSite(ctx context.Context, c common, purpose string, logTo io.Writer) (controlplane.CreatedSite, error) {
	key, err := c.masterKey()
	if err != nil {
		return controlplane.CreatedSite{}, err
	}
	return createSite(ctx, c, key, siteCreateFlags{
		name:    purpose + " " + time.Now().UTC().Format(time.RFC3339),
		contact: "mailto:" + purpose + "@example.com",
	}, logTo)
}

// startRoles runs each role as a child process of this binary, with extra
// environment on top of ours, logging to logDir/<prefix><role>.log.
func startRoles(ctx context.Context, logDir, prefix string, extraEnv []string, roles ...string) (*procs.Group, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("create log folder: %w", err)
	}
	g := procs.NewGroup(self, append(os.Environ(), extraEnv...))
	for _, role := range roles {
		if err := g.Start(ctx, role, filepath.Join(logDir, prefix+role+".log"), role); err != nil {
			g.StopAll(5 * time.Second)
			return nil, err
		}
	}
	return g, nil
}

// waitCaughtUp waits until a consumer group (the sink's, the segment
// evaluator's) has committed everything already in the events topic; before
// the run, so the kill below lands while this run's beacons are both being
// sent and being stored, and after it, before the checks.
func waitCaughtUp(ctx context.Context, stderr io.Writer, brokers []string, group, topic string) error {
	deadline := time.Now().Add(5 * time.Minute)
	for reported := false; ; {
		// Errors are retried: right after a topic is created the brokers'
		// metadata can lag behind for a moment (NOT_LEADER_FOR_PARTITION).
		lag, err := kafkax.GroupLag(ctx, brokers, group, topic)
		if err == nil && lag == 0 {
			return nil
		}
		if err == nil && !reported {
			fmt.Fprintf(stderr, "smoke: consumer group %s is catching up on %d messages\n", group, lag)
			reported = true
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("consumer group %s did not catch up within 5 minutes: %w", group, err)
			}
			return fmt.Errorf("consumer group %s did not catch up within 5 minutes (%d messages behind; see the stream log)", group, lag)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// killStreamMidRun waits until the sink has stored some of this run's events
// (so it is mid-stream, with batches in flight) while beacons are still being
// sent, then SIGKILLs the stream process and starts a new one.
func killStreamMidRun(ctx context.Context, stderr io.Writer, g *procs.Group, ch driver.Conn, siteID string, f smokeFlags, simDone <-chan struct{}) error {
	target := uint64(f.events / 4)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var n uint64
		if err := ch.QueryRow(ctx, `SELECT count() FROM events WHERE site_id = ?`, siteID).Scan(&n); err != nil {
			n = 0 // ClickHouse restarting: ask again at the next tick
		}
		select {
		case <-simDone:
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if n < target {
				continue
			}
		}
		fmt.Fprintf(stderr, "smoke: %d events stored; SIGKILL stream\n", n)
		if err := g.Signal("stream", syscall.SIGKILL); err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
		fmt.Fprintln(stderr, "smoke: restarting stream")
		return g.Restart(ctx, "stream")
	}
}

// countStored waits until ClickHouse holds as many distinct accepted events as
// were accepted (or settle passes without progress), then fills the stored,
// duplicate and lost counts.
func countStored(ctx context.Context, ch driver.Conn, siteID string, accepted []string, settle time.Duration, res *smokeResult) error {
	deadline := time.Now().Add(settle)
	for {
		var rows, distinct uint64
		if err := ch.QueryRow(ctx, `SELECT count(), uniqExact(event_id) FROM events
			WHERE site_id = ? AND type NOT IN ('segment_entered', 'segment_exited')`, siteID).Scan(&rows, &distinct); err != nil {
			if time.Now().After(deadline) {
				return fmt.Errorf("count stored events: %w", err)
			}
			time.Sleep(time.Second) // ClickHouse restarting: ask again
			continue
		}
		res.stored, res.duplicates = int(distinct), int(rows-distinct)
		if int(distinct) >= len(accepted) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	stored := make(map[string]bool, res.stored)
	rs, err := ch.Query(ctx, `SELECT DISTINCT toString(event_id) FROM events
		WHERE site_id = ? AND type NOT IN ('segment_entered', 'segment_exited')`, siteID)
	if err != nil {
		return fmt.Errorf("list stored events: %w", err)
	}
	defer func() { _ = rs.Close() }()
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return fmt.Errorf("list stored events: %w", err)
		}
		stored[id] = true
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("list stored events: %w", err)
	}
	for _, id := range accepted {
		if !stored[id] {
			res.lost++
		}
	}
	return nil
}
