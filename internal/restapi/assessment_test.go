package restapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// assessAPI serves the assessment routes over a fresh store, acting as
// the principal named in the X-Test-As header (alice and bob are
// assessors, carol a coordinator).
func assessAPI(t *testing.T) *httptest.Server {
	t.Helper()
	st := storetest.Open(t, store.SQLite)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	people := map[string]focal.Principal{}
	for _, u := range []*focal.User{{Name: "alice", Role: focal.RoleAssessor}, {Name: "bob", Role: focal.RoleAssessor}, {Name: "carol", Role: focal.RoleCoordinator}} {
		if err := st.CreateUser(sys, u, ""); err != nil {
			t.Fatal(err)
		}
		people[u.Name] = focal.Principal{UserID: u.ID, Name: u.Name, Role: u.Role}
	}
	a := &API{Store: st, Logger: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	for _, rt := range a.assessRoutes() {
		mux.Handle(rt.Pattern(), rt.Handler)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(focal.NewContextWithPrincipal(r.Context(), people[r.Header.Get("X-Test-As")]))
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func assessCall(t *testing.T, srv *httptest.Server, as, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test-As", as)
	if body != "" && !strings.HasPrefix(body, "subject,") {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestAssessmentAPI(t *testing.T) {
	srv := assessAPI(t)
	// A framework with a cycle is refused with its location.
	bad := `{"id":"x","version":"1","title":"X","method":"fulfilment","scales":[],"items":[{"id":"A","parent":"A","kind":"pillar","title":"A"}]}`
	if code, body := assessCall(t, srv, "alice", "POST", "/api/v1/assessment-frameworks", bad); code != http.StatusBadRequest || !strings.Contains(body, "items[0].parent (byte") || !strings.Contains(body, "cycle") {
		t.Errorf("import a cyclic framework = %d %s, want 400 naming items[0].parent and its byte", code, body)
	}
	code, body := assessCall(t, srv, "alice", "POST", "/api/v1/assessments", `{"subject":"XAL","subject_name":"Aldoria","year":2024,"framework":"focal-national@1.0"}`)
	if code != http.StatusCreated {
		t.Fatalf("create = %d %s", code, body)
	}
	var created struct{ ID int64 }
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/assessments/" + itoa(created.ID)
	if code, body := assessCall(t, srv, "alice", "PUT", base+"/answers/LEG.1.1", `{"value":"yes","evidence":{"url":"https://laws.aldoria.example/act","visibility":"public","date":"2023-04-01"}}`); code != http.StatusOK {
		t.Fatalf("answer = %d %s", code, body)
	}
	if code, body := assessCall(t, srv, "alice", "PUT", base+"/answers/LEG.1.2", `{"value":"sometimes"}`); code != http.StatusBadRequest || !strings.Contains(body, "answers[LEG.1.2].value") {
		t.Errorf("answer off the scale = %d %s, want 400 naming answers[LEG.1.2].value", code, body)
	}
	for _, step := range []struct{ as, action string }{{"alice", "submit"}, {"bob", "validate"}, {"carol", "publish"}} {
		if code, body := assessCall(t, srv, step.as, "POST", base+"/transitions", `{"action":"`+step.action+`"}`); code != http.StatusOK {
			t.Fatalf("%s = %d %s", step.action, code, body)
		}
	}
	code, body = assessCall(t, srv, "bob", "GET", base, "")
	var got struct {
		State string
		Score *struct {
			Total float64
			Ruler struct {
				Framework, Version string
				MethodVersion      string `json:"method_version"`
				Weights            map[string]float64
			}
			Trace []struct{ Item string }
		}
		Answers []struct{ Item string }
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusOK {
		t.Fatalf("GET = %d %v %s", code, err, body)
	}
	// LEG.1.1 is one of four questions of LEG.1 (weight 2 of 8 in LEG):
	// 20 × 2/8 × 1/4 = 1.25 points.
	if got.State != "published" || got.Score == nil || got.Score.Total != 1.25 || len(got.Score.Trace) != 56 || got.Score.Ruler.Weights["LEG.1"] != 2 || got.Score.Ruler.MethodVersion != "1" || got.Score.Ruler.Version != "1.0" {
		t.Errorf("GET = state %s score %+v, want published, 1.25 points, a 56-line trace and the weights", got.State, got.Score)
	}
	if code, body := assessCall(t, srv, "bob", "GET", base+"/export.csv", ""); code != http.StatusOK || !strings.Contains(body, "LEG.1.1") || !strings.Contains(body, "TOTAL") {
		t.Errorf("export = %d, want one row per question and a total", code)
	}
	if code, body := assessCall(t, srv, "alice", "POST", "/api/v1/assessment-targets", `{"baseline_assessment_id":`+itoa(created.ID)+`,"target":{"target_year":2030}}`); code != http.StatusCreated || !strings.Contains(body, `"kind":"gap-closure"`) {
		t.Errorf("target = %d %s, want a gap-closure target", code, body)
	}
	if code, body := assessCall(t, srv, "alice", "POST", "/api/v1/reference-series?name=internet-users&vintage=2025", "subject,year,value\nXAL,2024,61.5\n"); code != http.StatusCreated {
		t.Errorf("series = %d %s", code, body)
	}
	if code, body := assessCall(t, srv, "alice", "GET", "/api/v1/assessment-frameworks/focal-national/1.0", ""); code != http.StatusOK || !strings.Contains(body, `"focal-national"`) {
		t.Errorf("export framework = %d", code)
	}
	if code, body := assessCall(t, srv, "bob", "GET", base+"/rescore?framework=focal-national@1.0", ""); code != http.StatusOK || !strings.Contains(body, `"common":56`) {
		t.Errorf("rescore = %d %s, want the overlap of 56 questions", code, body)
	}
	if code, _ := assessCall(t, srv, "alice", "POST", base+"/revisions", ""); code != http.StatusCreated {
		t.Errorf("revise = %d, want 201", code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
