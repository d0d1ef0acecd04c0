package formats

import (
	"focal/internal/feed"
	"focal/internal/feed/threatfox"
)

func init() {
	register(&feed.Format{
		Name:  threatfox.Format,
		Title: "abuse.ch ThreatFox IOCs (JSON export or API answer)",
		Doc: "ThreatFox's JSON export (an object keyed by ThreatFox id, each value an array of IOC objects with " +
			"`ioc_value`, `ioc_type`, `threat_type`, `malware`, `malware_printable`, `first_seen_utc`, `last_seen_utc`, " +
			"`confidence_level`, `tags` …), the API's `{\"query_status\":\"ok\",\"data\":[…]}` answer, or a plain array, " +
			"streamed one IOC at a time. The IOC is the destination: ip:port, domain or URL (with its host). " +
			"threat_type botnet_cc maps to malicious-code/c2-server; payload_delivery, payload and cc_skimming to " +
			"malicious-code/malware-distribution; others to other/undetermined; the threat type is kept as identifier " +
			"and the Malpedia name (without platform) as malware. File hashes have no address: their events carry " +
			"`sha256:HEX` as identifier and the URN `urn:sha256:HEX` as destination URL, which matches no organisation " +
			"(set hashes=skip to leave them out). A bad value, time or hash, a missing field, an unsupported ioc_type " +
			"or a non-object IOC is a problem; a document of another shape or an API error status fails the run.",
		Framing: feed.FrameRecords,
		Options: []feed.Option{
			{Name: threatfox.OptionHashes, Doc: "what to do with file hash IOCs: emit (default) an event with a urn: destination, or skip them"},
		},
		Check:  threatfox.CheckOptions,
		Split:  threatfox.Split,
		Record: threatfox.Record,
	})
}
