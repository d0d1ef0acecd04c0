// Package collect brings feed inputs to the pipeline without a person in
// the loop: a Poller fetches feeds that have a URL and an interval, and a
// Dir watches a directory tree into which other programs drop files.
//
// How it is started: every focal process runs one Poller and, when
// --feed-dir is set, one Dir on that directory, each as Run(ctx) in its
// own goroutine, stopped by cancelling ctx. Several processes on one
// database are safe: a Poller claims each due feed with
// store.ClaimDueFeed, so exactly one process polls it per interval, and
// inputs carry run keys, so an input fed twice resumes its run instead
// of counting twice.
//
// Polling. A poll is a conditional GET (If-None-Match, If-Modified-Since
// from the validators of the last successful poll). 304 records an
// "unchanged" run; 2xx streams the body into pipeline.Ingest; any other
// answer or a transport error becomes a failed run whose error says what
// happened ("GET https://…: 503 Service Unavailable"), and the feed is
// tried again at its next interval. Bodies are bounded (Poller.MaxBytes,
// counted after decompression); Content-Encoding: gzip is undone by
// net/http, and a body that is itself gzip (a .gz URL, Content-Type
// application/gzip, or simply gzip magic bytes) is gunzipped. A .zip body
// is refused with a clear message: reading a zip needs random access to
// the whole file, which a streamed body does not give; point the feed at
// an uncompressed or .gz URL instead.
//
// MISP feeds (format "misp") are directories: the feed URL is the base,
// the Poller fetches base/manifest.json (conditionally) and then every
// event base/<uuid>.json that is new or whose manifest timestamp differs
// from the version last ingested, each as its own run with key
// "misp:<feed id>:<uuid>:<timestamp>", so fetching a version again
// counts nothing twice. Which versions were ingested is kept in the
// store's meta table (key "collect.misp.<feed id>"), not as a time of
// the last poll: like MISP's own feed fetcher, the Poller compares the
// manifest with what it has, so an event published late with an older
// timestamp is still fetched. The manifest's validators are kept only
// when every event it lists was ingested, so failed events are retried
// at the next interval.
//
// Watching a directory. Dir ingests Root/<feed-name>/<file> into the feed
// of that name, then moves the file to done/ or failed/ next to it. See
// Dir for the rules; in short, writers should write under a name that
// starts with '.' and rename the file into place when it is complete.
package collect

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// DefaultWaitTimeout is how long a poll or a file waits by default for
// its run to be committed by the pipeline's workers.
const DefaultWaitTimeout = 15 * time.Minute

// errZip is the answer to a zip archive.
var errZip = errors.New("a zip archive cannot be read as a stream (it needs random access); " +
	"give focal the file uncompressed or gzipped (.gz)")

var (
	gzipMagic     = []byte{0x1f, 0x8b}
	zipMagic      = []byte("PK\x03\x04")
	zipEmptyMagic = []byte("PK\x05\x06")
)

// decodeBody prepares an input for ingest: it refuses a zip archive
// (by its magic bytes), gunzips a gzip stream (by magic bytes, so a
// .gz file that a server already decompressed passes as it is) and bounds
// the bytes read to limit (0: no bound), counted after decompression.
// what names the input in the error for an input over the limit.
func decodeBody(r io.Reader, what string, limit int64) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	if bytes.HasPrefix(magic, zipMagic) || bytes.HasPrefix(magic, zipEmptyMagic) {
		return nil, errZip
	}
	var out io.Reader = br
	if bytes.HasPrefix(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		out = &gzipReader{zr: zr}
	}
	if limit > 0 {
		out = &limitReader{r: out, limit: limit, what: what}
	}
	return out, nil
}

// gzipReader names gzip errors as such.
type gzipReader struct{ zr *gzip.Reader }

func (g *gzipReader) Read(b []byte) (int, error) {
	n, err := g.zr.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("gunzip: %w", err)
	}
	return n, err
}

// limitReader returns at most limit bytes and then an error saying that
// the input is larger than the limit.
type limitReader struct {
	r     io.Reader
	n     int64
	limit int64
	what  string
}

func (l *limitReader) Read(b []byte) (int, error) {
	if l.n > l.limit {
		return 0, l.err()
	}
	if room := l.limit - l.n + 1; int64(len(b)) > room {
		b = b[:room]
	}
	n, err := l.r.Read(b)
	l.n += int64(n)
	if l.n > l.limit {
		return n - int(l.n-l.limit), l.err()
	}
	return n, err
}

func (l *limitReader) err() error {
	return focal.Errorf(focal.ETOOLARGE, "%s is larger than the limit of %s", l.what, formatBytes(l.limit))
}

// formatBytes renders n in binary units: 512 B, 10 KiB, 1.5 GiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + string("KMGTPE"[exp]) + "iB"
}

// stallReader cancels its input when a single Read waits longer than d,
// so that a server that stops sending does not hold a poll forever;
// time spent between reads (the pipeline waiting for room) does not
// count, and there is no bound on the total.
type stallReader struct {
	r     io.Reader
	d     time.Duration
	t     *time.Timer
	fired atomic.Bool
}

func newStallReader(r io.Reader, d time.Duration, cancel context.CancelFunc) *stallReader {
	s := &stallReader{r: r, d: d}
	s.t = time.AfterFunc(time.Hour, func() {
		s.fired.Store(true)
		cancel()
	})
	s.t.Stop()
	return s
}

func (s *stallReader) Read(b []byte) (int, error) {
	s.t.Reset(s.d)
	n, err := s.r.Read(b)
	s.t.Stop()
	if err != nil && !errors.Is(err, io.EOF) && s.fired.Load() {
		err = fmt.Errorf("no data received for %v", s.d)
	}
	return n, err
}

// recordFailure records a run of feed f that failed before the pipeline
// saw it (an HTTP error, an unreadable file) so that it shows in the
// feed's run history. Its key is unique: a failure never takes over the
// key of an input that was ingested.
func recordFailure(ctx context.Context, s *store.Store, log *slog.Logger, f *focal.FeedDef, source, input, msg string) {
	sys := focal.NewContextWithPrincipal(context.WithoutCancel(ctx), focal.System())
	key := fmt.Sprintf("%s:%d:%d:failed:%s", source, f.ID, time.Now().UnixMilli(), rand.Text()[:8])
	run := &focal.FeedRun{FeedID: f.ID, Feed: f.Name, Key: key, Source: source, Input: focal.CutText(input, 500)}
	if _, err := s.StartRun(sys, run); err != nil {
		log.Error("record failed run", "feed", f.Name, "input", input, "failure", msg, "err", err)
		return
	}
	if err := s.FailRun(sys, run.ID, msg); err != nil {
		log.Error("record failed run", "feed", f.Name, "run", run.ID, "failure", msg, "err", err)
	}
}

func discardLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
