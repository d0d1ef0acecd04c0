package observable_test

import (
	"fmt"
	"strings"
	"testing"

	"focal/internal/observable"
)

// report returns a synthetic incident report of at least size bytes: mostly
// prose and log lines, with an indicator or two in every paragraph, some
// defanged, as handlers receive them.
func report(size int) string {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "Report %d. On 2024-03-%02d at 12:%02d:%02d UTC our sensors saw traffic from 192.0.2.%d "+
			"and 203.0.113[.]%d to hxxp://host%d.evil[.]example/path/%d?id=%d (AS%d). The payload invoice_%d.pdf.exe "+
			"had SHA-256 %064x and was mailed by user%d@example.org.\n"+
			"Jan 15 08:12:%02d web01 app[3310]: level=info ts=2024-01-15T08:12:33.123Z caller=server.go:142 "+
			"msg=\"request served\" version=v1.12.%d duration=1.5%02ds remote=198.51.100.%d:51544 status=200\n"+
			"The handler noted that this is similar to the previous case, e.g. the same kit (version 2.4.%d) "+
			"and the same wording, but no further indicators were found in the mailbox of the user.\n\n",
			i, i%28+1, i%60, i%60, i%256, i%256, i, i, i, 64496+i%16, i, i*7919, i, i%60, i%100, i%100, i%256, i%50)
	}
	return b.String()
}

func BenchmarkExtract(b *testing.B) {
	text := report(1 << 20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		res := observable.Extract(text)
		if len(res.Observables) == 0 {
			b.Fatal("Extract found nothing")
		}
	}
}
