package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"focal/internal/app"
	"focal/internal/auth"
	"focal/internal/config"
	"focal/internal/focal"
	"focal/internal/pipeline"
	"focal/internal/store"
)

// benchStream measures the live stream: many clients follow their
// organisations' streams over HTTP while events are ingested, and each
// event's delivery is timed from the commit that stored it to its arrival
// at a client.
func benchStream(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	clients := fs.Int("clients", 1000, "stream clients")
	orgs := fs.Int("orgs", 100, "organisations (clients are spread over them)")
	batches := fs.Int("batches", 20, "ingest runs, one every --every")
	per := fs.Int("events", 100, "events per run")
	every := fs.Duration("every", 250*time.Millisecond, "time between ingest runs")
	if _, err := parse(env, fs, args, nil); err != nil {
		return err
	}
	if *clients < 1 || *orgs < 1 || *orgs > 250 || *batches < 1 || *per < 1 {
		return usagef("--clients, --batches and --events must be positive; --orgs 1 to 250")
	}
	dir, err := os.MkdirTemp("", "focal-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := config.Default()
	cfg.DataDir, cfg.Addr = dir, "127.0.0.1:0"
	a := app.New(cfg, NewLogger(env.Stderr, "text", "error"))
	var mu sync.Mutex
	committed := map[int64]time.Time{}
	a.AfterCommit = func(b *store.EventBatch, r *store.CommitResult) {
		now := time.Now()
		mu.Lock()
		for i := range b.Rows {
			if r.IsNew(i) {
				committed[r.EventID(i)] = now
			}
		}
		mu.Unlock()
	}
	if err := a.Run(ctx); err != nil {
		return err
	}
	defer a.Close()
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	// Organisation i owns 198.18.i.0/24.
	tokens := make([]string, *orgs)
	for i := range *orgs {
		o := &focal.Organisation{Name: fmt.Sprintf("Bench %03d", i), Sector: "isp", Country: "FR",
			Networks: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(i), 0}), 24)}}
		if err := a.Store.CreateOrganisation(sys, o); err != nil {
			return err
		}
		u := &focal.User{Name: fmt.Sprintf("bench%03d", i), Role: focal.RoleConstituent, OrgID: o.ID}
		if err := a.Store.CreateUser(sys, u, ""); err != nil {
			return err
		}
		tok, hash, err := auth.NewToken(auth.APITokenPrefix)
		if err != nil {
			return err
		}
		if err := a.Store.CreateToken(sys, &focal.Token{UserID: u.ID, Scope: "read", ExpiresAt: time.Now().Add(time.Hour)}, hash); err != nil {
			return err
		}
		tokens[i] = tok
	}
	a.ConstituencyChanged()
	for deadline := time.Now().Add(10 * time.Second); len(a.Lookup.Load().IP(netip.AddrFrom4([4]byte{198, 18, byte(*orgs - 1), 1}))) == 0; {
		if time.Now().After(deadline) {
			return fmt.Errorf("the constituency lookup was not rebuilt")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Clients connect; each records arrival times by event id.
	type arrival struct {
		id int64
		at time.Time
	}
	arrivals := make(chan arrival, 65536)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	transport := &http.Transport{MaxIdleConnsPerHost: *clients, MaxConnsPerHost: 0}
	client := &http.Client{Transport: transport}
	var ready, done sync.WaitGroup
	connectErr := make(chan error, *clients)
	for c := range *clients {
		ready.Add(1)
		done.Go(func() {
			req, _ := http.NewRequestWithContext(sctx, "GET", a.URL()+"/api/v1/my/stream", nil)
			req.Header.Set("Authorization", "Bearer "+tokens[c%*orgs])
			resp, err := client.Do(req)
			ready.Done()
			if err != nil {
				connectErr <- err
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				if !strings.HasPrefix(line, "data: ") {
					continue
				}
				var e struct{ ID int64 }
				if json.Unmarshal([]byte(line[6:]), &e) == nil {
					select {
					case arrivals <- arrival{e.ID, time.Now()}:
					default:
					}
				}
			}
		})
	}
	ready.Wait()
	select {
	case err := <-connectErr:
		return fmt.Errorf("a client could not connect: %w", err)
	default:
	}
	time.Sleep(500 * time.Millisecond) // the followers are subscribed
	fmt.Fprintf(env.Stdout, "stream bench: %d clients over %d organisations, %d runs of %d events every %v\n", *clients, *orgs, *batches, *per, *every)

	fd := &focal.FeedDef{Name: "bench-stream", Format: "iplist", Enabled: true, Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}}
	if err := a.Store.CreateFeed(sys, fd); err != nil {
		return err
	}
	var lat []time.Duration
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for ar := range arrivals {
			mu.Lock()
			t, ok := committed[ar.id]
			mu.Unlock()
			if ok {
				lat = append(lat, ar.at.Sub(t))
			}
		}
	}()
	n := 0
	for b := range *batches {
		var body strings.Builder
		for range *per {
			fmt.Fprintf(&body, "198.18.%d.%d\n", n%*orgs, 1+(n / *orgs)%250)
			n++
		}
		if _, err := a.Pipeline.Ingest(sys, pipeline.Request{Feed: fd, Source: "bench", Input: fmt.Sprintf("run-%d", b), Body: strings.NewReader(body.String())}); err != nil {
			return err
		}
		time.Sleep(*every)
	}
	time.Sleep(2 * time.Second) // the last deliveries
	stop()
	done.Wait()
	close(arrivals)
	<-collected
	if len(lat) == 0 {
		return fmt.Errorf("no event was delivered")
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Fprintf(env.Stdout, "deliveries %d (each event to %d clients), p50 %v, p90 %v, p99 %v, max %v\n",
		len(lat), *clients / *orgs, q(0.5).Round(time.Millisecond), q(0.9).Round(time.Millisecond), q(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	fmt.Fprintf(env.Stdout, "median delivery ms: %.1f\n", float64(q(0.5).Microseconds())/1000)
	return nil
}
