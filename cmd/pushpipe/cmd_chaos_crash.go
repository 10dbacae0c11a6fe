package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/procs"
)

// chaosLag is one consumer group the recovery waits for: its lag must come
// back to at most max (its level under load before the kills, with room).
type chaosLag struct {
	group, topic string
	max          int64
}

// chaosRecovery is how one kill went, each time measured from the kill.
type chaosRecovery struct {
	target    string
	pid       int
	healthy   time.Duration // the component answers again (restarted and ready)
	stored    time.Duration // an event ingest received after the kill is in ClickHouse
	caughtUp  time.Duration // spool empty and every lag back to its level
	total     time.Duration // the latest of the three
	recovered bool
	last      string // when not recovered: what was still missing
}

func (r chaosRecovery) String() string {
	if !r.recovered {
		return fmt.Sprintf("%s NOT recovered (last check: %s)", r.target, r.last)
	}
	return fmt.Sprintf("%s recovered in %.1fs (healthy %.1fs, first event stored %.1fs, caught up %.1fs)",
		r.target, r.total.Seconds(), r.healthy.Seconds(), r.stored.Seconds(), r.caughtUp.Seconds())
}

// baseline samples every consumer group's lag under load for a few
// seconds: a recovery is when each is back to at most twice its worst
// sample (or one second of load, when higher).
func (run *chaosRun) baseline(ctx context.Context) error {
	floor := int64(run.flags.rate)
	run.lags = []chaosLag{
		{group: run.st.group("sink"), topic: run.st.topic, max: floor},
		{group: run.st.group("segments"), topic: run.st.topic, max: floor},
		{group: run.st.group("automations"), topic: run.st.topic, max: floor},
		{group: run.st.group("sender"), topic: run.st.pushTopic, max: 50},
	}
	worst := make([]int64, len(run.lags))
	for range 10 {
		for i, l := range run.lags {
			if n, err := kafkax.GroupLag(ctx, run.st.brokers, l.group, l.topic); err == nil {
				worst[i] = max(worst[i], n) // a failed sample (a rebalance) is skipped
			}
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
	var parts []string
	for i := range run.lags {
		run.lags[i].max = max(run.lags[i].max, 2*worst[i])
		parts = append(parts, fmt.Sprintf("%s %d (recovered at <= %d)", strings.TrimPrefix(run.lags[i].group, "e2e-automations-"), worst[i], run.lags[i].max))
	}
	run.say("lag under load before the kills: %s", strings.Join(parts, ", "))
	return nil
}

// crashAndRecover kills target with SIGKILL, restarts it after --down,
// and waits for its recovery.
func (run *chaosRun) crashAndRecover(ctx context.Context, target string) (chaosRecovery, error) {
	rec := chaosRecovery{target: target}
	stored, _ := run.storedCount(ctx)
	run.say("kill -9 %s (load site: %d events stored so far)", target, stored)
	if run.isRole(target) {
		run.mu.Lock()
		run.killing = target
		run.mu.Unlock()
		defer func() {
			run.mu.Lock()
			run.killing = ""
			run.mu.Unlock()
		}()
	}
	killedAt := time.Now()
	var err error
	if rec.pid, err = run.kill(target); err != nil {
		return rec, err
	}
	goneAt := time.Now() // what ingest receives from now on reached no killed process
	if err := sleep(ctx, run.flags.down); err != nil {
		return rec, err
	}
	if target == "kafka" && run.flags.spoolKill {
		if err := run.killSpoolingIngest(ctx); err != nil {
			return rec, err
		}
	}
	run.say("restarting %s (killed %.1fs ago)", target, time.Since(killedAt).Seconds())
	if err := run.restart(ctx, target); err != nil {
		return rec, err
	}
	rec.healthy = time.Since(killedAt)
	run.waitRecovered(ctx, killedAt, goneAt, &rec)
	run.say("%s", rec)
	return rec, ctx.Err()
}

// kill sends SIGKILL to a role process or a dev stack service; it returns
// the pid of a service (0 for a role: procs does not tell it).
func (run *chaosRun) kill(target string) (int, error) {
	if !run.isRole(target) {
		return run.dev.Kill(target)
	}
	g, err := run.roleGroup(target)
	if err != nil {
		return 0, err
	}
	return 0, g.Signal(target, syscall.SIGKILL)
}

// restart starts the target again and waits until it answers: ingest on
// its address (so it finds its spool), the dev stack services through
// devstack's Up from the same data directories. Stream and sender have no
// health endpoint; their recovery shows in the lags.
func (run *chaosRun) restart(ctx context.Context, target string) error {
	if !run.isRole(target) {
		svc, err := run.dev.Service(target)
		if err != nil {
			return err
		}
		if err := svc.Up(ctx); err != nil {
			return fmt.Errorf("restart %s: %w", target, err)
		}
		return nil
	}
	g, err := run.roleGroup(target)
	if err != nil {
		return err
	}
	if err := g.Restart(ctx, target); err != nil {
		return err
	}
	if target == "ingest" {
		return procs.WaitHTTP(ctx, run.st.ingest.base+"/healthz", time.Minute)
	}
	return nil
}

func (run *chaosRun) isRole(target string) bool {
	return target == "ingest" || target == "stream" || target == "sender"
}

// roleGroup finds the process group of the e2e stack that runs role.
func (run *chaosRun) roleGroup(role string) (*procs.Group, error) {
	for _, g := range run.st.groups {
		if g.Signal(role, syscall.Signal(0)) == nil { // the group has a child of that name
			return g, nil
		}
	}
	return nil, fmt.Errorf("no process %q in the run's stack", role)
}

// waitRecovered polls until an event received after the kill (goneAt: the
// killed process had exited) is stored,
// the spool is empty and every lag is back, or --recover-max passes.
func (run *chaosRun) waitRecovered(ctx context.Context, killedAt, goneAt time.Time, rec *chaosRecovery) {
	deadline := killedAt.Add(run.flags.recoverMax)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if rec.stored == 0 {
			if n, err := run.storedSince(ctx, goneAt); err == nil && n > 0 {
				rec.stored = time.Since(killedAt)
			} else {
				rec.last = fmt.Sprintf("no event received after the kill stored yet (%v)", err)
			}
		}
		if rec.stored > 0 {
			if last := run.behind(ctx); last == "" {
				rec.caughtUp = time.Since(killedAt)
				rec.total = max(rec.healthy, rec.stored, rec.caughtUp)
				rec.recovered = true
				return
			} else {
				rec.last = last
			}
		}
		_ = sleep(ctx, 250*time.Millisecond)
	}
}

// behind says what has not caught up yet: the spool, or a group's lag; "" when nothing.
func (run *chaosRun) behind(ctx context.Context) string {
	n, err := run.spoolRecords(ctx)
	if err != nil {
		return "ingest's spool: " + err.Error()
	}
	if n > 0 {
		return fmt.Sprintf("ingest's spool holds %d records", n)
	}
	for _, l := range run.lags {
		lag, err := kafkax.GroupLag(ctx, run.st.brokers, l.group, l.topic)
		if err != nil {
			return "lag of " + l.group + ": " + err.Error()
		}
		if lag > l.max {
			return fmt.Sprintf("%s is %d messages behind (recovered at <= %d)", l.group, lag, l.max)
		}
	}
	return ""
}

// spoolRecords reads the spool depth from ingest's /readyz (answered with
// the depth also when Kafka is unreachable).
func (run *chaosRun) spoolRecords(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, run.st.ingest.base+"/readyz", nil)
	if err != nil {
		return 0, err
	}
	resp, err := run.st.ingest.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Spool *struct {
			Records int64 `json:"records"`
		} `json:"spool"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err := json.Unmarshal(data, &body); err != nil || body.Spool == nil {
		return 0, fmt.Errorf("readyz answered %d: %s", resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return body.Spool.Records, nil
}

// storedCount is how many events of the load site ClickHouse holds.
func (run *chaosRun) storedCount(ctx context.Context) (uint64, error) {
	var n uint64
	err := run.st.ch.QueryRow(ctx, `SELECT count() FROM events WHERE site_id = ?`, run.load.ID).Scan(&n)
	return n, err
}

// storedSince counts the load site's events ingest received at or after t
// (in milliseconds: a time.Time parameter would be bound in whole seconds).
func (run *chaosRun) storedSince(ctx context.Context, t time.Time) (uint64, error) {
	var n uint64
	err := run.st.ch.QueryRow(ctx, `SELECT count() FROM events
		WHERE site_id = ? AND server_time >= fromUnixTimestamp64Milli(toInt64(?), 'UTC')`, run.load.ID, t.UnixMilli()).Scan(&n)
	return n, err
}

// drain waits until the spool is empty and every group has consumed everything.
func (run *chaosRun) drain(ctx context.Context) error {
	deadline := time.Now().Add(run.flags.drain)
	started := time.Now()
	for {
		last := run.behind(ctx)
		if last == "" {
			last = run.lagsAtZero(ctx)
		}
		if last == "" {
			run.say("pipeline drained in %s", time.Since(started).Round(100*time.Millisecond))
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("not drained within --drain: " + last)
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}

// lagsAtZero says which group still has messages to consume ("" when none).
func (run *chaosRun) lagsAtZero(ctx context.Context) string {
	for _, l := range run.lags {
		lag, err := kafkax.GroupLag(ctx, run.st.brokers, l.group, l.topic)
		if err != nil || lag > 0 {
			return fmt.Sprintf("%s lag %d (%v)", l.group, lag, err)
		}
	}
	return ""
}

// killSpoolingIngest, while Kafka is down, waits until ingest has spooled
// beacons (it spools a request once Kafka has not acknowledged it for
// 10 s), then kills -9 ingest and restarts it on the same address: the new
// process must find the spool and replay it when Kafka is back.
func (run *chaosRun) killSpoolingIngest(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	var n int64
	for n == 0 {
		if time.Now().After(deadline) {
			run.say("ingest spooled nothing within a minute of Kafka's death; not killing it with a spool")
			return nil
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return err
		}
		n, _ = run.spoolRecords(ctx)
	}
	_ = sleep(ctx, time.Second) // a little more in it, appends in flight
	n, _ = run.spoolRecords(ctx)
	run.mu.Lock()
	run.killing = "ingest"
	run.mu.Unlock()
	defer func() {
		run.mu.Lock()
		run.killing = ""
		run.mu.Unlock()
	}()
	run.say("kill -9 ingest while Kafka is down and its spool holds %d records", n)
	if _, err := run.kill("ingest"); err != nil {
		return err
	}
	if err := run.restart(ctx, "ingest"); err != nil {
		return err
	}
	n, err := run.spoolRecords(ctx)
	run.say("ingest restarted on the same address; its spool holds %d records (%v)", n, err)
	return nil
}
