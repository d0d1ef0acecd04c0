package formats

import (
	"io"

	"focal/internal/feed"
	"focal/internal/feed/spamhaus"
)

func init() {
	spamhausOptions := []feed.Option{
		{Name: "class", Doc: "RSIT class of every entry, with type; default other (DROP lists give no per-entry reason)"},
		{Name: "type", Doc: "RSIT type of every entry, with class; default other"},
	}
	spamhausOpts := func(o feed.Options) spamhaus.Options {
		return spamhaus.Options{Class: o.Get("class", ""), Type: o.Get("type", "")}
	}
	spamhausCheck := func(o feed.Options) error {
		_, err := spamhausOpts(o).Classification()
		return err
	}
	register(
		&feed.Format{
			Name:  spamhaus.FormatDROP,
			Title: "Spamhaus DROP and EDROP (text or NDJSON)",
			Doc: "Netblocks hijacked or leased by spam and cyber-crime operations. Either the legacy text " +
				"form, `198.51.100.0/24 ; SBL123456` lines under ';' comments, or the current NDJSON form, " +
				"`{\"cidr\":…,\"sblid\":…,\"rir\":…}` lines ending with a `{\"type\":\"metadata\",…}` line that is skipped. " +
				"Each prefix becomes an event with the network address as source and `cidr:PREFIX` as identifier " +
				"(the SBL id stays in the raw line). The list gives no reason per entry (spam, malware hosting, " +
				"hijacked space), so events are other/other unless the feed sets the class and type options. " +
				"A bad prefix, bad JSON or an unknown record type is a problem; an HTML page or ASN-DROP data fails the run.",
			Comments: []string{";"},
			Snapshot: true,
			Options:  spamhausOptions,
			Check:    spamhausCheck,
			Parse: func(r io.Reader, run feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
				return spamhaus.ParseDROP(r, run.Feed, spamhausOpts(run.Options), run.Now, emit, report)
			},
		},
		&feed.Format{
			Name:  spamhaus.FormatASNDROP,
			Title: "Spamhaus ASN-DROP (text or NDJSON)",
			Doc: "Autonomous systems run by spam and cyber-crime operations. Either legacy " +
				"`AS64500 ; US | EXAMPLE-AS` lines under ';' comments, or NDJSON " +
				"`{\"asn\":…,\"rir\":…,\"domain\":…,\"cc\":…,\"asname\":…}` lines ending with a skipped metadata line. " +
				"Each AS becomes an event whose source is the AS number (and its country), identifier `asn:N`; " +
				"enrichment matches it against the organisations' AS numbers. The AS's contact domain is not used " +
				"as a host. Classified other/other unless the class and type options say otherwise. " +
				"A bad AS number or bad JSON is a problem; an HTML page or DROP data fails the run.",
			Comments: []string{";"},
			Snapshot: true,
			Options:  spamhausOptions,
			Check:    spamhausCheck,
			Parse: func(r io.Reader, run feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
				return spamhaus.ParseASNDROP(r, run.Feed, spamhausOpts(run.Options), run.Now, emit, report)
			},
		},
	)
}
