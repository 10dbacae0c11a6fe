package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/internal/config"
)

const chaosUsage = `usage: pushpipe chaos [--rate R] [--kill ingest,stream,sender,kafka,clickhouse,postgres] [--shared-stack]

Runs the whole pipeline (the e2e-automations stack: test push service over
https, ingest, stream, sender and api as child processes, topics and groups
of their own) under steady simulated load on a fresh site, with a welcome
automation, an event automation and a throttled campaign firing on sites of
their own, and kills -9 in turn each component named by --kill, restarting
it (ingest on the same address, so its spool replays; Kafka, ClickHouse and
Postgres through the dev stack, from the same data directories) and waiting
for recovery before the next. While Kafka is down, ingest is also killed
once its spool holds beacons, and restarted on the same address. By default the run brings up a dev stack of
its own under --dev-dir on other ports, so other users of .dev are not
crashed; --shared-stack kills the stack of PUSHPIPE_KAFKA/CLICKHOUSE/POSTGRES
(the .dev one) instead.

Recovery of a kill: the component is healthy again, an event ingest received
after the kill is stored in ClickHouse, ingest's spool is empty and every
consumer group's lag is back to its level before the kills. The last line:
  chaos: accepted=A stored=S duplicates=D lost=L double_sends=X max_recovery_s=T
exit 0 only when S=A, D=0, L=0 and X=0.

flags:
`

// chaosTargets are the components a run may kill, in the default order.
var chaosTargets = []string{"ingest", "stream", "sender", "kafka", "clickhouse", "postgres"}

// chaosFlags are the knobs of `pushpipe chaos`.
type chaosFlags struct {
	logDir      string
	devDir      string
	shared      bool
	keepStack   bool
	kafkaPort   int
	chPort      int
	pgPort      int
	rate        float64
	visitors    int
	kill        []string
	down        time.Duration // how long a killed component stays down
	warmup      time.Duration // load before the first kill
	between     time.Duration // load between a recovery and the next kill
	recoverMax  time.Duration // a kill not recovered by then is reported as such
	drain       time.Duration // after the load, for ClickHouse and the pushes to catch up
	autoRate    float64       // new subscribers per second on the automations site
	members     int           // the campaign's members
	throttle    int           // the campaign's pushes per minute
	ready       time.Duration // wait for the pipeline's first probe push
	concurrency int           // simulate's sending workers
	spoolKill   bool          // also kill ingest while Kafka is down and its spool is not empty
}

func parseChaosFlags(args []string, stderr io.Writer) (chaosFlags, error) {
	var f chaosFlags
	var kill string
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, chaosUsage); fs.PrintDefaults() }
	fs.StringVar(&f.logDir, "logs", ".dev/logs/chaos", "folder for the processes' log files")
	fs.StringVar(&f.devDir, "dev-dir", ".dev/chaos", "state dir of the run's own dev stack (downloads are shared with .dev/cache)")
	fs.BoolVar(&f.shared, "shared-stack", false, "kill the stack of PUSHPIPE_KAFKA/CLICKHOUSE/POSTGRES (.dev) instead of one of the run's own")
	fs.BoolVar(&f.keepStack, "keep-stack", false, "leave the run's own dev stack running at the end")
	fs.IntVar(&f.kafkaPort, "kafka-port", 29092, "the run's own Kafka port (the controller takes the next one)")
	fs.IntVar(&f.chPort, "clickhouse-port", 29000, "the run's own ClickHouse native port")
	fs.IntVar(&f.pgPort, "postgres-port", 25432, "the run's own Postgres port")
	fs.Float64Var(&f.rate, "rate", 2500, "offered load on ingest, events per second")
	fs.IntVar(&f.visitors, "visitors", 200000, "simulated browsers of the load")
	fs.IntVar(&f.concurrency, "concurrency", 64, "simulate's sending workers")
	fs.StringVar(&kill, "kill", strings.Join(chaosTargets, ","), "components to kill -9, in this order")
	fs.DurationVar(&f.down, "down", 5*time.Second, "how long a killed component stays down before its restart")
	fs.DurationVar(&f.warmup, "warmup", 30*time.Second, "load before the first kill")
	fs.DurationVar(&f.between, "between", 15*time.Second, "load between a recovery and the next kill")
	fs.DurationVar(&f.recoverMax, "recover-max", 5*time.Minute, "give up waiting for one recovery after this long")
	fs.DurationVar(&f.drain, "drain", 5*time.Minute, "after the load, how long ClickHouse and the pushes may take to catch up")
	fs.Float64Var(&f.autoRate, "automation-rate", 2, "new subscribers per second on the automations site (each gets a welcome and an event push)")
	fs.IntVar(&f.members, "campaign-members", 80, "members of the throttled campaign")
	fs.IntVar(&f.throttle, "campaign-throttle", 10, "the campaign's throttle, pushes per minute")
	fs.BoolVar(&f.spoolKill, "kill-spooling-ingest", true, "while Kafka is down, also kill -9 ingest once its spool holds beacons, and restart it on the same address")
	fs.DurationVar(&f.ready, "ready", 90*time.Second, "how long to wait for the pipeline's first push")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	for _, k := range strings.Split(kill, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if !slices.Contains(chaosTargets, k) {
			errs = append(errs, fmt.Errorf("--kill: no component %q (components: %s)", k, strings.Join(chaosTargets, ", ")))
		}
		f.kill = append(f.kill, k)
	}
	if f.rate <= 0 || f.visitors < 1 || f.concurrency < 1 || f.autoRate <= 0 || f.members < 1 || f.throttle < 1 {
		errs = append(errs, errors.New("--rate, --visitors, --concurrency, --automation-rate, --campaign-members and --campaign-throttle must be positive"))
	}
	if f.down < 0 || f.warmup < 0 || f.between < 0 || f.recoverMax <= 0 || f.drain <= 0 {
		errs = append(errs, errors.New("durations must not be negative; --recover-max and --drain must be positive"))
	}
	return f, errors.Join(errs...)
}

// chaosResult is what the last line reports.
type chaosResult struct {
	accepted, stored, duplicates, lost, doubleSends int
	maxRecovery                                     time.Duration
	unrecovered                                     int // kills that did not recover within --recover-max
}

// ok is the run's verdict: every accepted event stored exactly once and no
// push delivered twice.
func (r chaosResult) ok() bool {
	return r.stored == r.accepted && r.duplicates == 0 && r.lost == 0 && r.doubleSends == 0
}

func (r chaosResult) String() string {
	return fmt.Sprintf("chaos: accepted=%d stored=%d duplicates=%d lost=%d double_sends=%d max_recovery_s=%.1f",
		r.accepted, r.stored, r.duplicates, r.lost, r.doubleSends, r.maxRecovery.Seconds())
}

// cmdChaos runs the fault-injection run and prints its last line.
func cmdChaos(ctx context.Context, e *env, args []string) int {
	f, err := parseChaosFlags(args, e.stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		flagProblems(e.stderr, "chaos", err, "usage: pushpipe chaos [--rate R] [--kill a,b,...]")
		return 2
	}
	r := config.NewReader(e.getenv)
	loadCommon(r)
	if !finish(r, e, "chaos") {
		return 2
	}
	run := &chaosRun{out: e.stdout, flags: f, getenv: e.getenv}
	res, err := run.all(ctx)
	if err != nil {
		run.say("FAIL: %v", err)
		fmt.Fprintln(e.stdout, res.String())
		return 1
	}
	fmt.Fprintln(e.stdout, res.String())
	if !res.ok() {
		return 1
	}
	return 0
}
