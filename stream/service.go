package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/stream/internal/automate"
	"github.com/pushpipe/pushpipe/stream/internal/retention"
	"github.com/pushpipe/pushpipe/stream/internal/segrun"
	"github.com/pushpipe/pushpipe/stream/internal/sink"
)

// Deps are the clients the stream role runs on. Run closes ClickHouse when it
// returns, so give the Service a connection of its own.
type Deps struct {
	ClickHouse driver.Conn // clickhouse-go/v2 native connection (internal/chx.Open)
	Brokers    []string    // Kafka bootstrap brokers (PUSHPIPE_KAFKA)
	// Segments is where segment definitions live (*controlplane.Store); nil
	// runs the sink alone, without the segment evaluator.
	Segments segrun.Definitions
	// Automations is where automations, campaigns and scheduled sends live
	// (*controlplane.Store); nil runs without automations and campaigns.
	Automations automate.Store
	// Postgres is the control plane, for the per-site retention periods
	// (stream/internal/retention); nil runs without the retention job.
	Postgres *pgxpool.Pool

	wrapStore func(sink.Store) sink.Store // tests: intercept inserts
}

// Stats counts what the sink did since New.
type Stats struct {
	Inserted     int64 // rows inserted into events (including inserts ClickHouse deduplicated)
	Batches      int64 // successful inserts
	DeadLettered int64 // undecodable messages sent to schemas.TopicEventsDLQ
	Skipped      int64 // messages already stored (at or below the replay watermark)
	Duplicates   int64 // events whose browser-made id was seen within the dedup window (retried beacons)
}

// Service is the stream role: the ClickHouse sink of schemas.TopicEvents,
// with the segment evaluator (Deps.Segments) and automations and campaigns
// (Deps.Automations, stream/internal/automate) when given.
type Service struct {
	cfg       Config
	topic     string
	log       *slog.Logger // with component=stream
	kafkaLog  *slog.Logger // kafkax adds component=kafka
	readerCfg kafkax.ReaderConfig
	reader    groupReader
	dlq       *kafka.Writer
	conn      driver.Conn
	sink      *sink.Sink
	segments  *segrun.Runner // nil without Deps.Segments
	segWriter *kafka.Writer  // the evaluator's transitions

	automations *automate.Runtime // nil without Deps.Automations
	autoWriters []*kafka.Writer   // its push requests and held-out events

	retention *retention.Job // nil without Deps.Postgres or with RetentionInterval 0
}

// groupReader is the sink's Consumer. Its *kafka.Reader is made by Run,
// because kafka-go joins the consumer group as soon as a reader exists.
type groupReader struct{ *kafka.Reader }

// New checks cfg and deps and builds the service; it connects to nothing
// until Run.
func New(cfg Config, deps Deps, log *slog.Logger) (*Service, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if deps.ClickHouse == nil {
		errs = append(errs, errors.New("no ClickHouse connection"))
	}
	if len(deps.Brokers) == 0 {
		errs = append(errs, errors.New("no Kafka brokers (PUSHPIPE_KAFKA)"))
	}
	if deps.Automations != nil && (cfg.AutomationsGroup == "" || cfg.RequestsTopic == "") {
		errs = append(errs, errors.New("automations need PUSHPIPE_AUTOMATIONS_GROUP and a push requests topic"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new stream service: %w", err)
	}
	topic := cfg.Topic
	s := &Service{cfg: cfg, topic: topic, log: log.With("component", "stream"), kafkaLog: log, conn: deps.ClickHouse}
	s.readerCfg = kafkax.ReaderConfig{Brokers: deps.Brokers, Topic: topic, GroupID: cfg.Group}
	s.dlq = kafkax.NewWriter(kafkax.WriterConfig{Brokers: deps.Brokers, Topic: schemas.TopicEventsDLQ}, log)
	var store sink.Store = sink.NewClickHouse(deps.ClickHouse)
	if deps.wrapStore != nil {
		store = deps.wrapStore(store)
	}
	s.sink = sink.New(sink.Config{
		BatchSize:     cfg.BatchSize,
		BatchInterval: cfg.BatchInterval,
		DrainTimeout:  cfg.DrainTimeout * 3 / 4,
	}, &s.reader, s.dlq, store, log)
	if deps.Segments != nil {
		s.segWriter = kafkax.NewWriter(kafkax.WriterConfig{Brokers: deps.Brokers, Topic: topic}, log)
		s.segments = segrun.New(segrun.Config{Topic: topic, Group: cfg.SegmentsGroup}, segrun.Deps{
			Brokers: deps.Brokers, Definitions: deps.Segments, Store: segrun.NewClickHouse(deps.ClickHouse), Producer: s.segWriter,
		}, log)
	}
	if deps.Automations != nil {
		s.newAutomations(deps, log)
	}
	if deps.Postgres != nil && cfg.RetentionInterval > 0 {
		s.retention = retention.New(retention.Config{Interval: cfg.RetentionInterval}, retention.Deps{
			Sites: retention.NewPostgres(deps.Postgres), ClickHouse: deps.ClickHouse,
		}, log)
	}
	return s, nil
}

// newAutomations builds the automations runtime: its trigger consumer
// reads the events topic with its own group, its dispatcher produces push
// requests and held-out events.
func (s *Service) newAutomations(deps Deps, log *slog.Logger) {
	requests := kafkax.NewWriter(kafkax.WriterConfig{Brokers: deps.Brokers, Topic: s.cfg.RequestsTopic}, log)
	events := kafkax.NewWriter(kafkax.WriterConfig{Brokers: deps.Brokers, Topic: s.topic}, log)
	s.autoWriters = []*kafka.Writer{requests, events}
	s.automations = automate.New(automate.Config{
		Topic: s.topic, Group: s.cfg.AutomationsGroup, RequestsTopic: s.cfg.RequestsTopic, SendRate: float64(s.cfg.SendRate),
		OwnSites: s.cfg.AutomationsOwnSites,
	}, automate.Deps{
		Brokers: deps.Brokers, Store: deps.Automations, Lookup: automate.NewClickHouse(deps.ClickHouse, log),
		Requests: requests, Events: events,
	}, log)
}

// Run consumes until ctx ends, then drains within Config.DrainTimeout: three
// quarters of it to insert what is buffered and commit, the rest to close
// the reader (leaving the group), the dead-letter writer and the ClickHouse
// connection. It returns nil after a complete drain. Call it once.
func (s *Service) Run(ctx context.Context) error {
	s.log.Info("stream starting", "topic", s.topic, "group", s.cfg.Group,
		"batch_size", s.cfg.BatchSize, "batch_interval", s.cfg.BatchInterval)
	s.reader.Reader = kafkax.NewReader(s.readerCfg, s.kafkaLog)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := s.sink.Run(gctx); err != nil {
			return fmt.Errorf("stream sink: %w", err)
		}
		return nil
	})
	if s.segments != nil {
		g.Go(func() error {
			if err := s.segments.Run(gctx); err != nil {
				return fmt.Errorf("segment evaluator: %w", err)
			}
			return nil
		})
	}
	if s.automations != nil {
		g.Go(func() error {
			if err := s.automations.Run(gctx); err != nil {
				return fmt.Errorf("automations: %w", err)
			}
			return nil
		})
	}
	if s.retention != nil {
		g.Go(func() error { return s.retention.Run(gctx) })
	}
	err := g.Wait()
	return errors.Join(err, s.close(s.cfg.DrainTimeout/4))
}

// close closes the clients, giving up waiting after budget.
func (s *Service) close(budget time.Duration) error {
	done := make(chan error, 1)
	go func() {
		var segErr error
		if s.segWriter != nil {
			segErr = s.segWriter.Close()
		}
		for _, w := range s.autoWriters {
			segErr = errors.Join(segErr, w.Close())
		}
		done <- errors.Join(s.reader.Close(), s.dlq.Close(), segErr, s.conn.Close())
	}()
	t := time.NewTimer(budget)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("close stream clients: %w", err)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("close stream clients: not done within %s", budget)
	}
}

// Stats returns the sink's counters; safe to call while Run runs.
func (s *Service) Stats() Stats {
	st := s.sink.Stats()
	return Stats{Inserted: st.Inserted, Batches: st.Batches, DeadLettered: st.DeadLettered, Skipped: st.Skipped, Duplicates: st.Duplicates}
}
