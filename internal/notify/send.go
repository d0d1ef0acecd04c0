package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"
)

// TLS modes of a Sender.
const (
	TLSNone     = "none"     // plain SMTP; only for a relay on the same host
	TLSStartTLS = "starttls" // STARTTLS on a plain connection (port 587 or 25); required
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// DefaultSendTimeout bounds one SMTP attempt, from the connection to the
// end of DATA, when Sender.Timeout is 0.
const DefaultSendTimeout = 2 * time.Minute

// Sender delivers messages through an SMTP relay. Relay is required; the
// other fields have defaults. A Sender is safe for concurrent use; do not
// copy it or change its fields after the first Send.
//
// Send waits for the per-domain rate limit, then tries to deliver,
// retrying temporary failures (a 4xx reply, a network error) with
// exponential backoff and jitter up to MaxAttempts times. It does not
// retry permanent failures (a 5xx reply: an unknown recipient, a refused
// login; a TLS certificate the relay's name does not match). Neither the
// password nor the message appears in its errors or logs.
type Sender struct {
	Relay     string      // host:port
	TLS       string      // TLSNone, TLSStartTLS or TLSImplicit; "" means starttls
	TLSConfig *tls.Config // optional, e.g. RootCAs for a private relay; ServerName defaults to the relay's host
	// Username and Password, when set, log in with AUTH PLAIN — never over
	// an unencrypted connection to another host.
	Username string
	Password string
	HELO     string        // the name given in EHLO; default the host name
	Timeout  time.Duration // bounds one attempt; default DefaultSendTimeout
	// PerDomainRate is how many messages a minute go to one recipient
	// domain (a message to several domains waits for each); 0 means no
	// limit. Bursts are not allowed: messages are spaced evenly.
	PerDomainRate float64
	MaxAttempts   int           // default DefaultMaxAttempts
	Backoff       time.Duration // the first retry's wait (doubling after); default DefaultBackoff
	Logger        *slog.Logger  // optional; attempts that fail are logged at Warn

	// Test hooks: the clock of the rate limiter and the wait between
	// attempts or for the limiter.
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// Send delivers m to m.To. It returns nil, a *DeliveryError, or ctx's
// error when ctx ends first.
func (s *Sender) Send(ctx context.Context, m *Message) error {
	if s.Relay == "" {
		return errors.New("send: no SMTP relay configured")
	}
	if len(m.To) == 0 {
		return &DeliveryError{Op: "send", Reference: m.Reference, Permanent: true, Err: errors.New("no recipients")}
	}
	if err := s.waitRate(ctx, m.To); err != nil {
		return err
	}
	maxAttempts := s.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	base := s.Backoff
	if base <= 0 {
		base = DefaultBackoff
	}
	to := slices.Clone(m.To)
	var rejected []string
	var last error
	for attempt := 1; ; attempt++ {
		refused, err := s.deliver(ctx, m, to)
		rejected = append(rejected, refused...)
		to = slices.DeleteFunc(to, func(a string) bool { return slices.Contains(refused, a) })
		if err == nil {
			if len(rejected) > 0 {
				return &DeliveryError{Op: "send", Reference: m.Reference, Permanent: true, Attempts: attempt,
					Rejected: rejected, Delivered: true, Err: errRecipientsRefused}
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		last = err
		perm := permanent(err)
		s.log().Warn("notification not delivered", "ref", m.Reference, "relay", s.Relay,
			"attempt", attempt, "permanent", perm, "err", err)
		if perm {
			return &DeliveryError{Op: "send", Reference: m.Reference, Permanent: true, Attempts: attempt, Rejected: rejected, Err: err}
		}
		if attempt >= maxAttempts {
			break
		}
		if err := s.wait(ctx, backoff(base, attempt)); err != nil {
			return err
		}
	}
	return &DeliveryError{Op: "send", Reference: m.Reference, Attempts: maxAttempts, Rejected: rejected, Err: last}
}

var errRecipientsRefused = errors.New("the relay refused some recipients")

// errAllRefused is a permanent failure: the relay refused every recipient.
type errAllRefused struct{ last error }

func (e errAllRefused) Error() string { return "the relay refused every recipient: " + e.last.Error() }
func (e errAllRefused) Unwrap() error { return e.last }

// deliver makes one attempt to send m to the recipients to. It returns
// the recipients the relay refused permanently; the message went to the
// others when err is nil.
func (s *Sender) deliver(ctx context.Context, m *Message, to []string) (refused []string, err error) {
	host, _, err := net.SplitHostPort(s.Relay)
	if err != nil {
		return nil, configError{fmt.Errorf("relay %q is not host:port", s.Relay)}
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSendTimeout
	}
	cfg := &tls.Config{}
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		var ne net.Error
		if err != nil && ctx.Err() == nil && (actx.Err() != nil || errors.As(err, &ne) && ne.Timeout()) {
			err = fmt.Errorf("timed out (limit %v): %w", timeout, err)
		}
	}()
	var dialer net.Dialer
	conn, err := dialer.DialContext(actx, "tcp", s.Relay)
	if err != nil {
		return nil, err
	}
	// Closing the connection unblocks whatever command is waiting when the
	// attempt's time is up or ctx ends.
	stop := context.AfterFunc(actx, func() { conn.Close() })
	defer stop()

	mode := s.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	var c *smtp.Client
	switch mode {
	case TLSImplicit:
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(actx); err != nil {
			conn.Close()
			return nil, err
		}
		c = smtp.NewClient(tc)
	case TLSStartTLS:
		// go-smtp says EHLO as "localhost" before STARTTLS; s.HELO is
		// given after it, on the encrypted connection.
		c, err = smtp.NewClientStartTLS(conn, cfg)
		if err != nil {
			conn.Close()
			return nil, err
		}
	case TLSNone:
		c = smtp.NewClient(conn)
	default:
		conn.Close()
		return nil, configError{fmt.Errorf("unknown TLS mode %q: want none, starttls or tls", s.TLS)}
	}
	defer c.Close()
	c.CommandTimeout = timeout
	c.SubmissionTimeout = timeout
	if err := c.Hello(s.helo()); err != nil {
		return nil, err
	}
	if s.Username != "" {
		if mode == TLSNone && !loopback(host) {
			return nil, configError{errors.New("refusing to send the SMTP password over an unencrypted connection: use starttls or tls")}
		}
		if !c.SupportsAuth(sasl.Plain) {
			return nil, configError{errors.New("the relay does not offer AUTH PLAIN")}
		}
		if err := c.Auth(sasl.NewPlainClient("", s.Username, s.Password)); err != nil {
			return nil, fmt.Errorf("login as %s: %w", s.Username, err)
		}
	}
	if size, ok := c.MaxMessageSize(); ok && size > 0 && len(m.Raw) > size {
		return nil, configError{fmt.Errorf("the message is %d bytes; the relay accepts at most %d", len(m.Raw), size)}
	}
	if err := c.Mail(m.From, nil); err != nil {
		return nil, fmt.Errorf("MAIL FROM: %w", err)
	}
	var accepted int
	var lastRefusal error
	for _, rcpt := range to {
		err := c.Rcpt(rcpt, nil)
		switch {
		case err == nil:
			accepted++
		case permanent(err):
			refused = append(refused, rcpt)
			lastRefusal = fmt.Errorf("RCPT TO %s: %w", rcpt, err)
		default:
			return refused, fmt.Errorf("RCPT TO %s: %w", rcpt, err)
		}
	}
	if accepted == 0 {
		return refused, errAllRefused{lastRefusal}
	}
	w, err := c.Data()
	if err != nil {
		return refused, fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(m.Raw); err != nil {
		return refused, fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return refused, fmt.Errorf("DATA: %w", err)
	}
	if err := c.Quit(); err != nil {
		s.log().Debug("smtp quit", "relay", s.Relay, "err", err) // the message was accepted
	}
	return refused, nil
}

// configError marks a failure of configuration: retrying cannot help.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// permanent reports whether a delivery error will not go away by itself.
func permanent(err error) bool {
	var se *smtp.SMTPError
	var ce configError
	var ar errAllRefused
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ie x509.CertificateInvalidError
	var ve *tls.CertificateVerificationError
	switch {
	case errors.As(err, &ar), errors.As(err, &ce):
		return true
	case errors.As(err, &se):
		return se.Code >= 500
	case errors.As(err, &ue), errors.As(err, &he), errors.As(err, &ie), errors.As(err, &ve):
		return true
	case err != nil && strings.Contains(err.Error(), "doesn't support STARTTLS"):
		return true
	}
	return false
}

// waitRate waits for the rate limiter of every recipient domain.
func (s *Sender) waitRate(ctx context.Context, to []string) error {
	if s.PerDomainRate <= 0 {
		return nil
	}
	var domains []string
	for _, a := range to {
		_, d, _ := strings.Cut(a, "@")
		domains = append(domains, strings.ToLower(d))
	}
	slices.Sort(domains)
	domains = slices.Compact(domains)
	now := s.clock()
	var delay time.Duration
	var rs []*rate.Reservation
	s.mu.Lock()
	if s.limiters == nil {
		s.limiters = map[string]*rate.Limiter{}
	}
	for _, d := range domains {
		l := s.limiters[d]
		if l == nil {
			l = rate.NewLimiter(rate.Limit(s.PerDomainRate/60), 1)
			s.limiters[d] = l
		}
		r := l.ReserveN(now, 1)
		rs = append(rs, r)
		delay = max(delay, r.DelayFrom(now))
	}
	s.mu.Unlock()
	if err := s.wait(ctx, delay); err != nil {
		for _, r := range rs {
			r.CancelAt(s.clock())
		}
		return err
	}
	return nil
}

func (s *Sender) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *Sender) wait(ctx context.Context, d time.Duration) error {
	if s.sleep != nil {
		return s.sleep(ctx, d)
	}
	return sleepContext(ctx, d)
}

func (s *Sender) helo() string {
	if s.HELO != "" {
		return s.HELO
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

func (s *Sender) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
