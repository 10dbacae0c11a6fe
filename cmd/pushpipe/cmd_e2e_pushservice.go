package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/pushpipe/pushpipe/internal/testkit/pushservice"
)

// The end-to-end run needs the test push service on https: ingest accepts
// only https:// subscription endpoints, as browsers only hand out those.
// `pushpipe dev pushservice` serves plain HTTP, so the run starts this
// binary as `pushpipe e2e-automations pushservice`: the same service behind
// TLS with a self-signed certificate, which the sender trusts through
// SSL_CERT_FILE, plus one route listing every recorded delivery from an
// index on, so one poll sees every subscription.

// e2eDeliveriesPath lists recorded deliveries: ?from=N gives those after the first N.
const e2eDeliveriesPath = "/e2e/deliveries"

// e2eCert writes a self-signed certificate for 127.0.0.1 (and its key) to
// dir, returning the paths and the certificate pool a client trusts it by.
func e2eCert(dir string) (certFile, keyFile string, pool *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, fmt.Errorf("generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return "", "", nil, fmt.Errorf("generate TLS serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "pushpipe e2e push service"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, fmt.Errorf("create TLS certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", nil, fmt.Errorf("encode TLS key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certFile, keyFile = filepath.Join(dir, "e2e-automations-pushservice-cert.pem"), filepath.Join(dir, "e2e-automations-pushservice-key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return "", "", nil, fmt.Errorf("write TLS certificate: %w", err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", nil, fmt.Errorf("write TLS key: %w", err)
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, pool, nil
}

// e2ePushserviceChild is `pushpipe e2e-automations pushservice --addr A
// --cert F --key F`: the test push service on https until ctx ends.
func e2ePushserviceChild(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("e2e-automations pushservice", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	certFile := fs.String("cert", "", "TLS certificate (PEM)")
	keyFile := fs.String("key", "", "TLS key (PEM)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", *addr)
	if err != nil {
		return fail(e, "e2e-automations pushservice", err)
	}
	svc := pushservice.New(pushservice.Options{URL: "https://" + ln.Addr().String(), Logger: log})
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+e2eDeliveriesPath, func(w http.ResponseWriter, r *http.Request) {
		all := svc.All()
		from, _ := strconv.Atoi(r.URL.Query().Get("from"))
		from = min(max(from, 0), len(all))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(all[from:])
	})
	mux.Handle("/", svc)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, *certFile, *keyFile) }()
	log.Info("e2e push service listening", "url", "https://"+ln.Addr().String())
	select {
	case <-ctx.Done():
	case err := <-done:
		return fail(e, "e2e-automations pushservice", err)
	}
	_ = svc.Close() // answers what a script holds
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if srv.Shutdown(shut) != nil {
		// Connections opened but never used (a client gave up in the TLS
		// handshake) keep Shutdown waiting; nothing is lost by closing them.
		_ = srv.Close()
	}
	return 0
}

// e2eSubscription is a subscription made at the test push service: what a
// browser's PushSubscription hands to the page.
type e2eSubscription struct {
	ID       string `json:"id"`
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// e2ePush is one delivery the push service recorded, with its decrypted payload read.
type e2ePush struct {
	pushservice.Delivery
	Payload e2ePayload
}

// e2ePayload is the part of the push payload (ingest/sdk/README.md) the scenarios check.
type e2ePayload struct {
	Title        string `json:"title"`
	Body         string `json:"body"`
	URL          string `json:"url"`
	PushID       string `json:"push_id"`
	CampaignID   string `json:"campaign_id"`
	AutomationID string `json:"automation_id"`
	SubscriberID string `json:"subscriber_id"`
}

// ok reports whether the push passed every check of the push service and
// was decrypted: what a browser would have shown.
func (p e2ePush) ok() bool {
	return p.Reason == "" && p.Status == http.StatusCreated && len(p.Plaintext) > 0
}

// e2ePushes follows the push service's record: it polls every delivery from
// the last one seen and indexes them by endpoint id.
type e2ePushes struct {
	base   string
	client *http.Client

	mu      sync.Mutex
	seen    int
	byID    map[string][]e2ePush
	changed chan struct{} // closed and replaced when deliveries arrive
	err     error         // the last poll's failure, for reports
}

func newE2EPushes(base string, pool *x509.CertPool) *e2ePushes {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 16}
	return &e2ePushes{
		base: base, client: &http.Client{Transport: tr, Timeout: 10 * time.Second},
		byID: map[string][]e2ePush{}, changed: make(chan struct{}),
	}
}

// subscribe creates a subscription bound to a site's VAPID public key, as
// PushManager.subscribe({applicationServerKey}) does.
func (p *e2ePushes) subscribe(ctx context.Context, vapidPublicKey string) (e2eSubscription, error) {
	body, err := json.Marshal(map[string]string{"application_server_key": vapidPublicKey})
	if err != nil {
		return e2eSubscription{}, fmt.Errorf("encode subscription request: %w", err)
	}
	var sub e2eSubscription
	if err := p.do(ctx, http.MethodPost, "/subscriptions", body, http.StatusCreated, &sub); err != nil {
		return e2eSubscription{}, fmt.Errorf("create push subscription: %w", err)
	}
	return sub, nil
}

func (p *e2ePushes) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	return json.Unmarshal(data, out)
}

// follow polls the record every interval until ctx ends.
func (p *e2ePushes) follow(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		err := p.poll(ctx)
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *e2ePushes) poll(ctx context.Context) error {
	p.mu.Lock()
	from := p.seen
	p.mu.Unlock()
	var got []pushservice.Delivery
	if err := p.do(ctx, http.MethodGet, e2eDeliveriesPath+"?from="+strconv.Itoa(from), nil, http.StatusOK, &got); err != nil {
		return fmt.Errorf("read the push service's record: %w", err)
	}
	if len(got) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen != from { // another poll got there first
		return nil
	}
	for _, d := range got {
		push := e2ePush{Delivery: d}
		_ = json.Unmarshal(d.Plaintext, &push.Payload) // an unreadable payload fails the scenario's checks
		p.byID[d.EndpointID] = append(p.byID[d.EndpointID], push)
	}
	p.seen += len(got)
	close(p.changed)
	p.changed = make(chan struct{})
	return nil
}

// of returns what arrived at one subscription so far, oldest first.
func (p *e2ePushes) of(subID string) []e2ePush {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]e2ePush(nil), p.byID[subID]...)
}

// wait waits until every subscription in ids has at least one delivery, or
// timeout passes; it returns how many have none.
func (p *e2ePushes) wait(ctx context.Context, ids []string, timeout time.Duration) int {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		missing := 0
		for _, id := range ids {
			if len(p.byID[id]) == 0 {
				missing++
			}
		}
		changed := p.changed
		p.mu.Unlock()
		if missing == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return missing
		case <-deadline.C:
			return missing
		case <-changed:
		}
	}
}

// lastErr is the last poll's failure, nil when it worked.
func (p *e2ePushes) lastErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// errNoPush says a subscription expected to receive a push got none.
var errNoPush = errors.New("no push arrived")
