package stix

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
)

// Namespace is the UUID namespace of STIX 2.1 deterministic identifiers
// (§2.9).
const Namespace = "00abedb4-aa42-466c-9c01-fed23315a9b7"

// namespace returns Namespace as 16 bytes.
func namespace() [16]byte {
	return [16]byte{0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7}
}

// NewID returns a new random identifier "<typ>--<uuid>" with a version 4
// UUID read from crypto/rand. It does not check typ.
func NewID(typ string) string {
	var u [16]byte
	rand.Read(u[:]) // crypto/rand.Read never fails (Go 1.24+); it crashes the program instead
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return typ + "--" + formatUUID(u)
}

// NameID returns the deterministic identifier "<typ>--<uuid>" whose UUID
// is the version 5 UUID (RFC 9562 §5.5) of name in Namespace.
func NameID(typ string, name []byte) string {
	return typ + "--" + formatUUID(uuid5(namespace(), name))
}

// uuid5 computes a version 5 (SHA-1, name-based) UUID.
func uuid5(ns [16]byte, name []byte) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write(name)
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

// formatUUID writes u in the 8-4-4-4-12 lower-case hex form.
func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// SplitID splits an identifier into its type and UUID and checks both: the
// type is 3–250 characters of a–z, 0–9 and "-" (STIX type names), and the
// UUID is in the 8-4-4-4-12 hex form with a version from 1 to 8 and the
// RFC 9562 variant bits, as the STIX 2.1 JSON schema's identifier pattern
// requires (it allows versions 1–5; versions 6–8 are RFC 9562's newer
// ones). Hex digits may be upper case, as the schema allows, but note that
// identifiers are compared as strings.
func SplitID(id string) (typ, uuid string, err error) {
	typ, uuid, ok := strings.Cut(id, "--")
	if !ok {
		return "", "", fmt.Errorf("identifier %s is not <type>--<uuid>", quoteShort(id))
	}
	if err := checkTypeName(typ); err != nil {
		return "", "", fmt.Errorf("identifier %s: %v", quoteShort(id), err)
	}
	if !validUUID(uuid) {
		return "", "", fmt.Errorf("identifier %s: %s is not an RFC 9562 UUID", quoteShort(id), quoteShort(uuid))
	}
	return typ, uuid, nil
}

// CheckID checks that id is a valid identifier of an object of type typ.
func CheckID(id, typ string) error {
	t, _, err := SplitID(id)
	if err != nil {
		return err
	}
	if t != typ {
		return fmt.Errorf("identifier %s does not start with its type %q", quoteShort(id), typ)
	}
	return nil
}

// checkTypeName checks a STIX object type name: 3–250 characters of
// lower-case ASCII letters, digits and hyphens (§3.1).
func checkTypeName(t string) error {
	if len(t) < 3 || len(t) > 250 {
		return fmt.Errorf("type %s is not 3 to 250 characters long", quoteShort(t))
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || isDigit(c) || c == '-') {
			return fmt.Errorf("type %s has a character other than a-z, 0-9 and '-'", quoteShort(t))
		}
	}
	if strings.Contains(t, "--") {
		return fmt.Errorf("type %s contains \"--\"", quoteShort(t))
	}
	return nil
}

// validUUID reports whether s is a UUID in 8-4-4-4-12 hex form with a
// version from 1 to 8 and the RFC 9562 variant (10xx).
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	if s[14] < '1' || s[14] > '8' {
		return false
	}
	switch s[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
		return true
	}
	return false
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
