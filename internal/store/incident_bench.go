package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"focal/internal/focal"
)

// SeedIncidents bulk-loads n synthetic incidents (with one classification
// each) for benchmarks, bypassing per-incident journal and audit: it is a
// measuring tool, not an intake path. Incidents spread over the last year,
// across orgIDs (may be empty), statuses, classes and TLPs.
func SeedIncidents(ctx context.Context, s *Store, n int, orgIDs []int64) error {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"phishing", "ransomware", "defacement", "scanner", "botnet", "ddos", "leak", "credential", "malware", "spam", "exploit", "bank", "ministry", "router", "vpn", "mail", "server", "portal", "outage", "invoice"}
	statuses := []focal.Status{focal.StatusNew, focal.StatusTriaged, focal.StatusInProgress, focal.StatusWaiting, focal.StatusResolved, focal.StatusClosed, focal.StatusClosed, focal.StatusClosed}
	tlps := []focal.TLP{focal.TLPGreen, focal.TLPAmber, focal.TLPAmber, focal.TLPAmber, focal.TLPRed}
	now := time.Now().UTC()
	var first int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM incidents").Scan(&first); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	cols := []string{"id", "ref", "title", "description", "severity", "tlp", "pap", "status", "org_id", "sector", "channel", "restricted", "primary_class",
		"reported_at", "acknowledged_at", "triaged_at", "resolved_at", "created_at", "updated_at", "search"}
	const batch = 10_000
	for done := 0; done < n; {
		m := min(batch, n-done)
		rows := make([][]any, 0, m)
		classes := make([][]any, 0, m)
		for k := 0; k < m; k++ {
			id := first + int64(done+k) + 1
			c := focal.RSIT[rng.IntN(9)]
			ty := c.Types[rng.IntN(len(c.Types))]
			title := fmt.Sprintf("%s %s %s #%d", words[rng.IntN(len(words))], words[rng.IntN(len(words))], ty.Value, id)
			desc := fmt.Sprintf("Report about %s affecting %s; seen from 198.51.100.%d.", words[rng.IntN(len(words))], words[rng.IntN(len(words))], id%256)
			reported := now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
			st := statuses[rng.IntN(len(statuses))]
			var ack, tri, res int64
			if st != focal.StatusNew {
				ack = reported.Add(time.Duration(rng.IntN(240)) * time.Minute).UnixMilli()
				tri = ack + int64(rng.IntN(120))*60_000
			}
			if st == focal.StatusResolved || st == focal.StatusClosed {
				res = tri + int64(rng.IntN(72*60))*60_000
			}
			var org any
			if len(orgIDs) > 0 {
				org = orgIDs[rng.IntN(len(orgIDs))]
			}
			ref := fmt.Sprintf("FOC-BENCH-%09d", id)
			rows = append(rows, []any{id, ref, title, desc, string(focal.Severities[rng.IntN(4)]), string(tlps[rng.IntN(len(tlps))]), "AMBER", string(st),
				org, "isp", "api", false, c.Value, reported.UnixMilli(), ack, tri, res, reported.UnixMilli(), reported.UnixMilli(),
				toLower(ref + "\n" + title + "\n" + desc)})
			classes = append(classes, []any{id, 0, c.Value, ty.Value, 0.0})
		}
		if _, err := s.CopyRows(ctx, "incidents", cols, SliceSource(rows)); err != nil {
			return err
		}
		if _, err := s.CopyRows(ctx, "incident_classes", []string{"incident_id", "position", "class", "type", "weight"}, SliceSource(classes)); err != nil {
			return err
		}
		done += m
	}
	if s.dialect == Postgres {
		// Identity columns do not see explicit ids: move the sequence on.
		if _, err := s.db.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('incidents', 'id'), (SELECT MAX(id) FROM incidents))"); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if _, err := s.db.ExecContext(ctx, "ANALYZE incidents; ANALYZE incident_classes"); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	} else if _, err := s.db.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// QueryTiming is the latency distribution of one benchmarked query.
type QueryTiming struct {
	Name          string
	Runs          int
	P50, P99, Max time.Duration
}

// BenchIncidentQueries runs the incident list queries a triage desk makes
// (queue, filtered lists, text search, a page deep into the list) as a
// handler, runs times each, and returns their latencies.
func BenchIncidentQueries(ctx context.Context, s *Store, runs int) ([]QueryTiming, error) {
	ctx = focal.NewContextWithPrincipal(ctx, focal.Principal{UserID: -3, Name: "bench", Role: focal.RoleHandler})
	var maxID int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM incidents").Scan(&maxID); err != nil {
		return nil, err
	}
	cases := []struct {
		name string
		f    IncidentFilter
	}{
		{"triage queue (new+triaged)", IncidentFilter{Status: []focal.Status{focal.StatusNew, focal.StatusTriaged}}},
		{"list, no filter", IncidentFilter{}},
		{"list, class=fraud", IncidentFilter{Class: "fraud"}},
		{"list, status=waiting + TLP:RED", IncidentFilter{Status: []focal.Status{focal.StatusWaiting}, TLP: focal.TLPRed}},
		{"list, page at the middle", IncidentFilter{BeforeID: maxID / 2}},
		{"text search 'ransomware'", IncidentFilter{Query: "ransomware"}},
		{"text search, rare word", IncidentFilter{Query: "#" + fmt.Sprint(maxID/3)}},
	}
	var out []QueryTiming
	for _, c := range cases {
		var ds []time.Duration
		for r := 0; r < runs; r++ {
			start := time.Now()
			if _, err := s.Incidents(ctx, c.f); err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		p99 := ds[min(len(ds)-1, (len(ds)*99+99)/100-1)]
		out = append(out, QueryTiming{Name: c.name, Runs: runs, P50: ds[len(ds)/2], P99: p99, Max: ds[len(ds)-1]})
	}
	return out, nil
}
