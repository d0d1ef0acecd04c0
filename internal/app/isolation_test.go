package app_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/notifier"
	"focal/internal/notify"
	"focal/internal/notify/notifytest"
	"focal/internal/pipeline"
)

// TestOrganisationIsolation builds a constituency of 200 organisations,
// each holding one random /24 of 198.18.0.0/15 (none overlapping), feeds
// 100,000 distinct addresses of that range through the pipeline, and
// checks that for every organisation the live stream, the e-mail digests,
// the API listing (paged), the CSV export and the portal's events pages
// (paged, as its constituent sees them) hold exactly the events of its own
// network: no more, no fewer.
func TestOrganisationIsolation(t *testing.T) {
	if testing.Short() {
		t.Skip("isolation test skipped in -short mode")
	}
	if raceEnabled {
		// 100,000 events through every channel take minutes under the
		// race detector and find no race the smaller tests miss; .ci/run
		// runs this test on its own, without -race.
		t.Skip("isolation test runs without -race (see .ci/run)")
	}
	const orgs, events = 200, 100_000
	a := mustRun(t)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	rng := rand.New(rand.NewPCG(7, 11))

	// 512 /24s in 198.18.0.0/15; 200 of them, at random, are owned.
	nets := rng.Perm(512)[:orgs]
	type member struct {
		org   *focal.Organisation
		net   netip.Prefix
		token string
		want  map[string]bool
	}
	members := make([]*member, orgs)
	owner := map[int]*member{} // /24 index -> member
	for i, n := range nets {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18 + byte(n>>8), byte(n), 0}), 24)
		o := &focal.Organisation{Name: fmt.Sprintf("Org %03d", i), Sector: "isp", Country: "FR", Networks: []netip.Prefix{p},
			Contacts: []focal.Contact{{Email: fmt.Sprintf("abuse@org%03d.example", i), Role: "abuse"}}}
		if err := a.Store.CreateOrganisation(sys, o); err != nil {
			t.Fatal(err)
		}
		m := &member{org: o, net: p, want: map[string]bool{}}
		members[i], owner[n] = m, m
	}
	last := members[orgs-1]
	waitForLookup(t, a, last.net.Addr().Next(), last.org.ID)
	for i, m := range members {
		m.token = userToken(t, a, fmt.Sprintf("org%03d", i), focal.RoleConstituent, m.org.ID)
	}

	// 100,000 distinct addresses of the /15.
	var body strings.Builder
	for _, v := range rng.Perm(1 << 17)[:events] {
		addr := netip.AddrFrom4([4]byte{198, 18 + byte(v>>16), byte(v >> 8), byte(v)})
		body.WriteString(addr.String() + "\n")
		if m := owner[v>>8]; m != nil {
			m.want[addr.String()] = true
		}
	}

	// Every organisation follows its stream while the events arrive.
	got := make([]map[string]bool, orgs)
	var wg sync.WaitGroup
	var stops []func()
	for i, m := range members {
		got[i] = map[string]bool{}
		ch, stop := followFor(t, a, m.token, "", 5*time.Minute)
		stops = append(stops, stop)
		t.Cleanup(stop) // before the App closes, also when the test fails
		wg.Go(func() {
			deadline := time.After(5 * time.Minute)
			for len(got[i]) < len(m.want) {
				select {
				case ev, ok := <-ch:
					if !ok {
						return
					}
					got[i][ev.IP] = true
				case <-deadline:
					return
				}
			}
		})
	}
	fd := &focal.FeedDef{Name: "isolation", Format: "iplist", Enabled: true, Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}}
	if err := a.Store.CreateFeed(sys, fd); err != nil {
		t.Fatal(err)
	}
	// Longer than ingestAndWait allows: under the race detector 100,000
	// events take a while.
	ctx, cancel := context.WithTimeout(sys, 5*time.Minute)
	defer cancel()
	run, err := a.Pipeline.Ingest(ctx, pipeline.Request{Feed: fd, Source: "test", Input: "isolation.txt", Body: strings.NewReader(body.String())})
	if err != nil {
		t.Fatal(err)
	}
	if run, err = a.Pipeline.WaitRun(ctx, run.ID, nil); err != nil {
		t.Fatal(err)
	}
	if run.Events != events {
		t.Fatalf("run stored %d events, want %d", run.Events, events)
	}
	wg.Wait()
	// A little longer, so that an event that should not be there has the
	// time to show up.
	time.Sleep(300 * time.Millisecond)
	for _, stop := range stops {
		stop()
	}

	// Digests: one notifier run sends each organisation its events.
	relay := &notifytest.Relay{}
	relay.Start(t, "127.0.0.1:0")
	n := &notifier.Notifier{Store: a.Store, Team: notify.Team{Name: "CERT-TEST", Email: "cert@cert.example"},
		Sender: &notify.Sender{Relay: relay.Addr, TLS: notify.TLSNone, MaxAttempts: 1}, Holder: "isolation-test"}
	for range 3 {
		if err := n.Tick(sys); err != nil {
			t.Fatal(err)
		}
	}
	mailed := map[string]map[string]bool{}
	for _, d := range relay.Got() {
		ips, _, err := notifytest.CSVIPs(d.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range d.To {
			if mailed[to] == nil {
				mailed[to] = map[string]bool{}
			}
			for _, ip := range ips {
				mailed[to][ip] = true
			}
		}
	}

	now := time.Now().UTC()
	window := "since=" + now.AddDate(0, 0, -1).Format(time.DateOnly) + "&until=" + now.AddDate(0, 0, 1).Format(time.DateOnly)
	total := 0
	for i, m := range members {
		total += len(m.want)
		check := func(what string, have map[string]bool) {
			t.Helper()
			var extra, missing []string
			for ip := range have {
				if !m.want[ip] {
					extra = append(extra, ip)
				}
			}
			for ip := range m.want {
				if !have[ip] {
					missing = append(missing, ip)
				}
			}
			if len(extra)+len(missing) > 0 {
				slices.Sort(extra)
				slices.Sort(missing)
				t.Errorf("%s of %s (%s): %d extra %v, %d missing %v", what, m.org.Name, m.net, len(extra), head(extra), len(missing), head(missing))
			}
		}
		check("stream", got[i])
		check("e-mail digest", mailed[m.org.Contacts[0].Email])

		listed := map[string]bool{}
		cursor := ""
		for {
			path := "/api/v1/my/events?limit=1000&" + window
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			status, _, b := apiCall(t, a, m.token, "GET", path, nil)
			if status != http.StatusOK {
				t.Fatalf("%s: %d %s", path, status, b)
			}
			page := decodeJSON[eventsJSON](t, b)
			for _, e := range page.Events {
				listed[e.Source.IP] = true
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		check("API listing", listed)

		status, _, b := apiCall(t, a, m.token, "GET", "/api/v1/my/events?format=csv&"+window, nil)
		if status != http.StatusOK {
			t.Fatalf("CSV export: %d %s", status, b)
		}
		rows, err := csv.NewReader(strings.NewReader(b)).ReadAll()
		if err != nil || len(rows) == 0 {
			t.Fatalf("CSV export of %s: %v", m.org.Name, err)
		}
		col := slices.Index(rows[0], "source_ip")
		exported := map[string]bool{}
		for _, r := range rows[1:] {
			exported[r[col]] = true
		}
		check("CSV export", exported)

		// The portal: the events pages a constituent browses, followed
		// through their "Older" links.
		shown := map[string]bool{}
		for path := "/events"; path != ""; {
			status, _, b := apiCall(t, a, m.token, "GET", path, nil)
			if status != http.StatusOK {
				t.Fatalf("portal %s: %d", path, status)
			}
			for _, row := range portalSource.FindAllStringSubmatch(b, -1) {
				shown[row[1]] = true
			}
			path = ""
			if older := portalOlder.FindStringSubmatch(b); older != nil {
				path = html.UnescapeString(older[1])
			}
		}
		check("portal events pages", shown)
	}
	if total < events/3 {
		t.Errorf("only %d of %d events fall in the organisations' networks; the test is too weak", total, events)
	}
}

// portalSource finds the source address of each row of the portal's
// events table; portalOlder its link to the next page.
var (
	portalSource = regexp.MustCompile(`<td><code>([0-9a-f.:]+)</code></td>`)
	portalOlder  = regexp.MustCompile(`<a href="([^"]+)" rel="next" id="older">`)
)

func head(s []string) []string { return s[:min(len(s), 5)] }
