package devstack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"sync"
)

// Service is one component of the local stack.
type Service interface {
	// Name is the short name used in logs, file names and the CLI ("kafka").
	Name() string
	// Up fetches what is missing, starts the process unless it already runs,
	// and returns once the service answers and is provisioned. It is idempotent.
	Up(ctx context.Context) error
	// Down stops the process cleanly (SIGKILL after a budget). It is idempotent.
	Down(ctx context.Context) error
	// Status reports the state of the process without changing it.
	Status() Status
	// Env returns the client environment variables (PUSHPIPE_KAFKA, …) for this service.
	Env() map[string]string
}

// Status is a snapshot of one service.
type Status struct {
	Name string
	// Running is true when the pid file names a live process of this stack.
	Running bool
	// Listening is true when the service port accepts connections.
	Listening bool
	PID       int
	Addr      string
	Log       string
}

// State summarises the status in one word: running, starting, stopped, or
// "port taken" when something else listens on the port.
func (s Status) State() string {
	switch {
	case s.Running && s.Listening:
		return "running"
	case s.Running:
		return "starting"
	case s.Listening:
		return "port taken"
	default:
		return "stopped"
	}
}

// Stack is the local Kafka, ClickHouse and Postgres.
type Stack struct {
	cfg      Config
	services []Service
}

// New validates cfg and builds the stack; it starts nothing.
func New(cfg Config) (*Stack, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	l := newLayout(cfg)
	p := progress{mu: &sync.Mutex{}, w: cfg.Progress}
	return &Stack{cfg: cfg, services: []Service{
		newKafka(cfg, l, p),
		newClickHouse(cfg, l, p),
		newPostgres(cfg, l, p),
	}}, nil
}

// Config returns the configuration with defaults applied (absolute Dir).
func (s *Stack) Config() Config { return s.cfg }

// Services returns the services in start order.
func (s *Stack) Services() []Service { return s.services }

// Service returns the service called name.
func (s *Stack) Service(name string) (Service, error) {
	for _, svc := range s.services {
		if svc.Name() == name {
			return svc, nil
		}
	}
	return nil, fmt.Errorf("%w: %q (have kafka, clickhouse, postgres)", ErrUnknownService, name)
}

// LogFile returns the path of the log file of the service called name.
func (s *Stack) LogFile(name string) (string, error) {
	if _, err := s.Service(name); err != nil {
		return "", err
	}
	return newLayout(s.cfg).logFile(name), nil
}

// Up brings every service up in parallel and waits until all are ready. A
// failure of one does not stop the others; all errors are returned joined.
func (s *Stack) Up(ctx context.Context) error {
	if err := os.MkdirAll(s.cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("create dev dir: %w", err)
	}
	return s.each(func(svc Service) error { return svc.Up(ctx) })
}

// Down stops every service in parallel.
func (s *Stack) Down(ctx context.Context) error {
	return s.each(func(svc Service) error { return svc.Down(ctx) })
}

// Status reports every service, in start order.
func (s *Stack) Status() []Status {
	out := make([]Status, len(s.services))
	for i, svc := range s.services {
		out[i] = svc.Status()
	}
	return out
}

// Env returns the client environment variables of every service.
func (s *Stack) Env() map[string]string {
	env := map[string]string{}
	for _, svc := range s.services {
		maps.Copy(env, svc.Env())
	}
	return env
}

func (s *Stack) each(fn func(Service) error) error {
	errs := make([]error, len(s.services))
	var wg sync.WaitGroup
	for i, svc := range s.services {
		wg.Go(func() {
			if err := fn(svc); err != nil {
				errs[i] = fmt.Errorf("%s: %w", svc.Name(), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// The services implement Service.
var (
	_ Service = (*kafkaService)(nil)
	_ Service = (*clickHouseService)(nil)
	_ Service = (*postgresService)(nil)
)
