package formats

import (
	"strings"

	"focal/internal/feed"
	"focal/internal/feed/shadowserver"
)

func init() {
	register(&feed.Format{
		Name:  shadowserver.FormatName,
		Title: "Shadowserver reports (CSV)",
		Doc: "Shadowserver's daily network reports, one parser for the family driven by a table of " +
			"report mappings: scan_* (smb, rdp, http, ssl, ssl_poodle, ssl_freak, telnet, ftp, ntp, " +
			"ntpmonitor, dns, snmp, ssdp, memcached, vnc, redis, mongodb, elasticsearch, and a generic " +
			"mapping for any other scan_*), device_id, event4_sinkhole and event4_sinkhole_http " +
			"(malicious-code/infected-system), event4_honeypot_brute_force (intrusion-attempts/brute-force), " +
			"event4_honeypot_darknet and event4_honeypot_http_scan (information-gathering/scanner), " +
			"event4_honeypot_ddos_amp (availability/ddos), a generic event4_* mapping, blocklist and " +
			"compromised_website. IPv6 reports (scan6_*, event6_*, …) use their IPv4 mapping. The report " +
			"comes from the `report` option, else from the file name (`2026-11-21-scan_smb-example_org-asn.csv`), " +
			"else from the header; a header that lacks a column the report needs fails the run.",
		HeaderLines:    1,
		ExampleOptions: feed.Options{shadowserver.OptionReport: "scan_smb"},
		Options: []feed.Option{{
			Name: shadowserver.OptionReport,
			Doc: "the report, e.g. scan_smb or event4_sinkhole_http; when unset it is read from the input's " +
				"name, then from its header. Known: " + strings.Join(shadowserver.Reports(), ", ") +
				", and any scan_*, scan6_*, event4_* or event6_* report",
		}},
		Check: func(o feed.Options) error {
			if r := o.Get(shadowserver.OptionReport, ""); r != "" {
				return shadowserver.CheckReport(r)
			}
			return nil
		},
		Parse: shadowserver.Parse,
	})
}
