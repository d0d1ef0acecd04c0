// Package feed holds what every feed parser shares: the feed's identity,
// the problems a parser reports instead of stopping, per-run counts, and a
// line reader with a bounded line length. Parsers live in sub-packages,
// one per format; each turns its input into focal.Event values, never
// panics, never stops on a malformed line (it reports it and goes on),
// and fails the whole run only when the input is unreadable or its format
// changed (a header that is not the expected one).
package feed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"focal/internal/focal"
)

// MaxLine bounds one input line; a longer line is a Problem, not a crash.
const MaxLine = 64 << 10

// Feed identifies the feed a run reads and the defaults its events get.
type Feed struct {
	Name       string    // e.g. "feodo-ipblocklist"
	Provider   string    // e.g. "abuse.ch"
	TLP        focal.TLP // label of the feed's events
	Confidence int       // 0–100
}

// Problem is a line a parser could not use. Line is 1-based.
type Problem struct {
	Line   int
	Reason string
	Raw    string // the line, cut to focal.MaxRawLine bytes
}

// Error returns "line N: reason".
func (p Problem) Error() string { return fmt.Sprintf("line %d: %s", p.Line, p.Reason) }

// Stats counts a run.
type Stats struct {
	Lines    int // lines read, blank and comment lines included
	Events   int // events emitted
	Problems int // lines reported as problems
}

// Emit receives each parsed event; an error from it stops the run (the
// pipeline is shutting down or the store failed), and Parse returns it.
type Emit func(*focal.Event) error

// Report receives each problem line.
type Report func(Problem)

// Cut returns s cut to n bytes.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Lines reads r line by line (LF or CRLF), calling fn with each line's
// 1-based number and text. A line longer than MaxLine is reported through
// tooLong and skipped, whole, without holding it in memory. fn's error
// stops the read and is returned.
func Lines(r io.Reader, fn func(n int, line string) error, tooLong func(n int)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	for {
		n++
		line, raw, err := readLine(br)
		if errors.Is(err, errLineTooLong) {
			tooLong(n)
			continue
		}
		if err == io.EOF && raw == 0 {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read line %d: %w", n, err)
		}
		if ferr := fn(n, line); ferr != nil {
			return ferr
		}
		if err == io.EOF {
			return nil
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its end and how many bytes it
// took from r (0 only at the end of the input), or errLineTooLong after
// discarding the rest of a line over MaxLine.
func readLine(br *bufio.Reader) (string, int, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxLine {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return "", 0, err
			}
			return "", 0, errLineTooLong
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		n := len(buf)
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		return string(buf), n, err
	}
}
