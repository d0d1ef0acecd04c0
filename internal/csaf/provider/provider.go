// Package provider is focal's CSAF 2.0 trusted provider: it serves the
// advisories the store has published under /.well-known/csaf/ — the
// provider metadata, a ROLIE feed per TLP label, a directory
// distribution of the public (WHITE) documents with year folders,
// index.txt, changes.csv and directory listings, each document's .sha256,
// .sha512 and detached OpenPGP signature (.asc), and the team's public
// key — plus the team's security.txt (RFC 9116). TLP:WHITE is open to
// anyone; GREEN, AMBER and RED live under their own folders and need an
// account (a bearer token) allowed to read them.
//
// Everything is derived, per request, from the published rows the store
// wrote in the transaction that published, so feeds, indexes and hashes
// always agree. The provider also owns publication itself (the approve
// routes of the API and the UI), because it holds the team key that
// signs.
//
// A Provider is built by New and is safe for concurrent use:
//
//	p, err := provider.New(provider.Config{Store: st, Logger: logger, Signer: signer, Publisher: pub})
//	err = srv.Mount(p.Routes(), p.Error)
package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"focal/internal/csaf"
	"focal/internal/focal"
	"focal/internal/server"
	"focal/internal/store"
)

// PathPrefix is where the provider lives.
const PathPrefix = "/.well-known/csaf/"

// Labels are the CSAF (TLP 1.0) labels in the order of their folders.
var Labels = []string{"white", "green", "amber", "red"}

// Config configures a Provider. Store and Logger are required.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// Signer signs published documents and security.txt with the team
	// key; nil means no key: the provider lists no public key and
	// publication is refused until one is configured.
	Signer *csaf.Signer
	// Publisher is the team as documents name it. Name and Namespace (the
	// team's https web address) are required to publish; Category
	// defaults to "coordinator".
	Publisher csaf.Publisher
	// BaseURL is the public https origin of focal (https://cert.example);
	// "" means the origin of each request.
	BaseURL string
	// TrackingPrefix starts the tracking IDs publication assigns
	// (PREFIX-YYYY-NNNN); "" means the team's short name or FOCAL.
	TrackingPrefix string
	// MailFrom is the sender of advisory notifications; "" sends none.
	MailFrom string
	// SecurityTxt configures /.well-known/security.txt.
	SecurityTxt SecurityTxt
}

// SecurityTxt configures the team's security.txt; the contacts come from
// the team profile.
type SecurityTxt struct {
	// Policy is the URL of the team's disclosure policy; "" means the
	// RFC 2350 profile page.
	Policy string
	// Languages lists the preferred languages; "" means "en".
	Languages string
	// Lifetime is how far ahead Expires lies; 0 means 180 days.
	Lifetime time.Duration
}

// Provider serves a CSAF trusted provider. Create it with New.
type Provider struct {
	cfg     Config
	started time.Time
}

// New returns a Provider for cfg.
func New(cfg Config) (*Provider, error) {
	if cfg.Store == nil || cfg.Logger == nil {
		return nil, errors.New("provider: Store and Logger are required")
	}
	if cfg.Publisher.Category == "" {
		cfg.Publisher.Category = "coordinator"
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("provider: base URL %q is not an https origin", cfg.BaseURL)
		}
		cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	}
	if cfg.SecurityTxt.Lifetime <= 0 {
		cfg.SecurityTxt.Lifetime = 180 * 24 * time.Hour
	}
	if cfg.SecurityTxt.Languages == "" {
		cfg.SecurityTxt.Languages = "en"
	}
	return &Provider{cfg: cfg, started: time.Now().UTC().Truncate(time.Second)}, nil
}

// Routes returns the provider's routes with their authorisation rules:
// the metadata, the public key, security.txt and the WHITE folder are
// public; the GREEN, AMBER and RED folders need an account that may read
// advisories (the store then applies the label); approval needs one
// that may write them (the store requires a second person).
func (p *Provider) Routes() []server.Route {
	const read, update = focal.ActionRead, focal.ActionUpdate
	r := func(method, path string, kind focal.Kind, action focal.Action, h http.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Kind: kind, Action: action, Handler: h}
	}
	routes := []server.Route{
		r("GET", "/.well-known/security.txt", focal.KindPublic, read, p.securityTxt),
		r("GET", PathPrefix+"{$}", focal.KindPublic, read, p.rootListing),
		r("GET", PathPrefix+"provider-metadata.json", focal.KindPublic, read, p.metadata),
		r("GET", PathPrefix+"service.json", focal.KindPublic, read, p.service),
		r("GET", PathPrefix+"index.txt", focal.KindPublic, read, p.rootIndex),
		r("GET", PathPrefix+"changes.csv", focal.KindPublic, read, p.rootIndex),
		r("GET", PathPrefix+"openpgp/{file}", focal.KindPublic, read, p.publicKey),
		r("GET", PathPrefix+"white/{path...}", focal.KindPublic, read, p.folder("white")),
		r("POST", "/api/v1/advisories/{id}/approve", focal.KindAdvisory, update, p.approveAPI),
		r("POST", "/advisories/{id}/approve", focal.KindAdvisory, update, p.approveForm),
	}
	for _, l := range Labels[1:] {
		routes = append(routes, r("GET", PathPrefix+l+"/{path...}", focal.KindAdvisory, read, p.folder(l)))
	}
	return routes
}

// Error renders an error of the provider's routes as an RFC 9457
// problem; a refusal to an anonymous client asks for a bearer token.
func (p *Provider) Error(w http.ResponseWriter, r *http.Request, err error) {
	if server.StatusCode(err) == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="focal"`)
	}
	server.Error(w, r, p.cfg.Logger, err)
}

// base returns the public origin for r.
func (p *Provider) base(r *http.Request) string {
	if p.cfg.BaseURL != "" {
		return p.cfg.BaseURL
	}
	return "https://" + r.Host
}

// writeJSON writes v as JSON with the exact content type CSAF tools
// expect ("application/json", no parameters).
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeBytes(w, "application/json", append(b, '\n'))
}

func writeBytes(w http.ResponseWriter, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "no-cache")
	// The status line is sent; a failed write has nobody to report to.
	_, _ = w.Write(b)
}

// publisher returns the configured publisher, with the team profile's
// name and e-mail filling gaps.
func (p *Provider) publisher(ctx context.Context) csaf.Publisher {
	pub := p.cfg.Publisher
	if pub.Name == "" || pub.ContactDetails == "" {
		if prof, err := p.cfg.Store.TeamProfile(ctx); err == nil {
			if pub.Name == "" {
				pub.Name = prof.Name
			}
			if pub.ContactDetails == "" && prof.Email != "" {
				pub.ContactDetails = "mailto:" + prof.Email
			}
			if pub.Namespace == "" && strings.HasPrefix(prof.Website, "https://") {
				pub.Namespace = prof.Website
			}
		}
	}
	return pub
}

// PublishOptions returns what the store needs to publish as this
// provider: the publisher, the team key and the notification builder,
// whose links start with base (the public origin).
func (p *Provider) PublishOptions(ctx context.Context, base string) store.PublishOptions {
	prefix := p.cfg.TrackingPrefix
	if prefix == "" {
		if prof, err := p.cfg.Store.TeamProfile(ctx); err == nil && prof.ShortName != "" {
			prefix = prof.ShortName
		}
	}
	opts := store.PublishOptions{Publisher: p.publisher(ctx), Signer: p.cfg.Signer, TrackingPrefix: prefix}
	if p.cfg.MailFrom != "" {
		opts.Message = func(o *focal.Organisation, to []string, a *store.Advisory, d *store.PublishedDocument) (*store.Notification, error) {
			return p.message(base, o, to, a, d)
		}
	}
	return opts
}
