package formats

import (
	"focal/internal/feed"
	"focal/internal/feed/stixfeed"
)

func init() {
	register(&feed.Format{
		Name:  stixfeed.Format,
		Title: "STIX 2.0/2.1 bundle (indicators and observed data)",
		Doc: "A STIX bundle (`{\"type\": \"bundle\", \"objects\": [...]}`, or a TAXII envelope), read as a stream. " +
			"`indicator` objects with a STIX pattern that is one comparison or an OR of comparisons (`=`, `IN`) on " +
			"`ipv4-addr:value`, `ipv6-addr:value` (address or CIDR), `domain-name:value`, `url:value` or " +
			"`email-addr:value` give one event per value, at `valid_from`; `observed-data` gives one event per " +
			"ipv4-addr, ipv6-addr, domain-name or url object it embeds or references through `object_refs` " +
			"(resolved anywhere in the bundle, up to 100,000 observables / 64 MiB), with `first_observed`, " +
			"`last_observed` and `number_observed` as first/last seen and count. `labels` and `indicator_types` " +
			"give the classification (phishing → fraud/phishing; c2, botnet, malicious-activity → " +
			"malicious-code/c2-server; compromised → intrusions/system-compromise; `rsit:` tags directly; " +
			"otherwise other/undetermined), `confidence` the confidence, and a TLP marking in " +
			"`object_marking_refs` stricter than the feed's label replaces it. Problems: patterns with AND, " +
			"FOLLOWEDBY, NOT, qualifiers or other object paths, non-STIX pattern types, hash-only indicators " +
			"(a file hash names no host), benign indicators, references that cannot be resolved, and " +
			"malformed values. Other object types are skipped.",
		Framing: feed.FrameRecords,
		Split:   stixfeed.Split,
		Record:  stixfeed.Record,
	})
}
