package store_test

import (
	"crypto/sha256"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/notify"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// commitNotifyEvents stores one event per IP for org and returns their ids.
func commitNotifyEvents(t *testing.T, s *store.Store, org int64, tlp focal.TLP, ips ...string) []int64 {
	t.Helper()
	ctx := sys()
	fd, err := s.FeedByName(ctx, "nf")
	if err != nil {
		fd = &focal.FeedDef{Name: "nf", Format: "iplist", Confidence: 50, Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}}
		if err := s.CreateFeed(ctx, fd); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	b := &store.EventBatch{}
	for _, ip := range ips {
		e := &focal.Event{Class: "intrusion-attempts", Type: "brute-force", Source: focal.Endpoint{IP: netip.MustParseAddr(ip)},
			Feed: "nf", TLP: tlp, Confidence: 50, Count: 1, SourceTime: now, ObservedTime: now, FirstSeen: now, LastSeen: now, Orgs: []int64{org}}
		sum := sha256.Sum256([]byte(ip))
		b.Rows = append(b.Rows, store.EventRow{Key: [16]byte(sum[:16]), FeedID: fd.ID, E: e})
	}
	res, err := s.CommitEvents(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range b.Rows {
		ids = append(ids, res.EventID(i))
	}
	slices.Sort(ids)
	return ids
}

func eventIDs(es []*focal.Event) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestNotifyPolicies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		a, b := sampleOrg("Alpha"), sampleOrg("Bravo")
		for _, o := range []*focal.Organisation{a, b} {
			if err := s.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.NotifyPolicy(ctx, a.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Fatalf("NotifyPolicy(none) = %v, want ENOTFOUND", err)
		}
		bad := &notify.Policy{Channel: "pigeon", Recipients: []string{"soc@example.net"}}
		if err := s.SetNotifyPolicy(ctx, a.ID, bad); focal.ErrorCode(err) != focal.EINVALID {
			t.Fatalf("SetNotifyPolicy(bad) = %v, want EINVALID", err)
		}
		p := &notify.Policy{Schedule: "HOURLY", Recipients: []string{"soc@example.net"}}
		if err := s.SetNotifyPolicy(ctx, a.ID, p); err != nil {
			t.Fatal(err)
		}
		got, err := s.NotifyPolicy(ctx, a.ID)
		if err != nil || got.Schedule != notify.ScheduleHourly || got.Channel != notify.ChannelDigest || len(got.Recipients) != 1 {
			t.Fatalf("NotifyPolicy = %+v, %v; want the hourly digest, normalised", got, err)
		}
		if err := s.SetNotifyPolicy(ctx, 9999, p); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("SetNotifyPolicy(unknown org) = %v, want ENOTFOUND", err)
		}
		// A constituent reads and keeps its own policy only.
		ca := as(focal.Principal{UserID: 5, Name: "c", Role: focal.RoleConstituent, OrgID: a.ID})
		cb := as(focal.Principal{UserID: 6, Name: "d", Role: focal.RoleConstituent, OrgID: b.ID})
		if _, err := s.NotifyPolicy(ca, a.ID); err != nil {
			t.Errorf("NotifyPolicy(own) = %v", err)
		}
		if _, err := s.NotifyPolicy(cb, a.ID); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("NotifyPolicy(other's) = %v, want EFORBIDDEN", err)
		}
		if err := s.SetNotifyPolicy(ca, a.ID, p); err != nil {
			t.Errorf("SetNotifyPolicy by a constituent of its own = %v", err)
		}
		if err := s.SetNotifyPolicy(cb, a.ID, p); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("SetNotifyPolicy by a constituent of another's = %v, want ENOTFOUND", err)
		}
		roToken := as(focal.Principal{UserID: 5, Name: "c", Role: focal.RoleConstituent, OrgID: a.ID, Token: true, ReadOnly: true})
		if err := s.SetNotifyPolicy(roToken, a.ID, p); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("SetNotifyPolicy with a read-only token = %v, want EFORBIDDEN", err)
		}
		if all, err := s.NotifyPolicies(cb); err != nil || len(all) != 0 {
			t.Errorf("NotifyPolicies(constituent B) = %v, %v; want none", all, err)
		}
		if all, err := s.NotifyPolicies(ctx); err != nil || len(all) != 1 || all[a.ID] == nil {
			t.Errorf("NotifyPolicies = %v, %v; want Alpha's", all, err)
		}
	})
}

func TestNotificationQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		a, b := sampleOrg("Alpha"), sampleOrg("Bravo")
		for _, o := range []*focal.Organisation{a, b} {
			if err := s.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		since := time.Now().Add(-time.Hour)
		idsA := commitNotifyEvents(t, s, a.ID, focal.TLPAmber, "198.51.100.1", "198.51.100.2", "198.51.100.3")
		commitNotifyEvents(t, s, a.ID, focal.TLPRed, "198.51.100.9")
		idsB := commitNotifyEvents(t, s, b.ID, focal.TLPGreen, "203.0.113.1")

		pending, err := s.PendingEvents(ctx, a.ID, since, 0, 0)
		if err != nil || !slices.Equal(eventIDs(pending), idsA) {
			t.Fatalf("PendingEvents(A) = %v, %v; want %v (no TLP:RED)", eventIDs(pending), err, idsA)
		}
		if page, _ := s.PendingEvents(ctx, a.ID, since, idsA[0], 1); !slices.Equal(eventIDs(page), idsA[1:2]) {
			t.Errorf("PendingEvents(after %d, limit 1) = %v, want %v", idsA[0], eventIDs(page), idsA[1:2])
		}
		if later, _ := s.PendingEvents(ctx, a.ID, time.Now().Add(time.Hour), 0, 0); len(later) != 0 {
			t.Errorf("PendingEvents(since the future) = %v, want none", eventIDs(later))
		}
		if last, err := s.LastDigest(ctx, a.ID); err != nil || !last.IsZero() {
			t.Errorf("LastDigest(never) = %v, %v; want zero", last, err)
		}

		digest := time.Now().UTC().Truncate(time.Millisecond)
		msgs := []*store.Notification{
			{Reference: "R-1-1", OrgID: a.ID, Channel: notify.ChannelDigest, From: "cert@cert.example",
				Recipients: []string{"abuse@example.net", "soc@example.net"}, Subject: "s1", TLP: focal.TLPAmber,
				Part: 1, Parts: 2, EventIDs: idsA[:2], Raw: []byte("raw one\r\n")},
			{Reference: "R-1-2", OrgID: a.ID, Channel: notify.ChannelDigest, From: "cert@cert.example",
				Recipients: []string{"abuse@example.net"}, Subject: "s2", TLP: focal.TLPAmber,
				Part: 2, Parts: 2, EventIDs: idsA[2:], Raw: []byte{0, 1, 2, 255}},
		}
		if err := s.QueueNotifications(ctx, a.ID, digest, msgs); err != nil {
			t.Fatal(err)
		}
		if err := s.QueueNotifications(ctx, b.ID, time.Time{}, msgs[:1]); err == nil {
			t.Error("QueueNotifications(message of another organisation) = nil, want an error")
		}
		dup := []*store.Notification{{Reference: "R-1-1", OrgID: a.ID, Channel: notify.ChannelDigest, Raw: []byte("x")}}
		if err := s.QueueNotifications(ctx, a.ID, time.Time{}, dup); focal.ErrorCode(err) != focal.ECONFLICT {
			t.Errorf("QueueNotifications(reference reused) = %v, want ECONFLICT", err)
		}
		if last, err := s.LastDigest(ctx, a.ID); err != nil || !last.Equal(digest) {
			t.Errorf("LastDigest = %v, %v; want %v", last, err, digest)
		}
		if pending, _ := s.PendingEvents(ctx, a.ID, since, 0, 0); len(pending) != 0 {
			t.Errorf("PendingEvents(A) after queueing = %v, want none", eventIDs(pending))
		}
		if pending, _ := s.PendingEvents(ctx, b.ID, since, 0, 0); !slices.Equal(eventIDs(pending), idsB) {
			t.Errorf("PendingEvents(B) = %v, want %v", eventIDs(pending), idsB)
		}
		if ev, err := s.NotificationEvents(ctx, msgs[0].ID); err != nil || !slices.Equal(ev, idsA[:2]) {
			t.Errorf("NotificationEvents = %v, %v; want %v", ev, err, idsA[:2])
		}

		now := time.Now()
		due, err := s.DueNotifications(ctx, now, 10)
		if err != nil || len(due) != 2 {
			t.Fatalf("DueNotifications = %d, %v; want 2", len(due), err)
		}
		if d := due[1]; string(d.Raw) != string([]byte{0, 1, 2, 255}) || d.Reference != "R-1-2" || d.State != store.NotificationQueued ||
			d.From != "cert@cert.example" || strings.Join(d.Recipients, ",") != "abuse@example.net" || d.Events != 1 {
			t.Errorf("due[1] = %+v; want R-1-2 with its bytes", d)
		}
		if d := due[0]; len(d.Recipients) != 2 || d.Part != 1 || d.Parts != 2 || d.TLP != focal.TLPAmber {
			t.Errorf("due[0] = %+v; want R-1-1 with two recipients", d)
		}
		if err := s.MarkSent(ctx, msgs[0].ID, now); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRetry(ctx, msgs[1].ID, now.Add(time.Hour), "connection refused"); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.DueNotifications(ctx, now, 10); len(due) != 0 {
			t.Errorf("DueNotifications after marking = %d, want 0", len(due))
		}
		due, _ = s.DueNotifications(ctx, now.Add(2*time.Hour), 10)
		if len(due) != 1 || due[0].State != store.NotificationRetrying || due[0].Attempts != 1 || due[0].LastError != "connection refused" {
			t.Fatalf("DueNotifications(later) = %+v; want the retrying one", due)
		}
		if err := s.MarkFailed(ctx, msgs[1].ID, "550 no such user"); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.DueNotifications(ctx, now.Add(48*time.Hour), 10); len(due) != 0 {
			t.Errorf("DueNotifications after failure = %d, want 0", len(due))
		}
		if err := s.MarkSent(ctx, 9999, now); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("MarkSent(unknown) = %v, want ENOTFOUND", err)
		}

		list, err := s.Notifications(ctx, 0, 0)
		if err != nil || len(list) != 2 || list[0].State != store.NotificationFailed || list[1].State != store.NotificationSent ||
			list[1].SentAt.IsZero() || list[0].Attempts != 2 || list[0].Raw != nil {
			t.Fatalf("Notifications = %+v, %v; want failed then sent, without raw", list, err)
		}
		cb := as(focal.Principal{UserID: 6, Name: "d", Role: focal.RoleConstituent, OrgID: b.ID})
		if list, err := s.Notifications(cb, 0, 0); err != nil || len(list) != 0 {
			t.Errorf("Notifications(constituent B) = %d, %v; want none", len(list), err)
		}
		if _, err := s.Notifications(cb, a.ID, 0); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("Notifications(constituent B, org A) = %v, want EFORBIDDEN", err)
		}
		if _, err := s.NotificationEvents(cb, msgs[0].ID); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("NotificationEvents(constituent B, A's) = %v, want ENOTFOUND", err)
		}
		if _, err := s.DueNotifications(cb, now, 1); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("DueNotifications(constituent) = %v, want EFORBIDDEN", err)
		}
		if _, err := s.PendingEvents(cb, b.ID, since, 0, 0); err == nil {
			t.Error("PendingEvents(constituent) = nil error, want a refusal")
		}
	})
}
