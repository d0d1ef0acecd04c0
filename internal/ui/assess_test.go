package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAssessmentWorkflow walks the "done when": an assessor
// answers with evidence, another person validates, the coordinator
// publishes; the dashboard shows the score, the pillars, the progress
// toward a 40% gap-closure target and the comparison; everything exports;
// the public page shows public evidence only.
func TestAssessmentWorkflow(t *testing.T) {
	e := newEnv(t)
	r := e.post(t, "assessor", "/assess", url.Values{"subject_kind": {"country"}, "subject": {"zza"}, "subject_name": {"Zedland"}, "year": {"2024"},
		"framework": {"focal-national@1.0"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /assess = %d, want 303:\n%s", r.status, r.body)
	}
	loc := strings.TrimSuffix(r.header.Get("Location"), "?notice=created")
	id := strings.TrimPrefix(loc, "/assess/")
	// A value off the scale is refused, naming the field.
	r = e.post(t, "assessor", loc+"/answers", url.Values{"item": {"LEG.1.1"}, "value": {"maybe"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "answers[LEG.1.1].value") {
		t.Errorf("answer off the scale = %d, want 400 naming answers[LEG.1.1].value", r.status)
	}
	for item, form := range map[string]url.Values{
		"LEG.1.1": {"value": {"yes"}, "evidence_url": {"https://laws.zedland.example/cybercrime"}, "visibility": {"public"}, "evidence_date": {"2023-05-01"}},
		"LEG.1.2": {"value": {"partial"}, "evidence_url": {"https://intranet.zedland.example/draft"}, "visibility": {"restricted"}},
		"TEC.1.1": {"value": {"yes"}},
	} {
		form.Set("item", item)
		if r := e.post(t, "assessor", loc+"/answers", form); r.status != http.StatusSeeOther {
			t.Fatalf("answer %s = %d:\n%s", item, r.status, r.body)
		}
	}
	r = e.post(t, "assessor", loc+"/measure", url.Values{"item": {"TEC.1.5"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("measure TEC.1.5 = %d:\n%s", r.status, r.body)
	}
	if r := e.post(t, "assessor", loc+"/state", url.Values{"action": {"submit"}}); r.status != http.StatusSeeOther {
		t.Fatalf("submit = %d", r.status)
	}
	// The author may not validate.
	if r := e.post(t, "assessor", loc+"/state", url.Values{"action": {"validate"}}); r.status != http.StatusConflict || !strings.Contains(r.body, "another person") {
		t.Errorf("validate by the author = %d, want 409 saying another person must", r.status)
	}
	if r := e.post(t, "coordinator", loc+"/state", url.Values{"action": {"validate"}}); r.status != http.StatusSeeOther {
		t.Fatalf("validate by the coordinator = %d:\n%s", r.status, r.body)
	}
	if r := e.post(t, "assessor", loc+"/target", url.Values{"kind": {"gap-closure"}, "share": {"40"}, "target_year": {"2030"}}); r.status != http.StatusSeeOther {
		t.Fatalf("target = %d:\n%s", r.status, r.body)
	}
	if r := e.post(t, "assessor", loc+"/state", url.Values{"action": {"publish"}}); r.status != http.StatusConflict {
		t.Errorf("publish by an assessor = %d, want 409", r.status)
	}
	if r := e.post(t, "coordinator", loc+"/state", url.Values{"action": {"publish"}}); r.status != http.StatusSeeOther {
		t.Fatalf("publish = %d:\n%s", r.status, r.body)
	}
	r = e.get(t, "assessor", loc)
	for _, want := range []string{`id="pillar-bars"`, `id="pillar-radar"`, `id="compare-trend"`, "close 40% of the gap", "Ruler <code>", "Legal measures", "published"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("GET %s lacks %q", loc, want)
		}
	}
	for _, p := range []string{loc + "/export.csv", loc + "/export.json", "/assessments/" + id + "/export.csv", "/assessments/" + id + "/export.json"} {
		r := e.get(t, "assessor", p)
		if r.status != http.StatusOK || !strings.Contains(r.body, "LEG.1.1") {
			t.Errorf("GET %s = %d, want the answers", p, r.status)
		}
	}
	pub := e.get(t, "", "/assessments")
	if pub.status != http.StatusOK || !strings.Contains(pub.body, "Zedland") {
		t.Fatalf("GET /assessments = %d, want Zedland listed", pub.status)
	}
	pub = e.get(t, "", "/assessments/"+id)
	if !strings.Contains(pub.body, "laws.zedland.example") || strings.Contains(pub.body, "intranet.zedland.example") {
		t.Errorf("public page: want the public evidence and not the restricted one")
	}
	csv := e.get(t, "", "/assessments/"+id+"/export.csv")
	if strings.Contains(csv.body, "intranet.zedland.example") {
		t.Errorf("public CSV shows restricted evidence")
	}
	if r := e.get(t, "", loc); r.status == http.StatusOK {
		t.Errorf("GET %s anonymously = 200, want a refusal", loc)
	}
	if r := e.get(t, "assessor", "/assessment-frameworks/focal-national/1.0"); r.status != http.StatusOK || !strings.Contains(r.body, "LEG.1.1") {
		t.Errorf("framework browser = %d", r.status)
	}
	bad := `{"id":"x","version":"1","title":"X","method":"weighted-sum","scales":[],"items":[{"id":"A","kind":"pillar","title":"A"},{"id":"q","parent":"A","kind":"question","title":"q","scale":"ynp"}]}`
	if r := e.post(t, "assessor", "/assessment-frameworks", url.Values{"body": {bad}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "items[1].scale (byte 181)") {
		t.Errorf("import a framework with a missing scale = %d, want 400 naming items[1].scale (byte 181)", r.status)
	}
	r = e.post(t, "assessor", "/reference-series", url.Values{"name": {"internet-users"}, "vintage": {"2025"}, "csv": {"subject,year,value\nZZA,2024,71.2\n"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("import a series = %d:\n%s", r.status, r.body)
	}
	if r := e.get(t, "assessor", loc); !strings.Contains(r.body, "71.2") {
		t.Errorf("the dashboard does not show the reference series")
	}
}
