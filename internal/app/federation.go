package app

import (
	"context"
	"crypto/tls"
	"path/filepath"

	"focal/internal/csaf"
	"focal/internal/csaf/provider"
	"focal/internal/federation"
	"focal/internal/stix"
	"focal/internal/taxii"
)

// identity is this focal point's STIX identity: the team's name (its
// domain, --team-name) and contact address. The identifier derives from
// the name, so it stays the same across restarts and processes.
func (a *App) identity() stix.Identity {
	name := a.Config.TeamName
	if name == "" {
		name = "focal"
	}
	return stix.IdentityFor(name, a.Config.TeamEmail)
}

// tlsConfig returns the HTTPS configuration --tls, --tls-cert and
// --tls-key ask for, or nil for plain HTTP.
func (a *App) tlsConfig() (*tls.Config, error) {
	switch a.Config.TLS {
	case "self-signed":
		cfg, _, err := taxii.SelfSigned(filepath.Join(a.Config.DataDir, "tls"))
		return cfg, err
	case "files":
		return taxii.ServerTLSConfig(a.Config.TLSCert, a.Config.TLSKey)
	}
	return nil, nil
}

// startFederation starts the peer poller and the push hints, and returns
// the API of the peers and the hint endpoint. Imports reach the pipeline
// (feed taxii-<peer>), and new objects in an import collection are
// hinted on to our own peers, so chains A → B → C propagate at once.
func (a *App) startFederation(wctx context.Context) *federation.API {
	a.Hinter = federation.NewHinter(federation.HinterConfig{Store: a.Store, Logger: a.Logger})
	a.Poller = federation.NewPoller(federation.PollerConfig{Store: a.Store, Pipeline: a.Pipeline, Logger: a.Logger, Changed: a.Hinter.Changed})
	a.hint = a.Hinter.Changed
	a.workers.Go(func() { _ = a.Hinter.Run(wctx) })
	a.workers.Go(func() { _ = a.Poller.Run(wctx) })
	dir := &federation.Directory{Store: a.Store, Logger: a.Logger}
	a.workers.Go(func() { _ = dir.Run(wctx) })
	return &federation.API{Store: a.Store, Logger: a.Logger, Poller: a.Poller}
}

// csafProvider builds the CSAF trusted provider: advisories are signed
// with the team key (--team-key, else DATA/keys/team.asc from focal keys
// init) and published under /.well-known/csaf/.
func (a *App) csafProvider() (*provider.Provider, error) {
	key, err := csaf.LoadTeamKey(a.Config.TeamKey, a.Config.DataDir, a.Config.TeamKeyPass)
	if err != nil {
		return nil, err
	}
	pub := csaf.Publisher{Category: "coordinator", Name: a.identity().Name}
	if a.Config.TeamName != "" {
		pub.Namespace = "https://" + a.Config.TeamName
	}
	if a.Config.TeamEmail != "" {
		pub.ContactDetails = "mailto:" + a.Config.TeamEmail
	}
	return provider.New(provider.Config{Store: a.Store, Logger: a.Logger, Signer: key, Publisher: pub, MailFrom: a.Config.TeamEmail})
}

// collectionChanged is called after local objects were added to a TAXII
// collection: peers that follow it are told to poll now.
func (a *App) collectionChanged(collectionID string) {
	if a.hint != nil {
		a.hint(collectionID)
	}
}
