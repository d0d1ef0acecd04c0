package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpServer is an in-process SMTP relay built with go-smtp. Its
// behaviour is scripted: dataErrs are answered to successive DATA
// commands (nil = accept), rcptErr to RCPT TO.
type smtpServer struct {
	addr string

	mu        sync.Mutex
	dataErrs  []error
	rcptErr   func(to string) error
	users     map[string]string // when set, AUTH PLAIN is required
	sessions  int
	delivered []delivery
}

type delivery struct {
	from string
	to   []string
	data []byte
	tls  bool
	user string
}

func startSMTP(t *testing.T, srv *smtpServer, tlsConfig *tls.Config) {
	t.Helper()
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		srv.mu.Lock()
		srv.sessions++
		srv.mu.Unlock()
		return &smtpSession{srv: srv, conn: c}, nil
	}))
	s.Domain = "relay.test"
	s.ErrorLog = log.New(io.Discard, "", 0) // clients dropping a failed TLS handshake are expected
	s.TLSConfig = tlsConfig
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.addr = l.Addr().String()
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

func (s *smtpServer) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

func (s *smtpServer) got() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered)
}

type smtpSession struct {
	srv  *smtpServer
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if want, ok := s.srv.users[user]; !ok || want != pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.users != nil && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.rcptErr != nil {
		if err := s.srv.rcptErr(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if len(s.srv.dataErrs) > 0 {
		err := s.srv.dataErrs[0]
		s.srv.dataErrs = s.srv.dataErrs[1:]
		if err != nil {
			return err
		}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.delivered = append(s.srv.delivered, delivery{from: s.from, to: s.to, data: b, tls: isTLS, user: s.user})
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

// fakeWaits records the waits a Sender asks for and moves a fake clock.
type fakeWaits struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (f *fakeWaits) install(s *Sender) {
	s.now = func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.now
	}
	s.sleep = func(ctx context.Context, d time.Duration) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if d > 0 {
			f.waits = append(f.waits, d)
			f.now = f.now.Add(d)
		}
		return ctx.Err()
	}
}

func (f *fakeWaits) got() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.waits)
}

func plainSender(addr string) (*Sender, *fakeWaits) {
	s := &Sender{Relay: addr, TLS: TLSNone, HELO: "focal.test", Timeout: 10 * time.Second, MaxAttempts: 4, Backoff: time.Second}
	f := &fakeWaits{now: testNow}
	f.install(s)
	return s, f
}

func TestSendDelivers(t *testing.T) {
	srv := &smtpServer{}
	startSMTP(t, srv, nil)
	msgs := build(t, testPolicy(), manyEvents(5), testTeam())
	s, waits := plainSender(srv.addr)
	if err := s.Send(context.Background(), msgs[0]); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	got := srv.got()
	if len(got) != 1 {
		t.Fatalf("relay received %d messages, want 1", len(got))
	}
	d := got[0]
	if d.from != "cert@cert.example" || !slices.Equal(d.to, []string{"abuse@telecom.example", "soc@telecom.example"}) {
		t.Errorf("envelope = %s → %v, want cert@cert.example → both recipients", d.from, d.to)
	}
	pm := parseMessage(t, d.data)
	if ref := pm.header.Get("X-Focal-Reference"); ref != msgs[0].Reference {
		t.Errorf("X-Focal-Reference = %q, want %q", ref, msgs[0].Reference)
	}
	if pm.header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", pm.header.Get("Auto-Submitted"))
	}
	if s, _ := pm.header.Subject(); !strings.HasPrefix(s, "[TLP:AMBER] ") {
		t.Errorf("Subject = %q", s)
	}
	if !strings.HasPrefix(pm.text, "TLP:AMBER\r\n") {
		t.Errorf("body does not start with the label")
	}
	if recs := readCSV(t, pm.files[msgs[0].Reference+".csv"]); len(recs) != 6 {
		t.Errorf("CSV has %d records, want 6", len(recs))
	}
	if w := waits.got(); len(w) != 0 {
		t.Errorf("waits = %v, want none", w)
	}
}

func TestSendRetriesTemporaryFailures(t *testing.T) {
	busy := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	srv := &smtpServer{dataErrs: []error{busy, busy}}
	startSMTP(t, srv, nil)
	s, waits := plainSender(srv.addr)
	if err := s.Send(context.Background(), testMessage("abuse@telecom.example")); err != nil {
		t.Fatalf("Send() = %v, want delivery on the third attempt", err)
	}
	if n := len(srv.got()); n != 1 {
		t.Errorf("relay received %d messages, want 1", n)
	}
	if n := srv.sessionCount(); n != 3 {
		t.Errorf("relay saw %d sessions, want 3", n)
	}
	w := waits.got()
	if len(w) != 2 {
		t.Fatalf("waits = %v, want 2 backoffs", w)
	}
	// Base 1s: the first wait is in [0.5s, 1s], the second in [1s, 2s].
	if w[0] < 500*time.Millisecond || w[0] > time.Second || w[1] < time.Second || w[1] > 2*time.Second {
		t.Errorf("waits = %v, want exponential backoff with jitter from 1s", w)
	}
}

func TestSendPermanentFailure(t *testing.T) {
	srv := &smtpServer{rcptErr: func(string) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}}
	startSMTP(t, srv, nil)
	s, waits := plainSender(srv.addr)
	err := s.Send(context.Background(), testMessage("nobody@telecom.example"))
	var de *DeliveryError
	if !errors.As(err, &de) || !de.Permanent || de.Attempts != 1 || de.Delivered {
		t.Fatalf("Send() = %#v, want a permanent failure after 1 attempt", err)
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("Send() cause = %v, want the 550 reply", err)
	}
	if !slices.Equal(de.Rejected, []string{"nobody@telecom.example"}) {
		t.Errorf("Rejected = %v", de.Rejected)
	}
	mustContain(t, "Send()", err.Error(), "permanent failure")
	if srv.sessionCount() != 1 || len(waits.got()) != 0 {
		t.Errorf("sessions = %d, waits = %v; want 1 and none (no retry)", srv.sessionCount(), waits.got())
	}
}

func TestSendPartlyRefused(t *testing.T) {
	srv := &smtpServer{rcptErr: func(to string) error {
		if strings.HasPrefix(to, "gone@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}}
	startSMTP(t, srv, nil)
	s, _ := plainSender(srv.addr)
	err := s.Send(context.Background(), testMessage("gone@telecom.example", "abuse@telecom.example"))
	var de *DeliveryError
	if !errors.As(err, &de) || !de.Delivered || !slices.Equal(de.Rejected, []string{"gone@telecom.example"}) {
		t.Fatalf("Send() = %v, want delivered except to gone@", err)
	}
	got := srv.got()
	if len(got) != 1 || !slices.Equal(got[0].to, []string{"abuse@telecom.example"}) {
		t.Errorf("relay received %v, want one message to abuse@", got)
	}
}

func TestSendGivesUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	s, waits := plainSender(addr)
	s.MaxAttempts = 3
	m := testMessage("abuse@telecom.example")
	err = s.Send(context.Background(), m)
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent || de.Attempts != 3 {
		t.Fatalf("Send() = %v, want a temporary failure after 3 attempts", err)
	}
	mustContain(t, "Send()", err.Error(), "send "+m.Reference+": gave up after 3 attempts: ")
	mustContain(t, "Send()", err.Error(), "connection refused")
	if w := waits.got(); len(w) != 2 {
		t.Errorf("waits = %v, want 2", w)
	}
}

func TestSendStartTLSAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	const password = "hunter2-relay-password"
	srv := &smtpServer{users: map[string]string{"focal": password}}
	startSMTP(t, srv, &tls.Config{Certificates: []tls.Certificate{cert}})

	s, _ := plainSender(srv.addr)
	s.TLS = TLSStartTLS
	s.TLSConfig = &tls.Config{RootCAs: pool}
	s.Username, s.Password = "focal", password
	if err := s.Send(context.Background(), testMessage("abuse@telecom.example")); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	got := srv.got()
	if len(got) != 1 || !got[0].tls || got[0].user != "focal" {
		t.Fatalf("relay received %+v, want one message over TLS after login", got)
	}

	t.Run("wrong-password", func(t *testing.T) {
		s, waits := plainSender(srv.addr)
		s.TLS = TLSStartTLS
		s.TLSConfig = &tls.Config{RootCAs: pool}
		s.Username, s.Password = "focal", "not-"+password
		err := s.Send(context.Background(), testMessage("abuse@telecom.example"))
		var de *DeliveryError
		if !errors.As(err, &de) || !de.Permanent {
			t.Fatalf("Send() = %v, want a permanent failure", err)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("Send() error %q shows the password", err)
		}
		if len(waits.got()) != 0 {
			t.Errorf("a refused login was retried")
		}
	})
	t.Run("untrusted-certificate", func(t *testing.T) {
		s, _ := plainSender(srv.addr)
		s.TLS = TLSStartTLS
		err := s.Send(context.Background(), testMessage("abuse@telecom.example"))
		var de *DeliveryError
		if !errors.As(err, &de) || !de.Permanent {
			t.Fatalf("Send() = %v, want a permanent certificate failure", err)
		}
	})
	t.Run("relay-without-starttls", func(t *testing.T) {
		plain := &smtpServer{}
		startSMTP(t, plain, nil)
		s, _ := plainSender(plain.addr)
		s.TLS = TLSStartTLS // the relay offers no STARTTLS
		err := s.Send(context.Background(), testMessage("abuse@telecom.example"))
		var de *DeliveryError
		if !errors.As(err, &de) || !de.Permanent || len(plain.got()) != 0 {
			t.Fatalf("Send() = %v, want a permanent failure and nothing sent", err)
		}
	})
}

func TestSendImplicitTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	srv := &smtpServer{}
	// An implicit-TLS relay: the listener speaks TLS from the first byte.
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: srv, conn: c}, nil
	}))
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("smtp server: %v", err)
		}
	}()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		<-done
	})
	snd, _ := plainSender(l.Addr().String())
	snd.TLS = TLSImplicit
	snd.TLSConfig = &tls.Config{RootCAs: pool}
	if err := snd.Send(context.Background(), testMessage("abuse@telecom.example")); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	if got := srv.got(); len(got) != 1 || !got[0].tls {
		t.Errorf("relay received %+v, want one message over TLS", got)
	}
}

func TestSendPerDomainRate(t *testing.T) {
	srv := &smtpServer{}
	startSMTP(t, srv, nil)
	s, waits := plainSender(srv.addr)
	s.PerDomainRate = 30 // one message every 2 seconds per domain
	ctx := context.Background()
	for _, to := range []string{"a@telecom.example", "b@telecom.example", "abuse@bank.example", "c@Telecom.example"} {
		if err := s.Send(ctx, testMessage(to)); err != nil {
			t.Fatalf("Send(%s) = %v", to, err)
		}
	}
	// telecom.example: the 2nd and 3rd messages wait 2s each (the clock
	// only moves when the sender waits); bank.example waits for nothing.
	if w := waits.got(); !slices.Equal(w, []time.Duration{2 * time.Second, 2 * time.Second}) {
		t.Errorf("waits = %v, want [2s 2s]", w)
	}
	if n := len(srv.got()); n != 4 {
		t.Errorf("relay received %d messages, want 4", n)
	}
	// A message to two domains waits for the slower one.
	if err := s.Send(ctx, testMessage("x@bank.example", "y@telecom.example")); err != nil {
		t.Fatal(err)
	}
	if w := waits.got(); len(w) != 3 || w[2] != 2*time.Second {
		t.Errorf("waits = %v, want a third wait of 2s", w)
	}
}

func TestSendCancelled(t *testing.T) {
	srv := &smtpServer{}
	startSMTP(t, srv, nil)
	s := &Sender{Relay: srv.addr, TLS: TLSNone, PerDomainRate: 1}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Send(ctx, testMessage("a@telecom.example")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := s.Send(ctx, testMessage("b@telecom.example")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send() after cancel = %v, want context.Canceled", err)
	}
}

// testMessage is a minimal message to the given recipients.
func testMessage(to ...string) *Message {
	return &Message{
		Reference: "FOCAL-N-20260304-TESTTEST",
		From:      "cert@cert.example",
		To:        to,
		Raw:       []byte("From: cert@cert.example\r\nSubject: [TLP:CLEAR] test\r\n\r\nTLP:CLEAR\r\nhello\r\n"),
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "relay.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestSendAttemptTimeout(t *testing.T) {
	// A relay that accepts connections and never greets.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			if err := c.Close(); err != nil {
				t.Error(err)
			}
		}
	})
	s, _ := plainSender(l.Addr().String())
	s.Timeout = 100 * time.Millisecond
	s.MaxAttempts = 2
	err = s.Send(context.Background(), testMessage("abuse@telecom.example"))
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent || de.Attempts != 2 {
		t.Fatalf("Send() = %v, want a temporary failure after 2 attempts", err)
	}
	mustContain(t, "Send()", err.Error(), "gave up after 2 attempts: timed out (limit 100ms): ")
}
