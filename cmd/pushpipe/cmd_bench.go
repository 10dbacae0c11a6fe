package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/procs"
	"github.com/pushpipe/pushpipe/internal/simulate"
	"github.com/pushpipe/pushpipe/schemas"
)

// benchAim is the sustained rate ingest must reach on a 2-core machine with
// the whole stack on it (issue 2); RudderStack publishes 1.7k events/s for a
// 2-vCPU gateway.
const benchAim = 10000

type benchFlags struct {
	rate        float64
	duration    time.Duration
	batch       int
	concurrency int
	out         string
	logDir      string
}

func parseBenchFlags(args []string, stderr io.Writer) (benchFlags, error) {
	var f benchFlags
	fs := flag.NewFlagSet("bench-ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Float64Var(&f.rate, "rate", 12000, "offered load, events per second")
	fs.DurationVar(&f.duration, "duration", 20*time.Second, "how long to offer the load")
	fs.IntVar(&f.batch, "batch", 20, "events per request")
	fs.IntVar(&f.concurrency, "concurrency", 64, "concurrent requests")
	fs.StringVar(&f.out, "out", "", "append the result to this Markdown file (such as docs/BENCHMARKS.md)")
	fs.StringVar(&f.logDir, "logs", ".dev/logs", "folder for the ingest process log")
	return f, fs.Parse(args)
}

// benchResult is one run's figures.
type benchResult struct {
	offered, achieved, kafkaOnly float64
	p50, p99                     time.Duration
	accepted, failed             int
}

// cmdBenchIngest measures POST /v1/events on a separate ingest process under a
// steady offered load (batches of 20), against the real Kafka, and beside it
// the same messages written by a bare kafka-go producer in the same run: the
// ceiling that ingest's own work is compared with.
func cmdBenchIngest(ctx context.Context, e *env, args []string) int {
	f, err := parseBenchFlags(args, e.stderr)
	if err != nil {
		return 2
	}
	r := config.NewReader(e.getenv)
	c := loadCommon(r)
	if !finish(r, e, "bench-ingest") {
		return 2
	}
	res, err := benchIngest(ctx, e, c, f)
	if err != nil {
		return fail(e, "bench-ingest", err)
	}
	verdict := "below"
	if res.achieved >= benchAim {
		verdict = "meets"
	}
	fmt.Fprintf(e.stdout, "bench-ingest: kafka-only producer (same run, reference ceiling): %.0f events/s\n", res.kafkaOnly)
	fmt.Fprintf(e.stdout, "bench-ingest: offered=%.0f/s accepted=%.0f events/s (%.0f%% of kafka-only) p50=%s p99=%s failed=%d; aim %d events/s: %s\n",
		res.offered, res.achieved, 100*res.achieved/res.kafkaOnly, res.p50.Round(10*time.Microsecond), res.p99.Round(10*time.Microsecond), res.failed, benchAim, verdict)
	if f.out != "" {
		if err := appendBenchRecord(f.out, f, res); err != nil {
			return fail(e, "bench-ingest", err)
		}
		fmt.Fprintf(e.stdout, "bench-ingest: recorded in %s\n", f.out)
	}
	return 0
}

func benchIngest(ctx context.Context, e *env, c common, f benchFlags) (benchResult, error) {
	log := c.logger(e.stderr, "bench-ingest")
	site, err := scratchSite(ctx, c, "bench", e.stderr)
	if err != nil {
		return benchResult{}, err
	}
	total := int(f.rate * f.duration.Seconds())
	fmt.Fprintf(e.stderr, "bench-ingest: reference: %d events through a bare kafka-go producer\n", total)
	kafkaOnly, err := benchKafkaOnly(ctx, log, c.Kafka, site.ID, total, f.batch, f.concurrency)
	if err != nil {
		return benchResult{}, err
	}
	ports, err := procs.FreePorts(1)
	if err != nil {
		return benchResult{}, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	roles, err := startRoles(ctx, f.logDir, "bench-", []string{"PUSHPIPE_INGEST_ADDR=" + addr}, "ingest")
	if err != nil {
		return benchResult{}, err
	}
	defer roles.StopAll(10 * time.Second)
	if err := procs.WaitHTTP(ctx, "http://"+addr+"/healthz", 30*time.Second); err != nil {
		return benchResult{}, err
	}
	cfg := simulate.DefaultConfig()
	cfg.IngestURL, cfg.SiteKey = "http://"+addr, site.SiteKey
	cfg.Visitors, cfg.Events, cfg.Rate, cfg.Batch, cfg.Concurrency, cfg.Days = total/4+1, total, f.rate, f.batch, f.concurrency, 0
	fmt.Fprintf(e.stderr, "bench-ingest: offering %.0f events/s for %s in batches of %d (%d concurrent)\n", f.rate, f.duration, f.batch, f.concurrency)
	start := time.Now()
	sim, err := simulate.Run(ctx, cfg, e.stderr)
	if err != nil {
		return benchResult{}, fmt.Errorf("load: %w", err)
	}
	elapsed := time.Since(start)
	return benchResult{
		offered: f.rate, achieved: float64(sim.Accepted) / elapsed.Seconds(), kafkaOnly: kafkaOnly,
		p50: sim.Percentile(0.50), p99: sim.Percentile(0.99), accepted: sim.Accepted, failed: sim.Failed,
	}, nil
}

// benchKafkaOnly writes n event-sized messages in batches from concurrent
// goroutines with the same writer settings ingest uses, as fast as it can.
func benchKafkaOnly(ctx context.Context, log *slog.Logger, brokers []string, siteID string, n, batch, concurrency int) (float64, error) {
	// A scratch topic with the events topic's shape, so the reference's
	// messages never reach the sink; it is deleted afterwards.
	topic := fmt.Sprintf("bench-scratch-%d", time.Now().UnixNano())
	if _, err := kafkax.EnsureTopics(ctx, brokers, 6, 1, topic); err != nil {
		return 0, err
	}
	defer func() { _ = kafkax.DeleteTopics(context.WithoutCancel(ctx), brokers, topic) }()
	w := kafkax.NewWriter(kafkax.WriterConfig{Brokers: brokers, Topic: topic}, log)
	w.AllowAutoTopicCreation = false
	defer func() { _ = w.Close() }()
	now := time.Now().UTC()
	jobs := make(chan []kafka.Message, concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for msgs := range jobs {
				if err := w.WriteMessages(ctx, msgs...); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	start := time.Now()
	for i := 0; i < n; i += batch {
		msgs := make([]kafka.Message, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			ev := schemas.Event{
				EventID: uuid.Must(uuid.NewV7()).String(), SiteID: siteID, SubscriberID: fmt.Sprintf("bench-%d", j%5000),
				Type: schemas.EventPageView, Time: now, ClientTime: now, ServerTime: now, URL: "https://shop.example/p/" + fmt.Sprint(j),
				Device: schemas.Device{Browser: "Chrome", OS: "Linux", Type: "desktop", Language: "en-US"},
			}
			b, _ := json.Marshal(ev)
			msgs = append(msgs, kafka.Message{Key: []byte(ev.Key()), Value: b})
		}
		jobs <- msgs
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return 0, fmt.Errorf("kafka-only reference: %w", firstErr)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func appendBenchRecord(path string, f benchFlags, r benchResult) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("record benchmark: %w", err)
	}
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("record benchmark: %w", err)
	}
	_, err = fmt.Fprintf(out, "| %s | bench-ingest | %s | batch %d, %d concurrent, offered %.0f/s for %s | **%.0f events/s** accepted, p50 %s, p99 %s, failed %d | kafka-only producer %.0f events/s (ingest = %.0f%%); aim %d |\n",
		time.Now().UTC().Format("2006-01-02 15:04"), machine(), f.batch, f.concurrency, r.offered, f.duration,
		r.achieved, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.failed, r.kafkaOnly, 100*r.achieved/r.kafkaOnly, benchAim)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("record benchmark: %w", err)
	}
	return nil
}

// machine describes this machine in one cell: CPU model, cores, memory.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %d GiB", (kb+(1<<19))>>20)
		}
	}
	return fmt.Sprintf("%s, %d cores%s, %s", model, runtime.NumCPU(), mem, runtime.Version())
}
