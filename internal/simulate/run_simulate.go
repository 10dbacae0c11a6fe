package simulate

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/time/rate"
)

// Result is what a run sent and what ingest made of it. Every sent event is
// counted once in Accepted, Rejected or Failed, however often it was retried.
type Result struct {
	Sent        int             // events sent at least once
	Accepted    int             // events ingest accepted
	Rejected    int             // events ingest refused as invalid
	Failed      int             // events neither accepted nor rejected: retries ran out, or a status such as 403 refused the batch
	Invalid     int             // events broken on purpose (Config.Invalid), among Sent
	Requests    int             // HTTP attempts, retries included
	Retries     int             // attempts after the first, summed over batches
	AcceptedIDs []string        // event ids ingest reported accepted, in the order the answers came
	Latencies   []time.Duration // one per HTTP attempt that got an answer
	Failures    map[string]int  // failed events by reason, such as "HTTP 403: unknown site key"
}

// Percentile returns the p-quantile (0 < p <= 1) of Latencies by the
// nearest-rank method, or 0 when there are none.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Run generates the configured traffic and sends it to ingest, writing a
// progress bar to progress when it is not nil. It returns when every batch
// has an outcome, or early with ctx's error (and the result so far) when
// ctx ends. Send failures are counted in the Result, not returned as errors.
func Run(ctx context.Context, cfg Config, progress io.Writer) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	gen := newGenerator(cfg, now)
	snd := newSender(cfg, now)
	col := newCollector(cfg.Events, progress)
	queues := make([]chan batch, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range queues {
		q := make(chan batch, 2)
		queues[i] = q
		wg.Go(func() {
			for b := range q {
				if ctx.Err() == nil {
					col.add(snd.deliver(ctx, b))
				}
			}
		})
	}
	feed(ctx, gen, queues)
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	res := col.finish()
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("simulate: stopped early: %w", err)
	}
	return res, nil
}

// feed hands batches to workers; one visitor always goes to the same worker,
// so a browser's beacons arrive in the order it sent them.
func feed(ctx context.Context, gen *generator, queues []chan batch) {
	for {
		b, ok := gen.next()
		if !ok {
			return
		}
		select {
		case queues[b.visitor%len(queues)] <- b:
		case <-ctx.Done():
			return
		}
	}
}

// unlimited is the limiter when no rate is set.
type unlimited struct{}

func (unlimited) WaitN(ctx context.Context, _ int) error { return ctx.Err() }

// newRateLimiter offers events at perSecond with bursts of one batch.
func newRateLimiter(perSecond float64, batch int) Limiter {
	if perSecond <= 0 {
		return unlimited{}
	}
	return rate.NewLimiter(rate.Limit(perSecond), batch)
}

// collector adds up outcomes from the workers.
type collector struct {
	mu  sync.Mutex
	res Result
	bar *progressbar.ProgressBar
	out io.Writer
}

func newCollector(total int, progress io.Writer) *collector {
	c := &collector{res: Result{Failures: map[string]int{}}}
	if progress != nil {
		limit := int64(-1)
		if total > 0 {
			limit = int64(total)
		}
		c.bar = progressbar.NewOptions64(limit,
			progressbar.OptionSetWriter(progress),
			progressbar.OptionSetDescription("simulate"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("events"),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
		c.out = progress
	}
	return c
}

func (c *collector) add(o outcome) {
	if !o.sent {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &c.res
	r.Sent += o.events
	r.Invalid += o.invalid
	r.Accepted += o.accepted
	r.Rejected += o.rejected
	r.Failed += o.failed
	r.Requests += o.attempts
	r.Retries += o.attempts - 1
	r.AcceptedIDs = append(r.AcceptedIDs, o.ids...)
	r.Latencies = append(r.Latencies, o.latencies...)
	if o.failed > 0 {
		r.Failures[o.failure] += o.failed
	}
	if c.bar != nil {
		_ = c.bar.Add(o.events)
	}
}

func (c *collector) finish() Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bar != nil {
		_ = c.bar.Finish()
		_, _ = fmt.Fprintln(c.out)
	}
	return c.res
}
