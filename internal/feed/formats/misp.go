package formats

import (
	"fmt"
	"strconv"

	"focal/internal/feed"
	"focal/internal/feed/misp"
)

func init() {
	register(&feed.Format{
		Name:  misp.Format,
		Title: "MISP feed event (<uuid>.json of a MISP feed)",
		Doc: "One MISP event, `{\"Event\": {\"uuid\", \"info\", \"date\", \"Tag\": [...], \"Attribute\": [...], " +
			"\"Object\": [{\"name\", \"Attribute\": [...]}]}}`, read as a stream; the HTTP collector reads the feed's " +
			"manifest.json and fetches the events that changed. One event per attribute with `to_ids` (every " +
			"attribute with `all=true`) of type ip-src, ip-dst, ip-src|port, ip-dst|port (source or destination), " +
			"domain, hostname, domain|ip, url (destination) or email-src (source, as a mailto: URL). The " +
			"classification comes from `rsit:`/`ecsirt:` tags of the attribute, then the event, else from the " +
			"category (Payload delivery → malicious-code/malware-distribution, Network activity destinations → " +
			"malicious-code/c2-server, otherwise other/undetermined); the malware family from a `misp-galaxy:` " +
			"malware tag; the TLP from `tlp:` tags when stricter than the feed's (tlp:white is CLEAR); the time " +
			"from the attribute's timestamp, else the event's date. Problems: md5/sha1/sha256 attributes (a file " +
			"hash names no host, so it cannot be an event), malformed values and times. Other attribute types " +
			"are skipped.",
		Framing: feed.FrameRecords,
		Options: []feed.Option{
			{Name: "all", Doc: "true: read every attribute, not only those with to_ids (default false)"},
		},
		Check: func(o feed.Options) error {
			if _, err := strconv.ParseBool(o.Get("all", "false")); err != nil {
				return fmt.Errorf("option all: want true or false, got %q", o["all"])
			}
			return nil
		},
		Split:  misp.Split,
		Record: misp.Record,
	})
}
