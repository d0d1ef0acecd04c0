package store_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"focal/internal/store"
	"focal/internal/store/storetest"
)

// BenchmarkCopyRows inserts b.N small rows through CopyRows in batches of
// 10,000 and reports rows/s (focal bench store runs the same code on 1M rows).
func BenchmarkCopyRows(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			b.ResetTimer()
			res, err := store.BenchCopy(context.Background(), s, max(b.N, 1), 10_000)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.Rate(), "rows/s")
		})
	}
}

// BenchmarkIncidentQueries seeds FOCAL_BENCH_INCIDENTS incidents (default
// 100,000) and reports the p99 of each triage-desk query; `focal bench
// incidents` runs the same code at a million.
func BenchmarkIncidentQueries(b *testing.B) {
	n := 100_000
	if v := os.Getenv("FOCAL_BENCH_INCIDENTS"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			b.Fatal(err)
		}
	}
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			if err := store.SeedIncidents(context.Background(), s, n, nil); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			res, err := store.BenchIncidentQueries(context.Background(), s, max(b.N, 20))
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				b.Logf("%-34s p50 %v p99 %v", r.Name, r.P50, r.P99)
			}
		})
	}
}
