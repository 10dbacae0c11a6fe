package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/migrate"
	"github.com/pushpipe/pushpipe/internal/procs"
	"github.com/pushpipe/pushpipe/schemas"
)

// Settings the run gives its child processes so that it shares no topic or
// consumer group with any other run on the same Kafka. Keys a role does not
// read (yet) are left out: a role refuses unknown PUSHPIPE_* settings.
const (
	e2eKeySinkGroup        = "PUSHPIPE_SINK_GROUP"
	e2eKeySegmentsGroup    = "PUSHPIPE_SEGMENTS_GROUP"
	e2eKeyAutomationsGroup = "PUSHPIPE_AUTOMATIONS_GROUP"
	e2eKeySenderGroup      = "PUSHPIPE_SENDER_GROUP"
	e2eKeyIngestAddr       = "PUSHPIPE_INGEST_ADDR"
	e2eKeyAPIAddr          = "PUSHPIPE_API_ADDR"
)

// e2eStack is the pipeline of one run: the push service, ingest, stream,
// sender and api as child processes of this binary, on topics of their own.
type e2eStack struct {
	id        string
	logDir    string
	brokers   []string
	topic     string // events
	pushTopic string // push requests
	ownPush   bool   // pushTopic is this run's own (else the shared one)
	certFile  string // the push service's TLS certificate, which the sender trusts

	groups  []*procs.Group
	ingest  *e2eIngest
	apiBase string
	pushes  *e2ePushes
	db      *pgxpool.Pool
	ch      driver.Conn
	store   *controlplane.Store

	mu   sync.Mutex
	apis []*e2eAPI // one per site
}

// e2eKnownKeys is every PUSHPIPE_* setting some role reads.
func e2eKnownKeys() map[string]bool {
	r := config.NewReader(func(string) string { return "" })
	loadAllConfigs(r)
	known := map[string]bool{}
	for _, k := range r.Keys() {
		known[k] = true
	}
	return known
}

// e2ePushTopicKey is the setting naming the push-requests topic (read by the
// automations dispatcher and the sender), or "" when no role reads one.
func e2ePushTopicKey(known map[string]bool) string {
	for _, k := range []string{"PUSHPIPE_PUSH_REQUESTS_TOPIC", "PUSHPIPE_REQUESTS_TOPIC", "PUSHPIPE_PUSH_TOPIC"} {
		if known[k] {
			return k
		}
	}
	for k := range known {
		if strings.Contains(k, "REQUESTS_TOPIC") {
			return k
		}
	}
	return ""
}

// startE2EStack opens the databases, creates the topics and starts the
// processes; stack.close undoes it all.
func startE2EStack(ctx context.Context, c common, logDir string, progress io.Writer) (*e2eStack, error) {
	s := &e2eStack{id: time.Now().UTC().Format("20060102-150405"), logDir: logDir, brokers: c.Kafka}
	s.topic = "e2e-automations-" + s.id
	ok := false
	defer func() {
		if !ok {
			s.close(ctx)
		}
	}()
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("create log folder: %w", err)
	}
	if err := s.openStores(ctx, c); err != nil {
		return nil, err
	}
	known := e2eKnownKeys()
	env, err := s.topics(ctx, known, progress)
	if err != nil {
		return nil, err
	}
	if err := s.startPushService(ctx); err != nil {
		return nil, err
	}
	if err := s.startRoles(ctx, known, env); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

func (s *e2eStack) openStores(ctx context.Context, c common) error {
	key, err := c.masterKey()
	if err != nil {
		return err
	}
	if s.db, err = c.openPostgres(ctx); err != nil {
		return err
	}
	if s.ch, err = c.openClickHouse(ctx); err != nil {
		return err
	}
	if err := migrate.All(ctx, s.db, s.ch, c.logger(io.Discard, "migrate")); err != nil {
		return err
	}
	s.store = controlplane.NewStore(s.db, key)
	return nil
}

// topics creates the run's events topic and, when the roles can be told
// its name, its push-requests topic. Without that setting the run shares
// push-requests.v1, and its sender's group starts at the topic's end so it
// does not replay other runs' requests.
func (s *e2eStack) topics(ctx context.Context, known map[string]bool, progress io.Writer) ([]string, error) {
	env := []string{config.EnvEventsTopic + "=" + s.topic}
	s.pushTopic = schemas.TopicPushRequests
	if key := e2ePushTopicKey(known); key != "" {
		s.pushTopic, s.ownPush = "e2e-automations-push-"+s.id, true
		env = append(env, key+"="+s.pushTopic)
	}
	if _, err := kafkax.EnsureTopics(ctx, s.brokers, 6, 1, s.topic, s.pushTopic); err != nil {
		return nil, err
	}
	if !s.ownPush {
		fmt.Fprintf(progress, "e2e: note: no role reads a push-requests topic setting; sharing %s (its sender group starts at the end)\n", s.pushTopic)
		if err := e2eGroupAtEnd(ctx, s.brokers, s.group("sender"), s.pushTopic); err != nil {
			return nil, err
		}
	}
	return env, nil
}

// group names one of the run's consumer groups.
func (s *e2eStack) group(role string) string { return "e2e-automations-" + role + "-" + s.id }

// startPushService runs the test push service on https as a child process.
func (s *e2eStack) startPushService(ctx context.Context) error {
	certFile, keyFile, pool, err := e2eCert(s.logDir)
	if err != nil {
		return err
	}
	s.certFile = certFile
	ports, err := procs.FreePorts(1)
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	g := procs.NewGroup(self, os.Environ())
	s.groups = append(s.groups, g)
	if err := g.Start(ctx, "pushservice", filepath.Join(s.logDir, "e2e-automations-pushservice.log"),
		"e2e-automations", "pushservice", "--addr", addr, "--cert", certFile, "--key", keyFile); err != nil {
		return err
	}
	s.pushes = newE2EPushes("https://"+addr, pool)
	return s.waitPushService(ctx)
}

// waitPushService waits until the push service answers its record.
func (s *e2eStack) waitPushService(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.pushes.poll(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("test push service not ready after 30s: %w (see %s)", err, s.logDir)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startRoles runs ingest, stream and api in one group and the sender (which
// trusts the push service's certificate) in another, then waits for ingest
// and api to answer.
func (s *e2eStack) startRoles(ctx context.Context, known map[string]bool, env []string) error {
	ports, err := procs.FreePorts(2)
	if err != nil {
		return err
	}
	ingestAddr, apiAddr := fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])
	set := map[string]string{
		e2eKeyIngestAddr: ingestAddr, e2eKeyAPIAddr: apiAddr,
		e2eKeySinkGroup: s.group("sink"), e2eKeySegmentsGroup: s.group("segments"),
		e2eKeyAutomationsGroup: s.group("automations"), e2eKeySenderGroup: s.group("sender"),
	}
	for k, v := range set {
		if known[k] {
			env = append(env, k+"="+v)
		}
	}
	core, err := startRoles(ctx, s.logDir, "e2e-automations-", env, "ingest", "stream", "api")
	if err != nil {
		return err
	}
	s.groups = append(s.groups, core)
	sender, err := startRoles(ctx, s.logDir, "e2e-automations-", append(env, "SSL_CERT_FILE="+s.certFile), "sender")
	if err != nil {
		return err
	}
	s.groups = append(s.groups, sender)
	for _, u := range []string{"http://" + ingestAddr + "/healthz", "http://" + apiAddr + "/healthz"} {
		if err := procs.WaitHTTP(ctx, u, 60*time.Second); err != nil {
			return fmt.Errorf("%w (see the logs in %s)", err, s.logDir)
		}
	}
	client := benchHTTPClient(64)
	s.ingest = &e2eIngest{base: "http://" + ingestAddr, client: client}
	s.apiBase = "http://" + apiAddr
	return nil
}

// close stops the processes and deletes the run's topics.
func (s *e2eStack) close(ctx context.Context) {
	for i := len(s.groups) - 1; i >= 0; i-- {
		s.groups[i].StopAll(10 * time.Second)
	}
	topics := []string{s.topic}
	if s.ownPush {
		topics = append(topics, s.pushTopic)
	}
	if s.topic != "" {
		_ = kafkax.DeleteTopics(context.WithoutCancel(ctx), s.brokers, topics...)
	}
	if s.ch != nil {
		_ = s.ch.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
}

// site creates a fresh site for one scenario and an API client for it.
func (s *e2eStack) site(ctx context.Context, scenario string) (controlplane.CreatedSite, *e2eAPI, error) {
	site, err := s.store.CreateSite(ctx, controlplane.NewSite{
		Name: "e2e " + scenario + " " + s.id, Contact: "mailto:e2e@example.com", AnonymizeIP: true,
	})
	if err != nil {
		return site, nil, fmt.Errorf("create site for %s: %w", scenario, err)
	}
	api := &e2eAPI{base: s.apiBase, siteID: site.ID, apiKey: site.APIKey, client: &http.Client{Timeout: 30 * time.Second}}
	s.mu.Lock()
	s.apis = append(s.apis, api)
	s.mu.Unlock()
	return site, api, nil
}

// disableAutomations disables the automations of every site of the run.
func (s *e2eStack) disableAutomations(ctx context.Context) error {
	s.mu.Lock()
	apis := append([]*e2eAPI(nil), s.apis...)
	s.mu.Unlock()
	var errs []error
	for _, a := range apis {
		errs = append(errs, a.disableAutomations(ctx))
	}
	return errors.Join(errs...)
}

// waitSubscribed waits until ClickHouse knows every one of subs as a
// subscriber of site (the subscription the dispatcher sends to).
func (s *e2eStack) waitSubscribed(ctx context.Context, siteID string, subs []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var n uint64
		err := s.ch.QueryRow(ctx, `SELECT count() FROM subscribers FINAL
			WHERE site_id = ? AND status = 'subscribed' AND subscriber_id IN (?)`, siteID, subs).Scan(&n)
		if err == nil && int(n) == len(subs) {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("wait for subscribers in ClickHouse: %w", err)
			}
			return fmt.Errorf("%d of %d subscribers stored in ClickHouse after %s (sink: see the stream log)", n, len(subs), timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// e2eSendTimes is when the scheduled row of a push was created (the trigger
// consumed) and last changed (claimed and sent by the dispatcher).
type e2eSendTimes struct{ created, dispatched time.Time }

// sendTimes reads the times of the site's sent rows, by request id (the
// payload's push_id), to break the latency down.
func (s *e2eStack) sendTimes(ctx context.Context, siteID string) (map[string]e2eSendTimes, error) {
	rows, err := s.db.Query(ctx, `SELECT id::text, created_at, updated_at FROM scheduled_sends WHERE site_id = $1 AND state = 'sent'`, siteID)
	if err != nil {
		return nil, fmt.Errorf("read scheduled sends: %w", err)
	}
	defer rows.Close()
	out := map[string]e2eSendTimes{}
	for rows.Next() {
		var id string
		var t e2eSendTimes
		if err := rows.Scan(&id, &t.created, &t.dispatched); err != nil {
			return nil, fmt.Errorf("read scheduled sends: %w", err)
		}
		out[id] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read scheduled sends: %w", err)
	}
	return out, nil
}

// e2eRow is a scheduled push as the control plane keeps it.
type e2eRow struct {
	State, Reason string
	DueAt         time.Time
}

// rowsOf reads the scheduled pushes of one subscriber of a site.
func (s *e2eStack) rowsOf(ctx context.Context, siteID, subscriber string) ([]e2eRow, error) {
	rows, err := s.db.Query(ctx, `SELECT state, reason, due_at FROM scheduled_sends
		WHERE site_id = $1 AND subscriber_id = $2 ORDER BY created_at`, siteID, subscriber)
	if err != nil {
		return nil, fmt.Errorf("read scheduled sends: %w", err)
	}
	defer rows.Close()
	var out []e2eRow
	for rows.Next() {
		var r e2eRow
		if err := rows.Scan(&r.State, &r.Reason, &r.DueAt); err != nil {
			return nil, fmt.Errorf("read scheduled sends: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read scheduled sends: %w", err)
	}
	return out, nil
}

// heldUntil checks the one row of rows not sent is held (pending) until
// at least notBefore, or dropped with the reason; it describes which.
func heldUntil(rows []e2eRow, notBefore time.Time, dropReason string) (string, error) {
	var other []e2eRow
	for _, r := range rows {
		if r.State != "sent" {
			other = append(other, r)
		}
	}
	if len(other) != 1 {
		return "", fmt.Errorf("%d scheduled pushes besides the sent ones, want 1 held or dropped: %+v", len(other), rows)
	}
	r := other[0]
	switch {
	case r.State == "pending" && !r.DueAt.Before(notBefore.Add(-time.Minute)):
		return "held until " + r.DueAt.UTC().Format("15:04:05") + " UTC", nil
	case r.State == "skipped" && r.Reason == dropReason:
		return "dropped (" + r.Reason + ")", nil
	}
	return "", fmt.Errorf("the push is %s (reason %q, due %s), want held until %s UTC or dropped with %q",
		r.State, r.Reason, r.DueAt.UTC().Format("15:04:05"), notBefore.UTC().Format("15:04:05"), dropReason)
}

// e2eGroupAtEnd commits offsets at the end of every partition of topic for
// group, so a new consumer of that group reads only what comes next.
func e2eGroupAtEnd(ctx context.Context, brokers []string, group, topic string) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return fmt.Errorf("position group %s: metadata: %w", group, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return fmt.Errorf("position group %s: topic %s not found", group, topic)
	}
	var last []kafka.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		last = append(last, kafka.LastOffsetOf(p.ID))
	}
	ends, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: last}})
	if err != nil {
		return fmt.Errorf("position group %s: list offsets: %w", group, err)
	}
	var commits []kafka.OffsetCommit
	for _, p := range ends.Topics[topic] {
		if p.Error != nil {
			return fmt.Errorf("position group %s: partition %d: %w", group, p.Partition, p.Error)
		}
		commits = append(commits, kafka.OffsetCommit{Partition: p.Partition, Offset: p.LastOffset})
	}
	resp, err := client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{
		GroupID: group, GenerationID: -1, Topics: map[string][]kafka.OffsetCommit{topic: commits},
	})
	if err != nil {
		return fmt.Errorf("position group %s: commit: %w", group, err)
	}
	var errs []error
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			errs = append(errs, fmt.Errorf("partition %d: %w", p.Partition, p.Error))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("position group %s: %w", group, err)
	}
	return nil
}
