package cli

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"focal/internal/app"
	"focal/internal/auth"
	"focal/internal/config"
	"focal/internal/focal"
	"focal/internal/stix"
	"focal/internal/store"
)

// benchFederation measures propagation between focal nodes on loopback:
// three nodes A, B and C; B polls A's collection "network" and adds what
// it imports to its own collection "relay", which C polls. Indicators are
// published on A one by one; each is timed from its publication to the
// commit of its event on B (A → B) and on C (A → B → C). With --hints
// (the default) the nodes peer both ways, so each write is pushed as a
// hint; --hints=false leaves plain polling every --interval. --catchup N
// instead times a new peer pulling N objects already in A's collection.
func benchFederation(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	count := fs.Int("indicators", 100, "indicators published on A, one at a time")
	every := fs.Duration("every", 100*time.Millisecond, "time between two publications")
	hints := fs.Bool("hints", true, "peer both ways so writes are pushed as hints (false: plain polling)")
	interval := fs.Duration("interval", time.Second, "poll interval of every peer")
	catchup := fs.Int("catchup", 0, "instead: time a new peer pulling this many objects from A")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the measured part to this file (go tool pprof)")
	if _, err := parse(env, fs, args, nil); err != nil {
		return err
	}
	if *count < 1 || *interval < time.Second {
		return usagef("--indicators must be positive and --interval at least 1s")
	}
	dir, err := os.MkdirTemp("", "focal-bench-fed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sys := focal.NewContextWithPrincipal(ctx, focal.System())

	var mu sync.Mutex
	arrived := map[string]map[string]time.Time{"B": {}, "C": {}} // node -> indicator id -> commit time
	start := func(name string) (*app.App, error) {
		cfg := config.Default()
		cfg.DataDir, cfg.Addr, cfg.TeamName = filepath.Join(dir, name), "127.0.0.1:0", "cert-"+name+".example"
		a := app.New(cfg, NewLogger(env.Stderr, "text", "error"))
		a.AfterCommit = func(b *store.EventBatch, r *store.CommitResult) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if m := arrived[name]; m != nil {
				for _, row := range b.Rows {
					if _, seen := m[row.E.Identifier]; !seen {
						m[row.E.Identifier] = now
					}
				}
			}
		}
		if err := a.Run(ctx); err != nil {
			return nil, err
		}
		return a, nil
	}
	nodes := map[string]*app.App{}
	for _, n := range []string{"A", "B", "C"} {
		a, err := start(n)
		if err != nil {
			return err
		}
		defer a.Close()
		nodes[n] = a
	}
	A, B := nodes["A"], nodes["B"]
	// Every node shares two collections with a need-to-know group that
	// holds the accounts of the other two nodes.
	accounts := map[string]map[string]string{} // node -> account name -> token
	collections := map[string]map[string]string{}
	for name, n := range nodes {
		accounts[name], collections[name] = map[string]string{}, map[string]string{}
		g := &store.SharingGroup{Name: "Focal points", Ceiling: focal.TLPAmber}
		if err := n.Store.CreateSharingGroup(sys, g); err != nil {
			return err
		}
		for _, other := range []string{"A", "B", "C"} {
			if other == name {
				continue
			}
			u := &focal.User{Name: "node-" + strings.ToLower(other), Role: focal.RolePeer}
			if err := n.Store.CreateUser(sys, u, ""); err != nil {
				return err
			}
			tok, hash, err := auth.NewToken(auth.APITokenPrefix)
			if err != nil {
				return err
			}
			if err := n.Store.CreateToken(sys, &focal.Token{UserID: u.ID, Scope: "write", ExpiresAt: time.Now().Add(24 * time.Hour)}, hash); err != nil {
				return err
			}
			accounts[name]["node-"+strings.ToLower(other)] = tok
			if err := n.Store.AddSharingMember(sys, g.ID, store.SharingMember{UserID: u.ID}); err != nil {
				return err
			}
		}
		for _, alias := range []string{"network", "relay"} {
			c := &store.TaxiiCollection{Alias: alias, Title: alias}
			if err := n.Store.CreateTaxiiCollection(sys, c); err != nil {
				return err
			}
			collections[name][alias] = c.ID
			if err := n.Store.GrantSharingCollection(sys, g.ID, store.SharingGrant{CollectionID: c.ID, CanRead: true}); err != nil {
				return err
			}
		}
		// An organisation owning the indicators' addresses.
		o := &focal.Organisation{Name: "Telecom " + name, Sector: "isp", Country: "FR", Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
		if err := n.Store.CreateOrganisation(sys, o); err != nil {
			return err
		}
		n.ConstituencyChanged()
	}
	peer := func(on, of, collection, importInto string) error {
		p := &store.Peer{Name: "node-" + strings.ToLower(of), APIRoot: nodes[of].URL() + "/taxii2/focal/", Collection: collection,
			Auth: store.PeerAuthBearer, Secret: accounts[of]["node-"+strings.ToLower(on)], Account: "node-" + strings.ToLower(of), PollInterval: *interval, Enabled: true}
		if importInto != "" {
			p.ImportCollection = collections[on][importInto]
		}
		return nodes[on].Store.CreatePeer(sys, p)
	}

	if *catchup > 0 {
		return benchCatchup(ctx, env, sys, A, B, collections["A"]["network"], *catchup, peer, *cpuprofile)
	}

	// B polls A's network into its relay; C polls B's relay. With hints,
	// A and B also poll back, so each has the other as a peer to hint.
	if err := peer("B", "A", "network", "relay"); err != nil {
		return err
	}
	if err := peer("C", "B", "relay", ""); err != nil {
		return err
	}
	if *hints {
		if err := peer("A", "B", "network", ""); err != nil {
			return err
		}
		if err := peer("B", "C", "network", ""); err != nil {
			return err
		}
	}
	time.Sleep(2 * *interval) // first polls done, links healthy
	published := map[string]time.Time{}
	for i := range *count {
		obs := focal.Observable{Kind: "ipv4", Value: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), TLP: focal.TLPAmber, CreatedAt: time.Now()}
		t0 := time.Now()
		res, err := A.Publisher.Indicators(sys, collections["A"]["network"], []focal.Observable{obs}, 0)
		if err != nil {
			return err
		}
		published[res.IDs[0]] = t0
		time.Sleep(*every)
	}
	deadline := time.Now().Add(10*time.Second + 4**interval)
	for time.Now().Before(deadline) {
		mu.Lock()
		done := len(arrived["B"]) >= *count && len(arrived["C"]) >= *count
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	mode := "with push hints"
	if !*hints {
		mode = fmt.Sprintf("plain polling every %s", *interval)
	}
	var p95s [2]time.Duration
	for i, node := range []string{"B", "C"} {
		var lat []time.Duration
		for id, t0 := range published {
			if t1, ok := arrived[node][id]; ok {
				lat = append(lat, t1.Sub(t0))
			}
		}
		if len(lat) < len(published) {
			return fmt.Errorf("bench federation: only %d of %d indicators reached %s", len(lat), len(published), node)
		}
		slices.Sort(lat)
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		p95s[i] = q(0.95)
		path := map[string]string{"B": "A → B", "C": "A → B → C"}[node]
		fmt.Fprintf(env.Stdout, "%s, %s: %d indicators, p50 %v, p95 %v, max %v\n", path, mode, len(lat),
			q(0.5).Round(time.Millisecond), q(0.95).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	}
	fmt.Fprintf(env.Stdout, "propagation p95 (%s): A → B %.0f ms, A → B → C %.0f ms\n", mode,
		float64(p95s[0].Microseconds())/1000, float64(p95s[1].Microseconds())/1000)
	return nil
}

// benchCatchup fills A's collection with n indicators, then adds A as a
// peer of B and times B's pull of all of them (into B's pipeline).
func benchCatchup(ctx context.Context, env Env, sys context.Context, A, B *app.App, collection string, n int,
	peer func(on, of, collection, importInto string) error, cpuprofile string) error {
	fmt.Fprintf(env.Stdout, "filling A's collection with %d indicators…\n", n)
	const batch = 5000
	now := time.Now()
	for done := 0; done < n; done += batch {
		objs := make([]store.TaxiiObject, 0, batch)
		for i := done; i < min(n, done+batch); i++ {
			ind, err := stix.IndicatorFromObservable(focal.Observable{Kind: "ipv4", Value: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
				TLP: focal.TLPGreen, CreatedAt: now}, "", now)
			if err != nil {
				return err
			}
			o := stix.MustObject(ind)
			objs = append(objs, store.TaxiiObject{ID: o.ID, Type: "indicator", SpecVersion: "2.1", Version: ind.Modified.UnixMicro(), TLP: focal.TLPGreen, Body: o.Raw()})
		}
		if _, err := A.Store.AddTaxiiObjects(sys, collection, objs); err != nil {
			return err
		}
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	if err := peer("B", "A", "network", ""); err != nil {
		return err
	}
	for {
		p, err := B.Store.PeerByName(sys, "node-a")
		if err != nil {
			return err
		}
		if p.ObjectsImported >= int64(n) {
			break
		}
		if p.LastError != "" && p.Failures > 3 {
			return fmt.Errorf("bench federation: the pull failed: %s", p.LastError)
		}
		if time.Since(start) > 30*time.Minute {
			return fmt.Errorf("bench federation: %d of %d objects pulled after 30 minutes", p.ObjectsImported, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	fmt.Fprintf(env.Stdout, "catch-up: a new peer pulled %d objects in %.1f s (%.0f objects/s)\n", n, elapsed.Seconds(), float64(n)/elapsed.Seconds())
	return nil
}
