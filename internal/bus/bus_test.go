package bus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// busTests run against every kind of bus (embedded and external).
var busTests = []struct {
	name string
	fn   func(t *testing.T, kind string)
}{
	{"PublishConsumeOnce", testPublishConsumeOnce},
	{"HandlerErrorRedelivers", testHandlerErrorRedelivers},
	{"MaxDeliverReported", testMaxDeliverReported},
	{"MaxDeliverAdvisoryLogged", testMaxDeliverAdvisoryLogged},
	{"MsgIDDedup", testMsgIDDedup},
	{"SharedDurable", testSharedDurable},
	{"CloseDrains", testCloseDrains},
	{"CloseCancelsSlowHandler", testCloseCancelsSlowHandler},
	{"SlowHandlerKeepsMessages", testSlowHandlerKeepsMessages},
	{"Persistence", testPersistence},
	{"PublisherBackpressure", testPublisherBackpressure},
	{"PublisherBlocksWithoutAcks", testPublisherBlocksWithoutAcks},
	{"PublisherReportsErrors", testPublisherReportsErrors},
	{"PingAndClose", testPingAndClose},
	{"ConsumeInvalid", testConsumeInvalid},
	{"StreamDeletedWhileConsuming", testStreamDeletedWhileConsuming},
	{"ConsumerDeletedIsRecreated", testConsumerDeletedIsRecreated},
	{"EnsureStreamUpdate", testEnsureStreamUpdate},
	{"WorkQueueRemovesAcked", testWorkQueueRemovesAcked},
}

func TestBus(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			for _, tc := range busTests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, kind)
				})
			}
		})
	}
}

func testPublishConsumeOnce(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const n = 50
	for i := range n {
		data := fmt.Sprintf("msg-%04d", i)
		if err := b.Publish(ctx, subject+".x", []byte(data), WithMsgID("id-"+data)); err != nil {
			t.Fatalf("Publish(%s) = %v, want nil", data, err)
		}
	}

	cfg := ConsumerConfig{Stream: stream, Durable: unique("d"), BatchSize: 7, MaxWait: 500 * time.Millisecond}
	seen := map[string]int{}
	consumeUntil(t, b, cfg, 10*time.Second, func(batch []Msg) error {
		if len(batch) > cfg.BatchSize {
			t.Errorf("len(batch) = %d, want <= %d", len(batch), cfg.BatchSize)
		}
		for _, m := range batch {
			seen[string(m.Data)]++
			want := fmt.Sprintf("msg-%04d", m.Sequence-1)
			if string(m.Data) != want || m.Subject != subject+".x" || m.MsgID != "id-"+want || m.Delivered != 1 || m.Time.IsZero() {
				t.Errorf("Msg(seq %d) = {%s %s %s delivered %d time %v}, want {%s %s id-%s delivered 1 non-zero time}",
					m.Sequence, m.Subject, m.Data, m.MsgID, m.Delivered, m.Time, subject+".x", want, want)
			}
		}
		return nil
	}, func() bool { return len(seen) == n })

	for data, count := range seen {
		if count != 1 {
			t.Errorf("deliveries(%s) = %d, want 1", data, count)
		}
	}
	waitSettled(t, b, stream, cfg.Durable, n)

	// A second run gets nothing: everything was acknowledged.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel2()
	var again int
	if err := b.Consume(ctx2, cfg, func(_ context.Context, batch []Msg) error {
		again += len(batch)
		return nil
	}); err != nil {
		t.Fatalf("Consume(second run) = %v, want nil", err)
	}
	if again != 0 {
		t.Errorf("second Consume received %d messages, want 0", again)
	}
}

func testHandlerErrorRedelivers(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	const n = 10
	sent := publishN(t, b, subject+".x", n)

	cfg := ConsumerConfig{
		Stream: stream, Durable: unique("d"), BatchSize: 4, MaxWait: 500 * time.Millisecond,
		MaxDeliver: 10, NakDelay: 10 * time.Millisecond,
		OnTerminate: func(m Msg, cause error) {
			t.Errorf("OnTerminate(%s, %v) called, want no termination", m.Data, cause)
		},
	}
	succeeded := map[string]uint64{} // data -> delivery count when handled
	var failures int
	consumeUntil(t, b, cfg, 15*time.Second, func(batch []Msg) error {
		// Every message fails its first two deliveries (with its batch).
		for _, m := range batch {
			if m.Delivered < 3 {
				failures++
				return errors.New("transient failure")
			}
		}
		for _, m := range batch {
			if _, dup := succeeded[string(m.Data)]; dup {
				t.Errorf("message %s handled successfully twice", m.Data)
			}
			succeeded[string(m.Data)] = m.Delivered
		}
		return nil
	}, func() bool { return len(succeeded) == n })

	for _, data := range sent {
		if d := succeeded[data]; d < 3 {
			t.Errorf("delivery count at success(%s) = %d, want >= 3", data, d)
		}
	}
	if failures < 2 {
		t.Errorf("failed handler calls = %d, want >= 2", failures)
	}
	waitSettled(t, b, stream, cfg.Durable, n)
	if recs := logs(t, b).find("handler failed", "transient failure"); len(recs) == 0 {
		t.Errorf("log records about the failed handler = 0, want > 0")
	}
}

func testMaxDeliverReported(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, data := range []string{"good-1", "poison", "good-2"} {
		if err := b.Publish(ctx, subject+".x", []byte(data)); err != nil {
			t.Fatalf("Publish(%s) = %v, want nil", data, err)
		}
	}

	type term struct {
		data      string
		delivered uint64
		cause     error
	}
	var (
		terms []term
		good  = map[string]int{}
	)
	done := func() bool { return len(terms) >= 1 && len(good) == 2 }
	cfg := ConsumerConfig{
		Stream: stream, Durable: unique("d"), BatchSize: 10, MaxWait: 500 * time.Millisecond,
		MaxDeliver: 3, NakDelay: 10 * time.Millisecond,
		OnTerminate: func(m Msg, cause error) {
			terms = append(terms, term{string(m.Data), m.Delivered, cause})
			if done() {
				cancel()
			}
		},
	}
	err := b.Consume(ctx, cfg, func(_ context.Context, batch []Msg) error {
		for _, m := range batch {
			if string(m.Data) == "poison" {
				return fmt.Errorf("cannot digest %s", m.Data)
			}
		}
		for _, m := range batch {
			good[string(m.Data)]++
		}
		if done() {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Consume() = %v, want nil", err)
	}
	if !done() {
		t.Fatalf("Consume() ended with terminated %v and succeeded %v, want poison terminated and 2 good", terms, good)
	}
	if len(terms) != 1 || terms[0].data != "poison" || terms[0].delivered != 3 ||
		terms[0].cause == nil || !strings.Contains(terms[0].cause.Error(), "cannot digest poison") {
		t.Errorf("terminated = %+v, want [{poison 3 cannot digest poison}]", terms)
	}
	for data, count := range good {
		if count != 1 {
			t.Errorf("successful handling(%s) = %d, want 1", data, count)
		}
	}
	if recs := logs(t, b).find("ERROR", "giving up on message", "seq=2", "deliveries=3"); len(recs) != 1 {
		t.Errorf("error log records about giving up on seq 2 = %d, want 1", len(recs))
	}
	// Nothing left: the poison message was terminated, not left pending.
	waitSettled(t, b, stream, cfg.Durable, 3)
}

func testMaxDeliverAdvisoryLogged(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	publishN(t, b, subject+".x", 1)
	cfg := withConsumerDefaults(ConsumerConfig{
		Stream: stream, Durable: unique("d"), MaxDeliver: 1, AckWait: 300 * time.Millisecond,
		MaxWait: 200 * time.Millisecond,
	})

	// A worker that takes the message on its last delivery and dies.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &consumer{b: b, cfg: cfg, log: b.log}
	cons, err := c.ensure(ctx)
	if err != nil {
		t.Fatalf("ensure() = %v, want nil", err)
	}
	mb, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatalf("Fetch(1) = %v, want nil", err)
	}
	if msgs, err := collect(mb); len(msgs) != 1 || err != nil {
		t.Fatalf("Fetch(1) = %d messages, %v; want 1, nil", len(msgs), err)
	}

	// The next worker never sees it again, but the loss is logged.
	rec := logs(t, b)
	var handled int
	cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
	defer ccancel()
	go func() {
		for cctx.Err() == nil && len(rec.find("reached max deliveries")) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
		ccancel()
	}()
	if err := b.Consume(cctx, cfg, func(_ context.Context, batch []Msg) error {
		handled += len(batch)
		return nil
	}); err != nil {
		t.Fatalf("Consume() = %v, want nil", err)
	}
	if handled != 0 {
		t.Errorf("messages handled after max deliveries = %d, want 0", handled)
	}
	if recs := rec.find("ERROR", "reached max deliveries", "seq=1"); len(recs) == 0 {
		t.Errorf("error log records about seq 1 reaching max deliveries = 0, want > 0")
	}
}

func testMsgIDDedup(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, func(c *StreamConfig) { c.Duplicates = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range []struct{ data, id string }{{"a", "x"}, {"b", "x"}, {"c", "y"}} {
		if err := b.Publish(ctx, subject+".x", []byte(p.data), WithMsgID(p.id)); err != nil {
			t.Fatalf("Publish(%s, WithMsgID(%s)) = %v, want nil", p.data, p.id, err)
		}
	}
	pub := b.NewPublisher(8)
	defer pub.Close()
	for _, p := range []struct{ data, id string }{{"d", "y"}, {"e", "z"}} {
		if err := pub.Publish(ctx, subject+".x", []byte(p.data), WithMsgID(p.id)); err != nil {
			t.Fatalf("Publisher.Publish(%s, WithMsgID(%s)) = %v, want nil", p.data, p.id, err)
		}
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatalf("Flush() = %v, want nil", err)
	}
	if got := streamMsgs(t, b, stream); got != 3 {
		t.Errorf("messages in stream = %d, want 3", got)
	}

	var got []string
	cfg := ConsumerConfig{Stream: stream, Durable: unique("d"), MaxWait: 300 * time.Millisecond}
	consumeUntil(t, b, cfg, 10*time.Second, func(batch []Msg) error {
		for _, m := range batch {
			got = append(got, string(m.Data)+"/"+m.MsgID)
		}
		return nil
	}, func() bool { return len(got) >= 3 })
	if g, w := strings.Join(got, ","), "a/x,c/y,e/z"; g != w {
		t.Errorf("consumed = %s, want %s", g, w)
	}
}

func testSharedDurable(t *testing.T, kind string) {
	b := openTest(t, kind)
	b2 := b // one embedded server per DataDir: two Consume calls share it
	if kind == kindExternal {
		b2 = reopen(t, b) // a second process, as far as the server is concerned
	}
	stream, subject := newStream(t, b, nil)
	const n = 300
	sent := publishN(t, b, subject+".x", n)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		mu        sync.Mutex
		seen      = map[string]int{}
		perWorker [2]int
		total     int
	)
	cfg := ConsumerConfig{Stream: stream, Durable: unique("d"), BatchSize: 10, MaxWait: 300 * time.Millisecond}
	errs := make(chan error, 2)
	for w, bus := range []*Bus{b, b2} {
		go func() {
			errs <- bus.Consume(ctx, cfg, func(_ context.Context, batch []Msg) error {
				mu.Lock()
				for _, m := range batch {
					seen[string(m.Data)]++
				}
				perWorker[w] += len(batch)
				total += len(batch)
				if total >= n {
					cancel()
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond) // work
				return nil
			})
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Consume() = %v, want nil", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if total != n {
		t.Fatalf("messages handled = %d, want %d", total, n)
	}
	for _, data := range sent {
		if seen[data] != 1 {
			t.Errorf("deliveries(%s) = %d, want 1", data, seen[data])
		}
	}
	if perWorker[0] == 0 || perWorker[1] == 0 {
		t.Errorf("messages per worker = %v, want both > 0", perWorker)
	}
	waitSettled(t, b, stream, cfg.Durable, n)
}

func testCloseDrains(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	publishN(t, b, subject+".x", 1)

	entered, release := make(chan struct{}), make(chan struct{})
	consumed := make(chan error, 1)
	cfg := ConsumerConfig{Stream: stream, Durable: unique("d"), MaxWait: 300 * time.Millisecond}
	go func() {
		var once sync.Once
		consumed <- b.Consume(context.Background(), cfg, func(_ context.Context, batch []Msg) error {
			once.Do(func() { close(entered) })
			<-release
			return nil
		})
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("handler not called within 10s")
	}

	closed := make(chan error, 1)
	start := time.Now()
	go func() { closed <- b.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close() = %v returned while a handler was running, want it to wait", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("Close() did not return within 6s")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close() took %s, want < 5s", d)
	}
	if err := <-consumed; err != nil {
		t.Errorf("Consume() after Close = %v, want nil", err)
	}

	b2 := reopen(t, b)
	waitSettled(t, b2, stream, cfg.Durable, 1)
	if info := consumerInfo(t, b2, stream, cfg.Durable); info.NumRedelivered != 0 {
		t.Errorf("redelivered = %d, want 0", info.NumRedelivered)
	}
}

func testCloseCancelsSlowHandler(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	publishN(t, b, subject+".x", 1)

	entered := make(chan struct{})
	consumed := make(chan error, 1)
	// The release (a nak) is not persisted: an embedded server restarted
	// right after redelivers only after AckWait, so keep it short.
	cfg := ConsumerConfig{Stream: stream, Durable: unique("d"), MaxWait: 300 * time.Millisecond, AckWait: time.Second}
	go func() {
		var once sync.Once
		consumed <- b.Consume(context.Background(), cfg, func(ctx context.Context, batch []Msg) error {
			once.Do(func() { close(entered) })
			<-ctx.Done() // a handler that only stops when told to
			return ctx.Err()
		})
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("handler not called within 10s")
	}
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Errorf("Close() = %v, want nil", err)
	}
	if d := time.Since(start); d < consumerGrace || d > 5*time.Second {
		t.Errorf("Close() took %s, want between %s and 5s", d, consumerGrace)
	}
	if err := <-consumed; err != nil {
		t.Errorf("Consume() after Close = %v, want nil", err)
	}

	// The interrupted message comes back.
	b2 := reopen(t, b)
	var got []Msg
	consumeUntil(t, b2, cfg, 10*time.Second, func(batch []Msg) error {
		got = append(got, batch...)
		return nil
	}, func() bool { return len(got) > 0 })
	if len(got) != 1 || got[0].Delivered != 2 {
		t.Errorf("redelivered = %d messages (first delivered %d times), want 1 (2 times)", len(got), got[0].Delivered)
	}
}

func testSlowHandlerKeepsMessages(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	const n = 3
	publishN(t, b, subject+".x", n)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var (
		mu    sync.Mutex
		seen  = map[string]int{}
		total int
	)
	// AckWait is far shorter than the handler: only the in-progress
	// signals keep the second worker from getting the batch too.
	cfg := ConsumerConfig{Stream: stream, Durable: unique("d"), AckWait: 400 * time.Millisecond, MaxWait: 300 * time.Millisecond}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			errs <- b.Consume(ctx, cfg, func(_ context.Context, batch []Msg) error {
				time.Sleep(1500 * time.Millisecond)
				mu.Lock()
				defer mu.Unlock()
				for _, m := range batch {
					seen[string(m.Data)]++
				}
				if total += len(batch); total >= n {
					// Let a wrongly redelivered copy show up first.
					time.AfterFunc(time.Second, cancel)
				}
				return nil
			})
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Consume() = %v, want nil", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n || total != n {
		t.Errorf("handled %d messages (%d distinct), want %d once each: %v", total, len(seen), n, seen)
	}
	waitSettled(t, b, stream, cfg.Durable, n)
}

func testPersistence(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	sent := publishN(t, b, subject+".x", 5)
	if err := b.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}

	b2 := reopen(t, b)
	var got []string
	cfg := ConsumerConfig{Stream: stream, Durable: unique("d"), MaxWait: 300 * time.Millisecond}
	consumeUntil(t, b2, cfg, 10*time.Second, func(batch []Msg) error {
		for _, m := range batch {
			got = append(got, string(m.Data))
		}
		return nil
	}, func() bool { return len(got) >= len(sent) })
	if g, w := strings.Join(got, ","), strings.Join(sent, ","); g != w {
		t.Errorf("consumed after reopen = %s, want %s", g, w)
	}
}

func testPublisherBackpressure(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const maxPending, n = 4, 500
	p := b.NewPublisher(maxPending)
	defer p.Close()
	for i := range n {
		if err := p.Publish(ctx, subject+".x", []byte(fmt.Sprintf("msg-%04d", i))); err != nil {
			t.Fatalf("Publish(%d) = %v, want nil", i, err)
		}
		if o := p.outstanding.Load(); o > maxPending {
			t.Fatalf("outstanding after Publish(%d) = %d, want <= %d", i, o, maxPending)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("Flush() = %v, want nil", err)
	}
	if o := p.outstanding.Load(); o != 0 {
		t.Errorf("outstanding after Flush = %d, want 0", o)
	}
	if hw := p.highWater.Load(); hw != maxPending {
		t.Errorf("max outstanding = %d, want %d (the limit, reached)", hw, maxPending)
	}
	if got := streamMsgs(t, b, stream); got != n {
		t.Errorf("messages in stream after Flush = %d, want %d", got, n)
	}
}

func testPublisherBlocksWithoutAcks(t *testing.T, kind string) {
	b := openTest(t, kind)
	// A plain subscriber that never answers: publishes are delivered but
	// never acknowledged.
	subject := unique("focaltest.noack.")
	sub, err := b.nc.Subscribe(subject, func(*nats.Msg) {})
	if err != nil {
		t.Fatalf("Subscribe(%s) = %v, want nil", subject, err)
	}
	defer func() {
		if err := sub.Unsubscribe(); err != nil {
			t.Errorf("Unsubscribe() = %v, want nil", err)
		}
	}()
	if err := b.nc.Flush(); err != nil {
		t.Fatalf("Flush() = %v, want nil", err)
	}

	p := b.NewPublisher(2)
	ctx := context.Background()
	for i := range 2 {
		if err := p.Publish(ctx, subject, []byte("x")); err != nil {
			t.Fatalf("Publish(%d) = %v, want nil", i, err)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = p.Publish(tctx, subject, []byte("x"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Publish(third, 2 pending) = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("Publish(third) returned after %s, want it to block until the deadline", d)
	}
	if o := p.outstanding.Load(); o != 2 {
		t.Errorf("outstanding = %d, want 2", o)
	}
	fctx, fcancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer fcancel()
	if err := p.Flush(fctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush(unacked) = %v, want context.DeadlineExceeded", err)
	}
	p.Close()
	if err := p.Flush(ctx); !errors.Is(err, jetstream.ErrJetStreamPublisherClosed) || !strings.Contains(err.Error(), "2 publishes failed") {
		t.Errorf("Flush(after Close) = %v, want 2 failures wrapping %v", err, jetstream.ErrJetStreamPublisherClosed)
	}
}

func testPublisherReportsErrors(t *testing.T, kind string) {
	b := openTest(t, kind)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := b.NewPublisher(16)
	defer p.Close()
	nowhere := unique("focaltest.nostream.")
	if err := p.Publish(ctx, nowhere, []byte("x")); err != nil {
		t.Fatalf("Publish(%s) = %v, want nil (failure is reported by Flush)", nowhere, err)
	}
	err := p.Flush(ctx)
	if !errors.Is(err, jetstream.ErrNoStreamResponse) || !strings.Contains(err.Error(), nowhere) {
		t.Errorf("Flush() = %v, want an error naming %s wrapping %v", err, nowhere, jetstream.ErrNoStreamResponse)
	}
	if err := p.Flush(ctx); err != nil {
		t.Errorf("Flush(again) = %v, want nil (errors are reported once)", err)
	}
	if err := b.Publish(ctx, nowhere, []byte("x")); !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Errorf("Bus.Publish(%s) = %v, want %v", nowhere, err, jetstream.ErrNoStreamResponse)
	}
}

func testPingAndClose(t *testing.T, kind string) {
	b := openTest(t, kind)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping() = %v, want nil", err)
	}
	if got, want := b.Embedded(), kind == kindEmbedded; got != want {
		t.Errorf("Embedded() = %v, want %v", got, want)
	}
	if b.Embedded() && b.ns.Addr() != nil {
		t.Errorf("embedded server listens on %v, want no listener", b.ns.Addr())
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close(again) = %v, want nil", err)
	}
	if err := b.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping(after Close) = %v, want %v", err, ErrClosed)
	}
	if err := b.Publish(ctx, "focaltest.closed", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish(after Close) = %v, want %v", err, ErrClosed)
	}
	if err := b.NewPublisher(1).Publish(ctx, "focaltest.closed", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Publisher.Publish(after Close) = %v, want %v", err, ErrClosed)
	}
	err := b.Consume(ctx, ConsumerConfig{Stream: "S", Durable: "d"}, func(context.Context, []Msg) error { return nil })
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Consume(after Close) = %v, want %v", err, ErrClosed)
	}
	if err := b.EnsureStream(ctx, StreamConfig{Name: "S", Subjects: []string{"s"}}); !errors.Is(err, ErrClosed) {
		t.Errorf("EnsureStream(after Close) = %v, want %v", err, ErrClosed)
	}
}

func testConsumeInvalid(t *testing.T, kind string) {
	b := openTest(t, kind)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nop := func(context.Context, []Msg) error { return nil }
	missing := unique("MISSING_")
	tests := []struct {
		name    string
		cfg     ConsumerConfig
		handle  func(context.Context, []Msg) error
		wantErr error // nil: any error
	}{
		{"NoStream", ConsumerConfig{Durable: "d"}, nop, nil},
		{"NoDurable", ConsumerConfig{Stream: "S"}, nop, nil},
		{"NilHandler", ConsumerConfig{Stream: "S", Durable: "d"}, nil, nil},
		{"StreamNotFound", ConsumerConfig{Stream: missing, Durable: "d"}, nop, jetstream.ErrStreamNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Consume(ctx, tc.cfg, tc.handle)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Errorf("Consume(%+v) = %v, want error %v", tc.cfg, err, tc.wantErr)
			}
		})
	}
}

func testStreamDeletedWhileConsuming(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	publishN(t, b, subject+".x", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	handled := make(chan struct{})
	consumed := make(chan error, 1)
	go func() {
		var once sync.Once
		cfg := ConsumerConfig{Stream: stream, Durable: unique("d"), MaxWait: 2 * time.Second}
		consumed <- b.Consume(ctx, cfg, func(context.Context, []Msg) error {
			once.Do(func() { close(handled) })
			return nil
		})
	}()
	select {
	case <-handled:
	case <-ctx.Done():
		t.Fatal("handler not called within 10s")
	}
	if err := b.DeleteStream(ctx, stream); err != nil {
		t.Fatalf("DeleteStream(%s) = %v, want nil", stream, err)
	}
	select {
	case err := <-consumed:
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("Consume(deleted stream) = %v, want %v", err, jetstream.ErrStreamNotFound)
		}
	case <-ctx.Done():
		t.Fatal("Consume did not return within 10s after its stream was deleted")
	}
}

func testConsumerDeletedIsRecreated(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	publishN(t, b, subject+".x", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cfg := ConsumerConfig{Stream: stream, Durable: unique("d"), MaxWait: time.Second}
	var (
		got     []string
		deleted bool
	)
	err := b.Consume(ctx, cfg, func(_ context.Context, batch []Msg) error {
		for _, m := range batch {
			got = append(got, string(m.Data))
			if string(m.Data) == "after" {
				cancel()
			}
		}
		if !deleted {
			deleted = true
			// Delete the durable under the running Consume, then publish.
			if err := b.js.DeleteConsumer(ctx, stream, cfg.Durable); err != nil {
				t.Errorf("DeleteConsumer(%s) = %v, want nil", cfg.Durable, err)
			}
			if err := b.Publish(ctx, subject+".x", []byte("after")); err != nil {
				t.Errorf("Publish(after) = %v, want nil", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Consume() = %v, want nil", err)
	}
	if len(got) == 0 || got[len(got)-1] != "after" {
		t.Errorf("consumed = %v, want it to end with the message published after the durable was deleted", got)
	}
}

func testEnsureStreamUpdate(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cfg := StreamConfig{Name: stream, Subjects: []string{subject + ".>", subject + "2.>"}, MaxAge: 2 * time.Hour, MaxBytes: 1 << 20, DiscardNew: true}
	if err := b.EnsureStream(ctx, cfg); err != nil {
		t.Fatalf("EnsureStream(update) = %v, want nil", err)
	}
	if err := b.EnsureStream(ctx, cfg); err != nil {
		t.Fatalf("EnsureStream(unchanged) = %v, want nil", err)
	}
	if err := b.Publish(ctx, subject+"2.x", []byte("x")); err != nil {
		t.Errorf("Publish(new subject) = %v, want nil", err)
	}
	mem := cfg
	mem.Memory = true
	if err := b.EnsureStream(ctx, mem); err == nil {
		t.Errorf("EnsureStream(file to memory) = nil, want error")
	}
	for _, bad := range []StreamConfig{{Subjects: []string{"x"}}, {Name: "N"}} {
		if err := b.EnsureStream(ctx, bad); err == nil {
			t.Errorf("EnsureStream(%+v) = nil, want error", bad)
		}
	}
	if err := b.DeleteStream(ctx, stream); err != nil {
		t.Errorf("DeleteStream(%s) = %v, want nil", stream, err)
	}
	if err := b.DeleteStream(ctx, stream); err != nil {
		t.Errorf("DeleteStream(%s, again) = %v, want nil", stream, err)
	}
}

func testWorkQueueRemovesAcked(t *testing.T, kind string) {
	b := openTest(t, kind)
	stream, subject := newStream(t, b, func(c *StreamConfig) { c.WorkQueue = true })
	const n = 20
	publishN(t, b, subject+".x", n)
	if got := streamMsgs(t, b, stream); got != n {
		t.Fatalf("messages in work queue before consuming = %d, want %d", got, n)
	}
	var got int
	cfg := ConsumerConfig{Stream: stream, Durable: unique("d"), MaxWait: 300 * time.Millisecond}
	consumeUntil(t, b, cfg, 10*time.Second, func(batch []Msg) error {
		got += len(batch)
		return nil
	}, func() bool { return got >= n })
	deadline := time.Now().Add(5 * time.Second)
	for streamMsgs(t, b, stream) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("messages in work queue after consuming = %d, want 0", streamMsgs(t, b, stream))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	// Port 1 may refuse connections or (behind some firewalls) accept and
	// never answer; either way Open must give up in time.
	tests := []struct {
		name, url, want string
		ctxTimeout      time.Duration // 0: no deadline, the connect timeout applies
		maxTime         time.Duration
	}{
		{"Single", "nats://127.0.0.1:1", "connect to NATS at nats://127.0.0.1:1: ", 0, 6 * time.Second},
		{"Password", "nats://focal:s3cret@127.0.0.1:1", "nats://focal:xxxxx@127.0.0.1:1", time.Second, 2 * time.Second},
		{"Token", "nats://s3cret@127.0.0.1:1", "nats://xxxxx@127.0.0.1:1", time.Second, 2 * time.Second},
		{"List", "nats://127.0.0.1:1,nats://u:s3cret@127.0.0.1:2", "nats://127.0.0.1:1,nats://u:xxxxx@127.0.0.1:2", 0, 6 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if tc.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
				defer cancel()
			}
			start := time.Now()
			b, err := Open(ctx, Config{URL: tc.url})
			if err == nil {
				if cerr := b.Close(); cerr != nil {
					t.Errorf("Close() = %v, want nil", cerr)
				}
				t.Fatalf("Open(%s) = nil error, want an error", tc.url)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Open(%s) = %q, want it to contain %q and no password", tc.url, err, tc.want)
			}
			if d := time.Since(start); d > tc.maxTime {
				t.Errorf("Open(%s) took %s, want < %s", tc.url, d, tc.maxTime)
			}
		})
	}
}

func TestOpenEmbeddedErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dataDir, want string
	}{
		{"NoDataDir", "", "data directory"},
		{"DataDirIsFile", file, filepath.Join(file, "nats")},
		{"DataDirInUse", "locked", "in use by another embedded server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.dataDir == "locked" {
				tc.dataDir = openTest(t, kindEmbedded).cfg.DataDir
			}
			b, err := Open(context.Background(), Config{DataDir: tc.dataDir})
			if err == nil {
				if cerr := b.Close(); cerr != nil {
					t.Errorf("Close() = %v, want nil", cerr)
				}
				t.Fatalf("Open(DataDir %q) = nil error, want an error", tc.dataDir)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(DataDir %q) = %q, want it to contain %q", tc.dataDir, err, tc.want)
			}
		})
	}
}

func TestRedactURLs(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://u:p@h:1", "nats://u:xxxxx@h:1"},
		{"nats://tok@h:1", "nats://xxxxx@h:1"},
		{"nats://a:1, nats://u:p@b:2", "nats://a:1,nats://u:xxxxx@b:2"},
		{"u:p@h:1", "<unparseable url>"},
	}
	for _, tc := range tests {
		if got := redactURLs(tc.in); got != tc.want {
			t.Errorf("redactURLs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base  time.Duration
		n     int
		limit time.Duration
		want  time.Duration
	}{
		{time.Second, 0, time.Minute, time.Second},
		{time.Second, -1, time.Minute, time.Second},
		{time.Second, 3, time.Minute, 8 * time.Second},
		{time.Second, 10, time.Minute, time.Minute},
		{time.Second, 1000, time.Minute, time.Minute},
	}
	for _, tc := range tests {
		if got := backoff(tc.base, tc.n, tc.limit); got != tc.want {
			t.Errorf("backoff(%s, %d, %s) = %s, want %s", tc.base, tc.n, tc.limit, got, tc.want)
		}
	}
}

func TestBenchSmall(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			b := openTest(t, kind)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := Bench(ctx, b, 5000, 300)
			if err != nil {
				t.Fatalf("Bench(5000, 300) = %v, want nil", err)
			}
			if res.Messages != 5000 || res.Size != 300 || res.Publish <= 0 || res.Consume <= 0 || res.Rate() <= 0 {
				t.Errorf("Bench(5000, 300) = %+v, want 5000 messages of 300 bytes, positive durations", res)
			}
			// The bench stream is gone.
			names := b.js.StreamNames(ctx)
			for name := range names.Name() {
				if strings.HasPrefix(name, "BENCH_") && kind == kindEmbedded {
					t.Errorf("stream %s left behind by Bench", name)
				}
			}
			if err := names.Err(); err != nil {
				t.Errorf("StreamNames() = %v, want nil", err)
			}
		})
	}
}

func BenchmarkPublishConsume(b *testing.B) {
	for _, kind := range kinds {
		b.Run(kind, func(b *testing.B) {
			bus := openTest(b, kind)
			b.ReportAllocs()
			b.ResetTimer()
			res, err := Bench(context.Background(), bus, b.N, 300)
			b.StopTimer()
			if err != nil {
				b.Fatalf("Bench(%d, 300) = %v, want nil", b.N, err)
			}
			b.ReportMetric(res.PublishRate(), "pub-msgs/s")
			b.ReportMetric(res.ConsumeRate(), "cons-msgs/s")
			b.ReportMetric(res.Rate(), "msgs/s")
		})
	}
}
