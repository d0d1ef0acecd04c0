package app_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"focal/internal/assess"
	"focal/internal/focal"
	"focal/internal/server"
	"focal/internal/store"
)

// The readiness assessments (issue #9): assessors write, the rest of the
// staff read, a coordinator publishes (the store's rule: a validator
// other than the author first); anyone reads published ones on the
// public pages.
func init() {
	assessWrite := expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "assessor": ok}
	assessCreate := with(assessWrite, expect{"coordinator": created, "assessor": created})
	assessForm := expect{"*": forbid, "anonymous": unauth, "coordinator": see, "assessor": see}
	staffPage := with(staffRead, expect{"anonymous": see})
	noFile := with(staffRead, expect{"coordinator": notFound, "handler": notFound, "analyst": notFound, "assessor": notFound, "coordinator-readonly": notFound})
	for route, e := range map[string]expect{
		"GET /api/v1/assessments":                              staffRead,
		"POST /api/v1/assessments":                             assessCreate,
		"GET /api/v1/assessments/{id}":                         staffRead,
		"GET /api/v1/assessments/{id}/export.csv":              staffRead,
		"GET /api/v1/assessments/{id}/rescore":                 staffRead,
		"PUT /api/v1/assessments/{id}/answers/{item}":          assessWrite,
		"POST /api/v1/assessments/{id}/answers/{item}/measure": assessWrite,
		"GET /api/v1/assessments/{id}/evidence/{item}":         noFile, // the fixture's answer has no file
		"POST /api/v1/assessments/{id}/evidence":               assessCreate,
		"POST /api/v1/assessments/{id}/transitions":            assessWrite,
		"POST /api/v1/assessments/{id}/revisions":              assessCreate,
		"GET /api/v1/assessment-frameworks":                    staffRead,
		"POST /api/v1/assessment-frameworks":                   assessCreate,
		"GET /api/v1/assessment-frameworks/{key}/{version}":    staffRead,
		"GET /api/v1/assessment-targets":                       staffRead,
		"POST /api/v1/assessment-targets":                      assessCreate,
		"GET /api/v1/reference-series":                         staffRead,
		"POST /api/v1/reference-series":                        assessCreate,

		"GET /assessments":                                       public,
		"GET /assessments/{id}":                                  public,
		"GET /assessments/{id}/export.csv":                       public,
		"GET /assessments/{id}/export.json":                      public,
		"GET /assessments/{id}/evidence/{item}":                  expect{"*": notFound}, // no file behind the answer
		"GET /assess":                                            staffPage,
		"POST /assess":                                           assessForm,
		"GET /assess/{id}":                                       staffPage,
		"POST /assess/{id}/answers":                              assessForm,
		"POST /assess/{id}/measure":                              assessForm,
		"POST /assess/{id}/state":                                assessForm,
		"POST /assess/{id}/target":                               assessForm,
		"GET /assess/{id}/export.csv":                            staffPage,
		"GET /assess/{id}/export.json":                           staffPage,
		"GET /assess/{id}/evidence/{item}":                       with(noFile, expect{"anonymous": see}),
		"GET /assessment-frameworks/{key}/{version}":             staffPage,
		"GET /assessment-frameworks/{key}/{version}/export.json": staffPage,
		"POST /assessment-frameworks":                            assessForm,
		"POST /reference-series":                                 assessForm,
	} {
		matrix[route] = e
	}
	extraFixtures = append(extraFixtures, assessFixture)
}

// assessFixture makes the assessment a route acts on: a draft for
// answers and submission, a validated one for targets, a published one
// for corrections and the public pages.
func assessFixture(t *testing.T, st *store.Store, sys context.Context, rt server.Route, target *focal.Organisation, unique string) (string, string, bool) {
	p := rt.Path
	if !strings.HasPrefix(p, "/api/v1/assessment") && !strings.HasPrefix(p, "/api/v1/reference-series") && !strings.HasPrefix(p, "/assess") && p != "/reference-series" {
		return "", "", false
	}
	t.Helper()
	state := store.AssessDraft
	switch {
	case strings.HasPrefix(p, "/assessments/"), strings.HasSuffix(p, "/revisions"):
		state = store.AssessPublished
	case strings.HasSuffix(p, "/target"), p == "/api/v1/assessment-targets" && rt.Method == "POST":
		state = store.AssessValidated
	}
	a := assessmentIn(t, st, sys, state, unique)
	if strings.HasSuffix(p, "/rescore") {
		p += "?framework=focal-national@1.0"
	}
	path := strings.NewReplacer("{id}", fmt.Sprint(a.ID), "{item}", "LEG.1.1", "{key}", "focal-national", "{version}", "1.0").Replace(p)
	if strings.HasSuffix(p, "/measure") {
		path = strings.Replace(path, "LEG.1.1", "TEC.1.5", 1)
	}
	fw := fmt.Sprintf(`{"id":"fx-%s","version":"1","title":"Fixture","method":"fulfilment","scales":[{"id":"yn","type":"choice","options":[{"value":"y","score":1},{"value":"n","score":0}]}],"items":[{"id":"P","kind":"pillar","title":"P"},{"id":"q","parent":"P","kind":"question","title":"q","scale":"yn"}]}`, unique)
	body := ""
	switch {
	case rt.Method == "GET":
	case p == "/api/v1/assessments":
		body = fmt.Sprintf(`{"subject":"F%s","subject_name":"Fixture","year":2025,"framework":"focal-national@1.0"}`, strings.ReplaceAll(unique, "-", "")[:12])
	case p == "/api/v1/assessments/{id}/answers/{item}":
		body = `{"value":"yes","evidence":{"url":"https://laws.example/act","visibility":"public"}}`
	case p == "/api/v1/assessments/{id}/evidence":
		path += "?name=act.txt"
		body = "the text of the act " + unique
	case p == "/api/v1/assessments/{id}/transitions":
		body = `{"action":"submit"}`
	case p == "/api/v1/assessment-frameworks":
		body = fw
	case p == "/api/v1/assessment-targets":
		body = fmt.Sprintf(`{"baseline_assessment_id":%d,"target":{"kind":"gap-closure","target_year":2030}}`, a.ID)
	case p == "/api/v1/reference-series":
		path += "?name=internet-users&vintage=" + unique
		body = "subject,year,value\nZZA,2024,55.5\n"
	case p == "/assess":
		body = "subject=ZZ&subject_name=Fixture&year=2025&framework=focal-national%401.0"
	case p == "/assess/{id}/answers":
		body = "item=LEG.1.1&value=partial&visibility=restricted"
	case p == "/assess/{id}/measure":
		body = "item=TEC.1.5"
	case p == "/assess/{id}/state":
		body = "action=submit"
	case p == "/assess/{id}/target":
		body = "kind=gap-closure&share=40&target_year=2030"
	case p == "/assessment-frameworks":
		body = "body=" + url.QueryEscape(fw)
	case p == "/reference-series":
		body = "name=internet-users&vintage=" + unique + "&csv=" + url.QueryEscape("subject,year,value\nZZA,2024,55.5\n")
	}
	return path, body, true
}

// assessmentIn makes an assessment of focal-national@1.0 in state, with
// one answer.
func assessmentIn(t *testing.T, st *store.Store, sys context.Context, state, unique string) *store.Assessment {
	t.Helper()
	a := &store.Assessment{Subject: "ZZA", SubjectName: "Zedland " + unique, Year: 2025, Framework: store.FrameworkInfo{Key: "focal-national", Version: "1.0"}}
	if err := st.CreateAssessment(sys, a); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveAnswer(sys, a.ID, assess.Answer{Item: "LEG.1.1", Value: "yes"}); err != nil {
		t.Fatal(err)
	}
	validator := focal.NewContextWithPrincipal(context.Background(), focal.Principal{UserID: -2, Name: "fixture-validator", Role: focal.RoleCoordinator})
	steps := map[string][]string{store.AssessValidated: {store.ActSubmit, store.ActValidate}, store.AssessPublished: {store.ActSubmit, store.ActValidate, store.ActPublish}}
	for _, act := range steps[state] {
		ctx := sys
		if act != store.ActSubmit {
			ctx = validator
		}
		if _, err := st.Transition(ctx, a.ID, act); err != nil {
			t.Fatal(err)
		}
	}
	return a
}
