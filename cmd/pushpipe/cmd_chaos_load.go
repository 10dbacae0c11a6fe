package main

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/pushpipe/pushpipe/internal/simulate"
)

// chaosLimiter paces the simulated load like simulate's own token bucket
// and refuses every send once stopped, so the load ends without cancelling
// requests in flight (a cancelled request whose beacon ingest took would be
// counted as not accepted).
type chaosLimiter struct {
	bucket  *rate.Limiter
	stopped context.Context // cancelled when the load stops
}

func (l *chaosLimiter) WaitN(ctx context.Context, n int) error {
	if l.stopped.Err() != nil {
		return errLoadStopped
	}
	if err := l.bucket.WaitN(l.stopped, n); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errLoadStopped
	}
	return ctx.Err()
}

// chaosLoad is simulate running in the background.
type chaosLoad struct {
	stop  context.CancelFunc
	done  chan struct{}
	res   chaosSim
	err   error
	start time.Time
}

// chaosSim is simulate's result and how long the load ran.
type chaosSim struct {
	simulate.Result
	elapsed time.Duration
}

// startLoad offers steady load on the load site until finish. Batches that
// ingest answers with 503 or not at all (ingest down) are retried with the
// same event ids, as the SDK does, for as long as the run lasts.
func (run *chaosRun) startLoad(ctx context.Context) *chaosLoad {
	cfg := simulate.DefaultConfig()
	cfg.IngestURL, cfg.SiteKey = run.st.ingest.base, run.load.SiteKey
	cfg.Visitors, cfg.Rate, cfg.Concurrency, cfg.Days = run.flags.visitors, run.flags.rate, run.flags.concurrency, 1
	cfg.Events = int(run.flags.rate * 3 * 3600) // more than any run offers: the limiter ends it
	cfg.Invalid = 0
	cfg.MaxRetries, cfg.RetryBase, cfg.RetryMax = 1_000_000, 100*time.Millisecond, 2*time.Second
	stopped, stop := context.WithCancel(ctx)
	cfg.Limiter = &chaosLimiter{bucket: rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Batch), stopped: stopped}
	l := &chaosLoad{stop: stop, done: make(chan struct{}), start: time.Now()}
	go func() {
		defer close(l.done)
		res, err := simulate.Run(ctx, cfg, nil)
		l.res, l.err = chaosSim{Result: res}, err
	}()
	return l
}

// finish stops offering new batches and waits until every batch sent has
// an answer (retries included).
func (l *chaosLoad) finish() (chaosSim, error) {
	stoppedAt := time.Now()
	l.stop()
	<-l.done
	l.res.elapsed = stoppedAt.Sub(l.start)
	return l.res, l.err
}
