package formats

import (
	"focal/internal/feed"
	"focal/internal/feed/generic"
)

func init() {
	register(
		&feed.Format{
			Name:  generic.FormatCSV,
			Title: "Generic CSV with a column mapping",
			Doc: "Any CSV feed, mapped by the `map` option: `field=column` pairs naming event fields " +
				"(`source.ip`, `source.port`, `destination.url`, `source_time`, `malware`, `class` …, see docs/events.md) " +
				"and header columns (or 1-based column numbers with `header=false`). The classification is fixed by " +
				"`class` and `type`, or read from mapped columns. A header without a mapped column fails the run; a " +
				"value that does not parse (address, port, time, domain, URL, classification …) is a problem naming " +
				"the field and the column. Rows are single lines; `#` comment lines are skipped.",
			Framing:        feed.FrameRecords,
			Options:        generic.CSVOptions,
			Check:          generic.CheckCSV,
			Split:          generic.SplitCSV,
			Record:         generic.RecordCSV,
			ExampleOptions: feed.Options{"map": "source.ip=src_ip,source.port=src_port,destination.url=url,source_time=seen,malware=family,identifier=tag", "class": "malicious-code", "type": "infected-system"},
		},
		&feed.Format{
			Name:  generic.FormatJSON,
			Title: "Generic JSON (array or NDJSON) with a path mapping",
			Doc: "Any JSON feed that is an array of objects, one object per line, or (option `path`) an array inside " +
				"an object, mapped by the `map` option: `field=path` pairs naming event fields and dotted paths into " +
				"each object (`source.ip=src.addr`). The classification is fixed by `class` and `type`, or read from " +
				"mapped paths (`class=category`, which may hold `class/type`). A first object with none of the mapped " +
				"paths fails the run; a value that does not parse is a problem naming the field and the path.",
			Framing:        feed.FrameRecords,
			Options:        generic.JSONOptions,
			Check:          generic.CheckJSON,
			Split:          generic.SplitJSON,
			Record:         generic.RecordJSON,
			ExampleOptions: feed.Options{"map": "destination.ip=host.ip,destination.port=host.port,destination.fqdn=host.name,source_time=first_seen,last_seen=last_seen,class=category,malware=malware", "path": "data", "time_format": "unix"},
		},
	)
}
