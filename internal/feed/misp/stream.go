package misp

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"focal/internal/feed"
)

// MaxValue bounds one JSON token or one property value the splitter keeps:
// a document with a larger single value fails the run.
const MaxValue = 8 << 20

// stream reads one JSON document token by token. It knows the input line
// of every position it reports, and it bounds memory: what the decoder may
// read between two tokens (or for one kept value) is at most about
// MaxValue, and the line counter forgets what it has counted.
type stream struct {
	lc      *feed.LineCounter
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

func newStream(r io.Reader) *stream {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\xef\xbb\xbf" {
		br.Discard(3) //nolint:errcheck // peeked
	}
	lc := &feed.LineCounter{R: br}
	g := &guard{r: lc, max: MaxValue}
	dec := json.NewDecoder(g)
	dec.UseNumber()
	return &stream{lc: lc, g: g, dec: dec}
}

// line returns the input line of the decoder's position.
func (s *stream) line() int { return s.lc.LineAt(s.dec.InputOffset()) }

// lineBefore returns the line of the byte just before the decoder's
// position: the '{' or '[' just read.
func (s *stream) lineBefore() int { return s.lc.LineAt(max(s.dec.InputOffset()-1, 0)) }

// token reads the next token.
func (s *stream) token() (json.Token, error) {
	s.g.n = 0
	t, err := s.dec.Token()
	if off := s.dec.InputOffset(); off-s.drained > 1<<20 {
		s.lc.LineAt(off)
		s.drained = off
	}
	return t, err
}

// value decodes the next value as raw JSON.
func (s *stream) value() (json.RawMessage, error) {
	s.g.n = 0
	var raw json.RawMessage
	err := s.dec.Decode(&raw)
	return raw, err
}

// skipRest reads past the rest of the value whose first token was tok.
func (s *stream) skipRest(tok json.Token) error {
	if d, ok := tok.(json.Delim); !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := s.token()
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

// skip reads past the next value.
func (s *stream) skip() error {
	t, err := s.token()
	if err != nil {
		return err
	}
	return s.skipRest(t)
}

// key reads the next object key.
func (s *stream) key() (string, error) {
	t, err := s.token()
	if err != nil {
		return "", err
	}
	k, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("want an object key, got %s", feed.DescribeToken(t))
	}
	return k, nil
}

// fail turns a decoding error into the run's error, with the line.
func (s *stream) fail(name string, err error) error {
	switch {
	case errors.Is(err, errTooBig):
		return fmt.Errorf("%s: line %d: a single JSON value is over %d bytes; focal does not read values this large", name, s.line(), MaxValue)
	case errors.Is(err, io.EOF):
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%s: line %d: %w", name, s.line(), err)
}

// end checks that nothing but white space follows the document.
func (s *stream) end(name string) error {
	s.g.n = 0
	if _, err := s.dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: line %d: data after the document", name, s.line())
	}
	return nil
}
