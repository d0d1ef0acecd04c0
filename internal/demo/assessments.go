package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"focal/internal/assess"
	"focal/internal/focal"
	"focal/internal/store"
)

// demoCountry is a fictional country of the assessment demo: its level
// (0–1) in each pillar of the national framework in the first round, and
// how much it gains by the second.
type demoCountry struct {
	code, name, domain string
	level              [5]float64 // LEG, TEC, ORG, CAP, COO
	gain               float64
	internet           [2]float64 // % of individuals online, per round
}

// demoCountries are fictional: the codes are in the ISO 3166 user-assigned
// range (XA…XZ, AAA…), so they never collide with a real country.
var demoCountries = []demoCountry{
	{"XAL", "Aldoria", "aldoria.example", [5]float64{0.55, 0.45, 0.40, 0.35, 0.50}, 0.20, [2]float64{58, 66}},
	{"XBR", "Brevania", "brevania.example", [5]float64{0.75, 0.70, 0.65, 0.60, 0.70}, 0.08, [2]float64{81, 85}},
	{"XCO", "Corvettia", "corvettia.example", [5]float64{0.30, 0.25, 0.20, 0.30, 0.35}, 0.15, [2]float64{34, 41}},
}

// demoRounds are the periods of the two rounds.
var demoRounds = [2]int{2023, 2025}

// SeedAssessments adds the readiness-assessment demo: three fictional
// countries with two published rounds each on the national framework
// (answers with evidence, public and restricted), a 40% gap-closure
// target from each first round to 2030 (and a penetration-adjusted one
// for the first country), two rounds of the maturity model for the first
// country, a reference series of ICT penetration, and one draft for the
// assessor to continue. The assessor account answers; the account named
// "validator" (an assessor) validates, or the coordinator when there is
// none; the coordinator publishes. Call it after Seed (it needs those
// accounts).
func SeedAssessments(ctx context.Context, st *store.Store) error {
	sys := focal.NewContextWithRemote(focal.NewContextWithPrincipal(ctx, focal.System()), "demo")
	users, err := st.Users(sys)
	if err != nil {
		return fmt.Errorf("demo assessments: %w", err)
	}
	byName := map[string]*focal.User{}
	for _, u := range users {
		byName[u.Name] = u
	}
	as := func(name string) (context.Context, error) {
		u := byName[name]
		if u == nil {
			return nil, fmt.Errorf("demo assessments: no account %q", name)
		}
		return focal.NewContextWithRemote(focal.NewContextWithPrincipal(ctx, focal.Principal{UserID: u.ID, Name: u.Name, Role: u.Role}), "demo"), nil
	}
	author, err := as("assessor")
	if err != nil {
		return err
	}
	publisher, err := as("coordinator")
	if err != nil {
		return err
	}
	validator := publisher
	if byName["validator"] != nil {
		if validator, err = as("validator"); err != nil {
			return err
		}
	}
	fws, err := assess.Frameworks()
	if err != nil {
		return err
	}
	byRef := map[string]*assess.Framework{}
	for _, f := range fws {
		byRef[f.Ref()] = f
	}
	national, maturity := byRef["focal-national@1.0"], byRef["focal-maturity@1.0"]
	if national == nil || maturity == nil {
		return fmt.Errorf("demo assessments: the shipped frameworks are missing")
	}

	var csv strings.Builder
	csv.WriteString("subject,year,value\n")
	for _, c := range demoCountries {
		for i, y := range demoRounds {
			fmt.Fprintf(&csv, "%s,%d,%g\n", c.code, y, c.internet[i])
		}
	}
	if _, err := st.ImportSeries(author, store.Series{Name: "internet-users", Vintage: "demo-2025", Unit: "% of individuals",
		Source: "fictional figures for the focal demo", Licence: "CC0"}, strings.NewReader(csv.String())); err != nil {
		return fmt.Errorf("demo assessments: series: %w", err)
	}

	first := map[string]int64{}
	for _, c := range demoCountries {
		for round, year := range demoRounds {
			a := &store.Assessment{SubjectKind: "country", Subject: c.code, SubjectName: c.name, Year: year,
				Framework:   store.FrameworkInfo{Key: national.ID, Version: national.Version},
				Respondents: []string{"National cybersecurity agency of " + c.name, "Ministry of digital affairs"}}
			if err := st.CreateAssessment(author, a); err != nil {
				return fmt.Errorf("demo assessments: %s %d: %w", c.code, year, err)
			}
			for _, q := range national.Questions() {
				top := national.Top(q.ID)
				lvl := c.level[pillarIndex(top.ID)] + float64(round)*c.gain
				ans := demoAnswer(national, q, c, year, lvl)
				if err := st.SaveAnswer(author, a.ID, ans); err != nil {
					return fmt.Errorf("demo assessments: %s %d %s: %w", c.code, year, q.ID, err)
				}
			}
			if err := advance(author, validator, publisher, st, a.ID, store.AssessPublished); err != nil {
				return err
			}
			if round == 0 {
				first[c.code] = a.ID
			}
		}
	}
	for _, c := range demoCountries {
		if _, err := st.SetTarget(author, first[c.code], assess.Target{Kind: assess.TargetGapClosure, Share: assess.DefaultShare, TargetYear: 2030}, nil); err != nil {
			return fmt.Errorf("demo assessments: target %s: %w", c.code, err)
		}
	}
	// The first country also states a penetration-adjusted target
	// against the other two (and itself through the fit).
	c := demoCountries[0]
	if _, err := st.SetTarget(author, first[c.code], assess.Target{Kind: assess.TargetPenetration, Share: assess.DefaultShare, TargetYear: 2030,
		Series: "internet-users"}, []string{"XBR", "XCO", "XAL"}); err != nil {
		return fmt.Errorf("demo assessments: penetration target: %w", err)
	}

	// Two rounds of the maturity model for the first country.
	for round, year := range demoRounds {
		a := &store.Assessment{SubjectKind: "country", Subject: c.code, SubjectName: c.name, Year: year,
			Framework: store.FrameworkInfo{Key: maturity.ID, Version: maturity.Version}}
		if err := st.CreateAssessment(author, a); err != nil {
			return fmt.Errorf("demo assessments: maturity %d: %w", year, err)
		}
		for _, q := range maturity.Questions() {
			// Stage s is met when the country's level reaches it.
			reach := 2 + round + int(pick(c.code, q.ID)*2)
			v := "not-met"
			if q.Stage <= reach {
				v = "met"
			}
			if err := st.SaveAnswer(author, a.ID, assess.Answer{Item: q.ID, Value: v}); err != nil {
				return fmt.Errorf("demo assessments: maturity %s: %w", q.ID, err)
			}
		}
		if err := advance(author, validator, publisher, st, a.ID, store.AssessPublished); err != nil {
			return err
		}
	}

	// A draft for the assessor to continue: the child online protection
	// module for the first country's current period.
	cop := byRef["focal-cop@1.0"]
	if cop == nil {
		return fmt.Errorf("demo assessments: the child online protection module is missing")
	}
	draft := &store.Assessment{SubjectKind: "country", Subject: c.code, SubjectName: c.name, Year: 2026,
		Framework: store.FrameworkInfo{Key: cop.ID, Version: cop.Version}, Respondents: []string{"Child protection unit"}}
	if err := st.CreateAssessment(author, draft); err != nil {
		return fmt.Errorf("demo assessments: draft: %w", err)
	}
	for i, q := range cop.Questions() {
		if i >= 4 {
			break
		}
		if err := st.SaveAnswer(author, draft.ID, demoAnswer(cop, q, c, 2026, 0.6)); err != nil {
			return fmt.Errorf("demo assessments: draft %s: %w", q.ID, err)
		}
	}
	return nil
}

// advance takes assessment id through submission, validation and
// publication up to state.
func advance(author, validator, publisher context.Context, st *store.Store, id int64, state string) error {
	steps := []struct {
		ctx    context.Context
		action string
		after  string
	}{
		{author, store.ActSubmit, store.AssessSubmitted},
		{validator, store.ActValidate, store.AssessValidated},
		{publisher, store.ActPublish, store.AssessPublished},
	}
	for _, s := range steps {
		if _, err := st.Transition(s.ctx, id, s.action); err != nil {
			return fmt.Errorf("demo assessments: %s %d: %w", s.action, id, err)
		}
		if s.after == state {
			break
		}
	}
	return nil
}

func pillarIndex(id string) int {
	switch id {
	case "LEG":
		return 0
	case "TEC":
		return 1
	case "ORG":
		return 2
	case "CAP":
		return 3
	}
	return 4
}

// pick is a stable pseudo-random number in [0, 1) for a country and item.
func pick(country, item string) float64 {
	h := fnv.New32a()
	h.Write([]byte(country + "/" + item))
	return float64(h.Sum32()%1000) / 1000
}

// demoAnswer answers q for country c at level lvl (0–1): the higher the
// level, the likelier yes; evidence is a public URL for most answers, a
// restricted one for some, dated to the year before the round.
func demoAnswer(f *assess.Framework, q *assess.Item, c demoCountry, year int, lvl float64) assess.Answer {
	r := pick(c.code, q.ID)
	ans := assess.Answer{Item: q.ID}
	sc := f.ScaleOf(q)
	switch sc.Type {
	case assess.ScaleNumber:
		v := sc.Min + (sc.Max-sc.Min)*min(1, lvl*(0.8+0.4*r))
		if sc.LowerIsBetter {
			v = sc.Max - (v - sc.Min)
		}
		ans.Value = fmt.Sprintf("%.1f", v)
		ans.Comment = "reported by the national CIRT"
		return ans
	default:
		switch {
		case r < lvl*0.8:
			ans.Value = "yes"
		case r < lvl*1.2:
			ans.Value = "partial"
		default:
			ans.Value = "no"
		}
	}
	if ans.Value == "no" {
		return ans
	}
	vis := assess.VisibilityPublic
	if r > 0.75 {
		vis = assess.VisibilityRestricted
	}
	slug := strings.ToLower(strings.ReplaceAll(q.ID, ".", "-"))
	ans.Evidence = assess.Evidence{URL: fmt.Sprintf("https://www.%s/readiness/%d/%s", c.domain, year, slug), Visibility: vis,
		Date: fmt.Sprintf("%d-%02d-15", year-1, 1+int(r*11)), ReviewBy: fmt.Sprintf("%d-12-31", year+1)}
	return ans
}
