// Package bus is focal's durable message bus between intake and the pipeline
// workers. It is the only package in focal that imports NATS; no NATS type
// appears in its API.
//
// By default Open starts an embedded NATS server inside the process: it opens
// no network port (the client talks to it over an in-memory pipe) and keeps
// its JetStream file storage in Config.DataDir/nats. Setting Config.URL
// connects to an external NATS server or cluster instead, which must have
// JetStream enabled.
//
// Contract:
//
//   - Messages live in JetStream streams (EnsureStream). Publish and
//     Publisher.Flush return only after the server has stored the message, so
//     a nil error means the message is durable in the stream (on the embedded
//     server: written to the operating system, which flushes it to disk within
//     the JetStream sync interval; a process crash loses nothing, a power loss
//     may lose the last moments).
//   - Callers publish AFTER they have committed the corresponding database
//     transaction, never before: a message must never announce data that a
//     rollback can take back. If publishing fails after the commit, the caller
//     is responsible for publishing again later (for example from an outbox).
//   - Delivery is at least once. Consume acknowledges a batch only after its
//     handler returned nil; handlers must therefore be idempotent (WithMsgID
//     additionally lets the server drop duplicate publishes within the
//     stream's Duplicates window).
//   - Several Consume calls, in one process or many, sharing the same stream
//     and durable name share the work: every message goes to one of them.
//
// A *Bus, a *Publisher and the functions of this package are safe for
// concurrent use by multiple goroutines. Errors carry the operation and the
// names involved (never credentials) and wrap the underlying cause; after
// Close, operations fail with an error wrapping ErrClosed.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrClosed is wrapped by the errors of operations attempted on a closed Bus.
var ErrClosed = errors.New("bus closed")

const (
	defaultName = "focal"

	// connectTimeout bounds each connection attempt to an external server.
	connectTimeout = 5 * time.Second
	// startTimeout bounds the start of the embedded server.
	startTimeout = 10 * time.Second

	// Close budget: consumers get consumerGrace to finish their batch, then
	// their handler context is cancelled and they get killGrace more; the
	// connection drain is bounded by drainTimeout.
	consumerGrace = 2 * time.Second
	killGrace     = 500 * time.Millisecond
	drainTimeout  = 1500 * time.Millisecond

	// embeddedMaxMemory caps the embedded JetStream memory storage (only used
	// by streams with StreamConfig.Memory).
	embeddedMaxMemory = 64 << 20
)

// Config configures Open.
type Config struct {
	// URL selects the server: "" starts the embedded server; otherwise a
	// comma-separated list of NATS URLs ("nats://host:port,nats://...")
	// of an external server or cluster. Credentials may be given in the URL
	// (nats://user:password@host:port); they never appear in errors or logs.
	URL string
	// DataDir is required for the embedded server, which keeps its JetStream
	// storage in DataDir/nats. Ignored for an external server.
	DataDir string
	// Logger receives connection events and embedded server logs (server
	// notices at debug level). Nil discards them.
	Logger *slog.Logger
	// Name is the connection name and embedded server name, default "focal".
	Name string
}

// Bus is a connection to the message bus, and for the embedded variant the
// server itself. Create it with Open and release it with Close. A Bus is
// safe for concurrent use.
type Bus struct {
	cfg    Config
	log    *slog.Logger
	ns     *server.Server // nil when external
	unlock func() error   // releases the embedded data directory lock
	nc     *nats.Conn
	js     jetstream.JetStream
	connCl chan struct{} // closed when nc is closed

	// stopping is cancelled when Close starts: consumers stop fetching.
	stopping context.Context
	stop     context.CancelFunc
	// killing is cancelled when consumers overran consumerGrace: their
	// handler contexts are cancelled.
	killing context.Context
	kill    context.CancelFunc

	closeOnce sync.Once
	closeErr  error
	done      chan struct{} // closed when Close has finished

	mu     sync.Mutex
	closed bool          // guarded by mu
	active int           // running Consume calls, guarded by mu
	idle   chan struct{} // closed when active drops to 0 after Close started, guarded by mu
}

// Open connects to the bus described by cfg: it starts the embedded server
// when cfg.URL is empty, or connects to the external server(s) otherwise,
// and verifies that JetStream answers. It gives up when ctx is done and
// never waits longer than about five seconds for an unreachable external
// server. The returned Bus must be closed with Close.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Name == "" {
		cfg.Name = defaultName
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{
		cfg:    cfg,
		log:    log.With("component", "bus"),
		connCl: make(chan struct{}),
		done:   make(chan struct{}),
	}
	b.stopping, b.stop = context.WithCancel(context.Background())
	b.killing, b.kill = context.WithCancel(context.Background())

	var err error
	if cfg.URL == "" {
		err = b.openEmbedded(ctx)
	} else {
		err = b.openExternal(ctx)
	}
	if err != nil {
		b.stop()
		b.kill()
		return nil, err
	}
	b.js, err = jetstream.New(b.nc)
	if err == nil {
		_, err = b.accountInfo(ctx)
	}
	if err != nil {
		err = fmt.Errorf("bus: jetstream at %s: %w", b.where(), err)
		if cerr := b.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, err
	}
	return b, nil
}

// where names the server in errors and logs, without credentials.
func (b *Bus) where() string {
	if b.cfg.URL == "" {
		return "embedded server in " + filepath.Join(b.cfg.DataDir, "nats")
	}
	return redactURLs(b.cfg.URL)
}

func (b *Bus) openEmbedded(ctx context.Context) error {
	if b.cfg.DataDir == "" {
		return errors.New("bus: embedded server needs a data directory")
	}
	dir := filepath.Join(b.cfg.DataDir, "nats")
	if err := checkWritableDir(dir); err != nil {
		return err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			if uerr := unlock(); uerr != nil {
				b.log.Warn("unlock data directory", "dir", dir, "error", uerr)
			}
		}
	}()
	opts := &server.Options{
		ServerName:         b.cfg.Name,
		JetStream:          true,
		JetStreamMaxMemory: embeddedMaxMemory,
		StoreDir:           dir,
		DontListen:         true,
		NoSigs:             true,
		NoLog:              true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("bus: embedded server in %s: %w", dir, err)
	}
	ns.SetLoggerV2(serverLogger{log: b.log.With("server", "embedded")}, false, false, false)
	ns.Start()
	wait := startTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = max(time.Until(dl), time.Millisecond)
	}
	if !ns.ReadyForConnections(wait) || !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("bus: embedded server in %s did not start with jetstream within %s (see the log)", dir, wait)
	}
	nc, err := nats.Connect(ns.ClientURL(), append(b.connOptions(),
		nats.InProcessServer(ns),
	)...)
	if err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("bus: connect to embedded server in %s: %w", dir, err)
	}
	b.ns, b.nc, b.unlock = ns, nc, unlock
	ok = true
	b.log.Debug("embedded nats server started", "dir", dir)
	return nil
}

func (b *Bus) openExternal(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bus: connect to NATS at %s: %w", redactURLs(b.cfg.URL), err)
	}
	// The client tries the servers one after the other: share the budget.
	budget := connectTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < budget {
		budget = max(time.Until(dl), time.Millisecond)
	}
	timeout := max(budget/time.Duration(strings.Count(b.cfg.URL, ",")+1), time.Millisecond)
	nc, err := nats.Connect(b.cfg.URL, append(b.connOptions(),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.RetryOnFailedConnect(false),
	)...)
	if err != nil {
		return fmt.Errorf("bus: connect to NATS at %s: %w", redactURLs(b.cfg.URL), err)
	}
	b.nc = nc
	b.log.Debug("connected to nats", "url", redactURLs(nc.ConnectedUrlRedacted()), "server", nc.ConnectedServerName())
	return nil
}

// connOptions are the client options shared by both variants.
func (b *Bus) connOptions() []nats.Option {
	var once sync.Once
	return []nats.Option{
		nats.Name(b.cfg.Name),
		nats.DrainTimeout(drainTimeout),
		nats.ClosedHandler(func(*nats.Conn) { once.Do(func() { close(b.connCl) }) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("disconnected from nats", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("reconnected to nats", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				b.log.Warn("nats asynchronous error", "subject", sub.Subject, "error", err)
				return
			}
			b.log.Warn("nats asynchronous error", "error", err)
		}),
	}
}

// checkWritableDir creates dir if needed and verifies that files can be
// created in it.
func checkWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("bus: data directory %s is not usable: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".writable-*")
	if err != nil {
		return fmt.Errorf("bus: data directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("bus: data directory %s is not writable: %w", dir, err)
	}
	return nil
}

// redactURLs returns the comma-separated URL list with passwords and tokens
// replaced, for use in errors and logs.
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		u, err := url.Parse(p)
		switch {
		case err != nil || (u.User == nil && strings.Contains(p, "@")):
			// Unparseable or odd: do not risk echoing a secret.
			if strings.Contains(p, "@") {
				p = "<unparseable url>"
			}
		case u.User != nil:
			if _, hasPassword := u.User.Password(); hasPassword {
				p = u.Redacted()
			} else {
				// A lone user part may be a token: hide it too.
				u.User = url.User("xxxxx")
				p = u.String()
			}
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}

// Embedded reports whether the Bus runs the embedded server.
func (b *Bus) Embedded() bool { return b.ns != nil }

// Ping checks that the connection is up and that JetStream answers within
// ctx. It returns an error wrapping ErrClosed after Close.
func (b *Bus) Ping(ctx context.Context) error {
	if b.isClosed() || b.nc.IsClosed() {
		return fmt.Errorf("bus: ping: %w", ErrClosed)
	}
	if !b.nc.IsConnected() {
		return fmt.Errorf("bus: ping %s: not connected (status %s)", b.where(), b.nc.Status())
	}
	if _, err := b.accountInfo(ctx); err != nil {
		return fmt.Errorf("bus: ping %s: %w", b.where(), err)
	}
	return nil
}

func (b *Bus) accountInfo(ctx context.Context) (*jetstream.AccountInfo, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	return b.js.AccountInfo(ctx)
}

// Close shuts the Bus down in order: running Consume calls stop fetching and
// get a grace period to finish (and acknowledge) their current batch, after
// which their handler context is cancelled; then the connection is drained,
// flushing outstanding acknowledgements and publishes; finally the embedded
// server, if any, is shut down. Close finishes within about five seconds,
// is idempotent and safe to call concurrently; later calls return the result
// of the first.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		defer close(b.done)
		b.closeErr = b.close()
	})
	<-b.done
	return b.closeErr
}

func (b *Bus) close() error {
	b.mu.Lock()
	b.closed = true
	var idle chan struct{}
	if b.active > 0 {
		b.idle = make(chan struct{})
		idle = b.idle
	}
	b.mu.Unlock()

	b.stop()
	if idle != nil {
		t := time.NewTimer(consumerGrace)
		select {
		case <-idle:
		case <-t.C:
			b.log.Warn("consumers still busy at close, cancelling their handlers", "grace", consumerGrace)
			b.kill()
			t.Reset(killGrace)
			select {
			case <-idle:
			case <-t.C:
				b.log.Error("consumers ignored cancellation at close; their unacknowledged messages will be redelivered")
			}
		}
		t.Stop()
	}
	b.kill()

	var errs []error
	if b.nc != nil {
		if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, fmt.Errorf("bus: drain connection: %w", err))
		}
		t := time.NewTimer(drainTimeout + 500*time.Millisecond)
		select {
		case <-b.connCl:
		case <-t.C:
			errs = append(errs, errors.New("bus: drain connection: timed out, closing"))
		}
		t.Stop()
		b.nc.Close()
	}
	if b.ns != nil {
		b.ns.Shutdown()
		b.ns.WaitForShutdown()
		b.log.Debug("embedded nats server stopped")
	}
	if b.unlock != nil {
		if err := b.unlock(); err != nil {
			errs = append(errs, fmt.Errorf("bus: unlock data directory: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (b *Bus) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// enter registers a running Consume; it fails after Close started.
func (b *Bus) enter() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.active++
	return nil
}

// leave unregisters a running Consume.
func (b *Bus) leave() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.active--
	if b.active == 0 && b.idle != nil {
		close(b.idle)
		b.idle = nil
	}
}

// serverLogger bridges the embedded server's log to slog. Notices go to
// debug level; Fatalf never exits the process.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) logf(level slog.Level, format string, v []any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, v...))
	}
}

func (l serverLogger) Noticef(format string, v ...any) { l.logf(slog.LevelDebug, format, v) }
func (l serverLogger) Warnf(format string, v ...any)   { l.logf(slog.LevelWarn, format, v) }
func (l serverLogger) Fatalf(format string, v ...any)  { l.logf(slog.LevelError, format, v) }
func (l serverLogger) Errorf(format string, v ...any)  { l.logf(slog.LevelError, format, v) }
func (l serverLogger) Debugf(format string, v ...any)  { l.logf(slog.LevelDebug, format, v) }
func (l serverLogger) Tracef(format string, v ...any)  { l.logf(slog.LevelDebug-4, format, v) }
