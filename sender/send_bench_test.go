package sender

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/pushservice"
	"github.com/pushpipe/pushpipe/schemas"
)

// The sender benchmark measures pushes per CPU-second of the sending
// process through the whole send path (encrypt, VAPID, HTTP to the test
// push service, answer drained), the push service running in a child
// process so its own decryption and JWT checks are not counted.
//
//	PUSHPIPE_BENCH_SENDER=1 go test -run '^TestBenchSender$' -count=1 -v ./sender/
//
// prints "sender: pushpipe=X/s webpush-go-stock=Y/s ratio=R", where stock is
// webpush.SendNotification with default options (a new http.Client, a
// 4096-byte record, a JWT signed per message) for each message.

const (
	envBench = "PUSHPIPE_BENCH_SENDER"
	envChild = "PUSHPIPE_BENCH_PUSHSERVICE_CHILD"
)

// TestBenchPushServiceChild is the child process: it serves a test push
// service and prints its URL, until its stdin closes.
func TestBenchPushServiceChild(t *testing.T) {
	if os.Getenv(envChild) == "" {
		t.Skip("the benchmark's push service process; started by TestBenchSender")
	}
	srv := pushservice.New(pushservice.Options{})
	require.NoError(t, srv.Start())
	fmt.Println("URL", srv.URL())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	_ = srv.Close()
}

func TestBenchSender(t *testing.T) {
	if os.Getenv(envBench) == "" {
		t.Skip("set " + envBench + "=1 to run the sender benchmark (make bench-sender)")
	}
	base := startChildPushService(t)
	subs := benchSubscriptions(t, base, 64)
	keys := testVAPIDKeys(t, "mailto:bench@shop.example")
	payload := json.RawMessage(`{"title":"Flash sale","body":"50% off everything until midnight","url":"https://shop.example/sale","push_id":"0193a5a0-7b7c-7cc0-8000-000000000001","campaign_id":"c1"}`)

	cfg := Config{Concurrency: 16, Timeout: 10 * time.Second}
	fast := &fastPusher{cfg: cfg, client: newHTTPClient(cfg), jwts: newJWTCache()}
	ours := func(i int) error {
		req := &schemas.PushRequest{SiteID: "site", Subscription: subs[i%len(subs)], Payload: payload}
		a := fast.push(context.Background(), req, keys, 60)
		return attemptErr(a)
	}
	stock := func(i int) error {
		s := subs[i%len(subs)]
		resp, err := webpush.SendNotification(payload, &webpush.Subscription{Endpoint: s.Endpoint, Keys: webpush.Keys{P256dh: s.P256dh, Auth: s.Auth}},
			&webpush.Options{Subscriber: keys.subscriber(), TTL: 60, VAPIDPublicKey: keys.Public, VAPIDPrivateKey: keys.Private})
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	// webpush-go with the sender's client and record size: what is left
	// is the per-message VAPID signing and the crypto/elliptic ECDH.
	web := &webPusher{cfg: cfg, client: fast.client}
	tuned := func(i int) error {
		req := &schemas.PushRequest{SiteID: "site", Subscription: subs[i%len(subs)], Payload: payload}
		return attemptErr(web.push(context.Background(), req, keys, 60))
	}
	const n = 6000
	for _, f := range []func(int) error{ours, stock, tuned} {
		measure(t, f, 500) // warm up connections and caches
	}
	x := measure(t, ours, n)
	y := measure(t, stock, n)
	z := measure(t, tuned, n)
	fmt.Printf("sender: pushpipe=%.0f/s webpush-go-stock=%.0f/s ratio=%.2f\n", x, y, x/y)
	fmt.Printf("sender-detail: webpush-go-same-client-and-record-size=%.0f/s ratio=%.2f (payload %d bytes, %d pushes each, GOMAXPROCS=%d)\n",
		z, x/z, len(payload), n, runtime.GOMAXPROCS(0))
}

func attemptErr(a attempt) error {
	if a.Err != nil {
		return a.Err
	}
	if a.Status != http.StatusCreated {
		return fmt.Errorf("status %d", a.Status)
	}
	return nil
}

// measure sends n pushes from 16 goroutines and returns pushes per CPU
// second (user + system) of this process.
func measure(t *testing.T, send func(int) error, n int) float64 {
	t.Helper()
	var next atomic.Int64
	var failed atomic.Value
	before := cpuTime(t)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				if err := send(i); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		require.NoError(t, err)
	}
	return float64(n) / (cpuTime(t) - before).Seconds()
}

func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startChildPushService runs TestBenchPushServiceChild in a child process
// and returns its URL.
func startChildPushService(t *testing.T) string {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), os.Args[0], "-test.run=^TestBenchPushServiceChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envChild+"=1", envBench+"=")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "URL "); ok {
			go func() { // keep the pipe drained
				for sc.Scan() {
				}
			}()
			return u
		}
	}
	t.Fatalf("push service child printed no URL: %v", sc.Err())
	return ""
}

// benchSubscriptions creates n subscriptions through the control API.
func benchSubscriptions(t *testing.T, base string, n int) []schemas.PushSubscription {
	t.Helper()
	subs := make([]schemas.PushSubscription, n)
	for i := range subs {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/subscriptions", strings.NewReader(`{}`))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var got struct {
			Endpoint string `json:"endpoint"`
			Keys     struct {
				P256dh string `json:"p256dh"`
				Auth   string `json:"auth"`
			} `json:"keys"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
		_ = resp.Body.Close()
		subs[i] = schemas.PushSubscription{Endpoint: got.Endpoint, P256dh: got.Keys.P256dh, Auth: got.Keys.Auth}
	}
	return subs
}
