package stream

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/schemas"
)

// Config is the stream role's configuration. The Kafka brokers and the
// ClickHouse connection come from the common configuration, through Deps.
type Config struct {
	Topic         string // PUSHPIPE_EVENTS_TOPIC: the events topic (default schemas.TopicEvents)
	Group         string // PUSHPIPE_SINK_GROUP: consumer group of the sink
	SegmentsGroup string // PUSHPIPE_SEGMENTS_GROUP: consumer group of the segment evaluator
	// AutomationsGroup is PUSHPIPE_AUTOMATIONS_GROUP: consumer group of the automations' trigger consumer.
	AutomationsGroup string
	SendRate         int // PUSHPIPE_SEND_RATE: push requests per second over all sites at most; 0: no limit
	// AutomationsOwnSites is PUSHPIPE_AUTOMATIONS_OWN_SITES (default true): dispatch and fan out only for
	// sites with events on this process's events topic, so stacks with topics of their own can share one
	// Postgres (scheduled_sends holds every stack's rows).
	AutomationsOwnSites bool
	RequestsTopic       string        // where automations and campaigns produce push requests (default schemas.TopicPushRequests; not an env key: the sender reads that topic)
	BatchSize           int           // PUSHPIPE_SINK_BATCH_SIZE: rows per partition batch
	BatchInterval       time.Duration // PUSHPIPE_SINK_BATCH_INTERVAL: longest a message waits for its insert
	DrainTimeout        time.Duration // how long Run flushes and commits after its context ended (not an env key)
	// RetentionInterval is PUSHPIPE_RETENTION_INTERVAL: time between passes of the per-site retention job
	// (stream/internal/retention; needs Deps.Postgres), the first one interval after start; 0 turns it off.
	RetentionInterval time.Duration
}

// Defaults.
const (
	DefaultGroup         = "pushpipe-sink"
	DefaultSegmentsGroup = "pushpipe-segments"
	// DefaultAutomationsGroup is the trigger consumer's group.
	DefaultAutomationsGroup = "pushpipe-automations"
	DefaultBatchSize        = 5000
	DefaultBatchInterval    = 500 * time.Millisecond
	DefaultDrainTimeout     = 10 * time.Second
	// DefaultRetentionInterval is how often expired rows are deleted.
	DefaultRetentionInterval = time.Hour
)

// Limits that Validate enforces.
const (
	maxBatchSize     = 1_000_000
	minBatchInterval = 10 * time.Millisecond
	maxBatchInterval = 10 * time.Minute
	maxSendRate      = 1_000_000

	minRetentionInterval = time.Minute
	maxRetentionInterval = 7 * 24 * time.Hour
)

// LoadConfig reads the stream keys from r; r collects unparsable values.
func LoadConfig(r *config.Reader) Config {
	return Config{
		Topic:               r.String(config.EnvEventsTopic, schemas.TopicEvents),
		Group:               r.String("PUSHPIPE_SINK_GROUP", DefaultGroup),
		SegmentsGroup:       r.String("PUSHPIPE_SEGMENTS_GROUP", DefaultSegmentsGroup),
		AutomationsGroup:    r.String("PUSHPIPE_AUTOMATIONS_GROUP", DefaultAutomationsGroup),
		SendRate:            r.Int("PUSHPIPE_SEND_RATE", 0),
		AutomationsOwnSites: r.Bool("PUSHPIPE_AUTOMATIONS_OWN_SITES", true),
		RequestsTopic:       schemas.TopicPushRequests,
		BatchSize:           r.Int("PUSHPIPE_SINK_BATCH_SIZE", DefaultBatchSize),
		BatchInterval:       r.Duration("PUSHPIPE_SINK_BATCH_INTERVAL", DefaultBatchInterval),
		DrainTimeout:        DefaultDrainTimeout,
		RetentionInterval:   r.Duration("PUSHPIPE_RETENTION_INTERVAL", DefaultRetentionInterval),
	}
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Topic) == "" {
		errs = append(errs, errors.New("PUSHPIPE_EVENTS_TOPIC: must not be empty"))
	}
	if strings.TrimSpace(c.Group) == "" {
		errs = append(errs, errors.New("PUSHPIPE_SINK_GROUP: must not be empty"))
	}
	if strings.TrimSpace(c.SegmentsGroup) == "" || c.SegmentsGroup == c.Group {
		errs = append(errs, errors.New("PUSHPIPE_SEGMENTS_GROUP: must not be empty nor the sink's group"))
	}
	// The automation keys matter only when automations run (Deps.Automations); New checks they are set then.
	if g := c.AutomationsGroup; g != "" && (strings.TrimSpace(g) == "" || g == c.Group || g == c.SegmentsGroup) {
		errs = append(errs, errors.New("PUSHPIPE_AUTOMATIONS_GROUP: must not be blank nor the sink's or the segment evaluator's group"))
	}
	if c.SendRate < 0 || c.SendRate > maxSendRate {
		errs = append(errs, fmt.Errorf("PUSHPIPE_SEND_RATE: %d is out of range 0..%d", c.SendRate, maxSendRate))
	}
	if c.RequestsTopic != "" && c.RequestsTopic == c.Topic {
		errs = append(errs, errors.New("push requests topic: must not be the events topic"))
	}
	if c.BatchSize < 1 || c.BatchSize > maxBatchSize {
		errs = append(errs, fmt.Errorf("PUSHPIPE_SINK_BATCH_SIZE: %d is out of range 1..%d", c.BatchSize, maxBatchSize))
	}
	if c.BatchInterval < minBatchInterval || c.BatchInterval > maxBatchInterval {
		errs = append(errs, fmt.Errorf("PUSHPIPE_SINK_BATCH_INTERVAL: %s is out of range %s..%s",
			c.BatchInterval, minBatchInterval, maxBatchInterval))
	}
	if ri := c.RetentionInterval; ri != 0 && (ri < minRetentionInterval || ri > maxRetentionInterval) {
		errs = append(errs, fmt.Errorf("PUSHPIPE_RETENTION_INTERVAL: %s is out of range %s..%s (or 0: off)",
			ri, minRetentionInterval, maxRetentionInterval))
	}
	if c.DrainTimeout <= 0 {
		errs = append(errs, fmt.Errorf("drain timeout: %s must be positive", c.DrainTimeout))
	}
	return errors.Join(errs...)
}
