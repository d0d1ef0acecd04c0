package mailin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/emersion/go-smtp"
)

// maxSessions bounds concurrent SMTP sessions, so memory stays bounded
// (each may hold one message of up to MaxBytes).
const maxSessions = 8

// Server is the SMTP listener in front of an Intake.
type Server struct {
	srv *smtp.Server
	ln  net.Listener
	// done receives Serve's result.
	done chan error
}

// Listen starts an SMTP listener on addr delivering into in. domain is the
// name announced in the greeting.
func Listen(addr, domain string, in *Intake) (*Server, error) {
	max := in.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	be := &backend{in: in, sem: make(chan struct{}, maxSessions)}
	srv := smtp.NewServer(be)
	srv.Domain = domain
	srv.MaxMessageBytes = max
	srv.MaxRecipients = 50
	srv.ReadTimeout = 60 * time.Second
	srv.WriteTimeout = 60 * time.Second
	srv.AllowInsecureAuth = false
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtp: listen on %s: %w (set --smtp-addr or FOCAL_SMTP_ADDR)", addr, err)
	}
	s := &Server{srv: srv, ln: ln, done: make(chan error, 1)}
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// Addr returns the address the listener is bound to.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops accepting, lets sessions finish until ctx is done, then cuts them.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	return errors.Join(err, <-s.done)
}

type backend struct {
	in  *Intake
	sem chan struct{}
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	select {
	case b.sem <- struct{}{}:
		return &session{b: b}, nil
	default:
		return nil, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "too many connections, try again later"}
	}
}

type session struct {
	b    *backend
	from string
	rcpt int
}

func (s *session) Reset()        { s.from, s.rcpt = "", 0 }
func (s *session) Logout() error { <-s.b.sem; return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(string, *smtp.RcptOptions) error {
	s.rcpt++
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		// go-smtp reports an over-long message here; the client is told.
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.b.in.Deliver(ctx, s.from, raw)
	if err != nil {
		s.b.in.Logger.Error("e-mail intake failed; asking the sender to retry", "from", s.from, "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "temporary failure storing the report, try again later"}
	}
	if res.QuarantineID != 0 {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
			Message: fmt.Sprintf("message could not be read as a report (%s); it was kept for manual review as Q-%d", res.Reason, res.QuarantineID)}
	}
	return nil
}
