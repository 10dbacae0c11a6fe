package pushservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	pushPath       = "/push/"
	defaultMaxBody = 4096 // RFC 8291 §4: push services must accept at least 4096 bytes
)

// Options configure a Server; the zero value is usable.
type Options struct {
	Addr    string       // where Start listens; default 127.0.0.1:0 (a free loopback port)
	URL     string       // base URL of endpoints when the Server is mounted elsewhere as a Handler
	MaxBody int          // larger bodies are answered 413; default 4096
	Logger  *slog.Logger // default: discard
}

// Server is a test push service. It is an http.Handler, and Start serves
// it on its own listener.
type Server struct {
	opts    Options
	log     *slog.Logger
	rec     *recorder
	mux     *http.ServeMux
	closing chan struct{} // closed by Close: releases hanging and delayed answers
	pending atomic.Int64  // requests waiting on a scripted delay or hang

	mu        sync.Mutex
	endpoints map[string]*endpoint
	url       string
	srv       *http.Server
	ln        net.Listener
	conns     map[net.Conn]http.ConnState
	served    chan error // Serve's result
	closeOnce sync.Once
}

// New builds a Server; call Start to serve it, or mount it as a Handler.
func New(opts Options) *Server {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = defaultMaxBody
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:      opts,
		log:       log.With("component", "pushservice"),
		rec:       newRecorder(),
		closing:   make(chan struct{}),
		endpoints: map[string]*endpoint{},
		url:       strings.TrimRight(opts.URL, "/"),
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST "+pushPath+"{id}", s.handlePush)
	s.routeControl(s.mux)
	return s
}

// ServeHTTP serves push requests at /push/{id} and the control API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Start listens on Options.Addr and serves in the background until Close.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("push service already started")
	}
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
	}
	s.ln, s.conns, s.served = ln, map[net.Conn]http.ConnState{}, make(chan error, 1)
	s.srv = &http.Server{
		Handler:           s,
		ConnState:         s.trackConn,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       time.Minute,
		// No WriteTimeout: slow and hanging answers are scripted on purpose.
	}
	s.url = "http://" + ln.Addr().String()
	go func(srv *http.Server) { s.served <- srv.Serve(ln) }(s.srv)
	s.log.Info("push service listening", "url", s.url)
	return nil
}

// Run starts the server and serves until ctx ends, then closes it.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return s.Close()
	case <-s.closing:
		return nil
	case err := <-s.served:
		select {
		case <-s.closing: // Close stopped it
			return nil
		default:
		}
		return errors.Join(fmt.Errorf("serve push service: %w", err), s.Close())
	}
}

// URL is the base URL of the service, such as http://127.0.0.1:41234.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close releases hanging and delayed requests (they are answered 503),
// stops listening, drops connections that carry no request, and waits for
// the answers to be written. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closing)
		s.mu.Lock()
		srv, ln := s.srv, s.ln
		s.mu.Unlock()
		if srv == nil {
			return
		}
		// Shutdown would wait 5 s for connections a client opened but sent
		// nothing on; like httptest.Server.Close, close them at once.
		if err = ln.Close(); errors.Is(err, net.ErrClosed) {
			err = nil
		}
		s.closeConns(http.StateNew)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if e := srv.Shutdown(ctx); e != nil && !errors.Is(e, net.ErrClosed) {
			err = errors.Join(err, fmt.Errorf("shut down push service: %w", e), srv.Close())
		}
	})
	return err
}

// trackConn follows connection states so that Close can drop idle ones.
func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateHijacked, http.StateClosed:
		delete(s.conns, c)
	default:
		s.conns[c] = st
	}
}

func (s *Server) closeConns(st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c, cst := range s.conns {
		if cst == st {
			_ = c.Close()
		}
	}
}

// Pending is the number of requests held by a scripted delay or hang:
// accepted, not yet answered.
func (s *Server) Pending() int { return int(s.pending.Load()) }

// origin is the scheme://host[:port] the client addressed: what a VAPID
// token's aud must name.
func origin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
