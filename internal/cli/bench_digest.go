package cli

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"focal/internal/focal"
	"focal/internal/notifier"
	"focal/internal/notify"
	"focal/internal/store"
)

// benchDigest measures digest generation: a constituency of --orgs
// organisations, each owning a /22 of 10.0.0.0/8, with --events events
// spread evenly over them, stored in bulk (not timed); then one notifier
// pass builds and queues every organisation's daily digest (text with a
// CSV attachment, to its abuse contact) and records which events each
// carried. Only that pass is timed.
func benchDigest(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	orgs := fs.Int("orgs", 10000, "organisations")
	events := fs.Int("events", 10_000_000, "events, spread evenly over the organisations")
	pg := fs.String("postgres", "", "run on this PostgreSQL database (a scratch schema) instead of SQLite")
	workers := fs.Int("workers", 0, "organisations built at once (default: the notifier's)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the timed pass to this file (go tool pprof)")
	if _, err := parse(env, fs, args, nil); err != nil {
		return err
	}
	if *orgs < 1 || *orgs > 16384 || *events < *orgs {
		return usagef("--orgs must be 1 to 16384 and --events at least --orgs")
	}
	var st *store.Store
	if *pg != "" {
		dsn, drop, err := store.ScratchSchema(ctx, *pg)
		if err != nil {
			return err
		}
		defer drop() //nolint:errcheck // best effort
		if st, err = store.Open(ctx, dsn, ""); err != nil {
			return err
		}
	} else {
		dir, err := os.MkdirTemp("", "focal-bench-digest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if st, err = store.Open(ctx, "sqlite:"+filepath.Join(dir, "focal.db"), ""); err != nil {
			return err
		}
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	fmt.Fprintf(env.Stdout, "seeding %d organisations and %d events (%s)…\n", *orgs, *events, st.Dialect())
	seedStart := time.Now()
	fd := &focal.FeedDef{Name: "bench-digest", Format: "shadowserver", Enabled: true, TLP: focal.TLPAmber, Confidence: 80}
	if err := st.CreateFeed(sys, fd); err != nil {
		return err
	}
	ids := make([]int64, *orgs)
	nets := make([]netip.Prefix, *orgs)
	for i := range *orgs {
		nets[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 6), byte(i&63) << 2, 0}), 22)
		o := &focal.Organisation{Name: fmt.Sprintf("Bench %05d", i), Sector: "isp", Country: "FR", Networks: []netip.Prefix{nets[i]},
			Contacts: []focal.Contact{{Email: fmt.Sprintf("abuse@org%05d.example", i), Role: "abuse"}}}
		if err := st.CreateOrganisation(sys, o); err != nil {
			return err
		}
		ids[i] = o.ID
	}
	per := *events / *orgs
	seeded, err := store.SeedEvents(ctx, st, fd.ID, 0, ids, nets, per, 50_000, time.Now().Add(-time.Minute))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "seeded %d events in %s\n", seeded, time.Since(seedStart).Round(time.Second))

	n := &notifier.Notifier{Store: st, Team: notify.Team{Name: "CERT-BENCH", Email: "cert@cert.example"}, Holder: "bench", Workers: *workers}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	start := time.Now()
	err = n.Tick(ctx)
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	sum, err := st.NotificationTotals(sys)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "queued %d messages carrying %d events for %d organisations\n", sum.Messages, sum.Events, sum.Orgs)
	if sum.Orgs != int64(*orgs) || sum.Events != seeded {
		return fmt.Errorf("bench digest: digests cover %d organisations and %d events, want %d and %d", sum.Orgs, sum.Events, *orgs, seeded)
	}
	fmt.Fprintf(env.Stdout, "digest generation: %.1f s for %d organisations over %d events (%.0f organisations/s)\n",
		elapsed.Seconds(), *orgs, seeded, float64(*orgs)/elapsed.Seconds())
	return nil
}
