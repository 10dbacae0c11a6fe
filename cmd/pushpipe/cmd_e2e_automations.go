package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

const e2eUsage = `usage: pushpipe e2e-automations [--logs DIR] [--only NAME,...] [--welcome N] [--welcome-rate R]

Runs the automations and campaigns scenarios through the real pipeline: the
test push service (https), ingest, stream, sender and api as child processes
of this binary on topics and consumer groups of their own, against the local
stack. Each scenario has a fresh site; definitions go through the dashboard
API, subscribers subscribe through ingest beacons. One "e2e:" line per
scenario, then the last line:
  automations: scenarios=N failed=F p99_event_to_push_ms=X
X runs from ingest's 202 for the trigger beacon to the push decrypted by the
push service, for undelayed triggers (welcome and event automations).

flags:
`

// e2eFlags are the knobs of `pushpipe e2e-automations`.
type e2eFlags struct {
	logDir      string
	only        []string
	welcome     int
	welcomeRate float64
	members     int
	throttle    int
	holdout     int
	ready       time.Duration
}

func parseE2EFlags(args []string, stderr io.Writer) (e2eFlags, error) {
	var f e2eFlags
	var only string
	fs := flag.NewFlagSet("e2e-automations", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, e2eUsage); fs.PrintDefaults() }
	fs.StringVar(&f.logDir, "logs", ".dev/logs", "folder for the processes' log files")
	fs.StringVar(&only, "only", "", "run only these scenarios (comma-separated names)")
	fs.IntVar(&f.welcome, "welcome", 200, "subscriptions of the welcome scenario (latency samples)")
	fs.Float64Var(&f.welcomeRate, "welcome-rate", 25, "welcome subscriptions per second")
	fs.IntVar(&f.members, "campaign-members", 30, "members of the throttled campaign's segment")
	fs.IntVar(&f.throttle, "campaign-throttle", 60, "the campaign's throttle, pushes per minute")
	fs.IntVar(&f.holdout, "holdout-subscribers", 24, "subscribers triggering the automation with a 50% holdout")
	fs.DurationVar(&f.ready, "ready", 90*time.Second, "how long to wait for the pipeline's first push")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if f.welcome < 1 || f.welcomeRate <= 0 || f.members < 1 || f.throttle < 1 || f.holdout < 2 {
		errs = append(errs, errors.New("--welcome, --welcome-rate, --campaign-members and --campaign-throttle must be positive, --holdout-subscribers at least 2"))
	}
	names := e2eScenarioNames()
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if !slices.Contains(names, n) {
			errs = append(errs, fmt.Errorf("--only: no scenario %q (scenarios: %s)", n, strings.Join(names, ", ")))
		}
		f.only = append(f.only, n)
	}
	return f, errors.Join(errs...)
}

// cmdE2EAutomations runs the scenarios and prints the summary line; it
// exits 1 when any scenario fails. `e2e-automations pushservice` is the
// run's own push service process.
func cmdE2EAutomations(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 && args[0] == "pushservice" {
		return e2ePushserviceChild(ctx, e, args[1:])
	}
	f, err := parseE2EFlags(args, e.stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		flagProblems(e.stderr, "e2e-automations", err, "usage: pushpipe e2e-automations [--only NAME,...]")
		return 2
	}
	r := config.NewReader(e.getenv)
	c := loadCommon(r)
	if !finish(r, e, "e2e-automations") {
		return 2
	}
	run := &e2eRun{out: e.stdout, flags: f}
	results, err := run.all(ctx, c)
	if err != nil {
		fmt.Fprintf(e.stdout, "e2e: FAIL setup: %v\n", err)
		fmt.Fprintf(e.stdout, "automations: scenarios=%d failed=%d p99_event_to_push_ms=NA\n", len(results), len(results))
		return 1
	}
	failed := 0
	for _, res := range results {
		if res.err != nil {
			failed++
		}
	}
	fmt.Fprintln(e.stdout, run.latencyDetail())
	fmt.Fprintf(e.stdout, "automations: scenarios=%d failed=%d p99_event_to_push_ms=%s\n", len(results), failed, run.p99())
	if failed > 0 {
		return 1
	}
	return 0
}

// e2eScenario is one end-to-end check on a site of its own. prepare
// creates the site and its definitions (before the pipeline is known to be
// live); run drives the subscribers and checks what arrived.
type e2eScenario interface {
	name() string
	prepare(ctx context.Context, r *e2eRun) error
	run(ctx context.Context, r *e2eRun) (detail string, err error)
}

// e2eFinal is a scenario that checks once more after every scenario ended
// ("no push during the run").
type e2eFinal interface {
	final(ctx context.Context, r *e2eRun) error
}

type e2eResult struct {
	name   string
	detail string
	err    error
}

// e2eRun is the shared state of one run.
type e2eRun struct {
	out   io.Writer
	flags e2eFlags
	stack *e2eStack

	mu      sync.Mutex
	latency durations // trigger accepted → push decrypted, undelayed triggers
}

func (r *e2eRun) say(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, "e2e: "+format+"\n", args...)
}

// sample records one trigger-to-push latency.
func (r *e2eRun) sample(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latency = append(r.latency, max(d, 0))
}

func (r *e2eRun) p99() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.latency) == 0 {
		return "NA"
	}
	return ms(r.latency.p(0.99))
}

func (r *e2eRun) latencyDetail() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("e2e: latency: trigger accepted -> push decrypted: samples=%d p50=%sms p99=%sms max=%sms",
		len(r.latency), ms(r.latency.p(0.5)), ms(r.latency.p(0.99)), ms(r.latency.p(1)))
}

// all starts the pipeline, prepares every scenario, waits for the
// pipeline's first push, runs the scenarios concurrently and collects
// their results; its error is a failure to set up the run at all.
func (r *e2eRun) all(ctx context.Context, c common) ([]e2eResult, error) {
	scenarios := e2eScenarios(r.flags)
	r.say("starting the push service, ingest, stream, sender and api (logs in %s)", r.flags.logDir)
	stack, err := startE2EStack(ctx, c, r.flags.logDir, r.out)
	if err != nil {
		return make([]e2eResult, len(scenarios)), err
	}
	defer stack.close(ctx)
	r.stack = stack
	followCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	go stack.pushes.follow(followCtx, 20*time.Millisecond)
	r.say("events topic %s, push requests topic %s, run id %s", stack.topic, stack.pushTopic, stack.id)

	results := make([]e2eResult, len(scenarios))
	prepared := r.prepareAll(ctx, scenarios, results)
	if err := r.probe(ctx); err != nil {
		r.say("the pipeline delivered no probe push: %v; running the scenarios anyway", err)
	}
	var wg sync.WaitGroup
	for i, s := range scenarios {
		if !prepared[i] {
			continue
		}
		wg.Go(func() {
			start := time.Now()
			detail, err := s.run(ctx, r)
			results[i] = e2eResult{name: s.name(), detail: detail, err: err}
			r.report(results[i], time.Since(start))
		})
	}
	wg.Wait()
	r.finalChecks(ctx, scenarios, results)
	if err := stack.disableAutomations(ctx); err != nil {
		r.say("note: could not disable the run's automations (held pushes may be sent later): %v", err)
	}
	return results, nil
}

// prepareAll prepares the scenarios concurrently; a scenario that cannot
// be prepared fails with its reason.
func (r *e2eRun) prepareAll(ctx context.Context, scenarios []e2eScenario, results []e2eResult) []bool {
	ok := make([]bool, len(scenarios))
	var wg sync.WaitGroup
	for i, s := range scenarios {
		wg.Go(func() {
			if err := s.prepare(ctx, r); err != nil {
				results[i] = e2eResult{name: s.name(), err: fmt.Errorf("prepare: %w", err)}
				r.report(results[i], 0)
				return
			}
			ok[i] = true
		})
	}
	wg.Wait()
	return ok
}

func (r *e2eRun) report(res e2eResult, took time.Duration) {
	if res.err != nil {
		r.say("FAIL %s: %v", res.name, res.err)
		return
	}
	r.say("PASS %s (%s): %s", res.name, took.Round(time.Second), res.detail)
}

// finalChecks runs the scenarios' checks that hold for the whole run.
func (r *e2eRun) finalChecks(ctx context.Context, scenarios []e2eScenario, results []e2eResult) {
	for i, s := range scenarios {
		f, ok := s.(e2eFinal)
		if !ok || results[i].err != nil || results[i].name == "" {
			continue
		}
		if err := f.final(ctx, r); err != nil {
			results[i].err = fmt.Errorf("at the end of the run: %w", err)
			r.report(results[i], 0)
		}
	}
}

// probe waits until the pipeline delivers a welcome push to a probe
// subscriber on a site of its own: every consumer group has joined and the
// definitions are loaded. A new probe subscribes every 2 s (one that came
// before the definition was loaded never triggers anything).
func (r *e2eRun) probe(ctx context.Context) error {
	site, api, err := r.stack.site(ctx, "probe")
	if err != nil {
		return err
	}
	if _, err := api.createAutomation(ctx, "probe welcome", e2eAutomation(e2eTrigger{Kind: "subscribed"}, e2eStep{Message: e2eMessage("Probe", "ready?")})); err != nil {
		return err
	}
	start := time.Now()
	var probes []string
	for n := 0; time.Since(start) < r.flags.ready; n++ {
		if n%20 == 0 {
			sub, _, err := r.subscribe(ctx, site, fmt.Sprintf("probe-%d", n/20), "")
			if err != nil {
				return err
			}
			probes = append(probes, sub.ID)
		}
		for _, id := range probes {
			if got := r.stack.pushes.of(id); len(got) > 0 && got[0].ok() {
				r.say("pipeline live: a probe's welcome push arrived %s after the first probe", time.Since(start).Round(100*time.Millisecond))
				return nil
			}
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	if err := r.stack.pushes.lastErr(); err != nil {
		return err
	}
	return fmt.Errorf("%w within %s (see the logs in %s)", errNoPush, r.flags.ready, r.flags.logDir)
}

// subscribe makes a push subscription bound to the site's VAPID key and
// sends the subscribed beacon carrying it; it returns when ingest accepted it.
func (r *e2eRun) subscribe(ctx context.Context, site controlplane.CreatedSite, subscriber, timezone string) (e2eSubscription, time.Time, error) {
	sub, err := r.stack.pushes.subscribe(ctx, site.VAPIDPublicKey)
	if err != nil {
		return sub, time.Time{}, err
	}
	at, err := r.post(ctx, site, e2eBeaconEvent{
		Type: "subscribed", SubscriberID: subscriber, Timezone: timezone,
		Subscription: &e2eBeaconSub{Endpoint: sub.Endpoint, P256dh: sub.Keys.P256dh, Auth: sub.Keys.Auth},
	})
	return sub, at, err
}

// post sends one beacon event to the site.
func (r *e2eRun) post(ctx context.Context, site controlplane.CreatedSite, ev e2eBeaconEvent) (time.Time, error) {
	return r.stack.ingest.post(ctx, site.SiteKey, ev)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pushCount checks what arrived at one subscription: every request passed
// the push service's checks, and there were want of them.
func pushCount(got []e2ePush, want int) error {
	for _, p := range got {
		if !p.ok() {
			return fmt.Errorf("a push was refused by the push service: status %d: %s", p.Status, p.Reason)
		}
	}
	if len(got) != want {
		return fmt.Errorf("%d pushes arrived, want %d", len(got), want)
	}
	return nil
}
