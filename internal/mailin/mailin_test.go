package mailin

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

func newIntake(t *testing.T, s *store.Store) *Intake {
	t.Helper()
	return &Intake{Store: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DataDir: t.TempDir(),
		Extract: func(text string) []focal.Observable {
			if strings.Contains(text, "198.51.100.23") {
				return []focal.Observable{{Kind: "ipv4", Value: "198.51.100.23", Source: "extracted"}}
			}
			return nil
		}}
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var handler = focal.NewContextWithPrincipal(context.Background(), focal.Principal{UserID: 9, Name: "hank", Role: focal.RoleHandler})

func TestDeliver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		in := newIntake(t, s)
		ctx := context.Background()
		res, err := in.Deliver(ctx, "alice@example.org", read(t, "report.eml"))
		if err != nil || res.IncidentID == 0 || res.Threaded {
			t.Fatalf("Deliver(report) = %+v, %v", res, err)
		}
		i, err := s.Incident(handler, res.IncidentID)
		if err != nil {
			t.Fatal(err)
		}
		if i.Title != "Phishing site imitating our bank" || i.Channel != "email" || i.Reporter.Email != "alice@example.org" || i.Reporter.Name != "Alice Example" || !strings.Contains(i.Description, "card numbers") {
			t.Errorf("incident = %+v", i)
		}
		obs, err := s.Observables(handler, i.ID)
		if err != nil || len(obs) != 1 {
			t.Errorf("observables = %v, %v; want the extracted address", obs, err)
		}
		atts, err := s.Attachments(handler, i.ID)
		if err != nil || len(atts) != 1 || atts[0].Name != "headers.txt" || atts[0].Size != 31 {
			t.Fatalf("attachments = %+v, %v", atts, err)
		}
		stored, err := os.ReadFile(filepath.Join(in.DataDir, "attachments", atts[0].SHA256[:2], atts[0].SHA256))
		if err != nil || string(stored) != "Received: from mail.example.net" {
			t.Errorf("stored attachment = %q, %v", stored, err)
		}

		// A reply carrying the reference threads into the same incident.
		reply := "From: alice@example.org\r\nSubject: Re: [" + res.Ref + "] Phishing site\r\nDate: Tue, 03 Nov 2026 09:00:00 +0100\r\n\r\nThe site is back online.\r\n"
		res2, err := in.Deliver(ctx, "alice@example.org", []byte(reply))
		if err != nil || !res2.Threaded || res2.IncidentID != res.IncidentID {
			t.Fatalf("Deliver(reply) = %+v, %v; want threaded into %d", res2, err, res.IncidentID)
		}
		j, err := s.Journal(handler, i.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range j {
			found = found || (e.Kind == "email_in" && strings.Contains(e.Body, "back online"))
		}
		if !found {
			t.Errorf("journal lacks the reply: %+v", j)
		}

		html, err := in.Deliver(ctx, "bob@example.com", read(t, "html.eml"))
		if err != nil {
			t.Fatal(err)
		}
		hi, err := s.Incident(handler, html.IncidentID)
		if err != nil {
			t.Fatal(err)
		}
		if hi.Description != "Our site www.example.com was defaced & shows a message." {
			t.Errorf("HTML description = %q", hi.Description)
		}
	})
}

func TestQuarantine(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	in := newIntake(t, s)
	in.MaxBytes = 4096
	tests := []struct {
		name, raw, reason string
	}{
		{"not-mail", "\x00\x01\x02 binary junk with no headers", "not"},
		{"bad-mime", "From: a@example.org\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n", ""},
		{"too-large", "From: a@example.org\r\nSubject: big\r\n\r\n" + strings.Repeat("x", 5000), "over the 4096-byte limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := in.Deliver(context.Background(), "sender@example.org", []byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if res.QuarantineID == 0 {
				if tt.reason == "" {
					return // parsed after all: acceptable for this borderline message
				}
				t.Fatalf("Deliver(%s) = %+v, want quarantined", tt.name, res)
			}
			if !strings.Contains(res.Reason, tt.reason) {
				t.Errorf("reason = %q, want %q", res.Reason, tt.reason)
			}
			items, err := s.QuarantineItems(handler, 10)
			if err != nil || len(items) == 0 {
				t.Fatalf("QuarantineItems = %v, %v", items, err)
			}
			kept, err := os.ReadFile(filepath.Join(in.DataDir, items[0].Path))
			if err != nil || string(kept) != tt.raw {
				t.Errorf("quarantined bytes differ from the message (%v)", err)
			}
		})
	}
}

// The SMTP listener delivers, threads, and tells the sender about
// quarantined messages.
func TestSMTP(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	in := newIntake(t, s)
	srv, err := Listen("127.0.0.1:0", "focal.example", in)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	send := func(from, raw string) error {
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			return err
		}
		defer c.Close()
		return c.SendMail(from, []string{"cert@focal.example"}, strings.NewReader(raw))
	}
	err = send("alice@example.org", string(read(t, "report.eml")))
	if err != nil {
		t.Fatalf("SendMail(report) = %v", err)
	}
	list, err := s.Incidents(handler, store.IncidentFilter{})
	if err != nil || len(list) != 1 || list[0].Channel != "email" {
		t.Fatalf("incidents after SMTP = %v, %v", list, err)
	}
	err = send("x@example.org", "\x00\x01 junk")
	var se *smtp.SMTPError
	if err == nil || !errorAs(err, &se) || se.Code != 554 || !strings.Contains(se.Message, "kept for manual review as Q-") {
		t.Errorf("SendMail(junk) = %v, want 554 naming the quarantine id", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"report.eml", "html.eml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From: a@b\r\n\r\nbody"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := parse(raw)
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error message")
			}
			return
		}
		if len(p.text) > maxDescription+100 {
			t.Errorf("description of %d bytes is over the bound", len(p.text))
		}
	})
}
