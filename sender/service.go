package sender

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/schemas"
)

// Deps are what the sender runs on.
type Deps struct {
	Brokers       []string      // Kafka bootstrap brokers (PUSHPIPE_KAFKA)
	Postgres      *pgxpool.Pool // push_deliveries; not closed by Run
	Store         KeyStore      // *controlplane.Store opened with the master key
	Topic         string        // where result events go; default schemas.TopicEvents
	RequestsTopic string        // what is consumed; default schemas.TopicPushRequests

	ledger Ledger    // tests: replaces the Postgres ledger
	events publisher // tests: replaces the Kafka writer of events
}

// publisher is where result events go: a *kafka.Writer.
type publisher interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
	Close() error
}

// Stats counts what the sender did since New.
type Stats struct {
	Sent     int64 // push_sent
	Failed   int64 // push_failed
	Expired  int64 // subscription_expired
	Skipped  int64 // already in push_deliveries: not sent again
	Attempts int64 // HTTP attempts made
	InFlight int64 // requests being delivered now (attempting or waiting to retry)
	// ConfigErrors counts push_failed config_error (400/401/403): the
	// site's VAPID keys, contact or the request are refused.
	ConfigErrors int64
}

// Service is the sender role.
type Service struct {
	cfg       Config
	log       *slog.Logger // component=sender
	kafkaLog  *slog.Logger
	readerCfg kafkax.ReaderConfig
	events    publisher
	ledger    Ledger
	keys      *vapidCache
	client    *http.Client
	push      func(ctx context.Context, req *schemas.PushRequest, keys vapidKeys, ttl int) attempt

	active  chan struct{} // Config.Concurrency: HTTP attempts in flight
	origins *originLimiter

	mu       sync.Mutex
	inflight map[string]chan struct{} // request ids being delivered by this process

	sent, failed, expired, skipped, attempts, inFlight, configErrors atomic.Int64
}

// New checks cfg and deps and builds the service; it connects to nothing until Run.
func New(cfg Config, deps Deps, log *slog.Logger) (*Service, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(deps.Brokers) == 0 {
		errs = append(errs, errors.New("no Kafka brokers (PUSHPIPE_KAFKA)"))
	}
	if deps.Postgres == nil && deps.ledger == nil {
		errs = append(errs, errors.New("no Postgres pool"))
	}
	if deps.Store == nil {
		errs = append(errs, errors.New("no control-plane store"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new sender: %w", err)
	}
	if deps.Topic == "" {
		deps.Topic = schemas.TopicEvents
	}
	if deps.RequestsTopic == "" {
		deps.RequestsTopic = schemas.TopicPushRequests
	}
	s := &Service{
		cfg: cfg, log: log.With("component", "sender"), kafkaLog: log,
		readerCfg: kafkax.ReaderConfig{Brokers: deps.Brokers, Topic: deps.RequestsTopic, GroupID: cfg.Group},
		events:    deps.events, ledger: deps.ledger, keys: newVAPIDCache(deps.Store),
		client: newHTTPClient(cfg), inflight: map[string]chan struct{}{},
		active: make(chan struct{}, cfg.Concurrency), origins: newOriginLimiter(cfg),
	}
	if s.events == nil {
		s.events = kafkax.NewWriter(kafkax.WriterConfig{Brokers: deps.Brokers, Topic: deps.Topic}, log)
	}
	if s.ledger == nil {
		s.ledger = NewPostgresLedger(deps.Postgres)
	}
	s.push = (&fastPusher{cfg: cfg, client: s.client, jwts: newJWTCache()}).push
	if cfg.Stock {
		s.push = (&webPusher{cfg: cfg, client: s.client}).push
	}
	return s, nil
}

// Stats returns the counters; safe to call while Run runs.
func (s *Service) Stats() Stats {
	return Stats{
		Sent: s.sent.Load(), Failed: s.failed.Load(), Expired: s.expired.Load(),
		Skipped: s.skipped.Load(), Attempts: s.attempts.Load(), InFlight: s.inFlight.Load(),
		ConfigErrors: s.configErrors.Load(),
	}
}

// Run consumes push requests until ctx ends, then drains within
// Config.DrainTimeout: intake stops at once and requests waiting to retry
// are abandoned (not recorded, not committed: the next owner of the
// partition delivers them); three quarters of the budget let HTTP attempts
// in flight finish, be recorded, reported and committed, then they are
// cancelled; the rest closes the reader (leaving the group), the events
// writer and idle connections. Call it once.
func (s *Service) Run(ctx context.Context) error {
	s.log.Info("sender starting", "topic", s.readerCfg.Topic, "group", s.cfg.Group,
		"concurrency", s.cfg.Concurrency, "record_size", s.cfg.RecordSize)
	reader := kafkax.NewReader(s.readerCfg, s.kafkaLog)
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	commits := newCommitter(reader, s.log)
	commitsDone := make(chan struct{})
	go func() { defer close(commitsDone); commits.run() }()

	// stop ends intake and backoffs: when ctx ends, or fetching fails.
	stop, cancelStop := context.WithCancel(ctx)
	defer cancelStop()
	var wg sync.WaitGroup
	runErr := s.fetchLoop(stop, work, reader, commits, &wg)
	cancelStop()

	if !waitFor(&wg, s.cfg.DrainTimeout*3/4) {
		s.log.Warn("sender drain: cancelling deliveries still in flight", "in_flight", s.inFlight.Load())
		cancelWork()
		waitFor(&wg, s.cfg.DrainTimeout/8)
	}
	commits.close()
	<-commitsDone
	s.client.CloseIdleConnections()
	closeErr := closeWithin(max(s.cfg.DrainTimeout/8, 5*time.Second), reader.Close, s.events.Close)
	return errors.Join(runErr, closeErr)
}

// heldPerSlot bounds the requests a sender holds (fetched, not finished:
// attempting, waiting out a backoff or an open circuit) to this many per
// active slot.
const heldPerSlot = 8

// fetchLoop takes a hold, fetches a message and delivers it in its own
// goroutine, until ctx ends. Holds are the backpressure: when the sender
// holds Concurrency*heldPerSlot requests (slow or retrying push services),
// intake waits. HTTP attempts take one of the Concurrency active slots
// only while they run.
func (s *Service) fetchLoop(ctx, work context.Context, reader *kafka.Reader, commits *committer, wg *sync.WaitGroup) error {
	slots := make(chan struct{}, s.cfg.Concurrency*heldPerSlot)
	failures := 0
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		msg, err := reader.FetchMessage(ctx)
		if err != nil {
			<-slots
			switch {
			case ctx.Err() != nil:
				return nil //nolint:nilerr // the fetch was cut short by the stop: not a failure
			case errors.Is(err, io.EOF):
				return fmt.Errorf("fetch push request: %w", err) // the reader was closed
			}
			// Kafka unreachable (a broker restart): kafka-go reconnects,
			// so wait and fetch again rather than end the role.
			failures++
			if failures == 1 || failures%30 == 0 {
				s.log.Warn("fetching push requests failed; retrying", "attempts", failures, "err", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(min(time.Duration(failures)*200*time.Millisecond, 2*time.Second)):
			}
			continue
		}
		if failures > 0 {
			s.log.Info("fetching push requests again", "after_attempts", failures)
			failures = 0
		}
		commits.track(msg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if s.handle(work, ctx, msg) {
				commits.done(msg)
			}
		}()
	}
}

// waitFor waits for wg at most d; it reports whether wg finished.
func waitFor(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// closeWithin runs the closers, giving up waiting after budget.
func closeWithin(budget time.Duration, closers ...func() error) error {
	done := make(chan error, 1)
	go func() {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c())
		}
		done <- errors.Join(errs...)
	}()
	t := time.NewTimer(budget)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("close sender clients: %w", err)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("close sender clients: not done within %s", budget)
	}
}
