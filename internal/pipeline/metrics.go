package pipeline

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	intakeBytes  prometheus.Counter
	intakeChunks prometheus.Counter
	waits        prometheus.Counter
	chunks       prometheus.Counter
	events       prometheus.Counter
	problems     prometheus.Counter
	rowsNew      prometheus.Counter
	rowsUpdated  prometheus.Counter
	redelivered  prometheus.Counter
	badChunks    prometheus.Counter
	batchSeconds prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "focal", Subsystem: "pipeline", Name: name, Help: help})
	}
	m := &metrics{
		intakeBytes:  c("intake_bytes_total", "Input bytes read by intake."),
		intakeChunks: c("intake_chunks_total", "Chunks written to the ingest stream."),
		waits:        c("intake_backpressure_waits_total", "Times intake waited because the ingest stream was full."),
		chunks:       c("chunks_total", "Chunks committed by workers."),
		events:       c("events_total", "Events parsed and committed (before aggregation)."),
		problems:     c("problems_total", "Input lines or records reported as problems."),
		rowsNew:      c("rows_new_total", "Events stored as new rows."),
		rowsUpdated:  c("rows_updated_total", "Events folded into an existing row (count and last seen)."),
		redelivered:  c("redelivered_chunks_total", "Chunks delivered again and skipped because already committed."),
		badChunks:    c("failed_chunks_total", "Chunks that could not be decoded or stored."),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "focal", Subsystem: "pipeline", Name: "batch_seconds",
			Help: "Time to parse, enrich, match, aggregate and commit one batch.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}),
	}
	if reg != nil {
		reg.MustRegister(m.intakeBytes, m.intakeChunks, m.waits, m.chunks, m.events, m.problems, m.rowsNew, m.rowsUpdated,
			m.redelivered, m.badChunks, m.batchSeconds)
	}
	return m
}
