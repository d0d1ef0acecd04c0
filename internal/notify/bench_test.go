package notify

import (
	"testing"

	"focal/internal/focal"
)

// BenchmarkBuildDigest builds the daily digests of 1,000 organisations
// with 1,000 events each (text format, unsigned) and reports
// organisations per second.
func BenchmarkBuildDigest(b *testing.B) {
	const orgs, perOrg = 1000, 1000
	events := manyEvents(perOrg)
	classes := [][2]string{
		{"malicious-code", "infected-system"}, {"vulnerable", "vulnerable-system"},
		{"information-gathering", "scanner"}, {"vulnerable", "ddos-amplifier"},
	}
	for i, e := range events {
		e.Class, e.Type = classes[i%len(classes)][0], classes[i%len(classes)][1]
		e.TLP = []focal.TLP{focal.TLPClear, focal.TLPGreen, focal.TLPAmber}[i%3]
	}
	ids := make([]int64, orgs)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	p, team := testPolicy(), testTeam()
	var messages, bytes int
	for b.Loop() {
		for i := range orgs {
			// The events are shared; each organisation sees them as its own.
			for _, e := range events {
				e.Orgs = ids[i : i+1]
			}
			msgs, err := Build(Org{ID: ids[i], Name: "Org"}, p, events, team, testNow)
			if err != nil {
				b.Fatal(err)
			}
			messages += len(msgs)
			for _, m := range msgs {
				bytes += len(m.Raw)
			}
		}
	}
	b.ReportMetric(float64(orgs*b.N)/b.Elapsed().Seconds(), "orgs/s")
	b.ReportMetric(float64(bytes)/float64(messages), "bytes/msg")
}
