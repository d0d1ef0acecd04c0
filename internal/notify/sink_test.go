package notify

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestSinkKeepsMessages(t *testing.T) {
	s := &Sink{Dir: t.TempDir()}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snd := &Sender{Relay: s.Addr, TLS: TLSNone, MaxAttempts: 1}
	m := &Message{Reference: "FOCAL-N-TEST", From: "cert@cert.example", To: []string{"abuse@alpha.example"},
		Raw: []byte("From: cert@cert.example\r\nTo: abuse@alpha.example\r\nSubject: [TLP:AMBER] test\r\n\r\nhello\r\n")}
	if err := snd.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(s.Dir)
	if err != nil || len(files) != 1 || s.Count() != 1 || !strings.Contains(files[0].Name(), "abuse@alpha.example") {
		t.Fatalf("sink files %v (%v), count %d", files, err, s.Count())
	}
	b, _ := os.ReadFile(s.Dir + "/" + files[0].Name())
	if !strings.Contains(string(b), "[TLP:AMBER] test") {
		t.Errorf("kept message %q", b)
	}
}
