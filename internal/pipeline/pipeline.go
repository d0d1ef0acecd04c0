// Package pipeline is focal's watch-and-warning pipeline. Intake cuts an
// input (a polled feed, an upload, a file, an API body) into
// self-contained chunks and writes them to a JetStream stream before it
// answers; workers — in this process and in any other focal process on the
// same NATS and database — consume the chunks in batches, parse them,
// enrich the events (ASN, country), match them to the constituency,
// aggregate repeated sightings under the feed's dedup key and window, and
// commit each batch in one transaction with markers of the chunks it
// holds. A chunk is acknowledged only after its commit, and a chunk
// delivered again finds its marker and is skipped, so a crash at any
// point loses nothing and counts nothing twice.
//
// Memory is bounded: intake holds a few chunks, workers a few batches;
// when the store is slow the stream fills to its byte limit and intake
// waits (or, for HTTP callers, answers 503) instead of queueing in RAM.
package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"focal/internal/bus"
	"focal/internal/feed"
	"focal/internal/feed/formats"
	"focal/internal/focal"
	"focal/internal/lookup"
	"focal/internal/store"
)

// Default stream and the durable consumer's name.
const (
	DefaultStream = "FOCAL_INGEST"
	Durable       = "pipeline"
)

// Defaults of Config.
const (
	DefaultChunkSize      = 256 << 10
	DefaultStreamMaxBytes = 1 << 30
	DefaultWorkers        = 2
	DefaultBatchChunks    = 8
	// chunkMaxAge bounds how long a chunk waits in the stream.
	chunkMaxAge = 7 * 24 * time.Hour
	// dupWindow is the stream's duplicate window for chunk IDs.
	dupWindow = 10 * time.Minute
)

// GeoFunc returns what an address-to-ASN/country database knows of ip.
type GeoFunc func(ip netip.Addr) (asn uint32, country string, ok bool)

// Config configures a Pipeline. Store and Bus are required.
type Config struct {
	Store  *store.Store
	Bus    *bus.Bus
	Lookup *lookup.Holder // constituency; nil matches nothing
	Geo    GeoFunc        // enrichment; nil adds nothing
	// RDNS, if set, names addresses that came without a host name. It
	// must not block: answer from a cache and look up in the background.
	RDNS   func(ip netip.Addr) (string, bool)
	Logger *slog.Logger
	// Node names this process in chunk markers (default host:pid).
	Node string
	// Workers is the number of concurrent consumers in this process;
	// 0 means DefaultWorkers, negative means none (intake only).
	Workers int
	// BatchChunks is the number of chunks a worker commits together.
	BatchChunks int
	// ChunkSize is the target size of a chunk in bytes.
	ChunkSize int
	// StreamMaxBytes caps the chunks waiting in the stream; intake waits
	// when it is reached.
	StreamMaxBytes int64
	// Stream names the chunk stream (default DefaultStream); tests and
	// separate deployments on one NATS server use their own.
	Stream string
	// Registerer receives the pipeline's metrics; nil registers none.
	Registerer prometheus.Registerer
	// OnCommit, if set, is called after each committed batch (alert rules
	// and live streams hook in here).
	OnCommit func(ctx context.Context, b *store.EventBatch, r *store.CommitResult)
}

// Pipeline ingests inputs and runs workers. Create it with New.
type Pipeline struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	subject string // prefix of chunk subjects
	started atomic.Bool
	wg      sync.WaitGroup
}

// New returns a Pipeline for cfg.
func New(cfg Config) *Pipeline {
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.BatchChunks <= 0 {
		cfg.BatchChunks = DefaultBatchChunks
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.StreamMaxBytes <= 0 {
		cfg.StreamMaxBytes = DefaultStreamMaxBytes
	}
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.Node == "" {
		h, _ := os.Hostname()
		cfg.Node = h + ":" + strconv.Itoa(os.Getpid())
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{cfg: cfg, log: log.With("component", "pipeline"), metrics: newMetrics(cfg.Registerer),
		subject: "focal.ingest." + strings.ToLower(cfg.Stream) + "."}
}

// EnsureStream creates or updates the chunk stream: a work queue (a chunk
// leaves once committed), limited in bytes, rejecting new chunks when full
// so that intake slows down instead of old chunks being dropped.
func (p *Pipeline) EnsureStream(ctx context.Context) error {
	return p.cfg.Bus.EnsureStream(ctx, bus.StreamConfig{
		Name:       p.cfg.Stream,
		Subjects:   []string{p.subject + ">"},
		MaxAge:     chunkMaxAge,
		MaxBytes:   p.cfg.StreamMaxBytes,
		Duplicates: dupWindow,
		WorkQueue:  true,
		DiscardNew: true,
	})
}

// Start ensures the stream and starts the workers; they stop when ctx is
// done. Wait for them with Stop... or just cancel ctx and call Wait.
func (p *Pipeline) Start(ctx context.Context) error {
	if !p.started.CompareAndSwap(false, true) {
		return errors.New("pipeline: already started")
	}
	if err := p.EnsureStream(ctx); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	for i := 0; i < p.cfg.Workers; i++ {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			w := &worker{p: p}
			err := p.cfg.Bus.Consume(ctx, bus.ConsumerConfig{
				Stream:      p.cfg.Stream,
				Durable:     Durable,
				BatchSize:   p.cfg.BatchChunks,
				MaxWait:     time.Second,
				AckWait:     10 * time.Second,
				MaxDeliver:  20,
				NakDelay:    500 * time.Millisecond,
				OnTerminate: w.terminated,
			}, w.handle)
			if err != nil && ctx.Err() == nil {
				p.log.Error("pipeline worker stopped", "err", err)
			}
		}()
	}
	return nil
}

// Wait waits for the workers started by Start to return.
func (p *Pipeline) Wait() { p.wg.Wait() }

// chunkHeader is what a worker needs to parse and store a chunk without
// asking the database: the feed's settings as of intake, and where the
// chunk sits in its input.
type chunkHeader struct {
	Run         int64             `json:"run"`
	Seq         int               `json:"seq"`
	FeedID      int64             `json:"feed_id"`
	Feed        string            `json:"feed"`
	Provider    string            `json:"provider,omitempty"`
	TLP         focal.TLP         `json:"tlp"`
	Confidence  int               `json:"confidence"`
	Format      string            `json:"format"`
	Options     map[string]string `json:"options,omitempty"`
	Class       string            `json:"class,omitempty"`
	Type        string            `json:"type,omitempty"`
	DedupFields []string          `json:"dedup_fields,omitempty"`
	Window      int64             `json:"window"` // seconds
	Snapshot    bool              `json:"snapshot,omitempty"`
	Now         int64             `json:"now"` // ms
	Name        string            `json:"name,omitempty"`
	First       int               `json:"first"`
	Pre         int               `json:"pre"`
	Lines       int               `json:"lines"`
}

// encodeChunk frames a chunk: 4 bytes of header length, the JSON header,
// the data.
func encodeChunk(h *chunkHeader, data []byte) ([]byte, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 4, 4+len(hb)+len(data))
	binary.BigEndian.PutUint32(out, uint32(len(hb)))
	out = append(out, hb...)
	return append(out, data...), nil
}

func decodeChunk(b []byte) (*chunkHeader, []byte, error) {
	if len(b) < 4 {
		return nil, nil, errors.New("chunk shorter than its frame")
	}
	n := int(binary.BigEndian.Uint32(b))
	if n > len(b)-4 {
		return nil, nil, fmt.Errorf("chunk header of %d bytes in a message of %d", n, len(b))
	}
	var h chunkHeader
	if err := json.Unmarshal(b[4:4+n], &h); err != nil {
		return nil, nil, fmt.Errorf("chunk header: %w", err)
	}
	return &h, b[4+n:], nil
}

func (h *chunkHeader) run() feed.Run {
	return feed.Run{
		Feed:    feed.Feed{Name: h.Feed, Provider: h.Provider, TLP: h.TLP, Confidence: h.Confidence},
		Now:     time.UnixMilli(h.Now).UTC(),
		Name:    h.Name,
		Options: h.Options,
	}
}

// dedupDigest is the stored key of an event: feed, the key (the parser's
// or the feed's chosen fields) and the window of its source time.
func dedupDigest(h *chunkHeader, e *focal.Event, scratch []byte) ([16]byte, []byte) {
	b := append(scratch[:0], h.Feed...)
	b = append(b, 0)
	if len(h.DedupFields) == 0 {
		b = append(b, e.DedupKey...)
	} else {
		for _, f := range h.DedupFields {
			b = appendField(b, e, f)
			b = append(b, 0)
		}
	}
	b = append(b, 0)
	window := max(h.Window, 1)
	b = strconv.AppendInt(b, e.SourceTime.Unix()/window, 10)
	sum := sha256.Sum256(b)
	var k [16]byte
	copy(k[:], sum[:16])
	return k, b
}

func appendField(b []byte, e *focal.Event, name string) []byte {
	ep := func(p *focal.Endpoint, f string) []byte {
		switch f {
		case "ip":
			if p.IP.IsValid() {
				return p.IP.AppendTo(b)
			}
			return b
		case "port":
			return strconv.AppendUint(b, uint64(p.Port), 10)
		case "asn":
			return strconv.AppendUint(b, uint64(p.ASN), 10)
		case "fqdn":
			return append(b, p.FQDN...)
		case "url":
			return append(b, p.URL...)
		}
		return b
	}
	switch name {
	case "class":
		return append(b, e.Class...)
	case "type":
		return append(b, e.Type...)
	case "protocol":
		return append(b, e.Protocol...)
	case "malware":
		return append(b, e.Malware...)
	case "identifier":
		return append(b, e.Identifier...)
	}
	if len(name) > 7 && name[:7] == "source." {
		return ep(&e.Source, name[7:])
	}
	if len(name) > 12 && name[:12] == "destination." {
		return ep(&e.Destination, name[12:])
	}
	return b
}

// formatOf resolves a chunk's format.
func formatOf(name string) (*feed.Format, error) { return formats.Lookup(name) }
