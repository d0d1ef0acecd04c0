package feed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"focal/internal/focal"
)

// LineCounter passes reads through and turns input offsets, which only
// grow, into 1-based line numbers. It keeps only the bytes read but not
// yet counted (at most a decoder's look-ahead), so memory stays bounded.
type LineCounter struct {
	R       io.Reader
	pending []byte // bytes from base on that were read
	base    int64  // input offset of pending[0]
	line    int    // newlines before base
	total   int    // newlines read
	read    int64  // bytes read
	lastNL  bool   // the last byte read was a newline
}

func (lc *LineCounter) Read(p []byte) (int, error) {
	n, err := lc.R.Read(p)
	if n > 0 {
		lc.pending = append(lc.pending, p[:n]...)
		lc.total += bytes.Count(p[:n], []byte{'\n'})
		lc.read += int64(n)
		lc.lastNL = p[n-1] == '\n'
	}
	return n, err
}

// LineAt returns the 1-based line of input offset off (not before the
// previous call's) and forgets the bytes before it.
func (lc *LineCounter) LineAt(off int64) int {
	if off > lc.base {
		k := min(off-lc.base, int64(len(lc.pending)))
		lc.line += bytes.Count(lc.pending[:k], []byte{'\n'})
		lc.pending = append(lc.pending[:0], lc.pending[k:]...)
		lc.base += k
	}
	return lc.line + 1
}

// Lines returns how many lines were read, a last line without a newline
// included.
func (lc *LineCounter) Lines() int {
	if lc.read > 0 && !lc.lastNL {
		return lc.total + 1
	}
	return lc.total
}

// DescribeToken names a JSON token's kind for an error message.
func DescribeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		if v == '[' {
			return "an array"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// SplitJSONArray streams a document that is a JSON array (or, when it
// starts with an object, a stream of JSON objects such as NDJSON) and
// emits each element compacted onto one line with the line it starts on.
// An element over MaxRecord bytes is reported and skipped. A document of
// another shape, or broken JSON that decoding cannot go on from, fails the
// run with the line it stopped at; what was emitted before stays emitted.
func SplitJSONArray(name string, r io.Reader, emit func(line int, rec []byte) error, report Report) error {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	lc := &LineCounter{R: br}
	dec := json.NewDecoder(lc)
	dec.UseNumber()
	if first == '{' {
		for i := 0; ; i++ {
			if err := splitOne(name, lc, dec, i, emit, report); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
		}
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: line %d: %w", name, lc.LineAt(dec.InputOffset()), err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%s: top-level value is %s, want a JSON array: did the feed format change?", name, DescribeToken(tok))
	}
	for i := 0; dec.More(); i++ {
		if err := splitOne(name, lc, dec, i, emit, report); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%s: line %d: %w", name, lc.LineAt(dec.InputOffset()), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: line %d: data after the array", name, lc.LineAt(dec.InputOffset()))
	}
	return nil
}

// firstByte returns the first byte that is not white space (and not a
// UTF-8 byte order mark), leaving it unread.
func firstByte(br *bufio.Reader) (byte, error) {
	if bom, err := br.Peek(3); err == nil && string(bom) == "\xef\xbb\xbf" {
		br.Discard(3) //nolint:errcheck // peeked
	}
	for {
		c, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return 0, errors.New("empty input, want a JSON array")
		}
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c, br.UnreadByte()
	}
}

// splitOne decodes the next element; it returns io.EOF, unwrapped, at a
// clean end of input.
func splitOne(name string, lc *LineCounter, dec *json.Decoder, i int, emit func(int, []byte) error, report Report) error {
	before := dec.InputOffset()
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if err == io.EOF {
			return err
		}
		off := before
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off += se.Offset
		}
		return fmt.Errorf("%s: line %d: element %d: %w", name, lc.LineAt(off), i, err)
	}
	n := lc.LineAt(dec.InputOffset()) - bytes.Count(raw, []byte{'\n'})
	return emitRecord(name, n, raw, i, emit, report)
}

// emitRecord compacts raw and passes it on, or reports it when too big.
func emitRecord(name string, line int, raw []byte, i int, emit func(int, []byte) error, report Report) error {
	if len(raw) > MaxRecord {
		if report != nil {
			report(Problem{Line: line, Reason: fmt.Sprintf("element %d: over %d bytes", i, MaxRecord), Raw: Cut(string(raw), focal.MaxRawLine)})
		}
		return nil
	}
	var c bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		c.Reset()
		c.Write(bytes.ReplaceAll(raw, []byte{'\n'}, []byte{' '}))
	}
	return emit(line, c.Bytes())
}
