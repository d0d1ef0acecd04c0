package formats

import (
	"io"

	"focal/internal/feed"
	"focal/internal/feed/sslbl"
)

func init() {
	register(
		&feed.Format{
			Name:  sslbl.FormatIP,
			Title: "abuse.ch SSLBL botnet C2 IP blacklist (CSV)",
			Doc: "Botnet C2 servers identified by their TLS certificates: `Firstseen,DstIP,DstPort` rows " +
				"(time in UTC as `2006-01-02 15:04:05`) under '#' comment lines, one of them the header " +
				"`# Firstseen,DstIP,DstPort`. Each row is a malicious-code/c2-server event with the server's " +
				"address and port as destination. A bad time, address or port or a wrong column count is a problem; " +
				"another header (such as the certificate list's) or an HTML page fails the run.",
			Comments: []string{"#"},
			Snapshot: true,
			Parse: func(r io.Reader, run feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
				return sslbl.ParseIP(r, run.Feed, run.Now, emit, report)
			},
		},
		&feed.Format{
			Name:  sslbl.FormatCert,
			Title: "abuse.ch SSLBL SSL certificate blacklist (CSV)",
			Doc: "TLS certificates seen on botnet C2 servers: `Listingdate,SHA1,Listingreason` rows under '#' " +
				"comments with the header `# Listingdate,SHA1,Listingreason`. A row has no address, so its " +
				"malicious-code/c2-server event carries the certificate as the URN `urn:sha1:HEX` in the destination " +
				"URL (it matches no organisation; the event records the certificate for searches) with identifier " +
				"`sha1:HEX`, and the family from the reason (\"QakBot C&C\" gives qakbot). A bad time or SHA1 or a " +
				"wrong column count is a problem; another header or an HTML page fails the run.",
			Comments: []string{"#"},
			Snapshot: true,
			Parse: func(r io.Reader, run feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
				return sslbl.ParseCert(r, run.Feed, run.Now, emit, report)
			},
		},
	)
}
