package app

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"focal/internal/collect"
	"focal/internal/geoip"
	"focal/internal/live"
	"focal/internal/notifier"
	"focal/internal/notify"
	"focal/internal/pipeline"
	"focal/internal/store"
)

// openGeo opens the enrichment databases named by --geoip-asn and
// --geoip-country, watched for replacement every minute.
func (a *App) openGeo(wctx context.Context) error {
	if a.Config.GeoIPASN == "" && a.Config.GeoIPCountry == "" {
		return nil
	}
	h, err := geoip.NewHolder(a.Config.GeoIPASN, a.Config.GeoIPCountry)
	if err != nil {
		return fmt.Errorf("%w (set --geoip-asn / --geoip-country)", err)
	}
	h.Logger = a.Logger
	a.GeoIP = h
	a.geo = func(ip netip.Addr) (uint32, string, bool) {
		info, ok := h.Lookup(ip)
		return info.ASN, info.Country, ok
	}
	a.workers.Go(func() { h.Watch(wctx, time.Minute) })
	a.Logger.Info("enriching events", "geoip", h.Describe())
	return nil
}

// startPipeline creates the pipeline, ensures its stream and starts this
// process's workers (none with --workers 0).
func (a *App) startPipeline(ctx context.Context, wctx context.Context) error {
	if err := a.openGeo(wctx); err != nil {
		return err
	}
	workers := a.Config.Workers
	if workers == 0 {
		workers = -1
	}
	// Every process on the same database shares one ingest stream (and its
	// work); deployments with different databases on one NATS never mix.
	node, err := a.Store.NodeID(ctx)
	if err != nil {
		return err
	}
	a.Live = live.New(a.Bus, node[:min(12, len(node))])
	if err := a.Live.Ensure(ctx); err != nil {
		return fmt.Errorf("live stream: %w", err)
	}
	a.Pipeline = pipeline.New(pipeline.Config{
		OnCommit: func(ctx context.Context, b *store.EventBatch, r *store.CommitResult) {
			if a.AfterCommit != nil {
				a.AfterCommit(b, r)
			}
			if err := a.Live.Publish(ctx, b, r); err != nil {
				a.Logger.Warn("live stream: publish failed; the events are stored", "err", err)
			}
		},
		Stream:         "FOCAL_INGEST_" + strings.ToUpper(node[:min(12, len(node))]),
		Store:          a.Store,
		Bus:            a.Bus,
		Lookup:         a.Lookup,
		Geo:            a.geo,
		RDNS:           a.rdns(),
		Logger:         a.Logger,
		Workers:        workers,
		StreamMaxBytes: max(a.Config.IngestQueueMB, 1) << 20,
		Registerer:     a.Registry,
	})
	if err := a.Pipeline.EnsureStream(ctx); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	if workers > 0 {
		if err := a.Pipeline.Start(wctx); err != nil {
			return err
		}
	}
	return nil
}

// startCollectors starts the feed poller and, with --feed-dir, the
// watched directory. Several processes may run them: feeds are claimed
// in the database, files by their run key.
func (a *App) startCollectors(wctx context.Context) error {
	poller := &collect.Poller{Store: a.Store, Pipeline: a.Pipeline, Logger: a.Logger}
	a.workers.Go(func() {
		if err := poller.Run(wctx); err != nil {
			a.Logger.Error("feed poller stopped", "err", err)
		}
	})
	if a.Config.FeedDir == "" {
		return nil
	}
	if err := os.MkdirAll(a.Config.FeedDir, 0o750); err != nil {
		return fmt.Errorf("feed directory %s: %w (set --feed-dir)", a.Config.FeedDir, err)
	}
	dir := &collect.Dir{Root: a.Config.FeedDir, Store: a.Store, Pipeline: a.Pipeline, Logger: a.Logger}
	a.workers.Go(func() {
		if err := dir.Run(wctx); err != nil {
			a.Logger.Error("feed directory watcher stopped", "err", err)
		}
	})
	a.Logger.Info("watching for feed files", "dir", a.Config.FeedDir)
	return nil
}

// rdns returns the reverse DNS namer --rdns asks for, or nil. It answers
// from its cache at once and queries in the background (an already
// cancelled context), so workers never wait for DNS.
func (a *App) rdns() func(netip.Addr) (string, bool) {
	if a.Config.RDNS == "" || a.Config.RDNS == "off" {
		return nil
	}
	cfg := geoip.ResolverConfig{}
	if a.Config.RDNS != "on" {
		cfg.Server = a.Config.RDNS
	}
	r := geoip.NewResolver(cfg)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	return func(ip netip.Addr) (string, bool) { return r.PTR(done, ip) }
}

// startNotifier runs the notification scheduler: digests are built and
// queued when the team has an address (--team-email), and sent through
// --smtp-relay when one is set (otherwise they wait in the queue).
func (a *App) startNotifier(wctx context.Context) error {
	if a.Config.TeamEmail == "" {
		a.Logger.Info("notifications off: set --team-email (and --smtp-relay) to send digests to organisations")
		return nil
	}
	var signer *notify.Signer
	if a.Config.TeamKey != "" {
		b, err := os.ReadFile(a.Config.TeamKey)
		if err != nil {
			return fmt.Errorf("team key: %w (set --team-key)", err)
		}
		if signer, err = notify.NewSigner(string(b), a.Config.TeamKeyPass); err != nil {
			return fmt.Errorf("team key %s: %w (set --team-key / FOCAL_TEAM_KEY_PASSPHRASE)", a.Config.TeamKey, err)
		}
		a.Logger.Info("signing notifications", "key", signer.Fingerprint())
	}
	n := &notifier.Notifier{
		Store:   a.Store,
		Team:    notify.Team{Name: a.Config.TeamName, Email: a.Config.TeamEmail, Signer: signer},
		Webhook: &notify.Webhook{MaxAttempts: 1, Logger: a.Logger},
		Logger:  a.Logger,
	}
	if r := a.Config.SMTPRelay; r.Addr != "" {
		tlsMode := map[string]string{"starttls": notify.TLSStartTLS, "tls": notify.TLSImplicit, "none": notify.TLSNone}[r.TLS]
		// The notifier retries with its own backoff; one attempt per tick
		// keeps a dead relay from holding a tick for minutes.
		n.Sender = &notify.Sender{Relay: r.Addr, TLS: tlsMode, Username: r.User, Password: r.Password, MaxAttempts: 1, Logger: a.Logger}
		a.Logger.Info("sending notifications", "relay", r.String())
	} else {
		a.Logger.Info("notifications are queued but not sent: set --smtp-relay")
	}
	a.Notifier = n
	a.workers.Go(func() { n.Run(wctx) })
	return nil
}
