package devstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/schemas"
)

const (
	kafkaVersion      = "4.1.2"
	kafkaArtifact     = "org.apache.kafka:kafka_2.13:" + kafkaVersion
	kafkaJar          = "kafka_2.13-" + kafkaVersion + ".jar"
	kafkaLog4jBinding = "org.apache.logging.log4j:log4j-slf4j-impl:2.24.3"
	kafkaMinJava      = 17
	kafkaReadyTimeout = 90 * time.Second
)

// kafkaService runs Kafka in KRaft mode, broker and controller in one JVM.
type kafkaService struct {
	cfg        Config
	p          progress
	d          daemon
	dir        string // config and data: <dev>/kafka
	cache      string // <cache>/kafka: pom.xml and libs/
	m2         string // <cache>/m2: the Maven repository
	addr       string
	controller string
}

func newKafka(cfg Config, l layout, p progress) *kafkaService {
	dir := l.data("kafka")
	return &kafkaService{
		cfg:        cfg,
		p:          p,
		dir:        dir,
		cache:      filepath.Join(l.cache, "kafka"),
		m2:         filepath.Join(l.cache, "m2"),
		addr:       net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.KafkaPort)),
		controller: net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.KafkaPort+1)),
		d: daemon{
			name:       "kafka",
			pidFile:    l.pidFile("kafka"),
			logFile:    l.logFile("kafka"),
			marker:     filepath.Join(dir, "server.properties"),
			stopSignal: syscall.SIGTERM,
			stopBudget: 30 * time.Second,
			logger:     cfg.Logger,
		},
	}
}

func (k *kafkaService) Name() string                   { return "kafka" }
func (k *kafkaService) Env() map[string]string         { return map[string]string{EnvClientKafka: k.addr} }
func (k *kafkaService) Status() Status                 { return k.d.status(k.addr) }
func (k *kafkaService) Down(ctx context.Context) error { return k.d.stop(ctx) }
func (k *kafkaService) libs() string                   { return filepath.Join(k.cache, "libs") }
func (k *kafkaService) configFile() string             { return filepath.Join(k.dir, "server.properties") }

func (k *kafkaService) log4jFile() string { return filepath.Join(k.dir, "log4j2.properties") }

// Up starts the broker unless it runs, waits for it, then creates the topics.
func (k *kafkaService) Up(ctx context.Context) error {
	if pid, ok := k.d.running(); ok {
		k.p.printf("kafka", "already running (pid %d)", pid)
		if err := k.d.waitReady(ctx, nil, kafkaReadyTimeout, k.probe); err != nil {
			return err
		}
		return k.provision(ctx)
	}
	if err := checkPortsFree("kafka", k.addr, k.controller); err != nil {
		return err
	}
	java, err := findJava(ctx)
	if err != nil {
		return err
	}
	if err := k.fetch(ctx); err != nil {
		return err
	}
	if err := k.prepare(ctx, java); err != nil {
		return err
	}
	err = k.p.step("kafka", "starting on "+k.addr, func() error {
		return k.d.startReady(ctx, k.command(ctx, java), kafkaReadyTimeout, k.probe)
	})
	if err != nil {
		return err
	}
	return k.provision(ctx)
}

// command is the long-running broker; it is not cancelled with ctx, as it outlives us.
func (k *kafkaService) command(ctx context.Context, java string) *exec.Cmd {
	cmd := exec.CommandContext(context.WithoutCancel(ctx), java, "-Xms256m", "-Xmx1g", "-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile="+k.log4jFile(),
		"-cp", filepath.Join(k.libs(), "*"), "kafka.Kafka", k.configFile())
	cmd.Dir = k.dir
	return cmd
}

// findJava finds java and checks that it is recent enough for Kafka 4.
func findJava(ctx context.Context) (string, error) {
	java, err := lookTool("java", "openjdk-17-jre-headless")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, java, "-version")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("run java -version: %w", err)
	}
	major, err := javaMajor(string(out))
	if err != nil {
		return "", err
	}
	if major < kafkaMinJava {
		return "", fmt.Errorf("%w: Kafka %s needs Java %d or newer, %s is Java %d; install it: sudo apt-get install openjdk-17-jre-headless",
			ErrMissingTool, kafkaVersion, kafkaMinJava, java, major)
	}
	return java, nil
}

var javaVersionRE = regexp.MustCompile(`version "(\d+)(?:\.(\d+))?`)

// javaMajor reads the major version from `java -version` output ("1.8.0" is 8).
func javaMajor(out string) (int, error) {
	m := javaVersionRE.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("parse java -version output %q", strings.TrimSpace(out))
	}
	major, _ := strconv.Atoi(m[1])
	if major == 1 && m[2] != "" {
		major, _ = strconv.Atoi(m[2])
	}
	return major, nil
}

// fetch downloads the Kafka jars with Maven unless they are cached.
func (k *kafkaService) fetch(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(k.libs(), kafkaJar)); err == nil {
		return nil
	}
	mvn, err := lookTool("mvn", "maven")
	if err != nil {
		return err
	}
	what := fmt.Sprintf("fetching %s and runtime dependencies with Maven (≈43 MB)", kafkaArtifact)
	return k.p.step("kafka", what, func() error {
		if err := k.mavenCopy(ctx, mvn); err != nil {
			return fmt.Errorf("fetch kafka jars: %w", err)
		}
		n, size := dirSize(k.libs())
		k.p.printf("kafka", "  %d jars, %s in %s", n, mb(size), k.libs())
		return nil
	})
}

// mavenCopy copies the runtime dependencies into libs.tmp, then renames it
// to libs, so that an interrupted fetch is not mistaken for a complete one.
func (k *kafkaService) mavenCopy(ctx context.Context, mvn string) error {
	if err := os.MkdirAll(k.cache, 0o755); err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(k.cache, "pom.xml"), []byte(kafkaPOM()), 0o644); err != nil {
		return fmt.Errorf("write pom.xml: %w", err)
	}
	tmp := k.libs() + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("clean %s: %w", tmp, err)
	}
	cmd := exec.CommandContext(ctx, mvn, "-q", "-B", "-Dmaven.repo.local="+k.m2,
		"dependency:copy-dependencies", "-DoutputDirectory="+tmp, "-DincludeScope=runtime")
	cmd.Dir = k.cache
	if err := runTool(cmd, k.d.logFile, nil); err != nil {
		return err
	}
	if err := os.RemoveAll(k.libs()); err != nil {
		return fmt.Errorf("replace %s: %w", k.libs(), err)
	}
	if err := os.Rename(tmp, k.libs()); err != nil {
		return fmt.Errorf("move jars into place: %w", err)
	}
	return nil
}

func kafkaPOM() string {
	dep := func(coord string) string {
		p := strings.Split(coord, ":")
		return fmt.Sprintf("    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></dependency>\n", p[0], p[1], p[2])
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.pushpipe</groupId>
  <artifactId>devstack-kafka</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
` + dep(kafkaArtifact) + dep(kafkaLog4jBinding) + `  </dependencies>
</project>
`
}

// prepare writes the configuration and formats the storage on first start.
func (k *kafkaService) prepare(ctx context.Context, java string) error {
	if err := os.MkdirAll(filepath.Join(k.dir, "data"), 0o755); err != nil {
		return fmt.Errorf("create kafka dir: %w", err)
	}
	if err := os.WriteFile(k.configFile(), []byte(k.serverProperties()), 0o644); err != nil {
		return fmt.Errorf("write server.properties: %w", err)
	}
	if err := os.WriteFile(k.log4jFile(), []byte(kafkaLog4j), 0o644); err != nil {
		return fmt.Errorf("write log4j2.properties: %w", err)
	}
	if _, err := os.Stat(filepath.Join(k.dir, "data", "meta.properties")); err == nil {
		return nil
	}
	return k.p.step("kafka", "formatting storage (first start)", func() error { return k.format(ctx, java) })
}

func (k *kafkaService) format(ctx context.Context, java string) error {
	id, err := kafkaClusterID()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, java, "-Dlog4j2.configurationFile="+k.log4jFile(),
		"-cp", filepath.Join(k.libs(), "*"), "kafka.tools.StorageTool",
		"format", "-t", id, "-c", k.configFile())
	cmd.Dir = k.dir
	if err := runTool(cmd, k.d.logFile, nil); err != nil {
		return fmt.Errorf("format kafka storage: %w", err)
	}
	return nil
}

// kafkaClusterID makes an id like `StorageTool random-uuid` does: a random
// version 4 UUID in URL-safe base64, never starting with '-', without
// starting a JVM.
func kafkaClusterID() (string, error) {
	for {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("make cluster id: %w", err)
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		id := base64.RawURLEncoding.EncodeToString(b[:])
		if id[0] != '-' {
			return id, nil
		}
	}
}

func (k *kafkaService) serverProperties() string {
	lines := []string{
		"process.roles=broker,controller",
		"node.id=1",
		"controller.quorum.voters=1@" + k.controller,
		"listeners=PLAINTEXT://" + k.addr + ",CONTROLLER://" + k.controller,
		"advertised.listeners=PLAINTEXT://" + k.addr,
		"controller.listener.names=CONTROLLER",
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"inter.broker.listener.name=PLAINTEXT",
		"log.dirs=" + filepath.Join(k.dir, "data"),
		"num.partitions=" + strconv.Itoa(k.cfg.Partitions),
		"offsets.topic.replication.factor=1",
		"transaction.state.log.replication.factor=1",
		"transaction.state.log.min.isr=1",
		"group.initial.rebalance.delay.ms=0",
		"auto.create.topics.enable=false",
	}
	return "# written by pushpipe dev up; edits are overwritten\n" + strings.Join(lines, "\n") + "\n"
}

const kafkaLog4j = `rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
`

// probe checks that the broker answers a metadata request.
func (k *kafkaService) probe(ctx context.Context) error {
	conn, err := kafka.DialContext(ctx, "tcp", k.addr)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer func() { _ = conn.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	brokers, err := conn.Brokers()
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if len(brokers) == 0 {
		return errors.New("metadata lists no broker yet")
	}
	return nil
}

// provision creates the topics of schemas.Topics (existing ones are kept)
// and waits until every partition has a leader.
func (k *kafkaService) provision(ctx context.Context) error {
	topics := schemas.Topics()
	created, err := kafkax.EnsureTopics(ctx, []string{k.addr}, k.cfg.Partitions, 1, topics...)
	for _, t := range created {
		k.p.printf("kafka", "created topic %s (%d partitions)", t, k.cfg.Partitions)
	}
	if err != nil {
		return fmt.Errorf("%w: kafka topics not ready: %w; read %s", ErrNotReady, err, k.d.logFile)
	}
	client := &kafka.Client{Addr: kafka.TCP(k.addr), Timeout: 10 * time.Second}
	k.warnPartitions(ctx, client, topics)
	return nil
}

// warnPartitions tells when a topic kept another partition count than configured.
func (k *kafkaService) warnPartitions(ctx context.Context, client *kafka.Client, topics []string) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return
	}
	for _, t := range md.Topics {
		if len(t.Partitions) != k.cfg.Partitions {
			k.p.printf("kafka", "note: topic %s has %d partitions, %s asks for %d; stop the stack and delete %s to recreate it",
				t.Name, len(t.Partitions), EnvPartitions, k.cfg.Partitions, filepath.Join(k.dir, "data"))
		}
	}
}
