package orgfile

import (
	"bytes"
	"io"
	"sort"
)

// sentinel is an error constant.
type sentinel string

func (s sentinel) Error() string { return string(s) }

// errTooLarge is returned by meter.Read when a record grows past its limit.
const errTooLarge = sentinel("record too large")

// readSlack is how far past MaxRecordBytes a meter lets the decoders read
// from the start of a record: room for the separators and white space
// before it. Records are checked exactly once read.
const readSlack = 64 << 10

// meter wraps the input of a decoder. It refuses to read more than limit
// bytes past mark, the start of the record being decoded, so that one huge
// record cannot take all memory, and, when lines is set, it remembers where
// the newlines are so that line can turn an input offset into a line number.
type meter struct {
	r     io.Reader
	limit int64
	off   int64   // bytes read so far
	mark  int64   // input offset where the current record starts
	lines bool    // track newlines
	nl    []int64 // offsets of the newlines read at or after the last line query
	base  int     // newlines before those in nl
}

func newMeter(r io.Reader, lines bool) *meter {
	return &meter{r: r, limit: MaxRecordBytes + readSlack, lines: lines}
}

// Read reads from the input, at most up to the limit past mark.
func (m *meter) Read(p []byte) (int, error) {
	room := m.mark + m.limit - m.off
	if room <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := m.r.Read(p)
	if m.lines {
		for i := 0; i < n; {
			j := bytes.IndexByte(p[i:n], '\n')
			if j < 0 {
				break
			}
			m.nl = append(m.nl, m.off+int64(i+j))
			i += j + 1
		}
	}
	m.off += int64(n)
	return n, err
}

// line returns the 1-based line of the byte at input offset off. Offsets
// must not decrease from one call to the next; newlines before off are
// forgotten.
func (m *meter) line(off int64) int {
	i := sort.Search(len(m.nl), func(i int) bool { return m.nl[i] >= off })
	m.base += i
	m.nl = m.nl[i:]
	return m.base + 1
}
