package formats

import (
	"io"

	"focal/internal/feed"
	"focal/internal/feed/phish"
)

func init() {
	register(
		&feed.Format{
			Name:  phish.FormatOpenPhish,
			Title: "OpenPhish phishing URL feed",
			Doc: "One phishing URL per line; '#' starts a comment line. Each URL is a fraud/phishing event " +
				"with the URL as destination and its host as destination address or domain (a host that is " +
				"neither, such as an internationalised name not in xn-- form, leaves only the URL). The list has " +
				"no times, so events take the run's time. A relative or malformed URL, one with white space, a " +
				"bad port or over 8 KiB is a problem; an HTML page fails the run.",
			Comments: []string{"#"},
			Snapshot: true,
			Parse: func(r io.Reader, run feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
				return phish.ParseOpenPhish(r, run.Feed, run.Now, emit, report)
			},
		},
		&feed.Format{
			Name:  phish.FormatPhishTank,
			Title: "PhishTank verified phishing URLs (CSV)",
			Doc: "PhishTank's CSV dump: the header `phish_id,url,phish_detail_url,submission_time,verified," +
				"verification_time,online,target`, then one row per phish with RFC 3339 times. Each verified row is " +
				"a fraud/phishing event for the URL and its host, first seen at submission_time and last seen at " +
				"verification_time, with the target brand as identifier (unless \"Other\"). An unverified row, a " +
				"bad id, URL or time or a wrong column count is a problem; a first line other than the header fails the run.",
			HeaderLines: 1,
			Parse: func(r io.Reader, run feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
				return phish.ParsePhishTank(r, run.Feed, run.Now, emit, report)
			},
		},
	)
}
