package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"focal/internal/store"
)

// BenchmarkIncidentPages renders the triage desk's pages over
// FOCAL_BENCH_INCIDENTS incidents (default 100,000) as a handler and
// reports the p99 of each, server-side (httptest on loopback), on SQLite or,
// with FOCAL_BENCH_DIALECT=postgres, on FOCAL_TEST_POSTGRES_URL.
func BenchmarkIncidentPages(b *testing.B) {
	n := 100_000
	if v := os.Getenv("FOCAL_BENCH_INCIDENTS"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			b.Fatal(err)
		}
	}
	d := store.SQLite
	if os.Getenv("FOCAL_BENCH_DIALECT") == "postgres" {
		d = store.Postgres
	}
	e := newEnvOn(b, d)
	if err := store.SeedIncidents(context.Background(), e.st, n, []int64{e.orgA.ID, e.orgB.ID}); err != nil {
		b.Fatal(err)
	}
	pages := []struct{ name, path string }{
		{"triage queue", "/incidents?view=queue"},
		{"list", "/incidents"},
		{"list, class=fraud", "/incidents?class=fraud"},
		{"list, status waiting + TLP:RED", "/incidents?status=waiting&tlp=RED"},
		{"list, organisation", fmt.Sprintf("/incidents?org=%d", e.orgA.ID)},
		{"text search", "/incidents?q=ransomware"},
		{"dashboard", "/"},
	}
	runs := max(b.N, 20)
	b.ResetTimer()
	for _, p := range pages {
		var ds []time.Duration
		for r := 0; r < runs; r++ {
			start := time.Now()
			res := e.get(b, "handler", p.path)
			ds = append(ds, time.Since(start))
			if res.status != http.StatusOK {
				b.Fatalf("GET %s = %d", p.path, res.status)
			}
		}
		slices.Sort(ds)
		b.Logf("%-32s p50 %6.1f ms  p99 %6.1f ms", p.name, ms(ds[len(ds)/2]), ms(ds[(len(ds)*99+99)/100-1]))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
