package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/devstack"
	"github.com/pushpipe/pushpipe/schemas"
)

// chaosRun is the shared state of one chaos run.
type chaosRun struct {
	out    io.Writer
	flags  chaosFlags
	getenv func(string) string

	dev   *devstack.Stack // the stack whose services are killed
	st    *e2eStack       // push service, ingest, stream, sender, api
	er    *e2eRun         // the e2e-automations helpers over st
	load  controlplane.CreatedSite
	auto  *chaosAutomations
	lags  []chaosLag // consumer groups watched for recovery, with their thresholds
	start time.Time

	mu      sync.Mutex
	killing string   // the role the run is killing and restarting: not for supervise
	exits   []string // role processes that exited by themselves
}

func (run *chaosRun) say(format string, args ...any) {
	run.mu.Lock()
	defer run.mu.Unlock()
	fmt.Fprintf(run.out, "chaos: "+format+"\n", args...)
}

// all runs the whole scenario; the result is filled as far as the run got.
func (run *chaosRun) all(ctx context.Context) (chaosResult, error) {
	run.start = time.Now()
	env, err := run.stackUp(ctx)
	if err != nil {
		return chaosResult{}, err
	}
	defer run.stackDown(ctx)
	c := loadCommon(config.NewReader(func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return run.getenv(k)
	}))
	run.say("starting the push service, ingest, stream, sender and api (logs in %s)", run.flags.logDir)
	st, err := startE2EStack(ctx, c, run.flags.logDir, run.out)
	if err != nil {
		return chaosResult{}, err
	}
	defer st.close(ctx)
	run.st = st
	run.er = &e2eRun{out: run.out, flags: e2eFlags{logDir: run.flags.logDir, ready: run.flags.ready}, stack: st}
	followCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	go st.pushes.follow(followCtx, 100*time.Millisecond)
	run.say("events topic %s, push requests topic %s", st.topic, st.pushTopic)
	if err := run.prepare(ctx); err != nil {
		return chaosResult{}, err
	}
	return run.underLoad(ctx)
}

// stackUp brings up the stack the run kills: its own (default) or the
// shared one. It returns the client settings for it, also set in this
// process's environment so that every child process inherits them.
func (run *chaosRun) stackUp(ctx context.Context) (map[string]string, error) {
	cfg, err := devstack.ConfigFromEnv(run.getenv)
	if err != nil {
		return nil, err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(run.out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if !run.flags.shared {
		shared, err := filepath.Abs(cfg.Dir)
		if err != nil {
			return nil, fmt.Errorf("resolve dev dir: %w", err)
		}
		cfg.Dir, cfg.CacheDir = run.flags.devDir, filepath.Join(shared, "cache")
		cfg.KafkaPort, cfg.ClickHousePort, cfg.PostgresPort = run.flags.kafkaPort, run.flags.chPort, run.flags.pgPort
	}
	if run.dev, err = devstack.New(cfg); err != nil {
		return nil, err
	}
	env := run.dev.Env()
	if run.flags.shared {
		run.say("killing the shared dev stack in %s: other users of it will see the outages", run.dev.Config().Dir)
		return env, nil
	}
	run.say("bringing up the run's own dev stack in %s (Kafka :%d, ClickHouse :%d, Postgres :%d)",
		run.flags.devDir, cfg.KafkaPort, cfg.ClickHousePort, cfg.PostgresPort)
	started := time.Now()
	if err := run.dev.Up(ctx); err != nil {
		return nil, fmt.Errorf("dev stack up: %w", err)
	}
	if err := chaosWarmCoordinator(ctx, run.dev.Env()); err != nil {
		return nil, err
	}
	run.say("dev stack ready in %s", time.Since(started).Round(100*time.Millisecond))
	env["PUSHPIPE_INGEST_SPOOL_DIR"] = filepath.Join(run.dev.Config().Dir, "spool-ingest")
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return nil, fmt.Errorf("set %s for the child processes: %w", k, err)
		}
	}
	return env, nil
}

// chaosWarmCoordinator waits until a fresh broker's group coordinator
// takes offset commits: until __consumer_offsets exists, commits fail with
// NOT_COORDINATOR, which the e2e stack's first commit does not retry.
func chaosWarmCoordinator(ctx context.Context, env map[string]string) error {
	brokers := []string{env[devstack.EnvClientKafka]}
	deadline := time.Now().Add(time.Minute)
	for {
		err := e2eGroupAtEnd(ctx, brokers, "chaos-coordinator-warmup", schemas.TopicPushRequests)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the run's Kafka takes no offset commit: %w", err)
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}

// stackDown stops the run's own stack unless asked to keep it.
func (run *chaosRun) stackDown(ctx context.Context) {
	if run.flags.shared || run.flags.keepStack || run.dev == nil {
		return
	}
	if err := run.dev.Down(context.WithoutCancel(ctx)); err != nil {
		run.say("note: dev stack down: %v", err)
	}
}

// prepare creates the load site and the automations, and waits until the
// pipeline delivers a probe push.
func (run *chaosRun) prepare(ctx context.Context) error {
	var err error
	if run.load, _, err = run.st.site(ctx, "chaos-load"); err != nil {
		return err
	}
	run.auto = newChaosAutomations(run.flags)
	if err := run.auto.prepare(ctx, run.er); err != nil {
		return fmt.Errorf("prepare automations: %w", err)
	}
	if err := run.er.probe(ctx); err != nil {
		return fmt.Errorf("pipeline not live: %w", err)
	}
	run.say("load site %s; automations site %s; campaign site %s", run.load.ID, run.auto.site.site.ID, run.auto.campaign.site.ID)
	return nil
}

// underLoad offers the load, keeps automations and the campaign busy,
// kills each target in turn, then drains and counts.
func (run *chaosRun) underLoad(ctx context.Context) (chaosResult, error) {
	var res chaosResult
	load := run.startLoad(ctx)
	defer load.stop() // on an early return; finish stops it otherwise
	autoCtx, stopAuto := context.WithCancel(ctx)
	defer stopAuto()
	autoDone := run.auto.start(autoCtx, run.er)
	go run.supervise(autoCtx)
	run.say("load: %.0f events/s offered on ingest; automations: %.1f new subscribers/s (welcome + event push each); campaign: %d members at %d/min",
		run.flags.rate, run.flags.autoRate, run.flags.members, run.flags.throttle)
	if err := sleep(ctx, run.flags.warmup); err != nil {
		return res, err
	}
	if err := run.baseline(ctx); err != nil {
		return res, err
	}
	for _, target := range run.flags.kill {
		rec, err := run.crashAndRecover(ctx, target)
		if err != nil {
			return res, err
		}
		if rec.recovered {
			res.maxRecovery = max(res.maxRecovery, rec.total)
		} else {
			res.unrecovered++
			res.maxRecovery = max(res.maxRecovery, run.flags.recoverMax)
		}
		if err := sleep(ctx, run.flags.between); err != nil {
			return res, err
		}
	}
	sim, err := load.finish()
	if err != nil {
		return res, err
	}
	stopAuto()
	<-autoDone
	return run.conclude(ctx, sim, res)
}

// conclude waits for the pipeline to drain and counts what was stored and sent.
func (run *chaosRun) conclude(ctx context.Context, sim chaosSim, res chaosResult) (chaosResult, error) {
	failures := ""
	if sim.Failed > 0 {
		failures = fmt.Sprintf(" (%v)", sim.Failures)
	}
	run.say("load stopped after %s: %d events sent, %d accepted (%.0f/s on average), %d never accepted%s; %d HTTP attempts, %d retries",
		sim.elapsed.Round(time.Second), sim.Sent, sim.Accepted, float64(sim.Accepted)/sim.elapsed.Seconds(), sim.Failed, failures, sim.Requests, sim.Retries)
	if err := run.drain(ctx); err != nil {
		run.say("drain: %v", err)
	}
	ids := uniqueIDs(sim.AcceptedIDs)
	var sr smokeResult
	if err := countStored(ctx, run.st.ch, run.load.ID, ids, run.flags.drain, &sr); err != nil {
		return res, err
	}
	res.accepted, res.lost, res.duplicates = len(ids), sr.lost, sr.duplicates
	res.stored = res.accepted - sr.lost
	if extra := sr.stored - res.stored; extra > 0 {
		run.say("note: %d events stored that ingest never answered 202 for (a retry's earlier attempt got through)", extra)
	}
	pushes := run.auto.report(ctx, run.er, run.flags.drain)
	res.doubleSends = pushes.doubleSends
	run.say("pushes: %s", pushes)
	run.mu.Lock()
	exits := slices.Clone(run.exits)
	run.mu.Unlock()
	if len(exits) > 0 {
		run.say("PRODUCT: %d role process(es) exited by themselves during the run: %s", len(exits), strings.Join(exits, "; "))
	}
	if res.unrecovered > 0 {
		run.say("%d kill(s) did not recover within %s (counted as %s in max_recovery_s)", res.unrecovered, run.flags.recoverMax, run.flags.recoverMax)
	}
	return res, nil
}

// uniqueIDs drops repeated ids (none are expected: each batch settles once).
func uniqueIDs(ids []string) []string {
	seen := make(map[string]struct{}, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// errLoadStopped ends the simulated load: the limiter refuses more sends.
var errLoadStopped = errors.New("chaos: load stopped")
