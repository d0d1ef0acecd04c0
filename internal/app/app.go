// Package app is the focal program as a value: App opens the data
// directory, the store and the bus, mounts every HTTP surface and serves;
// Close shuts all of it down in order. The CLI's serve and demo commands and
// the end-to-end tests drive it the same way.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"focal/internal/alert"
	"focal/internal/attachment"
	"focal/internal/bus"
	"focal/internal/config"
	"focal/internal/csaf/provider"
	"focal/internal/federation"
	"focal/internal/focal"
	"focal/internal/geoip"
	"focal/internal/httpauth"
	"focal/internal/iodef"
	"focal/internal/live"
	"focal/internal/lookup"
	"focal/internal/mailin"
	"focal/internal/notifier"
	"focal/internal/pipeline"
	"focal/internal/publish"
	"focal/internal/restapi"
	"focal/internal/server"
	"focal/internal/store"
	"focal/internal/taxii"
	"focal/internal/ui"
	"focal/internal/version"
)

// App is one running focal process. Set Config and Logger, call Run, and
// Close when done. Fields other than Config and Logger are set by Run and
// are read-only afterwards. App is not safe for concurrent Run/Close calls.
type App struct {
	Config config.Config
	Logger *slog.Logger
	// Prepare, if set, runs after the store and bus are open and before
	// anything is served (demo seeds its data set here).
	Prepare func(ctx context.Context, a *App) error
	// AfterCommit, if set, is called in the pipeline worker after each
	// committed batch, before it is published to live streams
	// (benchmarks time delivery from here).
	AfterCommit func(b *store.EventBatch, r *store.CommitResult)
	// Headless opens the store, bus, constituency lookup and pipeline
	// but serves nothing (focal ingest, benchmarks).
	Headless bool

	Store    *store.Store
	Bus      *bus.Bus
	Server   *server.Server
	Registry *prometheus.Registry
	Auth     *httpauth.Authenticator
	API      *restapi.API
	Lookup   *lookup.Holder // the constituency lookup table, rebuilt on change
	Mail     *mailin.Server // the SMTP intake, when --smtp-addr is set
	Pipeline *pipeline.Pipeline
	Live     *live.Hub          // new events per organisation, for live streams
	Notifier *notifier.Notifier // notification scheduler, when --team-email is set
	GeoIP    *geoip.Holder      // enrichment databases, when --geoip-* are set
	// Publisher shares local indicators and incidents into TAXII
	// collections.
	Publisher *publish.Publisher
	// Provider is the CSAF trusted provider (advisories' publication).
	Provider *provider.Provider
	// Poller polls the peers' collections; Hinter tells peers to poll us.
	Poller *federation.Poller
	Hinter *federation.Hinter
	geo    pipeline.GeoFunc // enrichment, when --geoip-* are set

	hint    func(collectionID string) // tells peers to poll; nil when there are none
	rebuild chan struct{}
	stop    context.CancelFunc // stops background workers
	workers sync.WaitGroup
}

// New returns an App for cfg that logs to logger.
func New(cfg config.Config, logger *slog.Logger) *App {
	return &App{Config: cfg, Logger: logger}
}

// Run opens everything and starts serving, then returns; the App serves in
// the background until Close. On error, whatever was opened is closed.
func (a *App) Run(ctx context.Context) (err error) {
	start := time.Now()
	defer func() {
		if err != nil {
			err = errors.Join(err, a.closeOpened())
		}
	}()
	if err := PrepareDataDir(a.Config.DataDir); err != nil {
		return err
	}
	// Open the store and the bus at the same time: both may wait on disk or
	// network, and a second's cold start is a feature.
	type opened struct {
		st  *store.Store
		b   *bus.Bus
		err error
	}
	storeCh, busCh := make(chan opened, 1), make(chan opened, 1)
	go func() {
		st, err := a.openStore(ctx)
		storeCh <- opened{st: st, err: err}
	}()
	go func() {
		b, err := bus.Open(ctx, bus.Config{URL: a.Config.NATS, DataDir: a.Config.DataDir, Logger: a.Logger})
		if err != nil {
			err = fmt.Errorf("%w (set --nats or FOCAL_NATS)", err)
		}
		busCh <- opened{b: b, err: err}
	}()
	so, bo := <-storeCh, <-busCh
	a.Store, a.Bus = so.st, bo.b
	if err := errors.Join(so.err, bo.err); err != nil {
		return err
	}

	if a.Prepare != nil {
		if err := a.Prepare(ctx, a); err != nil {
			return err
		}
	}
	a.Lookup, a.rebuild = &lookup.Holder{}, make(chan struct{}, 1)
	lookupVersion, err := a.buildLookup(ctx)
	if err != nil {
		return err
	}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stop = stop
	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
	)
	if err := a.startPipeline(ctx, wctx); err != nil {
		return err
	}
	a.workers.Go(a.Pipeline.Wait)
	if a.Headless {
		return nil
	}
	a.workers.Go(func() { (&alert.Evaluator{Store: a.Store, Logger: a.Logger}).Run(wctx) })
	if err := a.startCollectors(wctx); err != nil {
		return err
	}
	if err := a.startNotifier(wctx); err != nil {
		return err
	}
	a.workers.Go(func() { a.refreshLookup(wctx, lookupVersion) })
	a.workers.Go(func() { a.purgeSessions(wctx, time.Hour) })
	a.startLinkChecker(wctx)

	cal, err := focal.ParseBusinessHours(a.Config.BusinessHours, a.Config.Holidays)
	if err != nil {
		return fmt.Errorf("business hours: %w (set --business-hours / --holidays)", err)
	}
	a.Auth = httpauth.New(a.Store, a.Logger)
	a.Auth.TrustedProxies = a.Config.TrustedProxies
	a.Publisher = &publish.Publisher{Store: a.Store, Identity: a.identity(), Changed: a.collectionChanged}
	a.API = &restapi.API{Store: a.Store, Logger: a.Logger, Lookup: a.Lookup.Load, ConstituencyChanged: a.ConstituencyChanged,
		Team: iodef.Team{Name: a.Config.TeamName, Email: a.Config.TeamEmail}, Extract: extractObservables,
		Attachments: &attachment.Store{Dir: filepath.Join(a.Config.DataDir, "attachments")}, Calendar: &cal,
		Pipeline: a.Pipeline, Live: a.Live, Publisher: a.Publisher}
	tlsConfig, err := a.tlsConfig()
	if err != nil {
		return err
	}
	ts, err := taxii.New(ctx, taxii.Config{Store: a.Store, Logger: a.Logger, Title: a.identity().Name + " TAXII server", Contact: a.Config.TeamEmail,
		Changed: a.collectionChanged})
	if err != nil {
		return err
	}
	fed := a.startFederation(wctx)
	prov, err := a.csafProvider()
	if err != nil {
		return err
	}

	a.Server = &server.Server{
		Addr:     a.Config.Addr,
		Logger:   a.Logger,
		Registry: a.Registry,
		Checks: []server.Check{
			{Name: "database", Check: a.Store.Ping},
			{Name: "bus", Check: a.Bus.Ping},
		},
		Authenticate: a.Auth.Authenticate,
		Protect:      http.NewCrossOriginProtection().Handler,
		PrefixErrors: map[string]server.ErrorFunc{taxii.PathPrefix: ts.Error, provider.PathPrefix: prov.Error},
		TLSConfig:    tlsConfig,
	}
	if err := a.Server.Mount(a.API.Routes(), a.API.Error); err != nil {
		return err
	}
	if err := a.Server.Mount(ts.Routes(), ts.Error); err != nil {
		return err
	}
	if err := a.Server.Mount(fed.Routes(), fed.Error); err != nil {
		return err
	}
	if err := a.Server.Mount(prov.Routes(), prov.Error); err != nil {
		return err
	}
	a.Provider = prov
	u, err := ui.New(ui.Config{Store: a.Store, Auth: a.Auth, Logger: a.Logger, Lookup: a.Lookup.Load, ConstituencyChanged: a.ConstituencyChanged,
		Extract: extractObservables, DataDir: a.Config.DataDir, Calendar: &cal, Pipeline: a.Pipeline, Publisher: a.Publisher})
	if err != nil {
		return err
	}
	if err := a.Server.Mount(u.Routes(), u.Error); err != nil {
		return err
	}
	if a.Config.SMTPAddr != "" {
		intake := &mailin.Intake{Store: a.Store, Logger: a.Logger, DataDir: a.Config.DataDir, Extract: a.API.Extract}
		if a.Mail, err = mailin.Listen(a.Config.SMTPAddr, "focal", intake); err != nil {
			return err
		}
		a.Logger.Info("accepting e-mailed reports", "smtp", a.Mail.Addr())
	}
	if err := a.Server.Open(); err != nil {
		return err
	}
	a.Logger.Info("focal is serving", "url", a.Server.URL(), "database", a.Store.String(),
		"bus", busName(a.Bus, a.Config.NATS), "version", version.String(), "startup_ms", time.Since(start).Milliseconds())
	return nil
}

func (a *App) openStore(ctx context.Context) (*store.Store, error) {
	st, err := store.Open(ctx, a.Config.DB, a.Config.DataDir)
	if err != nil {
		return nil, fmt.Errorf("%w (set --db or FOCAL_DB)", err)
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		return st, err
	}
	if len(applied) > 0 {
		a.Logger.Info("database migrated", "applied", applied)
	}
	return st, nil
}

// URL returns the base URL the App serves on.
func (a *App) URL() string {
	if a.Server == nil {
		return ""
	}
	return a.Server.URL()
}

// Close stops serving (letting in-flight requests finish within the
// configured shutdown timeout), drains the bus and closes the store.
func (a *App) Close() error {
	timeout := a.Config.ShutdownTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	if a.Server != nil {
		if err := a.Server.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		a.Server = nil
	}
	errs = append(errs, a.closeOpened())
	return errors.Join(errs...)
}

// closeOpened stops the SMTP listener and background workers and closes
// the bus and the store, whichever are open.
func (a *App) closeOpened() error {
	var errs []error
	if a.Mail != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := a.Mail.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("smtp shutdown: %w", err))
		}
		cancel()
		a.Mail = nil
	}
	if a.stop != nil {
		a.stop()
		a.workers.Wait()
		a.stop = nil
	}
	if a.GeoIP != nil {
		a.GeoIP.Close() //nolint:errcheck // read-only maps
		a.GeoIP = nil
	}
	if a.Bus != nil {
		if err := a.Bus.Close(); err != nil {
			errs = append(errs, fmt.Errorf("bus: %w", err))
		}
		a.Bus = nil
	}
	if a.Store != nil {
		if err := a.Store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: %w", err))
		}
		a.Store = nil
	}
	return errors.Join(errs...)
}

// PrepareDataDir creates dir (mode 0700) if needed and proves it writable,
// so a bad --data fails at start with a message naming the setting.
func PrepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory %s: %w (set --data or FOCAL_DATA)", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-probe-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %w (set --data or FOCAL_DATA)", dir, err)
	}
	name := f.Name()
	err = errors.Join(f.Close(), os.Remove(name))
	if err != nil {
		return fmt.Errorf("data directory %s: %w (set --data or FOCAL_DATA)", filepath.Clean(dir), err)
	}
	return nil
}

func busName(b *bus.Bus, url string) string {
	if b.Embedded() {
		return "embedded"
	}
	return config.Redact(url)
}

func buildInfo() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "focal_build_info",
		Help:        "Build of the running focal; the value is always 1.",
		ConstLabels: prometheus.Labels{"version": version.String()},
	})
	g.Set(1)
	return g
}
