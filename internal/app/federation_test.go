package app_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"focal/internal/app"
	"focal/internal/cli"
	"focal/internal/config"
	"focal/internal/federation"
	"focal/internal/focal"
	"focal/internal/stix"
	"focal/internal/store"
)

// runNode starts a focal node with its own data directory, HTTPS from a
// self-signed CA of its own, and the team name name.
func runNode(t *testing.T, name string) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), name)
	cfg.TeamName, cfg.TeamEmail = name, "cert@"+name
	cfg.TLS = "self-signed"
	a := app.New(cfg, nullLogger())
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close %s: %v", name, err)
		}
	})
	return a
}

// TestFederationThreeNodes runs three focal nodes on loopback. A shares
// one collection with B through a need-to-know group (up to TLP:AMBER)
// and with C through a community group (up to TLP:GREEN), and with one of
// its own organisations. A publishes an indicator at every TLP label; B
// and C peer with A (focal peer add, as an operator would) and poll it.
// Each object arrives exactly where its label allows: RED stays on A,
// AMBER+STRICT reaches only its organisation, AMBER only B, GREEN and
// CLEAR both. What arrives becomes events matched to the receiving
// node's own constituency.
func TestFederationThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node federation test skipped in -short mode")
	}
	a, b, c := runNode(t, "cert-a.example"), runNode(t, "cert-b.example"), runNode(t, "cert-c.example")
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())

	// On A: the collection, the two groups, the peers' accounts and a
	// constituent organisation of its own.
	coll := &store.TaxiiCollection{Alias: "network", Title: "Focal network"}
	if err := a.Store.CreateTaxiiCollection(sys, coll); err != nil {
		t.Fatal(err)
	}
	own := &focal.Organisation{Name: "A Water", Sector: "drinking-water", Country: "FR", Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	if err := a.Store.CreateOrganisation(sys, own); err != nil {
		t.Fatal(err)
	}
	tokB := userToken(t, a, "node-b", focal.RolePeer, 0)
	tokC := userToken(t, a, "node-c", focal.RolePeer, 0)
	tokOwn := userToken(t, a, "a-water", focal.RoleConstituent, own.ID)
	users, err := a.Store.Users(sys)
	if err != nil {
		t.Fatal(err)
	}
	id := map[string]int64{}
	for _, u := range users {
		id[u.Name] = u.ID
	}
	groups := []struct {
		name    string
		ceiling focal.TLP
		members []store.SharingMember
	}{
		{"Neighbours", focal.TLPAmber, []store.SharingMember{{UserID: id["node-b"]}, {OrgID: own.ID}}},
		{"Community", focal.TLPGreen, []store.SharingMember{{UserID: id["node-c"]}}},
	}
	for _, gd := range groups {
		g := &store.SharingGroup{Name: gd.name, Ceiling: gd.ceiling}
		if err := a.Store.CreateSharingGroup(sys, g); err != nil {
			t.Fatal(err)
		}
		for _, m := range gd.members {
			if err := a.Store.AddSharingMember(sys, g.ID, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Store.GrantSharingCollection(sys, g.ID, store.SharingGrant{CollectionID: coll.ID, CanRead: true}); err != nil {
			t.Fatal(err)
		}
	}

	// On B and C: an organisation owning the addresses A will share.
	local := map[*app.App]int64{}
	for _, n := range []*app.App{b, c} {
		o := &focal.Organisation{Name: "Telecom of " + n.Config.TeamName, Sector: "isp", Country: "BE", Networks: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}
		if err := n.Store.CreateOrganisation(sys, o); err != nil {
			t.Fatal(err)
		}
		local[n] = o.ID
		waitForLookup(t, n, netip.MustParseAddr("198.51.100.1"), o.ID)
	}

	// A publishes one indicator per label; TLP:RED too, written
	// straight into the collection, to prove the server never serves it.
	labels := []struct {
		tlp  focal.TLP
		addr string
		org  int64
	}{
		{focal.TLPClear, "198.51.100.1", 0}, {focal.TLPGreen, "198.51.100.2", 0}, {focal.TLPAmber, "198.51.100.3", 0},
		{focal.TLPAmberStrict, "198.51.100.4", own.ID},
	}
	for _, l := range labels {
		if _, err := a.Publisher.Indicators(sys, coll.ID, []focal.Observable{{Kind: "ipv4", Value: l.addr, TLP: l.tlp, CreatedAt: time.Now()}}, l.org); err != nil {
			t.Fatalf("publish %s: %v", l.tlp, err)
		}
	}
	red, err := stix.IndicatorFromObservable(focal.Observable{Kind: "ipv4", Value: "198.51.100.5", TLP: focal.TLPRed}, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	redObj := stix.MustObject(red)
	if _, err := a.Store.AddTaxiiObjects(sys, coll.ID, []store.TaxiiObject{{ID: redObj.ID, Type: "indicator", SpecVersion: "2.1",
		Version: red.Modified.UnixMicro(), TLP: focal.TLPRed, Body: redObj.Raw()}}); err != nil {
		t.Fatal(err)
	}

	// B and C peer with A, as docs/federation.md shows: focal peer add.
	ca := filepath.Join(a.Config.DataDir, "tls", "ca.pem")
	if _, err := os.Stat(ca); err != nil {
		t.Fatalf("A's CA: %v", err)
	}
	for n, tok := range map[*app.App]string{b: tokB, c: tokC} {
		out, code := runCLI(t, strings.NewReader(tok+"\n"), "peer", "add", "--data", n.Config.DataDir, "--name", "cert-a",
			"--url", a.URL()+"/taxii2/focal/", "--collection", "network", "--ca", ca, "--token-stdin", "--interval", "1s")
		if code != 0 {
			t.Fatalf("focal peer add on %s = %d\n%s", n.Config.TeamName, code, out)
		}
	}

	// What each node ends up with: events from feed taxii-cert-a.
	want := map[*app.App][]string{
		b: {"198.51.100.1", "198.51.100.2", "198.51.100.3"},
		c: {"198.51.100.1", "198.51.100.2"},
	}
	for n, addrs := range want {
		got := waitForFeedEvents(t, n, "taxii-cert-a", len(addrs), 30*time.Second)
		// A little longer, so that what must not arrive has had the time to.
		time.Sleep(2 * time.Second)
		got = waitForFeedEvents(t, n, "taxii-cert-a", len(addrs), time.Second)
		var ips []string
		for _, e := range got {
			ips = append(ips, e.Source.IP.String())
			if !slices.Contains(e.Orgs, local[n]) {
				t.Errorf("%s: event %s is not matched to the local organisation %d (orgs %v)", n.Config.TeamName, e.Source.IP, local[n], e.Orgs)
			}
		}
		slices.Sort(ips)
		if !slices.Equal(ips, addrs) {
			t.Errorf("%s received %v, want exactly %v", n.Config.TeamName, ips, addrs)
		}
	}

	// A's own organisation reads the collection over TAXII and gets the
	// AMBER+STRICT indicator about it, never the RED one; the peers get
	// neither.
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	read := func(tok string) string {
		t.Helper()
		req, err := http.NewRequest("GET", a.URL()+"/taxii2/focal/collections/network/objects/?match[type]=indicator", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("reading A's collection: %d %s", resp.StatusCode, b)
		}
		return string(b)
	}
	if body := read(tokOwn); !strings.Contains(body, "198.51.100.4") || strings.Contains(body, "198.51.100.5") {
		t.Errorf("A's organisation got the wrong objects:\n%s", body)
	}
	for _, tok := range []string{tokB, tokC} {
		if body := read(tok); strings.Contains(body, "198.51.100.4") || strings.Contains(body, "198.51.100.5") {
			t.Errorf("a peer read AMBER+STRICT or RED objects:\n%s", body)
		}
	}
	// The link is healthy on both nodes.
	for _, n := range []*app.App{b, c} {
		p, err := n.Store.PeerByName(sys, "cert-a")
		if err != nil {
			t.Fatal(err)
		}
		if p.LastError != "" || p.LastSuccess.IsZero() {
			t.Errorf("%s's link to A: last error %q, last success %v", n.Config.TeamName, p.LastError, p.LastSuccess)
		}
	}
}

// runCLI runs focal's command line with args and stdin, and returns what
// it printed and its exit code.
func runCLI(t *testing.T, stdin io.Reader, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := cli.Main(context.Background(), args, cli.Env{Stdout: &out, Stderr: &out, Stdin: stdin, Getenv: func(string) string { return "" }})
	return out.String(), code
}

// waitForFeedEvents waits until node n holds at least min events of feed
// and returns them.
func waitForFeedEvents(t *testing.T, n *app.App, feed string, min int, within time.Duration) []*focal.Event {
	t.Helper()
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	var list []*focal.Event
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		var err error
		list, _, err = n.Store.Events(sys, focal.EventFilter{Feed: feed, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) >= min || time.Now().After(deadline) {
			return list
		}
	}
}

// TestDirectoryOfFocalPoints peers B with A and checks the directory on
// B: A's published profile is imported, the link's health shows, and a
// peer that is not a focal node keeps an error instead of a profile.
func TestDirectoryOfFocalPoints(t *testing.T) {
	a, b := runNode(t, "cert-a.example"), runNode(t, "cert-b.example")
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	if err := a.Store.SetTeamProfile(sys, &focal.TeamProfile{Name: "CERT-A", Country: "FR", Email: "cert@cert-a.example",
		Constituency: "The networks of country A"}); err != nil {
		t.Fatal(err)
	}
	coll := &store.TaxiiCollection{Alias: "network", Title: "Network"}
	if err := a.Store.CreateTaxiiCollection(sys, coll); err != nil {
		t.Fatal(err)
	}
	tok := userToken(t, a, "node-b", focal.RolePeer, 0)
	users, err := a.Store.Users(sys)
	if err != nil {
		t.Fatal(err)
	}
	g := &store.SharingGroup{Name: "Neighbours", Ceiling: focal.TLPGreen}
	if err := a.Store.CreateSharingGroup(sys, g); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Name == "node-b" {
			if err := a.Store.AddSharingMember(sys, g.ID, store.SharingMember{UserID: u.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.Store.GrantSharingCollection(sys, g.ID, store.SharingGrant{CollectionID: coll.ID, CanRead: true}); err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(filepath.Join(a.Config.DataDir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	good := &store.Peer{Name: "cert-a", APIRoot: a.URL() + "/taxii2/focal/", Collection: "network", CAPEM: string(pem),
		Auth: store.PeerAuthBearer, Secret: tok, PollInterval: time.Second, Enabled: true}
	// Not a focal node: B's own plain TAXII root under a wrong origin.
	bad := &store.Peer{Name: "elsewhere", APIRoot: "https://127.0.0.1:1/taxii2/", Collection: "x", Auth: store.PeerAuthNone,
		PollInterval: time.Hour, Enabled: true}
	for _, p := range []*store.Peer{good, bad} {
		if err := b.Store.CreatePeer(sys, p); err != nil {
			t.Fatal(err)
		}
	}
	dir := &federation.Directory{Store: b.Store, Timeout: 2 * time.Second}
	dir.RefreshAll(context.Background())
	pp, ok := federation.LoadProfile(sys, b.Store, good.ID)
	if !ok || pp.Profile.Name != "CERT-A" || pp.Error != "" {
		t.Fatalf("A's profile on B = %+v (fetched %v)", pp, ok)
	}
	bp, ok := federation.LoadProfile(sys, b.Store, bad.ID)
	if !ok || bp.Error == "" || bp.Profile.Name != "" {
		t.Errorf("the unreachable peer's directory entry = %+v, want an error and no profile", bp)
	}
	// The page, as a coordinator of B.
	coord := userToken(t, b, "coord-b", focal.RoleCoordinator, 0)
	pool := x509.NewCertPool()
	bpem, _ := os.ReadFile(filepath.Join(b.Config.DataDir, "tls", "ca.pem"))
	pool.AppendCertsFromPEM(bpem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var body string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		req, _ := http.NewRequest("GET", b.URL()+"/federation", nil)
		req.Header.Set("Authorization", "Bearer "+coord)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(raw)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /federation on B = %d\n%s", resp.StatusCode, body)
		}
		if strings.Contains(body, "health-ok") || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{"CERT-A", "The networks of country A", "health-ok", "elsewhere", "health-failing"} {
		if !strings.Contains(body, want) {
			t.Errorf("B's directory page lacks %q\n%s", want, body)
		}
	}
}
