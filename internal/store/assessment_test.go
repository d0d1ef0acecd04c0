package store_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"focal/internal/assess"
	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// tinyFramework is a two-pillar framework for store tests.
const tinyFramework = `{"id":"tiny","version":"1","title":"Tiny","method":"weighted-sum","total":40,
 "scales":[{"id":"ynp","type":"choice","options":[{"value":"yes","score":1},{"value":"partial","score":0.5},{"value":"no","score":0}]}],
 "items":[{"id":"A","kind":"pillar","title":"A","max":20},{"id":"a1","parent":"A","kind":"question","title":"a1","scale":"ynp"},
  {"id":"a2","parent":"A","kind":"question","title":"a2","scale":"ynp"},
  {"id":"B","kind":"pillar","title":"B","max":20},{"id":"b1","parent":"B","kind":"question","title":"b1","scale":"ynp"}]}`

type assessPeople struct {
	alice, bob, coord context.Context // two assessors and a coordinator
	aliceID           int64
}

func assessUsers(t *testing.T, s *store.Store) assessPeople {
	t.Helper()
	var ids []int64
	for _, u := range []*focal.User{{Name: "alice", Role: focal.RoleAssessor}, {Name: "bob", Role: focal.RoleAssessor}, {Name: "carol", Role: focal.RoleCoordinator}} {
		if err := s.CreateUser(sys(), u, ""); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	p := func(i int, name string, r focal.Role) context.Context {
		return as(focal.Principal{UserID: ids[i], Name: name, Role: r})
	}
	return assessPeople{alice: p(0, "alice", focal.RoleAssessor), bob: p(1, "bob", focal.RoleAssessor), coord: p(2, "carol", focal.RoleCoordinator), aliceID: ids[0]}
}

func TestAssessmentLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		who := assessUsers(t, s)
		if _, err := s.ImportFramework(who.alice, []byte(tinyFramework)); err != nil {
			t.Fatal(err)
		}
		handler := as(focal.Principal{UserID: 99, Name: "hank", Role: focal.RoleHandler})
		if _, err := s.ImportFramework(handler, []byte(tinyFramework)); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("ImportFramework(as a handler) = %v, want %s", err, focal.EFORBIDDEN)
		}
		a := &store.Assessment{Subject: "zza", SubjectName: "Zedland", Year: 2025, Framework: store.FrameworkInfo{Key: "tiny", Version: "1"},
			Respondents: []string{"Ministry of ICT"}}
		if err := s.CreateAssessment(who.alice, a); err != nil {
			t.Fatal(err)
		}
		if a.Subject != "ZZA" || a.State != store.AssessDraft || a.Method != assess.MethodWeightedSum {
			t.Errorf("CreateAssessment = %+v, want ZZA, draft, weighted-sum", a)
		}
		// Immutability: the version is used now.
		changed := strings.Replace(tinyFramework, `"title":"Tiny"`, `"title":"Tiny changed"`, 1)
		if _, err := s.ImportFramework(who.alice, []byte(changed)); focal.ErrorCode(err) != focal.ECONFLICT {
			t.Errorf("ImportFramework(changed body of a used version) = %v, want %s", err, focal.ECONFLICT)
		}
		if _, err := s.ImportFramework(who.alice, []byte(tinyFramework)); err != nil {
			t.Errorf("ImportFramework(same body again) = %v, want nil", err)
		}
		answers := []assess.Answer{
			{Item: "a1", Value: "yes", Evidence: assess.Evidence{URL: "https://gov.example/act", Visibility: assess.VisibilityPublic, Date: "2024-03-01"}},
			{Item: "a2", Value: "partial", Evidence: assess.Evidence{URL: "https://intra.example/plan", Visibility: assess.VisibilityRestricted}},
			{Item: "b1", Value: "yes", Comment: "internal note"},
		}
		for _, ans := range answers {
			if err := s.SaveAnswer(who.alice, a.ID, ans); err != nil {
				t.Fatalf("SaveAnswer(%s) = %v", ans.Item, err)
			}
		}
		for _, bad := range []struct {
			ans   assess.Answer
			field string
		}{
			{assess.Answer{Item: "a1", Value: "maybe"}, "answers[a1].value"},
			{assess.Answer{Item: "a1", Value: "yes", Evidence: assess.Evidence{URL: "gov.example/act"}}, "answers[a1].evidence.url"},
		} {
			err := s.SaveAnswer(who.alice, a.ID, bad.ans)
			if fe, ok := err.(*focal.Error); !ok || fe.Field != bad.field {
				t.Errorf("SaveAnswer(%+v) = %v, want an error on %s", bad.ans, err, bad.field)
			}
		}
		if _, err := s.Transition(who.alice, a.ID, store.ActValidate); focal.ErrorCode(err) != focal.ECONFLICT {
			t.Errorf("validate a draft = %v, want %s", err, focal.ECONFLICT)
		}
		if _, err := s.Transition(who.alice, a.ID, store.ActSubmit); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveAnswer(who.alice, a.ID, answers[0]); focal.ErrorCode(err) != focal.ECONFLICT {
			t.Errorf("SaveAnswer(submitted) = %v, want %s", err, focal.ECONFLICT)
		}
		if _, err := s.Transition(who.alice, a.ID, store.ActValidate); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("validate by the author = %v, want %s", err, focal.EFORBIDDEN)
		}
		v, err := s.Transition(who.bob, a.ID, store.ActValidate)
		if err != nil {
			t.Fatal(err)
		}
		// A = (1 + 0.5) ÷ 2 × 20 = 15; B = 20. Public only: A = 10, B = 0.
		if v.Score == nil || v.Score.Total != 35 || v.PublicScore.Total != 10 || v.Validator != "bob" {
			t.Fatalf("validated = score %+v, public %+v, validator %q; want 35, 10, bob", v.Score, v.PublicScore, v.Validator)
		}
		if v.Score.Ruler.Framework != "tiny" || v.Score.Ruler.MethodVersion != "1" || v.Score.Ruler.Weights["A"] != 1 {
			t.Errorf("ruler = %+v, want the framework, method version and weights", v.Score.Ruler)
		}
		if _, err := s.Transition(who.bob, a.ID, store.ActPublish); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("publish by an assessor = %v, want %s", err, focal.EFORBIDDEN)
		}
		if _, err := s.Transition(who.coord, a.ID, store.ActPublish); err != nil {
			t.Fatal(err)
		}
		pub, err := s.PublishedAssessment(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pub.Answers["a2"].Evidence.URL != "" || pub.Answers["a1"].Evidence.URL == "" || pub.Answers["b1"].Comment != "" {
			t.Errorf("PublishedAssessment answers = %+v, want public evidence only and no comments", pub.Answers)
		}

		// A new version of the framework changes nothing of the old score.
		v2 := strings.NewReplacer(`"version":"1"`, `"version":"2"`, `"max":20},{"id":"a1"`, `"max":30},{"id":"a1"`, `"total":40`, `"total":50`).Replace(tinyFramework)
		if _, err := s.ImportFramework(who.alice, []byte(v2)); err != nil {
			t.Fatal(err)
		}
		again, err := s.Assessment(who.alice, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		rescored, err := s.ScoreAssessment(who.alice, again, assess.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if again.Score.Total != 35 || rescored.Total != 35 || rescored.Ruler.ID != again.Score.Ruler.ID {
			t.Errorf("after v2: stored %v, rescored %v on %s; want 35 on %s", again.Score.Total, rescored.Total, rescored.Ruler.ID, again.Score.Ruler.ID)
		}

		// A correction is a new revision with a diff.
		rev, err := s.Revise(who.alice, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rev.Revision != 2 || rev.PreviousID != a.ID || len(rev.Answers) != 3 {
			t.Fatalf("Revise = revision %d of %d with %d answers, want revision 2 of %d with 3", rev.Revision, rev.PreviousID, len(rev.Answers), a.ID)
		}
		if _, err := s.Revise(who.alice, a.ID); focal.ErrorCode(err) != focal.ECONFLICT {
			t.Errorf("Revise twice = %v, want %s", err, focal.ECONFLICT)
		}
		if err := s.SaveAnswer(who.alice, rev.ID, assess.Answer{Item: "b1", Value: "no"}); err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			ctx context.Context
			act string
		}{{who.alice, store.ActSubmit}, {who.bob, store.ActValidate}, {who.coord, store.ActPublish}} {
			if _, err := s.Transition(step.ctx, rev.ID, step.act); err != nil {
				t.Fatalf("%s revision = %v", step.act, err)
			}
		}
		rev, err = s.Assessment(who.alice, rev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rev.Diff) != 2 || rev.Diff[0].Item != "b1" || rev.Diff[0].Field != "value" || rev.Diff[0].After != "no" || rev.Diff[1].Field != "comment" || rev.Diff[1].Before != "internal note" {
			t.Errorf("revision diff = %+v, want b1's comment and value", rev.Diff)
		}
		list, err := s.PublishedAssessments(context.Background(), store.AssessmentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != rev.ID {
			t.Errorf("PublishedAssessments = %d, want only the current revision %d", len(list), rev.ID)
		}
		cmp, err := s.CompareAssessments(who.alice, again, rev, assess.Options{}, 0)
		if err != nil || cmp.Change != -50 {
			t.Errorf("CompareAssessments = %+v, %v; want a change of -50 points of percentage", cmp, err)
		}
		recs, err := s.AuditRecords(sys(), store.AuditFilter{ObjectType: "assessment", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range recs {
			seen[r.Action] = true
		}
		for _, want := range []string{"assessment.create", "assessment.answer", "assessment.submit", "assessment.validate", "assessment.publish", "assessment.revise"} {
			if !seen[want] {
				t.Errorf("audit log has no %s", want)
			}
		}
	})
}

func TestAssessmentTargetsAndSeries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		who := assessUsers(t, s)
		if _, err := s.ImportFramework(who.alice, []byte(tinyFramework)); err != nil {
			t.Fatal(err)
		}
		scores := map[string][]string{"AAA": {"yes", "no", "no"}, "BBB": {"yes", "yes", "no"}, "CCC": {"yes", "yes", "yes"}, "DDD": {"no", "no", "no"}}
		ids := map[string]int64{}
		for subj, vals := range scores {
			a := &store.Assessment{Subject: subj, SubjectName: subj, Year: 2024, Framework: store.FrameworkInfo{Key: "tiny", Version: "1"}}
			if err := s.CreateAssessment(who.alice, a); err != nil {
				t.Fatal(err)
			}
			for i, item := range []string{"a1", "a2", "b1"} {
				if err := s.SaveAnswer(who.alice, a.ID, assess.Answer{Item: item, Value: vals[i]}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Transition(who.alice, a.ID, store.ActSubmit); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Transition(who.bob, a.ID, store.ActValidate); err != nil {
				t.Fatal(err)
			}
			ids[subj] = a.ID
		}
		// AAA scores 10 of 40: close 40% of the gap → 10 + 0.4 × 30 = 22.
		tg, err := s.SetTarget(who.alice, ids["AAA"], assess.Target{TargetYear: 2030}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tg.Definition.Kind != assess.TargetGapClosure || tg.Value.Value != 22 || tg.Definition.Baseline != 10 {
			t.Errorf("SetTarget(default) = %+v, want gap closure from 10 to 22", tg)
		}
		bad := "subject,year,value\nAAA,2024,20\nBBB,twenty,40\n"
		if _, err := s.ImportSeries(who.alice, store.Series{Name: "internet-users", Vintage: "2025"}, strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 3, column 2") {
			t.Errorf("ImportSeries(bad year) = %v, want an error at line 3, column 2", err)
		}
		csv := "subject,year,value\nAAA,2024,20\nBBB,2024,40\nCCC,2024,60\nDDD,2023,30\n"
		sr, err := s.ImportSeries(who.alice, store.Series{Name: "internet-users", Vintage: "2025", Source: "test"}, strings.NewReader(csv))
		if err != nil || sr.Points != 4 {
			t.Fatalf("ImportSeries = %+v, %v; want 4 points", sr, err)
		}
		// Peers BBB (20 at 40%) and CCC (40 at 60%) and DDD (0 at 30%):
		// the fit gives AAA (20%) an expectation below its 10, so the
		// target falls back to gap closure: 22.
		pt, err := s.SetTarget(who.alice, ids["AAA"], assess.Target{Kind: assess.TargetPenetration, Series: "internet-users"}, []string{"BBB", "CCC", "DDD"})
		if err != nil {
			t.Fatal(err)
		}
		if len(pt.Definition.Peers) != 3 || pt.Definition.Penetration != 20 {
			t.Errorf("SetTarget(penetration) = %+v, want 3 peers and AAA at 20%%", pt.Definition)
		}
		list, err := s.Targets(who.bob, "aaa")
		if err != nil || len(list) != 2 {
			t.Errorf("Targets(AAA) = %d, %v; want 2", len(list), err)
		}
	})
}

func TestMeasureMetricAndLinkCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		who := assessUsers(t, s)
		o1, o2 := sampleOrg("Alpha"), sampleOrg("Bravo")
		o2.Contacts = nil
		for _, o := range []*focal.Organisation{o1, o2} {
			if err := s.CreateOrganisation(sys(), o); err != nil {
				t.Fatal(err)
			}
		}
		m, err := s.MeasureMetric(who.alice, assess.MetricContactCoverage, "", assess.YearWindow(2025), focal.Calendar{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Value != 50 || m.Definition == "" || m.From.Year() != 2025 {
			t.Errorf("MeasureMetric(contact coverage) = %+v, want 50%% with its definition and window", m)
		}
		if _, err := s.MeasureMetric(who.alice, assess.MetricIncidentsWithinSLA, "", assess.YearWindow(2025), focal.Calendar{}); err != nil {
			t.Errorf("MeasureMetric(SLA) = %v", err)
		}
		if _, err := s.MeasureMetric(who.alice, assess.MetricEventsPer10k, "malicious-code", assess.YearWindow(2025), focal.Calendar{}); err != nil {
			t.Errorf("MeasureMetric(events) = %v", err)
		}

		if _, err := s.ImportFramework(who.alice, []byte(tinyFramework)); err != nil {
			t.Fatal(err)
		}
		a := &store.Assessment{Subject: "ZZA", SubjectName: "Zedland", Year: 2025, Framework: store.FrameworkInfo{Key: "tiny", Version: "1"}}
		if err := s.CreateAssessment(who.alice, a); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/gone" {
				http.NotFound(w, r)
			}
		}))
		defer srv.Close()
		for item, path := range map[string]string{"a1": "/ok", "a2": "/gone"} {
			if err := s.SaveAnswer(who.alice, a.ID, assess.Answer{Item: item, Value: "yes", Evidence: assess.Evidence{URL: srv.URL + path, Visibility: "public"}}); err != nil {
				t.Fatal(err)
			}
		}
		c := &assess.LinkChecker{Store: s, Client: srv.Client(), Now: func() time.Time { return time.Now().Add(time.Minute) }}
		checked, broken, err := c.CheckOnce(sys())
		if err != nil || checked != 2 || broken != 1 {
			t.Fatalf("CheckOnce = %d checked, %d broken, %v; want 2, 1", checked, broken, err)
		}
		got, err := s.Assessment(who.alice, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		gone := got.Answers["a2"]
		if !gone.Evidence.LinkBroken || gone.Evidence.URL == "" || gone.Value != "yes" || got.Answers["a1"].Evidence.LinkBroken {
			t.Errorf("after the check: a1 %+v, a2 %+v; want a2 flagged and kept, a1 not flagged", got.Answers["a1"].Evidence, gone)
		}
		// Checked recently: nothing is due.
		c.Now = time.Now
		if checked, _, _ := c.CheckOnce(sys()); checked != 0 {
			t.Errorf("CheckOnce again = %d checked, want 0 (not due)", checked)
		}
	})
}
