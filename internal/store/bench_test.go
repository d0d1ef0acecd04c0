package store_test

import (
	"context"
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
