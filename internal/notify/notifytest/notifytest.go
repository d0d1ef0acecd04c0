// Package notifytest gives tests an in-process SMTP relay (built with
// go-smtp) that keeps what it receives, and a reader of the CSV
// attachment of focal's digests. Only tests import it.
package notifytest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
)

// Relay is an in-process SMTP relay. Start it with Start; RcptErr, when
// set, answers RCPT TO.
type Relay struct {
	Addr string

	mu        sync.Mutex
	RcptErr   func(to string) error
	sessions  int
	delivered []Delivery
}

// Delivery is one message the relay accepted.
type Delivery struct {
	From string
	To   []string
	Data []byte
}

// Start serves the relay on addr ("127.0.0.1:0" for any port) until the
// test ends.
func (r *Relay) Start(t testing.TB, addr string) {
	t.Helper()
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		r.mu.Lock()
		r.sessions++
		r.mu.Unlock()
		return &session{relay: r}, nil
	}))
	s.Domain = "relay.test"
	s.AllowInsecureAuth = true
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.MaxMessageBytes = 64 << 20
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r.Addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("smtp server: %v", err)
		}
	}()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close smtp server: %v", err)
		}
		<-done
	})
}

// Got returns the messages accepted so far.
func (r *Relay) Got() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.delivered)
}

// Sessions counts the SMTP sessions opened.
func (r *Relay) Sessions() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions
}

// SetRcptErr sets RcptErr safely while the relay runs.
func (r *Relay) SetRcptErr(f func(to string) error) {
	r.mu.Lock()
	r.RcptErr = f
	r.mu.Unlock()
}

type session struct {
	relay *Relay
	from  string
	to    []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.relay.mu.Lock()
	f := s.relay.RcptErr
	s.relay.mu.Unlock()
	if f != nil {
		if err := f(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.relay.mu.Lock()
	s.relay.delivered = append(s.relay.delivered, Delivery{From: s.from, To: slices.Clone(s.to), Data: b})
	s.relay.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// ClosedAddr returns a local address nothing listens on.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// CSVIPs reads a digest and returns the source addresses of its CSV
// attachment, sorted, and its subject. It fails when there is none.
func CSVIPs(raw []byte) (ips []string, subject string, err error) {
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		return nil, "", fmt.Errorf("read message: %w", err)
	}
	subject, _ = r.Header.Subject()
	found := false
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, subject, fmt.Errorf("read part: %w", err)
		}
		h, ok := p.Header.(*mail.AttachmentHeader)
		if !ok {
			continue
		}
		if name, _ := h.Filename(); !strings.HasSuffix(name, ".csv") {
			continue
		}
		found = true
		recs, err := csv.NewReader(p.Body).ReadAll()
		if err != nil {
			return nil, subject, fmt.Errorf("read CSV: %w", err)
		}
		col := slices.Index(recs[0], "source_ip")
		for _, rec := range recs[1:] {
			ips = append(ips, rec[col])
		}
	}
	if !found {
		return nil, subject, errors.New("no CSV attachment")
	}
	slices.Sort(ips)
	return ips, subject, nil
}
