package formats

import (
	"io"

	"focal/internal/feed"
	"focal/internal/feed/abusech"
)

func init() {
	register(
		&feed.Format{
			Name:  abusech.FormatFeodoCSV,
			Title: "abuse.ch Feodo Tracker IP blocklist (CSV)",
			Doc: "Botnet C2 servers: `first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware` " +
				"under '#' comment lines that repeat the header. Events are malicious-code/c2-server " +
				"with the server as destination.",
			Comments: []string{"#"},
			Snapshot: true,
			Parse: func(r io.Reader, run feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
				return abusech.ParseFeodoCSV(r, run.Feed, run.Now, emit, report)
			},
		},
		&feed.Format{
			Name:     abusech.FormatFeodoJSON,
			Title:    "abuse.ch Feodo Tracker IP blocklist (JSON)",
			Doc:      "The same list as a JSON array of objects (`ip_address`, `port`, `status`, `hostname`, `as_number`, `as_name`, `country`, `first_seen`, `last_online`, `malware`).",
			Framing:  feed.FrameRecords,
			Snapshot: true,
			Split: func(r io.Reader, _ feed.Run, emit func(int, []byte) error, report feed.Report) error {
				return feed.SplitJSONArray(abusech.FormatFeodoJSON, r, emit, report)
			},
			Record: abusech.FeodoRecord,
		},
		&feed.Format{
			Name:  abusech.FormatURLhaus,
			Title: "abuse.ch URLhaus (CSV)",
			Doc: "Malware distribution URLs: `id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter` " +
				"under '#' comment lines. Events are malicious-code/malware-distribution with the URL as destination.",
			Comments: []string{"#"},
			Parse: func(r io.Reader, run feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
				return abusech.ParseURLhaus(r, run.Feed, run.Now, emit, report)
			},
		},
	)
}
