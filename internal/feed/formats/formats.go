// Package formats is the registry of feed formats: every parser package
// under internal/feed contributes its formats here under the short names
// that --format, ?format= and feed definitions use (docs/feeds.md lists
// them). Each file of this package adapts one parser package.
package formats

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"

	"focal/internal/feed"
)

var registry = map[string]*feed.Format{}

// samples holds one example input per format, named NAME.EXT.
//
//go:embed samples
var samples embed.FS

func sample(name string) string {
	ents, _ := samples.ReadDir("samples")
	for _, e := range ents {
		if strings.TrimSuffix(e.Name(), path.Ext(e.Name())) == name {
			b, _ := samples.ReadFile("samples/" + e.Name())
			return string(b)
		}
	}
	return ""
}

// register adds formats at init time; a duplicate or malformed entry is a
// programming error.
func register(fs ...*feed.Format) {
	for _, f := range fs {
		if f.Name == "" || strings.ToLower(f.Name) != f.Name {
			panic(fmt.Sprintf("formats: bad name %q", f.Name))
		}
		if _, dup := registry[f.Name]; dup {
			panic("formats: duplicate " + f.Name)
		}
		switch f.Framing {
		case feed.FrameLines:
			if f.Parse == nil {
				panic("formats: " + f.Name + ": line format without Parse")
			}
		case feed.FrameRecords:
			if f.Split == nil || f.Record == nil {
				panic("formats: " + f.Name + ": record format without Split and Record")
			}
		}
		if f.Example == "" {
			f.Example = sample(f.Name)
		}
		registry[f.Name] = f
	}
}

// Lookup returns the format called name.
func Lookup(name string) (*feed.Format, error) {
	f, ok := registry[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return nil, fmt.Errorf("unknown format %q; known formats: %s", name, strings.Join(Names(), ", "))
	}
	return f, nil
}

// Names returns the format names in order.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// All returns the formats in name order.
func All() []*feed.Format {
	out := make([]*feed.Format, 0, len(registry))
	for _, n := range Names() {
		out = append(out, registry[n])
	}
	return out
}
