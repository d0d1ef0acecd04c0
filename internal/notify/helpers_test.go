package notify

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/emersion/go-message/mail"

	"focal/internal/focal"
)

// testNow is the clock of tests that do not need the real one.
var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

const testOrgID = 42

func testOrg() Org { return Org{ID: testOrgID, Name: "Example Telecom"} }

func testTeam() Team {
	return Team{Name: "CERT-XX", Email: "cert@cert.example", Website: "https://cert.example"}
}

func testPolicy() Policy {
	return Policy{Recipients: []string{"abuse@telecom.example", "Security Desk <soc@telecom.example>"}}
}

// testEvent returns a valid event of the test organisation.
func testEvent(id int64, class, typ string, tlp focal.TLP) *focal.Event {
	t := testNow.Add(-time.Duration(id) * time.Minute)
	return &focal.Event{
		ID:           id,
		SourceTime:   t,
		ObservedTime: t.Add(time.Minute),
		Class:        class,
		Type:         typ,
		Source: focal.Endpoint{
			IP:      netip.AddrFrom4([4]byte{198, 51, 100, byte(id % 250)}),
			Port:    uint16(40000 + id%1000),
			ASN:     64496,
			Country: "XX",
		},
		Destination: focal.Endpoint{IP: netip.MustParseAddr("203.0.113.9"), Port: 443},
		Protocol:    "tcp",
		Malware:     "mirai",
		Identifier:  fmt.Sprintf("tag-%d", id),
		Feed:        "shadowserver-sinkhole",
		Provider:    "Shadowserver",
		TLP:         tlp,
		Confidence:  80,
		Orgs:        []int64{7, testOrgID},
		Count:       int(id%5) + 1,
		FirstSeen:   t.Add(-time.Hour),
		LastSeen:    t,
		Raw:         fmt.Sprintf("line %d,198.51.100.%d", id, id%250),
	}
}

// manyEvents returns n infected-system events labelled AMBER.
func manyEvents(n int) []*focal.Event {
	evs := make([]*focal.Event, n)
	for i := range evs {
		evs[i] = testEvent(int64(i+1), "malicious-code", "infected-system", focal.TLPAmber)
	}
	return evs
}

// parsed is a message read back with go-message.
type parsed struct {
	header mail.Header
	text   string
	files  map[string][]byte
	order  []string
}

func parseMessage(tb testing.TB, raw []byte) *parsed {
	tb.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("read message: %v", err)
	}
	p := &parsed{header: r.Header, files: map[string][]byte{}}
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("read part: %v", err)
		}
		b, err := io.ReadAll(part.Body)
		if err != nil {
			tb.Fatalf("read part body: %v", err)
		}
		switch h := part.Header.(type) {
		case *mail.InlineHeader:
			p.text += string(b)
		case *mail.AttachmentHeader:
			name, err := h.Filename()
			if err != nil {
				tb.Fatalf("attachment name: %v", err)
			}
			p.files[name] = b
			p.order = append(p.order, name)
		}
	}
	return p
}

func readCSV(tb testing.TB, b []byte) [][]string {
	tb.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		tb.Fatalf("read CSV: %v", err)
	}
	return recs
}

// OpenPGP keys for tests: EdDSA/X25519, which are fast to generate.
func keyConfig(now time.Time, lifetime time.Duration) *packet.Config {
	return &packet.Config{
		Algorithm:       packet.PubKeyAlgoEdDSA,
		Time:            func() time.Time { return now },
		KeyLifetimeSecs: uint32(lifetime / time.Second),
	}
}

func newKey(tb testing.TB, email string, cfg *packet.Config) *openpgp.Entity {
	tb.Helper()
	e, err := openpgp.NewEntity("Test", "", email, cfg)
	if err != nil {
		tb.Fatalf("new key: %v", err)
	}
	return e
}

func armorPublic(tb testing.TB, e *openpgp.Entity) string {
	tb.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		tb.Fatalf("serialise public key: %v", err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

// armorPrivate serialises e's private key, protected by passphrase when
// it is not empty. It leaves e's keys encrypted in that case.
func armorPrivate(tb testing.TB, e *openpgp.Entity, passphrase string) string {
	tb.Helper()
	if passphrase != "" {
		if err := e.EncryptPrivateKeys([]byte(passphrase), nil); err != nil {
			tb.Fatalf("encrypt private key: %v", err)
		}
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		tb.Fatalf("serialise private key: %v", err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

func mustContain(tb testing.TB, what, s, sub string) {
	tb.Helper()
	if !strings.Contains(s, sub) {
		tb.Errorf("%s = %q, want it to contain %q", what, s, sub)
	}
}
