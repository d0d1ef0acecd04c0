package alert

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

func TestRulesOpenAndUpdateIncidents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := focal.NewContextWithPrincipal(context.Background(), focal.System())
		var orgs []int64
		for _, name := range []string{"Org A", "Org B"} {
			o := &focal.Organisation{Name: name, Sector: "isp", Country: "FR"}
			if err := s.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
			orgs = append(orgs, o.ID)
		}
		fd := &focal.FeedDef{Name: "bf", Format: "iplist", Confidence: 50, Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}}
		if err := s.CreateFeed(ctx, fd); err != nil {
			t.Fatal(err)
		}
		run := &focal.FeedRun{FeedID: fd.ID, Key: "k", Source: "test"}
		if _, err := s.StartRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		seq := int64(0)
		add := func(org int64, ips ...string) {
			t.Helper()
			b := &store.EventBatch{Chunks: []store.ChunkDone{{RunID: run.ID, Seq: seq}}}
			seq++
			for _, ip := range ips {
				e := &focal.Event{Class: "intrusion-attempts", Type: "brute-force", Source: focal.Endpoint{IP: netip.MustParseAddr(ip)},
					Feed: "bf", TLP: focal.TLPAmber, Confidence: 50, Count: 1, SourceTime: now, ObservedTime: now, FirstSeen: now, LastSeen: now, Orgs: []int64{org}}
				sum := sha256.Sum256([]byte(ip))
				b.Rows = append(b.Rows, store.EventRow{Key: [16]byte(sum[:16]), FeedID: fd.ID, RunID: run.ID, E: e})
			}
			if _, err := s.CommitEvents(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		add(orgs[0], "192.0.2.1", "192.0.2.2")
		add(orgs[1], "198.51.100.1")
		rule := &focal.AlertRule{Name: "brute force", Class: "intrusion-attempts", Threshold: 2, Window: time.Hour, Enabled: true}
		if err := s.CreateAlertRule(ctx, rule); err != nil {
			t.Fatal(err)
		}
		ev := &Evaluator{Store: s, Holder: "a", Now: func() time.Time { return now.Add(time.Minute) }}
		touched, err := ev.Check(ctx)
		if err != nil || len(touched) != 1 {
			t.Fatalf("Check = %v, %v; want one incident (org B is under the threshold)", touched, err)
		}
		inc, err := s.Incident(ctx, touched[0])
		if err != nil {
			t.Fatal(err)
		}
		if inc.OrgID != orgs[0] || inc.Channel != "pipeline" || inc.Classifications[0].Class != "intrusion-attempts" {
			t.Errorf("incident = %+v; want org A's, from the pipeline, classified as the rule says", inc)
		}
		linked, err := s.IncidentEvents(ctx, inc.ID, 0)
		if err != nil || len(linked) != 2 {
			t.Fatalf("linked events = %d, %v; want 2", len(linked), err)
		}
		// Nothing new: no change.
		if touched, err := ev.Check(ctx); err != nil || len(touched) != 0 {
			t.Errorf("second Check = %v, %v; want nothing", touched, err)
		}
		// A new event joins the same open incident.
		add(orgs[0], "192.0.2.3")
		if touched, err := ev.Check(ctx); err != nil || len(touched) != 1 || touched[0] != inc.ID {
			t.Fatalf("third Check = %v, %v; want the same incident %d", touched, err, inc.ID)
		}
		if linked, _ := s.IncidentEvents(ctx, inc.ID, 0); len(linked) != 3 {
			t.Errorf("linked events = %d, want 3", len(linked))
		}
		// Another process does not evaluate while the lease is held.
		other := &Evaluator{Store: s, Holder: "b", Now: ev.Now}
		add(orgs[0], "192.0.2.4")
		if touched, err := other.Check(ctx); err != nil || len(touched) != 0 {
			t.Errorf("Check by a second process = %v, %v; want nothing (lease held)", touched, err)
		}
	})
}
