// Package demo fills a fresh focal with a plausible data set, so a newcomer
// who runs `focal demo` has something to look at and log in to. Every name,
// address and domain in it is fictional or from the documentation ranges
// (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32,
// AS64496–AS64511, example.* domains).
package demo

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/store"
)

// Login is a demo account printed in the banner.
type Login struct {
	Role     focal.Role
	Name     string
	Password string
	Org      string // for constituents
}

// Result says what Seed created.
type Result struct {
	Organisations int
	Incidents     int
	Logins        []Login
}

// MarkerKey is the focal_meta key that marks a demo database.
const MarkerKey = "demo"

// org is a compact description of a demo organisation.
type org struct {
	name, sector, country string
	networks              []string
	asns                  []uint32
	domains               []string
	abuse                 string
	lang                  string
}

// constituency is the demo country's registry: a dozen network owners
// across sectors, carved out of the documentation ranges. Two networks
// overlap on purpose (a customer network inside its ISP's block).
var constituency = []org{
	{"Example Telecom", "isp", "FR", []string{"198.51.100.0/24", "2001:db8:100::/40"}, []uint32{64496}, []string{"example-telecom.example"}, "abuse@example-telecom.example", "fr"},
	{"Northwind Broadband", "isp", "FR", []string{"203.0.113.0/25", "2001:db8:200::/40"}, []uint32{64497}, []string{"northwind.example"}, "abuse@northwind.example", "fr"},
	{"Ministry of Digital Affairs", "government", "FR", []string{"192.0.2.0/26"}, []uint32{64498}, []string{"digital.gouv.example"}, "cert@digital.gouv.example", "fr"},
	{"Ministry of Health", "health", "FR", []string{"192.0.2.64/27"}, nil, []string{"sante.gouv.example"}, "securite@sante.gouv.example", "fr"},
	{"Banque Centrale Exemple", "banking", "FR", []string{"192.0.2.96/27", "2001:db8:300::/48"}, []uint32{64499}, []string{"banque-centrale.example"}, "csirt@banque-centrale.example", "fr"},
	{"Crédit Coopératif Exemple", "banking", "FR", []string{"192.0.2.128/27"}, []uint32{64500}, []string{"credit-coop.example"}, "abuse@credit-coop.example", "fr"},
	{"Réseau Électrique National", "energy", "FR", []string{"192.0.2.160/27"}, []uint32{64501}, []string{"reseau-electrique.example"}, "soc@reseau-electrique.example", "fr"},
	{"Eaux de la Capitale", "drinking-water", "FR", []string{"192.0.2.192/28"}, nil, []string{"eaux-capitale.example"}, "it-security@eaux-capitale.example", "fr"},
	{"Hôpital Universitaire Exemple", "health", "FR", []string{"192.0.2.208/28"}, nil, []string{"chu.example"}, "rssi@chu.example", "fr"},
	{"Aéroport International Exemple", "transport", "FR", []string{"203.0.113.128/26"}, []uint32{64502}, []string{"aeroport.example"}, "security@aeroport.example", "en"},
	{"Université Exemple", "education", "FR", []string{"203.0.113.192/26", "2001:db8:400::/48"}, []uint32{64503}, []string{"univ.example"}, "cert@univ.example", "fr"},
	{"Hébergement Cloud Exemple", "hosting", "FR", []string{"198.51.100.128/25", "2001:db8:500::/40"}, []uint32{64504, 64505}, []string{"cloud-hebergement.example"}, "abuse@cloud-hebergement.example", "en"},
}

// logins are the demo accounts, one per role. The passwords are public:
// this is a demo.
var logins = []Login{
	{Role: focal.RoleCoordinator, Name: "coordinator", Password: "demo-coordinator-2026"},
	{Role: focal.RoleHandler, Name: "handler", Password: "demo-handler-2026"},
	{Role: focal.RoleAnalyst, Name: "analyst", Password: "demo-analyst-2026"},
	{Role: focal.RoleAssessor, Name: "assessor", Password: "demo-assessor-2026"},
	// A second assessor validates what the first answered.
	{Role: focal.RoleAssessor, Name: "validator", Password: "demo-validator-2026"},
	{Role: focal.RoleConstituent, Name: "telecom", Password: "demo-telecom-2026", Org: "Example Telecom"},
	{Role: focal.RoleConstituent, Name: "bank", Password: "demo-bank-2026", Org: "Banque Centrale Exemple"},
	// The machine account another focal point uses to read this one's
	// shared collections (focal peer add … --user peer on the other node).
	{Role: focal.RolePeer, Name: "peer", Password: "demo-peer-2026"},
}

// The demo's TAXII collections: what it shares with the network of focal
// points (alias "network", read by the "Focal points" sharing group, which
// the peer account belongs to) and what it publishes to everyone (alias
// "public", TLP:CLEAR only).
const (
	NetworkCollection = "network"
	PublicCollection  = "public"
)

// Seed loads the demo data set into st. It is meant for an empty database
// and refuses one that already holds a demo data set.
func Seed(ctx context.Context, st *store.Store) (Result, error) {
	if _, err := st.Meta(ctx, MarkerKey); err == nil {
		return Result{}, fmt.Errorf("demo: database already holds a demo data set")
	}
	ctx = focal.NewContextWithRemote(focal.NewContextWithPrincipal(ctx, focal.System()), "demo")
	var res Result
	orgIDs := map[string]int64{}
	var orgNames []string
	for _, d := range constituency {
		// Network operators take their notifications as they come; the
		// others a digest a day.
		schedule := "daily"
		if d.sector == "isp" || d.sector == "hosting" {
			schedule = "immediate"
		}
		o := &focal.Organisation{Name: d.name, Sector: d.sector, Country: d.country, ASNs: d.asns, Domains: d.domains,
			Contacts: []focal.Contact{{Email: d.abuse, Role: "abuse", Language: d.lang}},
			Notify:   focal.NotifyPrefs{Schedule: schedule, Language: d.lang}}
		if sec, ok := focal.LookupSector(d.sector); ok {
			o.CriticalInfra = sec.Critical
		}
		for _, n := range d.networks {
			o.Networks = append(o.Networks, netip.MustParsePrefix(n))
		}
		if err := st.CreateOrganisation(ctx, o); err != nil {
			return res, fmt.Errorf("demo: organisation %s: %w", d.name, err)
		}
		orgIDs[d.name] = o.ID
		orgNames = append(orgNames, d.name)
		res.Organisations++
	}
	var handlerID, peerID int64
	for _, l := range logins {
		hash, err := auth.HashPassword(l.Password, auth.DefaultParams)
		if err != nil {
			return res, fmt.Errorf("demo: %w", err)
		}
		u := &focal.User{Name: l.Name, Role: l.Role, OrgID: orgIDs[l.Org], RestrictedAccess: l.Role == focal.RoleHandler}
		if err := st.CreateUser(ctx, u, hash); err != nil {
			return res, fmt.Errorf("demo: user %s: %w", l.Name, err)
		}
		if l.Role == focal.RoleHandler {
			handlerID = u.ID
		}
		if l.Role == focal.RolePeer {
			peerID = u.ID
		}
		res.Logins = append(res.Logins, l)
	}
	n, err := seedIncidents(ctx, st, orgNames, orgIDs, handlerID)
	res.Incidents = n
	if err != nil {
		return res, err
	}
	if err := seedSharing(ctx, st, peerID); err != nil {
		return res, err
	}
	if err := SeedAssessments(ctx, st); err != nil {
		return res, err
	}
	if err := st.SetMeta(ctx, MarkerKey, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return res, fmt.Errorf("demo: %w", err)
	}
	return res, nil
}

// seedSharing creates the demo's collections, its sharing group with the
// peer account in it, and the team's RFC 2350 profile.
func seedSharing(ctx context.Context, st *store.Store, peerID int64) error {
	network := &store.TaxiiCollection{Alias: NetworkCollection, Title: "Focal network",
		Description: "Indicators and incidents shared with the cooperative network of focal points"}
	public := &store.TaxiiCollection{Alias: PublicCollection, Title: "Public warnings", Public: true,
		Description: "TLP:CLEAR indicators, for anyone"}
	for _, c := range []*store.TaxiiCollection{network, public} {
		if err := st.CreateTaxiiCollection(ctx, c); err != nil {
			return fmt.Errorf("demo: collection %s: %w", c.Alias, err)
		}
	}
	g := &store.SharingGroup{Name: "Focal points", Ceiling: focal.TLPAmber,
		Description: "National and sector CIRTs we share with on a need-to-know basis"}
	if err := st.CreateSharingGroup(ctx, g); err != nil {
		return fmt.Errorf("demo: sharing group: %w", err)
	}
	if err := st.AddSharingMember(ctx, g.ID, store.SharingMember{UserID: peerID}); err != nil {
		return fmt.Errorf("demo: sharing group member: %w", err)
	}
	if err := st.GrantSharingCollection(ctx, g.ID, store.SharingGrant{CollectionID: network.ID, CanRead: true}); err != nil {
		return fmt.Errorf("demo: sharing grant: %w", err)
	}
	profile := &focal.TeamProfile{Name: "CERT-Exemple", ShortName: "CERT-EX", Country: "FR", Email: "cert@cert.example",
		Website: "https://cert.example/", TimeZone: "Europe/Paris (UTC+1, UTC+2 in summer)", OperatingHours: "Monday to Friday, 08:00-18:00; on call otherwise",
		Mission:       "Help the networks of Exampleland prevent, detect and recover from security incidents.",
		Constituency:  "Network operators, ministries, banks, utilities and universities of Exampleland.",
		IncidentTypes: "All incident classes of the Reference Security Incident Taxonomy; critical infrastructure first.",
		Cooperation:   "We share indicators with peer focal points over TAXII 2.1; TLP 2.0 applies to everything we send.",
		Communication: "E-mail signed with our OpenPGP key; TAXII over HTTPS with accounts per peer.",
		Services:      []string{"Incident response", "Alerts and warnings", "Vulnerability coordination", "Awareness"}}
	if err := st.SetTeamProfile(ctx, profile); err != nil {
		return fmt.Errorf("demo: team profile: %w", err)
	}
	return nil
}
