package feed

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxJSONValue bounds one JSON token or one property value a JSONStream
// keeps: a document with a larger single value fails the run.
const MaxJSONValue = 8 << 20

// JSONStream reads one JSON document token by token, for the parsers of
// document formats (STIX bundles, MISP events, generic JSON) that must
// not hold a whole document in memory. It knows the input line
// of every position it reports, and it bounds memory: what the decoder may
// read between two tokens (or for one kept value) is at most about
// MaxJSONValue, and the line counter forgets what it has counted.
type JSONStream struct {
	lc      *LineCounter
	g       *guard
	dec     *json.Decoder
	drained int64
}

// guard passes reads through in small pieces and fails once more than max
// bytes were read since the last reset.
type guard struct {
	r   io.Reader
	n   int64
	max int64
}

var errTooBig = errors.New("value too large")

func (g *guard) Read(p []byte) (int, error) {
	if g.n > g.max {
		return 0, errTooBig
	}
	if len(p) > 8<<10 {
		p = p[:8<<10]
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	return n, err
}

// NewJSONStream reads r, skipping a UTF-8 byte order mark.
func NewJSONStream(r io.Reader) *JSONStream {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\xef\xbb\xbf" {
		br.Discard(3) //nolint:errcheck // peeked
	}
	lc := &LineCounter{R: br}
	g := &guard{r: lc, max: MaxJSONValue}
	dec := json.NewDecoder(g)
	dec.UseNumber()
	return &JSONStream{lc: lc, g: g, dec: dec}
}

// Line returns the input line of the decoder's position.
func (s *JSONStream) Line() int { return s.lc.LineAt(s.dec.InputOffset()) }

// LineBefore returns the line of the byte just before the decoder's
// position: the '{' or '[' just read.
func (s *JSONStream) LineBefore() int { return s.lc.LineAt(max(s.dec.InputOffset()-1, 0)) }

// Token reads the next token.
func (s *JSONStream) Token() (json.Token, error) {
	s.g.n = 0
	t, err := s.dec.Token()
	if off := s.dec.InputOffset(); off-s.drained > 1<<20 {
		s.lc.LineAt(off)
		s.drained = off
	}
	return t, err
}

// Value decodes the next value as raw JSON.
func (s *JSONStream) Value() (json.RawMessage, error) {
	s.g.n = 0
	var raw json.RawMessage
	err := s.dec.Decode(&raw)
	return raw, err
}

// SkipRest reads past the rest of the value whose first token was tok.
func (s *JSONStream) SkipRest(tok json.Token) error {
	if d, ok := tok.(json.Delim); !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := s.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// Skip reads past the next value.
func (s *JSONStream) Skip() error {
	t, err := s.Token()
	if err != nil {
		return err
	}
	return s.SkipRest(t)
}

// Key reads the next object key.
func (s *JSONStream) Key() (string, error) {
	t, err := s.Token()
	if err != nil {
		return "", err
	}
	k, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("want an object key, got %s", DescribeToken(t))
	}
	return k, nil
}

// Fail turns a decoding error into the run's error, with the line.
func (s *JSONStream) Fail(name string, err error) error {
	switch {
	case errors.Is(err, errTooBig):
		return fmt.Errorf("%s: line %d: a single JSON value is over %d bytes; focal does not read values this large", name, s.Line(), MaxJSONValue)
	case errors.Is(err, io.EOF):
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%s: line %d: %w", name, s.Line(), err)
}

// End checks that nothing but white space follows the document.
func (s *JSONStream) End(name string) error {
	s.g.n = 0
	if _, err := s.dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: line %d: data after the document", name, s.Line())
	}
	return nil
}

// More reports whether the current array or object has another element.
func (s *JSONStream) More() bool { return s.dec.More() }
