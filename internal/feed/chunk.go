package feed

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"focal/internal/focal"
)

// MaxPreamble bounds the preamble repeated at the top of every chunk.
const MaxPreamble = 64 << 10

// Chunk is a self-contained piece of an input that a worker parses on its
// own: for line formats the input's preamble followed by whole lines, for
// record formats one "LINE RECORD" line per record.
type Chunk struct {
	Seq       int    // 0-based position in the input
	FirstLine int    // input line of the first data line or record
	Preamble  int    // preamble lines at the top of Data (line formats)
	Lines     int    // data lines or records in the chunk
	Data      []byte // what the parser reads
}

// Chunks reads r in format f and calls emit with chunks of about size
// bytes (a chunk holds at least one line; lines are at most MaxLine).
// Lines over MaxLine and unusable parts of a document are reported, with
// their line, through report. It returns the number of input lines (or
// records) read; an error from Split or emit ends the read and is
// returned. Memory is bounded by size, MaxLine and MaxPreamble.
func Chunks(f *Format, r io.Reader, run Run, size int, emit func(Chunk) error, report Report) (int, error) {
	c := &chunker{size: size, emit: emit}
	if f.Framing == FrameRecords {
		err := f.Split(r, run, func(line int, rec []byte) error {
			c.total++
			return c.add(line, strconv.AppendInt(nil, int64(line), 10), ' ', rec)
		}, report)
		if err != nil {
			return c.total, err
		}
		return c.total, c.flush()
	}
	inPreamble, header := true, 0
	err := Lines(r, func(n int, line string) error {
		c.total = n
		if inPreamble {
			switch {
			case header == 0 && f.IsComment(line), header < f.HeaderLines:
				if !f.IsComment(line) {
					header++
				}
				if len(c.pre)+len(line)+2 <= MaxPreamble {
					c.pre = appendLine(c.pre, []byte(line))
					c.preLines++
					return nil
				}
			}
			inPreamble = false
		}
		return c.add(n, nil, 0, []byte(line))
	}, func(n int) {
		c.total = n
		if report != nil {
			report(Problem{Line: n, Reason: fmt.Sprintf("line longer than %d bytes, skipped", MaxLine)})
		}
	})
	if err != nil {
		return c.total, err
	}
	return c.total, c.flush()
}

// appendLine appends line and a line end that Lines will strip back to
// exactly line: a line that itself ends in '\r' (the input had "\r\r\n")
// gets "\r\n", so the chunk's reader removes only that one.
func appendLine(buf, line []byte) []byte {
	buf = append(buf, line...)
	if len(line) > 0 && line[len(line)-1] == '\r' {
		buf = append(buf, '\r')
	}
	return append(buf, '\n')
}

type chunker struct {
	size     int
	emit     func(Chunk) error
	pre      []byte
	preLines int
	buf      []byte
	first    int
	lines    int
	seq      int
	total    int
}

func (c *chunker) add(n int, prefix []byte, sep byte, line []byte) error {
	if c.lines == 0 {
		c.first = n
		c.buf = append(c.buf[:0], c.pre...)
	}
	c.buf = append(c.buf, prefix...)
	if sep != 0 {
		c.buf = append(c.buf, sep)
	}
	c.buf = appendLine(c.buf, line)
	c.lines++
	if len(c.buf) >= c.size {
		return c.flush()
	}
	return nil
}

func (c *chunker) flush() error {
	if c.lines == 0 {
		return nil
	}
	ch := Chunk{Seq: c.seq, FirstLine: c.first, Preamble: c.preLines, Lines: c.lines, Data: c.buf}
	c.seq++
	c.lines = 0
	err := c.emit(ch)
	c.buf = make([]byte, 0, c.size+MaxLine)
	return err
}

// ParseChunk parses one chunk of format f: problems carry input line
// numbers, and a parser that panics fails the chunk instead of the
// process.
func ParseChunk(f *Format, c Chunk, run Run, emit Emit, report Report) (st Stats, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("format %s: parser failed on the chunk at line %d: %v", f.Name, c.FirstLine, p)
		}
	}()
	if f.Framing == FrameRecords {
		return ParseRecordLines(f, bytes.NewReader(c.Data), run, emit, report)
	}
	remap := func(p Problem) {
		if p.Line > c.Preamble {
			p.Line = p.Line - c.Preamble + c.FirstLine - 1
		}
		if report != nil {
			report(p)
		}
	}
	st, err = f.Parse(bytes.NewReader(c.Data), run, emit, remap)
	st.Lines = c.Lines
	return st, err
}

// CutRaw bounds a raw line kept with a problem or an event.
func CutRaw(s string) string { return Cut(s, focal.MaxRawLine) }
