package formats

import (
	"io"

	"focal/internal/feed"
	"focal/internal/feed/iplist"
	"focal/internal/focal"
)

func init() {
	register(
		&feed.Format{
			Name:  "iplist",
			Title: "One address or CIDR prefix per line (blocklist.de and similar)",
			Doc: "One IPv4/IPv6 address or CIDR prefix per line; '#' and ';' start comments. " +
				"The list does not say what its addresses did, so the feed names the RSIT class and type.",
			Comments:       []string{"#", ";"},
			Snapshot:       true,
			ExampleOptions: feed.Options{"class": "intrusion-attempts", "type": "brute-force"},
			Options: []feed.Option{
				{Name: "class", Required: true, Doc: "RSIT class of every address, e.g. intrusion-attempts"},
				{Name: "type", Required: true, Doc: "RSIT type, e.g. brute-force"},
			},
			Check: func(o feed.Options) error {
				c := focal.Classification{Class: o.Get("class", ""), Type: o.Get("type", "")}
				return c.Validate()
			},
			Parse: func(r io.Reader, run feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
				opt := iplist.Options{Class: run.Options.Get("class", ""), Type: run.Options.Get("type", "")}
				return iplist.ParseIPList(r, run.Feed, opt, run.Now, emit, report)
			},
		},
		&feed.Format{
			Name:  "dataplane",
			Title: "DataPlane.org pipe-separated lists",
			Doc: "`ASN | ASname | ipaddr | lastseen | category` with '#' comments; " +
				"the category (sshpwauth, sipquery, dnsrd …) gives the RSIT classification.",
			Comments: []string{"#"},
			Snapshot: true,
			Parse: func(r io.Reader, run feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
				return iplist.ParseDataPlane(r, run.Feed, run.Now, emit, report)
			},
		},
	)
}
