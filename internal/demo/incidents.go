package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// scenario is a kind of incident the demo month is made of.
type scenario struct {
	class, typ string
	titles     []string
	severity   focal.Severity
	weight     int // how often it happens
	obs        func(r *rand.Rand) []focal.Observable
}

func ip(r *rand.Rand, prefix string) string { return fmt.Sprintf("%s.%d", prefix, 1+r.IntN(250)) }

var scenarios = []scenario{
	{"fraud", "phishing", []string{"Phishing site imitating %s", "Credential phishing e-mail targeting %s customers", "Fake login page for %s webmail"}, focal.SeverityMedium, 8,
		func(r *rand.Rand) []focal.Observable {
			return []focal.Observable{{Kind: "url", Value: fmt.Sprintf("http://login-%d.phish.example.net/", r.IntN(900)+100)}, {Kind: "ipv4", Value: ip(r, "203.0.113")}}
		}},
	{"malicious-code", "infected-system", []string{"Infected host at %s talking to a known C2", "Botnet-infected devices reported for %s"}, focal.SeverityHigh, 6,
		func(r *rand.Rand) []focal.Observable {
			return []focal.Observable{{Kind: "ipv4", Value: ip(r, "198.51.100")}, {Kind: "domain", Value: fmt.Sprintf("c2-%d.example.com", r.IntN(90)+10)}}
		}},
	{"information-gathering", "scanner", []string{"Port scans against %s from a foreign network", "SSH scanning of %s address space"}, focal.SeverityLow, 6,
		func(r *rand.Rand) []focal.Observable {
			return []focal.Observable{{Kind: "ipv4", Value: ip(r, "203.0.113")}}
		}},
	{"availability", "ddos", []string{"DDoS against %s public portal", "Volumetric attack on %s DNS servers"}, focal.SeverityCritical, 3,
		func(r *rand.Rand) []focal.Observable { return []focal.Observable{{Kind: "asn", Value: "AS64511"}} }},
	{"intrusions", "application-compromise", []string{"Web shell found on a %s server", "SQL injection on the %s customer portal"}, focal.SeverityHigh, 3,
		func(r *rand.Rand) []focal.Observable {
			return []focal.Observable{{Kind: "sha256", Value: fmt.Sprintf("%064x", r.Uint64())}}
		}},
	{"information-content-security", "data-leak", []string{"Leaked credentials of %s staff on a paste site", "Customer data of %s offered for sale"}, focal.SeverityHigh, 2, nil},
	{"vulnerable", "vulnerable-system", []string{"Unpatched VPN appliance at %s", "Exposed RDP service at %s"}, focal.SeverityMedium, 5,
		func(r *rand.Rand) []focal.Observable {
			return []focal.Observable{{Kind: "ipv4", Value: ip(r, "192.0.2")}}
		}},
	{"abusive-content", "spam", []string{"Spam sent from %s mail servers"}, focal.SeverityLow, 3, nil},
	{"information-content-security", "unauthorised-information-modification", []string{"Ransomware at %s", "Defacement of the %s website"}, focal.SeverityCritical, 2, nil},
}

// seedIncidents imports a month of incidents across the constituency:
// older ones handled and closed, recent ones in every state, a few
// overdue, one in a restricted category.
func seedIncidents(ctx context.Context, st *store.Store, orgs []string, orgIDs map[string]int64, handlerID int64) (int, error) {
	r := rand.New(rand.NewPCG(2026, 11))
	now := time.Now().UTC().Truncate(time.Minute)
	total := 0
	for _, s := range scenarios {
		total += s.weight
	}
	count := 0
	for n := 0; n < 120; n++ {
		pick := r.IntN(total)
		var s scenario
		for _, c := range scenarios {
			if pick < c.weight {
				s = c
				break
			}
			pick -= c.weight
		}
		orgName := orgs[r.IntN(len(orgs))]
		age := time.Duration(r.IntN(30*24*60)) * time.Minute
		reported := now.Add(-age)
		i := &focal.Incident{
			Title:           fmt.Sprintf(s.titles[r.IntN(len(s.titles))], orgName),
			Description:     "Reported through the demo data set. Evidence and logs were attached by the reporter.",
			Classifications: []focal.Classification{{Class: s.class, Type: s.typ}},
			Severity:        s.severity,
			TLP:             []focal.TLP{focal.TLPAmber, focal.TLPAmber, focal.TLPGreen, focal.TLPAmberStrict, focal.TLPRed}[r.IntN(5)],
			OrgID:           orgIDs[orgName],
			Channel:         []string{"web", "email", "api", "email"}[r.IntN(4)],
			Milestones:      focal.Milestones{Reported: reported},
		}
		var journal []focal.JournalEntry
		note := func(at time.Time, kind, body string) {
			if at.After(now) {
				return
			}
			journal = append(journal, focal.JournalEntry{At: at, AuthorID: handlerID, Author: "handler", Kind: kind, Body: body})
		}
		step := func(d time.Duration) time.Time { return reported.Add(d) }
		// How far the incident got depends on its age.
		ack := step(time.Duration(5+r.IntN(180)) * time.Minute)
		tri := ack.Add(time.Duration(5+r.IntN(120)) * time.Minute)
		res := tri.Add(time.Duration(1+r.IntN(96)) * time.Hour)
		switch {
		case age < 3*time.Hour:
			i.Status = focal.StatusNew
		case age < 12*time.Hour || ack.After(now):
			i.Status, i.Milestones.Acknowledged, i.Milestones.Triaged = focal.StatusTriaged, ack, minT(tri, now)
		case res.After(now):
			i.Status, i.Milestones.Acknowledged, i.Milestones.Triaged = focal.StatusInProgress, ack, tri
			i.AssigneeID = handlerID
			if r.IntN(3) == 0 {
				i.Status, i.WaitingOn, i.WaitingSince = focal.StatusWaiting, []string{"constituent", "reporter", "peer"}[r.IntN(3)], now.Add(-time.Duration(r.IntN(600))*time.Minute)
			}
		default:
			i.Status, i.Milestones.Acknowledged, i.Milestones.Triaged, i.Milestones.Resolved = focal.StatusResolved, ack, tri, res
			i.Milestones.FirstResponse = ack.Add(10 * time.Minute)
			i.AssigneeID = handlerID
			if closed := res.Add(48 * time.Hour); closed.Before(now) {
				i.Status, i.Milestones.Closed = focal.StatusClosed, closed
			}
		}
		if i.Status == focal.StatusTriaged && i.Milestones.Triaged.After(now) {
			i.Milestones.Triaged = now
		}
		note(ack, "state", "acknowledged; looking into it")
		note(tri, "state", "classified as "+s.class+"/"+s.typ)
		note(ack.Add(10*time.Minute), "email_out", "We received your report and are handling it.")
		if !i.Milestones.Resolved.IsZero() {
			note(res, "state", "resolved: the network owner confirmed remediation")
		}
		var obs []focal.Observable
		if s.obs != nil {
			obs = s.obs(r)
			for k := range obs {
				obs[k].Source = "extracted"
			}
		}
		if err := st.ImportIncident(ctx, i, obs, journal); err != nil {
			return count, fmt.Errorf("demo incident %d (%s): %w", n, i.Title, err)
		}
		count++
	}
	// One report in a restricted category: only a granted handler sees it.
	csam := &focal.Incident{Title: "Report of abuse material on a forum hosted in the country", Description: "URL withheld in the demo.",
		Classifications: []focal.Classification{{Class: "abusive-content", Type: "violence"}}, Severity: focal.SeverityHigh, TLP: focal.TLPRed,
		Channel: "web", Status: focal.StatusNew, Milestones: focal.Milestones{Reported: now.Add(-90 * time.Minute)}}
	if err := st.ImportIncident(ctx, csam, nil, nil); err != nil {
		return count, fmt.Errorf("demo restricted incident: %w", err)
	}
	return count + 1, nil
}

func minT(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
