package formats

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"focal/internal/feed"
	"focal/internal/focal"
)

func run(f *feed.Format) feed.Run {
	return feed.Run{
		Feed:    feed.Feed{Name: "sample-" + f.Name, Provider: "example", TLP: focal.TLPClear, Confidence: 70},
		Now:     time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
		Name:    "sample-" + f.Name,
		Options: f.ExampleOptions,
	}
}

func render(e *focal.Event) string {
	b, _ := json.Marshal(e)
	return string(b)
}

// TestExamples checks every format has an example that parses cleanly,
// and that cutting it into chunks (down to one line each) gives exactly
// the events and problems of parsing it whole: the pipeline's workers
// parse chunks, so framing must not change the result.
func TestExamples(t *testing.T) {
	if len(All()) == 0 {
		t.Fatal("no formats registered")
	}
	for _, f := range All() {
		t.Run(f.Name, func(t *testing.T) {
			if f.Example == "" {
				t.Fatalf("format %s has no example in samples/", f.Name)
			}
			if f.Title == "" || f.Doc == "" {
				t.Errorf("format %s needs a title and a doc paragraph", f.Name)
			}
			if err := f.CheckOptions(f.ExampleOptions); err != nil {
				t.Fatal(err)
			}
			var whole []string
			var probs []string
			st, err := feed.ParseAll(f, strings.NewReader(f.Example), run(f), func(e *focal.Event) error {
				whole = append(whole, render(e))
				return nil
			}, func(p feed.Problem) { probs = append(probs, p.Error()) })
			if err != nil {
				t.Fatalf("ParseAll: %v", err)
			}
			if len(whole) == 0 || len(probs) > 0 || st.Problems > 0 {
				t.Fatalf("example gave %d events and problems %q; want events and no problems", len(whole), probs)
			}
			for _, size := range []int{1, 200, 1 << 20} {
				var got []string
				chunks := 0
				_, err := feed.Chunks(f, strings.NewReader(f.Example), run(f), size, func(c feed.Chunk) error {
					if c.Seq != chunks {
						t.Errorf("chunk seq %d, want %d", c.Seq, chunks)
					}
					chunks++
					_, err := feed.ParseChunk(f, c, run(f), func(e *focal.Event) error {
						got = append(got, render(e))
						return nil
					}, func(p feed.Problem) { t.Errorf("size %d: chunk problem %v", size, p) })
					return err
				}, func(p feed.Problem) { t.Errorf("size %d: split problem %v", size, p) })
				if err != nil {
					t.Fatalf("size %d: %v", size, err)
				}
				if strings.Join(got, "\n") != strings.Join(whole, "\n") {
					t.Errorf("size %d (%d chunks): chunked events differ\nwhole:\n%s\nchunked:\n%s", size, chunks, strings.Join(whole, "\n"), strings.Join(got, "\n"))
				}
			}
		})
	}
}

// TestChunkProblemLines checks problems in a chunked input carry the line
// of the whole input.
func TestChunkProblemLines(t *testing.T) {
	f, err := Lookup("iplist")
	if err != nil {
		t.Fatal(err)
	}
	in := "# comment\n192.0.2.1\nnot-an-address\n192.0.2.2\n\nbad again\n"
	var got []string
	_, err = feed.Chunks(f, strings.NewReader(in), run(f), 1, func(c feed.Chunk) error {
		_, err := feed.ParseChunk(f, c, run(f), func(*focal.Event) error { return nil }, func(p feed.Problem) {
			got = append(got, fmt.Sprint(p.Line))
		})
		return err
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "3,6" {
		t.Errorf("problem lines %v, want 3,6", got)
	}
}

func TestLookup(t *testing.T) {
	if _, err := Lookup("IPList "); err != nil {
		t.Errorf("Lookup is case- and space-insensitive: %v", err)
	}
	_, err := Lookup("nope")
	if err == nil || !strings.Contains(err.Error(), "iplist") {
		t.Errorf("unknown format error should list known formats, got %v", err)
	}
}
