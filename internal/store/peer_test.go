package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

func samplePeer(name string) *store.Peer {
	return &store.Peer{Name: name, APIRoot: "https://b.example/taxii2/focal", Collection: "0a4d9a4e-9a1f-4a4e-9a4e-0a4d9a4e9a1f",
		Auth: store.PeerAuthBearer, Secret: "s3cret-token", Account: "node-b", PollInterval: 5 * time.Second, Enabled: true}
}

func asPeerTest(role focal.Role, name string) context.Context {
	return focal.NewContextWithPrincipal(context.Background(), focal.Principal{UserID: 42, Name: name, Role: role})
}

func TestPeerLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		p := samplePeer("node-b")
		if err := s.CreatePeer(ctx, p); err != nil {
			t.Fatal(err)
		}
		if p.APIRoot != "https://b.example/taxii2/focal/" {
			t.Errorf("APIRoot = %q, want a trailing slash added", p.APIRoot)
		}
		if err := s.CreatePeer(ctx, samplePeer("node-b")); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("CreatePeer(duplicate name) = %v, want %s", err, focal.EINVALID)
		}
		got, err := s.Peer(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Secret != "" || !got.HasSecret {
			t.Errorf("Peer: Secret = %q, HasSecret = %v; want the secret hidden and HasSecret", got.Secret, got.HasSecret)
		}
		list, err := s.Peers(ctx)
		if err != nil || len(list) != 1 || list[0].Secret != "" {
			t.Fatalf("Peers = %v, %v; want one peer without its secret", list, err)
		}
		if !got.NextPollAt.After(time.Time{}) || got.NextPollAt.After(time.Now().Add(time.Second)) {
			t.Errorf("NextPollAt = %v, want now (a new peer is due at once)", got.NextPollAt)
		}

		// Update without a secret keeps it; a new URL resets the cursor.
		if err := s.RecordPeerPage(ctx, p.ID, store.PeerPage{Cursor: "2026-01-01T00:00:00.000001Z", Settings: p.UpdatedAt}); err != nil {
			t.Fatal(err)
		}
		up := samplePeer("node-b2")
		up.ID, up.Secret = p.ID, ""
		if err := s.UpdatePeer(ctx, up); err != nil {
			t.Fatal(err)
		}
		full, err := s.PeerForPoll(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if full.Secret != "s3cret-token" || full.Cursor != "2026-01-01T00:00:00.000001Z" || full.Name != "node-b2" {
			t.Errorf("after update: secret %q cursor %q name %q; want the secret and cursor kept", full.Secret, full.Cursor, full.Name)
		}
		up.APIRoot = "https://c.example/taxii2/focal/"
		if err := s.UpdatePeer(ctx, up); err != nil {
			t.Fatal(err)
		}
		if full, _ = s.PeerForPoll(ctx, p.ID); full.Cursor != "" {
			t.Errorf("after a new URL: cursor = %q, want it reset", full.Cursor)
		}
		// A page of a poll that began before the change is not recorded.
		err = s.RecordPeerPage(ctx, p.ID, store.PeerPage{Cursor: "old", Imported: []store.PeerObject{{ID: "indicator--x"}}, Settings: p.UpdatedAt.Add(-time.Hour)})
		if focal.ErrorCode(err) != focal.ECONFLICT {
			t.Errorf("RecordPeerPage(stale settings) = %v, want %s", err, focal.ECONFLICT)
		}
		if full, _ = s.PeerForPoll(ctx, p.ID); full.Cursor != "" || full.ObjectsImported != 0 {
			t.Errorf("after a stale page: cursor %q, imported %d; want nothing recorded", full.Cursor, full.ObjectsImported)
		}

		// The audit log never holds the secret.
		recs, err := s.AuditRecords(ctx, store.AuditFilter{ObjectType: "peer"})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 {
			t.Errorf("audit records for peers = %d, want 3 (create, update, update)", len(recs))
		}
		for _, r := range recs {
			if strings.Contains(r.Before+r.After, "s3cret") {
				t.Errorf("audit record %s holds the secret: %s %s", r.Action, r.Before, r.After)
			}
		}

		if err := s.DeletePeer(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Peer(ctx, p.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("Peer(deleted) = %v, want %s", err, focal.ENOTFOUND)
		}
	})
}

func TestPeerValidate(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(p *store.Peer)
		field string
	}{
		{"bad-name", func(p *store.Peer) { p.Name = "Node B" }, "name"},
		{"no-scheme", func(p *store.Peer) { p.APIRoot = "b.example/taxii2/" }, "api_root"},
		{"plain-http", func(p *store.Peer) { p.APIRoot = "http://b.example/taxii2/" }, "api_root"},
		{"credentials-in-url", func(p *store.Peer) { p.APIRoot = "https://u:p@b.example/taxii2/" }, "api_root"},
		{"no-collection", func(p *store.Peer) { p.Collection = "" }, "collection"},
		{"bad-auth", func(p *store.Peer) { p.Auth = "digest" }, "auth"},
		{"basic-no-user", func(p *store.Peer) { p.Auth = store.PeerAuthBasic }, "username"},
		{"bad-ca", func(p *store.Peer) { p.CAPEM = "not pem" }, "ca_pem"},
		{"fast", func(p *store.Peer) { p.PollInterval = 500 * time.Millisecond }, "interval"},
		{"bad-import", func(p *store.Peer) { p.ImportCollection = "x" }, "import_collection"},
		{"bad-account", func(p *store.Peer) { p.Account = "A B" }, "account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := samplePeer("node-b")
			tt.mod(p)
			err := p.Validate()
			if !strings.HasPrefix(focal.ErrorMessage(err), tt.field+":") {
				t.Errorf("Validate() = %v, want an error on %s", err, tt.field)
			}
		})
	}
}

func TestPeerAuthorization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		p := samplePeer("node-b")
		if err := s.CreatePeer(asPeerTest(focal.RoleAnalyst, "ana"), p); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("CreatePeer(analyst) = %v, want %s", err, focal.EFORBIDDEN)
		}
		if err := s.CreatePeer(asPeerTest(focal.RoleCoordinator, "boss"), p); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Peers(asPeerTest(focal.RoleHandler, "hal")); err != nil {
			t.Errorf("Peers(handler) = %v, want staff to read peers", err)
		}
		if _, err := s.Peers(asPeerTest(focal.RolePeer, "node-b")); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("Peers(peer) = %v, want %s", err, focal.EFORBIDDEN)
		}
		if _, err := s.DuePeers(asPeerTest(focal.RoleHandler, "hal"), time.Now(), 10); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("DuePeers(handler) = %v, want %s: secrets only for those who manage peers", err, focal.EFORBIDDEN)
		}
		if err := s.PollNow(asPeerTest(focal.RoleAnalyst, "ana"), p.ID); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("PollNow(analyst) = %v, want %s", err, focal.EFORBIDDEN)
		}
	})
}

func TestPeerPolling(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		a, b := samplePeer("node-a"), samplePeer("node-b")
		b.Account = "other"
		for _, p := range []*store.Peer{a, b} {
			if err := s.CreatePeer(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now().Add(time.Second)
		due, err := s.DuePeers(ctx, now, 10)
		if err != nil || len(due) != 2 || due[0].Secret != "s3cret-token" {
			t.Fatalf("DuePeers = %v, %v; want both peers with their secrets", due, err)
		}

		// Leases: one holder at a time; a lapsed lease is taken over.
		if ok, err := s.ClaimPeer(ctx, a.ID, "p1", now, now.Add(time.Minute)); !ok || err != nil {
			t.Fatalf("ClaimPeer(p1) = %v, %v; want true", ok, err)
		}
		if ok, _ := s.ClaimPeer(ctx, a.ID, "p2", now, now.Add(time.Minute)); ok {
			t.Error("ClaimPeer(p2) while p1 holds the lease = true, want false")
		}
		if ok, _ := s.ClaimPeer(ctx, a.ID, "p1", now, now.Add(2*time.Minute)); !ok {
			t.Error("ClaimPeer(p1 renews) = false, want true")
		}
		if due, _ := s.DuePeers(ctx, now, 10); len(due) != 1 || due[0].ID != b.ID {
			t.Errorf("DuePeers while a is leased = %v, want only b", due)
		}
		later := now.Add(3 * time.Minute)
		if ok, _ := s.ClaimPeer(ctx, a.ID, "p2", later, later.Add(time.Minute)); !ok {
			t.Error("ClaimPeer(p2) after the lease lapsed = false, want true")
		}

		// Pages: dedup records, counter, cursor.
		objs := []store.PeerObject{{ID: "indicator--1", Version: 10}, {ID: "indicator--2", Version: 10}}
		if err := s.RecordPeerPage(ctx, a.ID, store.PeerPage{Cursor: "c1", Imported: objs, Lag: 1500 * time.Millisecond, Settings: a.UpdatedAt}); err != nil {
			t.Fatal(err)
		}
		seen, err := s.ImportedFrom(ctx, a.ID, append(objs, store.PeerObject{ID: "indicator--1", Version: 11}))
		if err != nil {
			t.Fatal(err)
		}
		if !seen[objs[0]] || !seen[objs[1]] || seen[store.PeerObject{ID: "indicator--1", Version: 11}] || len(seen) != 2 {
			t.Errorf("ImportedFrom = %v, want exactly the two recorded versions", seen)
		}
		if seen, _ := s.ImportedFrom(ctx, b.ID, objs); len(seen) != 0 {
			t.Errorf("ImportedFrom(other peer) = %v, want none: dedup is per peer", seen)
		}
		if err := s.RecordPeerPage(ctx, a.ID, store.PeerPage{Cursor: "c2", Imported: objs[:1], Settings: a.UpdatedAt}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.PeerForPoll(ctx, a.ID)
		if got.Cursor != "c2" || got.ObjectsImported != 2 || got.Lag != 1500*time.Millisecond {
			t.Errorf("after pages: cursor %q imported %d lag %v; want c2, 2 (a re-import is not counted), 1.5s", got.Cursor, got.ObjectsImported, got.Lag)
		}

		// Failure, then success with a warning.
		started := time.Now()
		next := started.Add(time.Hour)
		if err := s.RecordPoll(ctx, a.ID, store.PollOutcome{Started: started, Err: "GET …: 502 Bad Gateway", NextAt: next}); err != nil {
			t.Fatal(err)
		}
		got, _ = s.PeerForPoll(ctx, a.ID)
		if got.Failures != 1 || got.LastError == "" || !got.LastSuccess.IsZero() || got.NextPollAt.UnixMilli() != next.UnixMilli() {
			t.Errorf("after a failure: %+v; want failures 1, the error, no success, next poll in an hour", got)
		}
		if ok, _ := s.ClaimPeer(ctx, a.ID, "p3", time.Now(), time.Now().Add(time.Minute)); !ok {
			t.Error("RecordPoll did not release the lease")
		}
		if err := s.RecordPoll(ctx, a.ID, store.PollOutcome{Started: time.Now(), Warning: "1 invalid object(s) skipped", NextAt: next}); err != nil {
			t.Fatal(err)
		}
		got, _ = s.PeerForPoll(ctx, a.ID)
		if got.Failures != 0 || got.LastError != "1 invalid object(s) skipped" || got.LastSuccess.IsZero() {
			t.Errorf("after a success with a warning: failures %d, last error %q, last success %v", got.Failures, got.LastError, got.LastSuccess)
		}

		// A hint during a poll makes the peer due again at once.
		started = time.Now().Add(-time.Second)
		if n, err := s.PollPeersOf(asPeerTest(focal.RolePeer, "node-b")); err != nil || n != 1 {
			t.Fatalf("PollPeersOf(node-b) = %d, %v; want 1 (peer a names account node-b)", n, err)
		}
		if err := s.RecordPoll(ctx, a.ID, store.PollOutcome{Started: started, NextAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.PeerForPoll(ctx, a.ID); got.NextPollAt.After(time.Now()) {
			t.Errorf("NextPollAt = %v after a hint during the poll, want now", got.NextPollAt)
		}

		// Hints: only peer accounts; an unknown account makes nothing due.
		if _, err := s.PollPeersOf(asPeerTest(focal.RoleAnalyst, "node-b")); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("PollPeersOf(analyst) = %v, want %s", err, focal.EFORBIDDEN)
		}
		if n, err := s.PollPeersOf(asPeerTest(focal.RolePeer, "stranger")); err != nil || n != 0 {
			t.Errorf("PollPeersOf(stranger) = %d, %v; want 0, nil", n, err)
		}

		// Hint targets: a 404 is remembered until the settings change.
		if err := s.SetPeerNoHints(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		hp, err := s.HintPeers(ctx)
		if err != nil || len(hp) != 1 || hp[0].ID != a.ID {
			t.Errorf("HintPeers = %v, %v; want only a", hp, err)
		}
		b.APIRoot, b.Secret = "https://other.example/taxii2/", ""
		if err := s.UpdatePeer(ctx, b); err != nil {
			t.Fatal(err)
		}
		if hp, _ = s.HintPeers(ctx); len(hp) != 2 {
			t.Errorf("HintPeers after b moved = %d peers, want 2", len(hp))
		}
	})
}
