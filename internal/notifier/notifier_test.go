package notifier

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"focal/internal/focal"
	"focal/internal/notify"
	"focal/internal/notify/notifytest"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// fixture is a store with two organisations and a notifier over it.
type fixture struct {
	s      *store.Store
	n      *Notifier
	now    time.Time
	a, b   *focal.Organisation
	feedID int64
	ips    map[int64]string // event id -> source IP
	class  string           // of the events commit makes; default intrusion-attempts/brute-force
	typ    string
}

func sysCtx() context.Context {
	return focal.NewContextWithPrincipal(context.Background(), focal.System())
}

// newFixture makes Alpha (default policy from its contacts, immediate)
// and Bravo (a stored immediate policy with two recipients).
func newFixture(t *testing.T, s *store.Store, relayAddr string) *fixture {
	t.Helper()
	ctx := sysCtx()
	f := &fixture{s: s, now: time.Now().UTC(), ips: map[int64]string{}}
	f.a = &focal.Organisation{Name: "Alpha", Sector: "isp", Country: "FR", Notify: focal.NotifyPrefs{Schedule: "immediate"},
		Contacts: []focal.Contact{{Email: "abuse@alpha.example", Role: "abuse"}, {Email: "boss@alpha.example", Role: "management"}}}
	f.b = &focal.Organisation{Name: "Bravo", Sector: "isp", Country: "FR",
		Contacts: []focal.Contact{{Email: "abuse@bravo.example", Role: "abuse"}}}
	for _, o := range []*focal.Organisation{f.a, f.b} {
		if err := s.CreateOrganisation(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	p := &notify.Policy{Schedule: notify.ScheduleImmediate, Recipients: []string{"soc@bravo.example", "Bravo NOC <noc@bravo.example>"}}
	if err := s.SetNotifyPolicy(ctx, f.b.ID, p); err != nil {
		t.Fatal(err)
	}
	fd := &focal.FeedDef{Name: "bf", Format: "iplist", Confidence: 50, Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}}
	if err := s.CreateFeed(ctx, fd); err != nil {
		t.Fatal(err)
	}
	f.feedID = fd.ID
	f.n = &Notifier{
		Store:       s,
		Sender:      &notify.Sender{Relay: relayAddr, TLS: notify.TLSNone, HELO: "focal.test", MaxAttempts: 1, Timeout: 5 * time.Second},
		Team:        notify.Team{Name: "CERT-XX", Email: "cert@cert.example"},
		Holder:      "test",
		MaxFailures: 2,
		Now:         func() time.Time { return f.now },
	}
	return f
}

// commit stores one event per IP for org, as the pipeline would.
func (f *fixture) commit(t *testing.T, org int64, tlp focal.TLP, ips ...string) []int64 {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	class, typ := "intrusion-attempts", "brute-force"
	if f.class != "" {
		class, typ = f.class, f.typ
	}
	b := &store.EventBatch{}
	for _, ip := range ips {
		e := &focal.Event{Class: class, Type: typ, Source: focal.Endpoint{IP: netip.MustParseAddr(ip)},
			Feed: "bf", TLP: tlp, Confidence: 50, Count: 1, SourceTime: now, ObservedTime: now, FirstSeen: now, LastSeen: now, Orgs: []int64{org}}
		sum := sha256.Sum256([]byte(ip))
		b.Rows = append(b.Rows, store.EventRow{Key: [16]byte(sum[:16]), FeedID: f.feedID, E: e})
	}
	res, err := f.s.CommitEvents(sysCtx(), b)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i, r := range b.Rows {
		ids = append(ids, res.EventID(i))
		f.ips[res.EventID(i)] = r.E.Source.IP.String()
	}
	return ids
}

func (f *fixture) tick(t *testing.T) {
	t.Helper()
	if err := f.n.Tick(context.Background()); err != nil {
		t.Fatalf("Tick: %v", err)
	}
}

func (f *fixture) notifications(t *testing.T, org int64) []*store.Notification {
	t.Helper()
	ns, err := f.s.Notifications(sysCtx(), org, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// csvIPs returns the source IPs of a delivered digest's CSV attachment,
// sorted, and its subject.
func csvIPs(t *testing.T, raw []byte) ([]string, string) {
	t.Helper()
	ips, subject, err := notifytest.CSVIPs(raw)
	if err != nil {
		t.Fatal(err)
	}
	return ips, subject
}

func TestDigests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		r := &notifytest.Relay{}
		r.Start(t, "127.0.0.1:0")
		f := newFixture(t, s, r.Addr)
		f.commit(t, f.a.ID, focal.TLPAmber, "192.0.2.1", "192.0.2.2")
		red := f.commit(t, f.a.ID, focal.TLPRed, "192.0.2.66")
		f.commit(t, f.b.ID, focal.TLPGreen, "198.51.100.1")
		f.tick(t)

		got := r.Got()
		if len(got) != 2 {
			t.Fatalf("delivered %d messages, want one digest per organisation", len(got))
		}
		want := map[string][]string{ // first recipient -> the organisation's IPs
			"abuse@alpha.example": {"192.0.2.1", "192.0.2.2"},
			"soc@bravo.example":   {"198.51.100.1"},
		}
		rcpts := map[string][]string{
			"abuse@alpha.example": {"abuse@alpha.example"},
			"soc@bravo.example":   {"soc@bravo.example", "noc@bravo.example"},
		}
		for _, d := range got {
			ips, subject := csvIPs(t, d.Data)
			if !slices.Equal(ips, want[d.To[0]]) {
				t.Errorf("digest to %v carries %v, want %v", d.To, ips, want[d.To[0]])
			}
			if !slices.Equal(d.To, rcpts[d.To[0]]) {
				t.Errorf("digest went to %v, want %v", d.To, rcpts[d.To[0]])
			}
			if d.From != "cert@cert.example" {
				t.Errorf("envelope sender = %q, want the team's", d.From)
			}
			if !strings.Contains(subject, "TLP:") {
				t.Errorf("subject %q has no TLP label", subject)
			}
		}
		for _, org := range []int64{f.a.ID, f.b.ID} {
			ns := f.notifications(t, org)
			if len(ns) != 1 || ns[0].State != store.NotificationSent || ns[0].Attempts != 1 {
				t.Fatalf("notifications of %d = %+v, want one sent", org, ns)
			}
		}
		an := f.notifications(t, f.a.ID)[0]
		if ids, err := s.NotificationEvents(sysCtx(), an.ID); err != nil || len(ids) != 2 || slices.Contains(ids, red[0]) {
			t.Errorf("NotificationEvents(Alpha) = %v, %v; want its two events, not the TLP:RED one", ids, err)
		}

		// Nothing new: nothing sent.
		f.now = f.now.Add(time.Minute)
		f.tick(t)
		if n := len(r.Got()); n != 2 {
			t.Fatalf("after a second tick %d messages delivered, want still 2", n)
		}

		// New events: a digest with only them.
		f.commit(t, f.a.ID, focal.TLPAmber, "192.0.2.3")
		f.commit(t, f.a.ID, focal.TLPRed, "192.0.2.67")
		f.now = f.now.Add(time.Minute)
		f.tick(t)
		got = r.Got()
		if len(got) != 3 {
			t.Fatalf("delivered %d messages, want 3", len(got))
		}
		if ips, _ := csvIPs(t, got[2].Data); !slices.Equal(ips, []string{"192.0.2.3"}) || got[2].To[0] != "abuse@alpha.example" {
			t.Errorf("third digest to %v carries %v, want only 192.0.2.3 to Alpha", got[2].To, ips)
		}
		// TLP:RED events are never queued.
		for _, n := range append(f.notifications(t, f.a.ID), f.notifications(t, f.b.ID)...) {
			ids, err := s.NotificationEvents(sysCtx(), n.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if strings.HasSuffix(f.ips[id], ".66") || strings.HasSuffix(f.ips[id], ".67") {
					t.Errorf("notification %s carries TLP:RED event %d", n.Reference, id)
				}
			}
		}
	})
}

func TestSchedule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		r := &notifytest.Relay{}
		r.Start(t, "127.0.0.1:0")
		f := newFixture(t, s, r.Addr)
		p := &notify.Policy{Schedule: notify.ScheduleHourly, Recipients: []string{"soc@bravo.example"}}
		if err := s.SetNotifyPolicy(sysCtx(), f.b.ID, p); err != nil {
			t.Fatal(err)
		}
		f.tick(t) // the first digest (empty) sets the mark
		f.commit(t, f.b.ID, focal.TLPAmber, "198.51.100.1")
		f.now = f.now.Add(30 * time.Minute)
		f.tick(t)
		if n := len(r.Got()); n != 0 {
			t.Fatalf("hourly: %d messages within the hour, want 0", n)
		}
		f.now = f.now.Add(31 * time.Minute)
		f.tick(t)
		if got := r.Got(); len(got) != 1 || got[0].To[0] != "soc@bravo.example" {
			t.Fatalf("hourly: after the hour delivered %d, want Bravo's digest", len(got))
		}
	})
}

func TestRelayDownThenUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		addr := notifytest.ClosedAddr(t)
		f := newFixture(t, s, addr)
		f.commit(t, f.a.ID, focal.TLPAmber, "192.0.2.1")
		f.n.RetryBackoff = time.Minute
		f.tick(t)
		ns := f.notifications(t, f.a.ID)
		if len(ns) != 1 || ns[0].State != store.NotificationRetrying || ns[0].Attempts != 1 || ns[0].LastError == "" {
			t.Fatalf("after a failed try = %+v; want one retrying, 1 attempt, the error", ns)
		}
		// Not due yet: not tried.
		f.now = f.now.Add(30 * time.Second)
		f.tick(t)
		if ns := f.notifications(t, f.a.ID); ns[0].Attempts != 1 {
			t.Errorf("attempts before the backoff = %d, want 1", ns[0].Attempts)
		}
		f.now = f.now.Add(time.Minute)
		f.tick(t)
		if ns := f.notifications(t, f.a.ID); ns[0].Attempts != 2 || ns[0].State != store.NotificationRetrying {
			t.Fatalf("after the second try = %+v; want retrying, 2 attempts", ns[0])
		}
		// MaxFailures (2) reached: the coordinator has an incident.
		incs, err := s.Incidents(sysCtx(), store.IncidentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(incs) != 1 || incs[0].Title != "Notifications to Alpha failing" || incs[0].Channel != "pipeline" {
			t.Errorf("incidents = %+v; want one about Alpha", incs)
		}
		// The relay comes back: delivered.
		r := &notifytest.Relay{}
		r.Start(t, addr)
		f.now = f.now.Add(3 * time.Minute)
		f.tick(t)
		ns = f.notifications(t, f.a.ID)
		if ns[0].State != store.NotificationSent || ns[0].Attempts != 3 || len(r.Got()) != 1 {
			t.Fatalf("after the relay is back = %+v, %d delivered; want sent after 3 attempts", ns[0], len(r.Got()))
		}
	})
}

func TestPermanentFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		r := &notifytest.Relay{RcptErr: func(string) error {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}}
		r.Start(t, "127.0.0.1:0")
		f := newFixture(t, s, r.Addr)
		f.commit(t, f.a.ID, focal.TLPAmber, "192.0.2.1")
		f.tick(t)
		ns := f.notifications(t, f.a.ID)
		if len(ns) != 1 || ns[0].State != store.NotificationFailed || !strings.Contains(ns[0].LastError, "550") {
			t.Fatalf("after a 550 = %+v; want failed", ns)
		}
		sessions := r.Sessions()
		f.now = f.now.Add(24 * time.Hour)
		f.tick(t)
		if r.Sessions() != sessions {
			t.Errorf("a failed message was tried again")
		}
	})
}

func TestNoSenderLeavesQueued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s, notifytest.ClosedAddr(t))
		f.n.Sender = nil
		f.commit(t, f.b.ID, focal.TLPAmber, "198.51.100.1")
		f.tick(t)
		ns := f.notifications(t, f.b.ID)
		if len(ns) != 1 || ns[0].State != store.NotificationQueued || ns[0].Attempts != 0 {
			t.Fatalf("without a sender = %+v; want one queued, untried", ns)
		}
		// Another process does not work while the lease is held.
		other := &Notifier{Store: s, Team: f.n.Team, Holder: "other", Now: f.n.Now}
		f.commit(t, f.b.ID, focal.TLPAmber, "198.51.100.2")
		if err := other.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if ns := f.notifications(t, f.b.ID); len(ns) != 1 {
			t.Errorf("a second process queued %d notifications, want none (lease held)", len(ns)-1)
		}
	})
}

func TestWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		var mu sync.Mutex
		var bodies [][]byte
		var sigs []string
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				t.Errorf("read body: %v", err)
			}
			mu.Lock()
			bodies, sigs = append(bodies, b), append(sigs, r.Header.Get(notify.SignatureHeader))
			mu.Unlock()
		}))
		defer srv.Close()
		f := newFixture(t, s, notifytest.ClosedAddr(t))
		f.n.Webhook = &notify.Webhook{Client: srv.Client(), MaxAttempts: 1}
		const secret = "0123456789abcdef-secret"
		p := &notify.Policy{Channel: notify.ChannelWebhook, Schedule: notify.ScheduleImmediate, WebhookURL: srv.URL + "/hook", WebhookSecret: secret}
		if err := s.SetNotifyPolicy(sysCtx(), f.b.ID, p); err != nil {
			t.Fatal(err)
		}
		f.commit(t, f.b.ID, focal.TLPAmber, "198.51.100.1")
		f.tick(t)
		mu.Lock()
		defer mu.Unlock()
		if len(bodies) != 1 || !bytes.Contains(bodies[0], []byte("198.51.100.1")) || sigs[0] != notify.Sign([]byte(secret), bodies[0]) {
			t.Fatalf("webhook got %d posts (%q), want one signed with Bravo's event", len(bodies), bodies)
		}
		if ns := f.notifications(t, f.b.ID); len(ns) != 1 || ns[0].State != store.NotificationSent || ns[0].Channel != notify.ChannelWebhook {
			t.Errorf("notifications = %+v, want one webhook sent", ns)
		}
	})
}

func TestImmediateClasses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		r := &notifytest.Relay{}
		r.Start(t, "127.0.0.1:0")
		f := newFixture(t, s, r.Addr)
		p := &notify.Policy{Channel: notify.ChannelImmediate, Schedule: notify.ScheduleDaily,
			Immediate: []string{"malicious-code"}, Recipients: []string{"soc@bravo.example"}}
		if err := s.SetNotifyPolicy(sysCtx(), f.b.ID, p); err != nil {
			t.Fatal(err)
		}
		f.tick(t) // the first (empty) digest
		f.commit(t, f.b.ID, focal.TLPAmber, "198.51.100.1")
		f.class, f.typ = "malicious-code", "c2-server"
		f.commit(t, f.b.ID, focal.TLPAmber, "198.51.100.2")
		f.now = f.now.Add(time.Minute)
		f.tick(t)
		got := r.Got()
		if len(got) != 1 {
			t.Fatalf("delivered %d, want the immediate class at once", len(got))
		}
		if ips, _ := csvIPs(t, got[0].Data); !slices.Equal(ips, []string{"198.51.100.2"}) {
			t.Errorf("immediate message carries %v, want only the malicious-code event", ips)
		}
		f.now = f.now.Add(24 * time.Hour)
		f.tick(t)
		got = r.Got()
		if len(got) != 2 {
			t.Fatalf("delivered %d, want the daily digest too", len(got))
		}
		if ips, _ := csvIPs(t, got[1].Data); !slices.Equal(ips, []string{"198.51.100.1"}) {
			t.Errorf("daily digest carries %v, want the rest", ips)
		}
	})
}
