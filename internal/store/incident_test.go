package store_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

func TestIncidentLifecycleAndIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		a, b := sampleOrg("Alpha"), sampleOrg("Bravo")
		for _, o := range []*focal.Organisation{a, b} {
			if err := s.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		handler := as(focal.Principal{UserID: 20, Name: "hank", Role: focal.RoleHandler})
		consA := as(focal.Principal{UserID: 21, Name: "ann", Role: focal.RoleConstituent, OrgID: a.ID})
		consB := as(focal.Principal{UserID: 22, Name: "bob", Role: focal.RoleConstituent, OrgID: b.ID})
		public := as(focal.Anonymous())

		// The public reports; the constituent reports for its own org even if it names another.
		pub := &focal.Incident{Title: "Phishing page imitating a bank", Channel: "web", Reporter: focal.Reporter{Email: "citizen@example.org"}}
		if err := s.CreateIncident(public, pub, []focal.Observable{{Kind: "url", Value: "http://phish.example.net/login", Source: "extracted"}}); err != nil {
			t.Fatal(err)
		}
		fromA := &focal.Incident{Title: "DDoS on our resolvers", OrgID: b.ID, Classifications: []focal.Classification{{Class: "availability", Type: "ddos"}}}
		if err := s.CreateIncident(consA, fromA, []focal.Observable{{Kind: "url", Value: "http://phish.example.net/login"}}); err != nil {
			t.Fatal(err)
		}
		if fromA.OrgID != a.ID || fromA.Sector != "isp" {
			t.Errorf("constituent report org/sector = %d/%q, want its own org %d and its sector", fromA.OrgID, fromA.Sector, a.ID)
		}
		if !strings.HasPrefix(pub.Ref, "FOC-") || pub.Ref == fromA.Ref {
			t.Errorf("refs %q and %q: want distinct FOC- references", pub.Ref, fromA.Ref)
		}
		// Isolation: not another organisation's, nor one of no organisation.
		if _, err := s.Incident(consA, pub.ID); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("constituent reading a public report (no organisation) = %v, want forbidden", err)
		}
		if _, err := s.Journal(consA, pub.ID); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("constituent reading a public report's journal = %v, want forbidden", err)
		}
		if _, err := s.Incident(consB, fromA.ID); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("constituent B reading A's incident = %v, want forbidden", err)
		}
		if list, err := s.Incidents(consB, store.IncidentFilter{}); err != nil || len(list) != 0 {
			t.Errorf("constituent B list = %d incidents, %v; want none", len(list), err)
		}
		if list, err := s.Incidents(consA, store.IncidentFilter{}); err != nil || len(list) != 1 || list[0].ID != fromA.ID {
			t.Errorf("constituent A list = %v, %v; want only its own", list, err)
		}
		if _, err := s.Incidents(public, store.IncidentFilter{}); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
			t.Errorf("public listing incidents = %v, want unauthorized", err)
		}
		if list, err := s.Incidents(handler, store.IncidentFilter{Query: "bank"}); err != nil || len(list) != 1 || list[0].ID != pub.ID {
			t.Errorf("handler search 'bank' = %v, %v; want the public report", list, err)
		}
		// Related by a shared observable.
		rel, err := s.RelatedIncidents(handler, pub.ID, 10)
		if err != nil || len(rel) != 1 || rel[0].ID != fromA.ID {
			t.Errorf("RelatedIncidents = %v, %v; want the constituent's incident", rel, err)
		}
		// Lifecycle through the store.
		closed := focal.StatusClosed
		if _, err := s.UpdateIncident(handler, pub.ID, store.IncidentChange{Status: &closed}); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("closing a new incident = %v, want invalid", err)
		}
		triaged, inProgress, resolved := focal.StatusTriaged, focal.StatusInProgress, focal.StatusResolved
		if _, err := s.UpdateIncident(handler, pub.ID, store.IncidentChange{Status: &triaged, Classifications: []focal.Classification{{Class: "fraud", Type: "phishing"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateIncident(handler, pub.ID, store.IncidentChange{Status: &inProgress, Note: "contacted the hosting provider"}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddJournal(handler, pub.ID, "email_out", "", "Dear reporter, thank you."); err != nil {
			t.Fatal(err)
		}
		got, err := s.UpdateIncident(handler, pub.ID, store.IncidentChange{Status: &resolved})
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Incident(handler, pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		m := again.Milestones
		if m.Triaged.IsZero() || m.Acknowledged.IsZero() || m.Resolved.IsZero() || m.FirstResponse.IsZero() || got.Status != focal.StatusResolved {
			t.Errorf("milestones after resolve = %+v, status %s", m, got.Status)
		}
		j, err := s.Journal(handler, pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range j {
			kinds = append(kinds, e.Kind)
		}
		if strings.Join(kinds, ",") != "system,state,state,note,email_out,state" {
			t.Errorf("journal kinds = %v", kinds)
		}
		if err := s.AddJournal(consA, fromA.ID, "note", "", "more details"); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("constituent writing to the journal = %v, want forbidden", err)
		}
	})
}

func TestRestrictedCategory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		public := as(focal.Anonymous())
		csam := &focal.Incident{Title: "Abuse material on a forum", Classifications: []focal.Classification{{Class: "abusive-content", Type: "violence"}}}
		if err := s.CreateIncident(public, csam, nil); err != nil {
			t.Fatal(err)
		}
		coordinator := as(focal.Principal{UserID: 30, Name: "cora", Role: focal.RoleCoordinator})
		granted := as(focal.Principal{UserID: 31, Name: "gina", Role: focal.RoleHandler, RestrictedAccess: true})
		if _, err := s.Incident(coordinator, csam.ID); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("ungranted coordinator reading a restricted incident = %v, want forbidden", err)
		}
		if list, err := s.Incidents(coordinator, store.IncidentFilter{}); err != nil || len(list) != 0 {
			t.Errorf("ungranted list = %d, %v; want none", len(list), err)
		}
		if _, err := s.Incident(granted, csam.ID); err != nil {
			t.Fatalf("granted handler: %v", err)
		}
		j, err := s.Journal(granted, csam.ID)
		if err != nil {
			t.Fatal(err)
		}
		if last := j[len(j)-1]; last.Kind != "view" || last.Author != "gina" {
			t.Errorf("last journal entry = %+v, want gina's view recorded", last)
		}
	})
}

func TestEachIncident(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		handler := as(focal.Principal{UserID: 40, Name: "hank", Role: focal.RoleHandler})
		var want []int64
		for n := 0; n < 5; n++ {
			i := &focal.Incident{Title: "Incident " + strconv.Itoa(n)}
			if n%2 == 0 {
				i.Classifications = []focal.Classification{{Class: "fraud", Type: "phishing"}, {Class: "malicious-code"}}
			}
			if err := s.CreateIncident(handler, i, nil); err != nil {
				t.Fatal(err)
			}
			want = append(want, i.ID)
		}
		var got []int64
		classes := 0
		err := s.EachIncident(handler, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), func(i *focal.Incident) error {
			got = append(got, i.ID)
			classes += len(i.Classifications)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || classes != 6 {
			t.Errorf("EachIncident = %v with %d classifications, want %v with 6", got, classes, want)
		}
		n := 0
		if err := s.EachIncident(handler, time.Now().Add(time.Hour), time.Now().Add(2*time.Hour), func(*focal.Incident) error { n++; return nil }); err != nil || n != 0 {
			t.Errorf("EachIncident outside the period = %d, %v; want 0", n, err)
		}
	})
}

func TestIncidentViewsAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		handler := as(focal.Principal{UserID: 50, Name: "hank", Role: focal.RoleHandler})
		amber := &focal.Incident{Title: "Amber", TLP: focal.TLPAmber}
		green := &focal.Incident{Title: "Green", TLP: focal.TLPGreen}
		greenPersonal := &focal.Incident{Title: "Green with reporter", TLP: focal.TLPGreen, Reporter: focal.Reporter{Email: "r@example.org"}}
		for _, i := range []*focal.Incident{amber, green, greenPersonal} {
			if err := s.CreateIncident(handler, i, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Incident(handler, i.ID); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range []struct {
			i    *focal.Incident
			want int
		}{{amber, 1}, {green, 0}, {greenPersonal, 1}} {
			recs, err := s.AuditRecords(sys(), store.AuditFilter{ObjectType: "incident", ObjectID: strconv.FormatInt(tt.i.ID, 10), Action: "view"})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tt.want || (tt.want == 1 && recs[0].Actor != "hank") {
				t.Errorf("view records for %q = %d, want %d by hank", tt.i.Title, len(recs), tt.want)
			}
		}
	})
}

func TestImportIncident(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t0 := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Millisecond)
		i := &focal.Incident{Title: "Imported from the old tracker", Status: focal.StatusResolved, Severity: focal.SeverityHigh,
			Classifications: []focal.Classification{{Class: "malicious-code", Type: "infected-system"}},
			Milestones:      focal.Milestones{Reported: t0, Acknowledged: t0.Add(time.Hour), Triaged: t0.Add(2 * time.Hour), Resolved: t0.Add(30 * time.Hour)}}
		journal := []focal.JournalEntry{{At: t0.Add(time.Hour), Author: "old-tool", Kind: "note", Body: "picked up"}}
		handler := as(focal.Principal{UserID: 60, Name: "hank", Role: focal.RoleHandler})
		if err := s.ImportIncident(handler, i, nil, journal); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("handler import = %v, want forbidden", err)
		}
		if err := s.ImportIncident(sys(), i, nil, journal); err != nil {
			t.Fatal(err)
		}
		got, err := s.Incident(handler, i.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != focal.StatusResolved || !got.Milestones.Resolved.Equal(t0.Add(30*time.Hour)) {
			t.Errorf("imported = %s resolved %v", got.Status, got.Milestones.Resolved)
		}
		j, err := s.Journal(handler, i.ID)
		if err != nil || len(j) != 1 || j[0].Author != "old-tool" {
			t.Errorf("journal = %+v, %v", j, err)
		}
		bad := &focal.Incident{Title: "Time travel", Milestones: focal.Milestones{Reported: t0, Resolved: t0.Add(-time.Hour)}}
		if err := s.ImportIncident(sys(), bad, nil, nil); focal.ErrorCode(err) != focal.EINVALID || !strings.Contains(err.Error(), "milestones.resolved") {
			t.Errorf("import with a milestone before the report = %v, want invalid milestones.resolved", err)
		}
	})
}

func TestTasksAndMerge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		handler := as(focal.Principal{UserID: 70, Name: "hank", Role: focal.RoleHandler})
		a := &focal.Incident{Title: "Phishing reported by a citizen"}
		b := &focal.Incident{Title: "Same phishing, reported by the bank"}
		for n, i := range []*focal.Incident{a, b} {
			obs := []focal.Observable{{Kind: "url", Value: "http://phish.example.net/" + strconv.Itoa(n)}}
			if err := s.CreateIncident(handler, i, obs); err != nil {
				t.Fatal(err)
			}
		}
		due := time.Now().Add(4 * time.Hour).UTC().Truncate(time.Millisecond)
		t1 := &store.Task{IncidentID: a.ID, Title: "Ask the host for a takedown", Due: due}
		t2 := &store.Task{IncidentID: a.ID, Title: "Notify the bank"}
		for _, tk := range []*store.Task{t2, t1} {
			if err := s.AddTask(handler, tk); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddTask(handler, &store.Task{IncidentID: a.ID, Title: "  "}); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("empty task = %v, want invalid", err)
		}
		if err := s.CompleteTask(handler, a.ID, t2.ID, true); err != nil {
			t.Fatal(err)
		}
		tasks, err := s.Tasks(handler, a.ID)
		if err != nil || len(tasks) != 2 || tasks[0].ID != t1.ID || !tasks[0].Due.Equal(due) || tasks[1].Done.IsZero() {
			t.Errorf("Tasks = %+v, %v; want the open task with a due date first, then the done one", tasks, err)
		}
		if err := s.CompleteTask(handler, b.ID, t1.ID, true); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("completing another incident's task = %v, want not found", err)
		}
		// Merge b into a.
		if err := s.MergeIncident(handler, b.ID, b.ID, ""); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("merge into itself = %v, want invalid", err)
		}
		if err := s.MergeIncident(handler, b.ID, a.ID, "same URL"); err != nil {
			t.Fatal(err)
		}
		gotB, err := s.Incident(handler, b.ID)
		if err != nil || gotB.Status != focal.StatusMerged || gotB.MergedInto != a.ID || gotB.Milestones.Closed.IsZero() {
			t.Errorf("merged incident = %+v, %v", gotB, err)
		}
		obs, err := s.Observables(handler, a.ID)
		if err != nil || len(obs) != 2 {
			t.Errorf("survivor observables = %v, %v; want both URLs", obs, err)
		}
		c := &focal.Incident{Title: "Third"}
		if err := s.CreateIncident(handler, c, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.MergeIncident(handler, c.ID, b.ID, ""); focal.ErrorCode(err) != focal.EINVALID || !strings.Contains(err.Error(), "merge into that one") {
			t.Errorf("merge into a merged incident = %v, want a pointer to the survivor", err)
		}
	})
}

func TestSLATargets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		org := sampleOrg("Alpha")
		if err := s.CreateOrganisation(sys(), org); err != nil {
			t.Fatal(err)
		}
		targets := []focal.SLATarget{
			{Severity: focal.SeverityHigh, Acknowledge: time.Hour, Triage: 2 * time.Hour, Resolve: 24 * time.Hour},
			{OrgID: org.ID, Severity: focal.SeverityHigh, Acknowledge: 15 * time.Minute, Triage: time.Hour, Resolve: 8 * time.Hour, BusinessHours: true},
		}
		handler := as(focal.Principal{UserID: 80, Name: "hank", Role: focal.RoleHandler})
		if err := s.SetSLATargets(handler, targets); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("handler setting targets = %v, want forbidden", err)
		}
		if err := s.SetSLATargets(sys(), targets); err != nil {
			t.Fatal(err)
		}
		got, err := s.SLATargets(sys())
		if err != nil || len(got) != 2 || got[1].OrgID != org.ID || got[1].Acknowledge != 15*time.Minute || !got[1].BusinessHours {
			t.Errorf("SLATargets = %+v, %v", got, err)
		}
		if err := s.SetSLATargets(sys(), append(targets, targets[0])); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("duplicate target = %v, want invalid", err)
		}
		if err := s.SetSLATargets(sys(), []focal.SLATarget{{OrgID: 99999, Severity: focal.SeverityLow}}); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("target for an unknown organisation = %v, want invalid", err)
		}
		if got, _ := s.SLATargets(sys()); len(got) != 2 {
			t.Errorf("a refused update changed the targets: %+v", got)
		}
	})
}

// Text search finds every match, newest first, whatever the windows: a
// tiny first window forces several on PostgreSQL.
func TestIncidentSearchPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		s.SetSearchWindow(2)
		handler := as(focal.Principal{UserID: 90, Name: "hank", Role: focal.RoleHandler})
		var ransom []int64
		for n := 0; n < 30; n++ {
			title := "Scan from a foreign network"
			if n%3 == 0 {
				title = "Ransomware at a hospital"
			}
			i := &focal.Incident{Title: title}
			if err := s.CreateIncident(handler, i, nil); err != nil {
				t.Fatal(err)
			}
			if n%3 == 0 {
				ransom = append([]int64{i.ID}, ransom...)
			}
		}
		var got []int64
		before := int64(0)
		for page := 0; page < 10; page++ {
			list, err := s.Incidents(handler, store.IncidentFilter{Query: "RANSOM", Limit: 4, BeforeID: before})
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range list {
				got = append(got, i.ID)
			}
			if len(list) < 4 {
				break
			}
			before = list[len(list)-1].ID
		}
		if fmt.Sprint(got) != fmt.Sprint(ransom) {
			t.Errorf("search pages = %v, want %v", got, ransom)
		}
		if list, err := s.Incidents(handler, store.IncidentFilter{Query: "nowhere"}); err != nil || len(list) != 0 {
			t.Errorf("search for an absent word = %v, %v", list, err)
		}
		if list, err := s.Incidents(handler, store.IncidentFilter{Query: "!!!"}); err != nil || len(list) != 0 {
			t.Errorf("search with no word = %v, %v", list, err)
		}
	})
}

func TestIncidentQueueOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		handler := as(focal.Principal{UserID: 95, Name: "hank", Role: focal.RoleHandler})
		var ids []int64
		for n := 0; n < 7; n++ {
			i := &focal.Incident{Title: "Queued " + strconv.Itoa(n)}
			if err := s.CreateIncident(handler, i, nil); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, i.ID)
		}
		queue := store.IncidentFilter{Status: []focal.Status{focal.StatusNew, focal.StatusTriaged}, Oldest: true, Limit: 3}
		first, err := s.Incidents(handler, queue)
		if err != nil || len(first) != 3 || first[0].ID != ids[0] || first[2].ID != ids[2] {
			t.Fatalf("queue page 1 = %v, %v; want the three oldest, oldest first", first, err)
		}
		queue.AfterID = first[2].ID
		second, err := s.Incidents(handler, queue)
		if err != nil || len(second) != 3 || second[0].ID != ids[3] {
			t.Errorf("queue page 2 = %v, %v; want the next three", second, err)
		}
		n, more, err := s.CountIncidents(handler, queue, 5)
		if err != nil || n != 5 || !more {
			t.Errorf("CountIncidents capped at 5 = %d, %v, %v; want 5, true", n, more, err)
		}
		n, more, err = s.CountIncidents(handler, queue, 100)
		if err != nil || n != 7 || more {
			t.Errorf("CountIncidents = %d, %v, %v; want 7, false", n, more, err)
		}
	})
}
