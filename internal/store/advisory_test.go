package store_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"focal/internal/csaf"
	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// testSigner is a team key made once for the package's tests.
var testSigner = func() *csaf.Signer {
	priv, _, _, err := csaf.GenerateKey("Test CERT", "cert@example.org", "", 0)
	if err != nil {
		panic(err)
	}
	s, err := csaf.NewSigner(string(priv), "")
	if err != nil {
		panic(err)
	}
	return s
}()

func draftAdvisory(tlp focal.TLP) *store.Advisory {
	return &store.Advisory{Body: csaf.Advisory{
		Title:   "Remote code execution in Example Router",
		Summary: "Update the firmware.",
		TLP:     tlp,
		Products: []csaf.Product{
			{Vendor: "Example Networks", Name: "Example Router", Version: "2.4.0"},
			{Vendor: "Example Networks", Name: "Example Router", Version: "2.4.1"},
		},
		Vulnerabilities: []csaf.Vulnerability{{
			CVE: "CVE-2026-1111", Description: "A stack overflow.",
			CVSS:     "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			Affected: []string{"CSAFPID-0001"}, Fixed: []string{"CSAFPID-0002"},
		}},
	}}
}

// TestAdvisoryWorkflow walks an advisory through draft, review and
// publication by a second person, a correction, and checks the published
// document, its hashes and signature, who may read what, the concerned
// organisations and their notifications.
func TestAdvisoryWorkflow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		org, other := sampleOrg("Alpha"), sampleOrg("Bravo")
		for _, o := range []*focal.Organisation{org, other} {
			if err := s.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		users := map[string]*focal.User{}
		for _, u := range []*focal.User{
			{Name: "hank", Role: focal.RoleHandler}, {Name: "ana", Role: focal.RoleAnalyst},
			{Name: "cora", Role: focal.RoleCoordinator}, {Name: "asa", Role: focal.RoleAssessor},
			{Name: "alice", Role: focal.RoleConstituent, OrgID: org.ID}, {Name: "bob", Role: focal.RoleConstituent, OrgID: other.ID},
		} {
			if err := s.CreateUser(ctx, u, ""); err != nil {
				t.Fatal(err)
			}
			users[u.Name] = u
		}
		hank, ana, cora, asa := asUser(users["hank"]), asUser(users["ana"]), asUser(users["cora"]), asUser(users["asa"])
		alice, bob := asUser(users["alice"]), asUser(users["bob"])
		if err := s.SetOrgProducts(alice, org.ID, []store.ProductDeclaration{{Vendor: "Example Networks", Product: "example router"}}); err != nil {
			t.Fatalf("SetOrgProducts(own) = %v", err)
		}
		if err := s.SetOrgProducts(bob, org.ID, nil); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("SetOrgProducts(other org) = %v, want not found", err)
		}

		a := draftAdvisory(focal.TLPAmber)
		if err := s.CreateAdvisory(asa, a); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("CreateAdvisory(assessor) = %v, want forbidden", err)
		}
		if err := s.CreateAdvisory(hank, &store.Advisory{Body: csaf.Advisory{TLP: focal.TLPClear}}); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("CreateAdvisory(no title) = %v, want invalid", err)
		}
		if err := s.CreateAdvisory(hank, a); err != nil {
			t.Fatal(err)
		}
		if a.State != store.AdvisoryDraft || a.Body.Vulnerabilities[0].Score != 9.8 {
			t.Fatalf("created = %+v", a)
		}
		// Constituents never see drafts.
		if _, err := s.Advisory(alice, a.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("Advisory(constituent, draft) = %v, want not found", err)
		}
		// An incomplete draft cannot be submitted; the error says why.
		bad := *a
		bad.Body.Vulnerabilities = append([]csaf.Vulnerability(nil), a.Body.Vulnerabilities...)
		bad.Body.Vulnerabilities[0].Affected = []string{"CSAFPID-0099"}
		if err := s.UpdateAdvisory(hank, &bad); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SubmitAdvisory(hank, a.ID); focal.ErrorCode(err) != focal.EINVALID || !strings.Contains(focal.ErrorMessage(err), "not in the product list") {
			t.Errorf("SubmitAdvisory(bad reference) = %v", err)
		}
		if err := s.UpdateAdvisory(hank, a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApproveAdvisory(ana, a.ID, store.PublishOptions{Signer: testSigner, Publisher: testPublisher}); focal.ErrorCode(err) != focal.ECONFLICT {
			t.Errorf("Approve(draft) = %v, want conflict", err)
		}
		if _, err := s.SubmitAdvisory(hank, a.ID); err != nil {
			t.Fatal(err)
		}
		// The author may not approve, nor may a coordinator who wrote it.
		if _, err := s.ApproveAdvisory(hank, a.ID, store.PublishOptions{Signer: testSigner, Publisher: testPublisher}); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("Approve(author) = %v, want forbidden", err)
		}
		var sent []string
		opts := store.PublishOptions{Signer: testSigner, Publisher: testPublisher, TrackingPrefix: "TEST",
			Message: func(o *focal.Organisation, to []string, adv *store.Advisory, d *store.PublishedDocument) (*store.Notification, error) {
				sent = append(sent, o.Name)
				return &store.Notification{Reference: fmt.Sprintf("adv-%d-%s-%d", adv.ID, d.Version, o.ID), Recipients: to, Subject: adv.Body.Title, Raw: []byte("Subject: x\r\n\r\nbody")}, nil
			}}
		doc, err := s.ApproveAdvisory(ana, a.ID, opts)
		if err != nil {
			t.Fatalf("Approve(second person) = %v", err)
		}
		if doc.Label != "amber" || doc.Version != "1" || !strings.HasPrefix(doc.TrackingID, "TEST-") || doc.Filename != strings.ToLower(doc.TrackingID)+".json" {
			t.Errorf("published = %+v", doc)
		}
		if err := csaf.ValidateDocument(doc.Document); err != nil {
			t.Error(err)
		}
		pub, _ := testSigner.PublicKey()
		if err := csaf.Verify(pub, doc.Document, []byte(doc.Signature)); err != nil {
			t.Errorf("signature: %v", err)
		}
		if len(sent) != 1 || sent[0] != "Alpha" {
			t.Errorf("notified %v, want [Alpha]", sent)
		}
		orgs, err := s.AdvisoryOrganisations(hank, a.ID)
		if err != nil || len(orgs) != 1 || orgs[0].OrgID != org.ID || orgs[0].NotificationID == 0 {
			t.Errorf("AdvisoryOrganisations = %+v, %v", orgs, err)
		}
		// AMBER: the concerned organisation reads it; another does not; the
		// public provider folder is not readable anonymously.
		if _, err := s.Advisory(alice, a.ID); err != nil {
			t.Errorf("Advisory(concerned constituent) = %v", err)
		}
		if _, err := s.Advisory(bob, a.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("Advisory(other constituent) = %v, want not found", err)
		}
		if _, err := s.PublishedDocuments(anon(), "amber"); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
			t.Errorf("PublishedDocuments(anonymous, amber) = %v, want unauthorized", err)
		}
		// The provider's AMBER folder: the concerned organisation sees its
		// document, another sees none.
		if ds, err := s.PublishedDocuments(alice, "amber"); err != nil || len(ds) != 1 {
			t.Errorf("PublishedDocuments(concerned constituent, amber) = %d, %v", len(ds), err)
		}
		if ds, err := s.PublishedDocuments(bob, "amber"); err != nil || len(ds) != 0 {
			t.Errorf("PublishedDocuments(other constituent, amber) = %d, %v", len(ds), err)
		}
		if _, err := s.PublishedDocument(bob, "amber", doc.Year, doc.Filename); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("PublishedDocument(other constituent, amber) = %v, want not found", err)
		}
		if ds, err := s.ReadableDocuments(bob); err != nil || len(ds) != 0 {
			t.Errorf("ReadableDocuments(other constituent) = %d, %v", len(ds), err)
		}
		if ds, err := s.ReadableDocuments(hank); err != nil || len(ds) != 1 {
			t.Errorf("ReadableDocuments(handler) = %d, %v", len(ds), err)
		}
		got, err := s.PublishedDocument(hank, "amber", doc.Year, doc.Filename)
		if err != nil || !bytes.Equal(got.Document, doc.Document) || got.SHA512 != doc.SHA512 {
			t.Errorf("PublishedDocument = %v", err)
		}

		// A correction: back to draft, the published revision still served;
		// approval makes version 2 with two revisions.
		if _, err := s.ReviseAdvisory(hank, a.ID, ""); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("Revise(no summary) = %v", err)
		}
		if _, err := s.ReviseAdvisory(hank, a.ID, "Add the workaround"); err != nil {
			t.Fatal(err)
		}
		if ds, _ := s.PublishedDocuments(hank, "amber"); len(ds) != 1 {
			t.Errorf("during a correction %d documents are served, want 1", len(ds))
		}
		a2, err := s.Advisory(hank, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		a2.Body.TLP = focal.TLPClear
		a2.Body.Vulnerabilities[0].Remediations = []csaf.Remediation{{Category: "workaround", Details: "Disable the web interface."}}
		if err := s.UpdateAdvisory(cora, a2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SubmitAdvisory(cora, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApproveAdvisory(cora, a.ID, opts); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("Approve(coordinator who edited) = %v, want forbidden", err)
		}
		doc2, err := s.ApproveAdvisory(hank, a.ID, opts)
		if err != nil {
			t.Fatal(err)
		}
		if doc2.Version != "2" || doc2.Label != "white" || doc2.TrackingID != doc.TrackingID {
			t.Errorf("correction = %+v", doc2)
		}
		im, err := csaf.Import(doc2.Document)
		if err != nil || len(im.Revisions) != 2 || im.Revisions[1].Summary != "Add the workaround" {
			t.Errorf("revisions = %+v, %v", im, err)
		}
		if ds, _ := s.PublishedDocuments(hank, "amber"); len(ds) != 0 {
			t.Errorf("the amber copy is still served after relabelling")
		}
		if ds, err := s.PublishedDocuments(anon(), "white"); err != nil || len(ds) != 1 {
			t.Errorf("PublishedDocuments(anonymous, white) = %d, %v", len(ds), err)
		}
		if _, err := s.Advisory(bob, a.ID); err != nil {
			t.Errorf("Advisory(constituent, CLEAR) = %v", err)
		}
		if err := s.UpdateAdvisory(hank, a2); focal.ErrorCode(err) != focal.ECONFLICT {
			t.Errorf("Update(published) = %v, want conflict", err)
		}
		list, err := s.Advisories(bob, store.AdvisoryFilter{})
		if err != nil || len(list) != 1 {
			t.Errorf("Advisories(constituent) = %d, %v", len(list), err)
		}
	})
}

// TestApproveInvalidPublishesNothing: without a key nothing is published.
func TestApproveWithoutKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		h := &focal.User{Name: "hank", Role: focal.RoleHandler}
		c := &focal.User{Name: "cora", Role: focal.RoleCoordinator}
		for _, u := range []*focal.User{h, c} {
			if err := s.CreateUser(ctx, u, ""); err != nil {
				t.Fatal(err)
			}
		}
		a := draftAdvisory(focal.TLPClear)
		if err := s.CreateAdvisory(asUser(h), a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SubmitAdvisory(asUser(h), a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApproveAdvisory(asUser(c), a.ID, store.PublishOptions{Publisher: testPublisher}); focal.ErrorCode(err) != focal.EUNAVAILABLE {
			t.Errorf("Approve(no key) = %v", err)
		}
		if _, err := s.ApproveAdvisory(asUser(c), a.ID, store.PublishOptions{Signer: testSigner}); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("Approve(no publisher) = %v", err)
		}
		if ds, _ := s.PublishedDocuments(anon(), "white"); len(ds) != 0 {
			t.Errorf("%d documents published by failed approvals", len(ds))
		}
	})
}

var testPublisher = csaf.Publisher{Category: "coordinator", Name: "Test CERT", Namespace: "https://cert.example"}

func anon() context.Context { return as(focal.Anonymous()) }

// TestApproveIsAtomic: when any write of the publication fails (here the
// notification, whose reference is taken), nothing is published: no
// document, no hashes, the advisory still in review.
func TestApproveIsAtomic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		org := sampleOrg("Alpha")
		if err := s.CreateOrganisation(ctx, org); err != nil {
			t.Fatal(err)
		}
		h := &focal.User{Name: "hank", Role: focal.RoleHandler}
		c := &focal.User{Name: "cora", Role: focal.RoleCoordinator}
		for _, u := range []*focal.User{h, c} {
			if err := s.CreateUser(ctx, u, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetOrgProducts(ctx, org.ID, []store.ProductDeclaration{{Vendor: "example networks", Product: "*"}}); err != nil {
			t.Fatal(err)
		}
		msg := func(o *focal.Organisation, to []string, a *store.Advisory, d *store.PublishedDocument) (*store.Notification, error) {
			return &store.Notification{Reference: "taken", Recipients: to, Subject: "x", Raw: []byte("x")}, nil
		}
		publish := func(title string) error {
			a := draftAdvisory(focal.TLPClear)
			a.Body.Title = title
			if err := s.CreateAdvisory(asUser(h), a); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SubmitAdvisory(asUser(h), a.ID); err != nil {
				t.Fatal(err)
			}
			_, err := s.ApproveAdvisory(asUser(c), a.ID, store.PublishOptions{Signer: testSigner, Publisher: testPublisher, Message: msg})
			return err
		}
		if err := publish("first"); err != nil {
			t.Fatal(err)
		}
		if err := publish("second"); err == nil {
			t.Fatal("second publication with a taken notification reference succeeded")
		}
		ds, err := s.PublishedDocuments(anon(), "white")
		if err != nil || len(ds) != 1 || ds[0].Title != "first" {
			t.Errorf("published after a failed publication = %d, %v", len(ds), err)
		}
		review, err := s.Advisories(ctx, store.AdvisoryFilter{State: store.AdvisoryReview})
		if err != nil || len(review) != 1 || review[0].Version != 0 || review[0].Body.TrackingID != "" {
			t.Errorf("the failed advisory = %+v, %v; want still in review, untracked", review, err)
		}
	})
}

// TestAdvisoryConcernsPipelineMatches: an organisation whose recent events
// name the advisory's CVE (a scan feed's tag) is concerned, with the
// reason; a TLP:RED event does not count, nor an organisation without
// such events.
func TestAdvisoryConcernsPipelineMatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		scanned, red, quiet := sampleOrg("Scanned"), sampleOrg("Red"), sampleOrg("Quiet")
		for _, o := range []*focal.Organisation{scanned, red, quiet} {
			if err := s.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		fd := &focal.FeedDef{Name: "scan", Format: "shadowserver", Confidence: 80}
		if err := s.CreateFeed(ctx, fd); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		b := &store.EventBatch{}
		for i, c := range []struct {
			org int64
			tlp focal.TLP
			id  string
		}{{scanned.ID, focal.TLPAmber, "cve-2026-1111;router"}, {red.ID, focal.TLPRed, "CVE-2026-1111"}, {quiet.ID, focal.TLPAmber, "CVE-2025-0001"}} {
			e := &focal.Event{Class: "vulnerable", Type: "vulnerable-system", Source: focal.Endpoint{IP: netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})},
				Identifier: c.id, Feed: "scan", TLP: c.tlp, Confidence: 80, Count: 1, SourceTime: now, ObservedTime: now, FirstSeen: now, LastSeen: now, Orgs: []int64{c.org}}
			b.Rows = append(b.Rows, store.EventRow{Key: [16]byte{byte(i + 1)}, FeedID: fd.ID, E: e})
		}
		if _, err := s.CommitEvents(ctx, b); err != nil {
			t.Fatal(err)
		}
		hank, ana := &focal.User{Name: "hank", Role: focal.RoleHandler}, &focal.User{Name: "ana", Role: focal.RoleAnalyst}
		for _, u := range []*focal.User{hank, ana} {
			if err := s.CreateUser(ctx, u, ""); err != nil {
				t.Fatal(err)
			}
		}
		a := draftAdvisory(focal.TLPClear)
		if err := s.CreateAdvisory(asUser(hank), a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SubmitAdvisory(asUser(hank), a.ID); err != nil {
			t.Fatal(err)
		}
		opts := store.PublishOptions{Signer: testSigner, Publisher: testPublisher, TrackingPrefix: "TEST",
			Message: func(o *focal.Organisation, to []string, adv *store.Advisory, d *store.PublishedDocument) (*store.Notification, error) {
				return &store.Notification{Reference: fmt.Sprintf("adv-%d-%d", adv.ID, o.ID), Recipients: to, Subject: adv.Body.Title, Raw: []byte("Subject: x\r\n\r\nbody")}, nil
			}}
		if _, err := s.ApproveAdvisory(asUser(ana), a.ID, opts); err != nil {
			t.Fatal(err)
		}
		orgs, err := s.AdvisoryOrganisations(asUser(hank), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(orgs) != 1 || orgs[0].OrgID != scanned.ID || !strings.Contains(orgs[0].Reason, "CVE-2026-1111") {
			t.Errorf("concerned organisations = %+v, want Scanned alone, for its events naming CVE-2026-1111", orgs)
		}
	})
}
