package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/ingest/internal/enrich"
	"github.com/pushpipe/pushpipe/ingest/internal/sitecache"
	"github.com/pushpipe/pushpipe/ingest/internal/spool"
	"github.com/pushpipe/pushpipe/internal/controlplane"
)

// SiteLookup finds a site by its public site key, with an error wrapping
// controlplane.ErrNotFound for an unknown key. *controlplane.Store is one.
type SiteLookup interface {
	SiteByKey(ctx context.Context, siteKey string) (controlplane.Site, error)
}

// Producer writes messages to schemas.TopicEvents and returns once Kafka
// acknowledged all of them. *kafka.Writer from kafkax.NewWriter(cfg.WriterConfig(brokers), log) is one.
type Producer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Deps are what the service needs from outside.
type Deps struct {
	Sites    SiteLookup // required; wrapped in a 30 s in-process cache
	Producer Producer   // required; Run (or Close) closes it when it is an io.Closer
	// Ready, when set, is asked by GET /readyz (such as: can Postgres and Kafka be reached).
	Ready func(ctx context.Context) error
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Service is the ingest HTTP service.
type Service struct {
	cfg      Config
	log      *slog.Logger
	sites    SiteLookup
	producer Producer
	ready    func(context.Context) error
	now      func() time.Time
	devices  *enrich.Devices
	proxies  enrich.Proxies
	geo      *enrich.Geo
	engine   *gin.Engine

	// spool holds accepted events Kafka did not acknowledge (nil when
	// Config.SpoolMaxBytes is 0); the replayer goroutine produces them.
	spool      *spool.Spool
	background sync.WaitGroup // the replayer and the spool reporter
	stopBG     context.CancelFunc

	draining  atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// HTTP server limits.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second // above produceTimeout + spoolTimeout: the answer waits for both
	idleTimeout       = 90 * time.Second
	maxHeaderBytes    = 64 << 10
	produceTimeout    = 10 * time.Second
	spoolTimeout      = 10 * time.Second // an fsync'd append to the spool
	readyTimeout      = 2 * time.Second
)

// New builds the service; cfg should have passed Validate. It opens the
// GeoIP database when one is configured.
func New(cfg Config, deps Deps, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	if deps.Sites == nil || deps.Producer == nil {
		return nil, errors.New("ingest: Deps.Sites and Deps.Producer are required")
	}
	if w, ok := deps.Producer.(*kafka.Writer); ok && w.Topic != cfg.Topic {
		return nil, fmt.Errorf("ingest: the Kafka writer writes to %q, want %q (use cfg.WriterConfig)", w.Topic, cfg.Topic)
	}
	proxies, err := enrich.ParseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("ingest: trusted proxies: %w", err)
	}
	s := &Service{
		cfg: cfg, log: log.With("component", "ingest"),
		sites:    sitecache.New(deps.Sites, sitecache.Options{Now: deps.Now}),
		producer: deps.Producer, ready: deps.Ready, now: deps.Now,
		devices: enrich.NewDevices(), proxies: proxies,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.GeoIPDB != "" {
		if s.geo, err = enrich.OpenGeo(cfg.GeoIPDB); err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
	}
	if err := s.openSpool(); err != nil {
		_ = s.geo.Close()
		return nil, err
	}
	s.engine = s.routes()
	return s, nil
}

// Handler is the HTTP handler of the service, for tests and benchmarks.
func (s *Service) Handler() http.Handler { return s.engine }

// Run listens on cfg.Addr and serves until ctx is done, then shuts down
// gracefully (see Serve).
func (s *Service) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		_ = s.Close()
		return fmt.Errorf("ingest: listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then stops accepting, lets requests
// in flight finish (within cfg.ShutdownTimeout), and closes the producer,
// which flushes it. It returns nil after a clean shutdown.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.Info("ingest listening", "addr", ln.Addr().String())
	select {
	case err := <-served:
		return errors.Join(fmt.Errorf("ingest: serve: %w", err), s.Close())
	case <-ctx.Done():
	}
	s.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("ingest: graceful shutdown: %w", err), srv.Close())
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("ingest: serve: %w", err))
	}
	errs = append(errs, s.Close())
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.log.Info("ingest stopped")
	return nil
}

// Close releases what the service holds: it stops the spool's replayer
// and closes the spool (events not yet replayed stay on disk for the next
// start), the producer (when it is an io.Closer, flushing it) and the GeoIP
// database. Run calls it; call it yourself only when using Handler without
// Run. Safe to call more than once.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		errs := []error{s.closeSpool()}
		if c, ok := s.producer.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("ingest: close producer: %w", err))
			}
		}
		if err := s.geo.Close(); err != nil {
			errs = append(errs, fmt.Errorf("ingest: close geoip database: %w", err))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
