package taxii

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"focal/internal/focal"
	"focal/internal/store"
)

// cursorKeyMeta is the focal_meta key of the node-wide cursor signing key.
const cursorKeyMeta = "taxii_cursor_key"

// cursorVersion is the first byte of every cursor, so the format can
// change without old cursors being misread.
const cursorVersion = 1

// cursorLen is the decoded length: version, date_added, seq, filter hash
// and a truncated HMAC-SHA256.
const cursorLen = 1 + 8 + 8 + 12 + 16

// cursors encodes and checks next cursors: stateless, so any process on
// the database can continue a page another started. A cursor is the
// position of the last record of a page (date_added µs, seq) and the hash
// of the filters that selected it, signed with a key every process shares
// through the database. It is safe for concurrent use.
type cursors struct {
	key []byte
}

// loadCursorKey returns the node-wide cursor key, creating it on first use.
func loadCursorKey(ctx context.Context, st *store.Store) ([]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("taxii cursor key: %w", err)
	}
	v, err := st.InitMeta(ctx, cursorKeyMeta, hex.EncodeToString(b[:]))
	if err != nil {
		return nil, fmt.Errorf("taxii cursor key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("taxii cursor key: stored key is malformed")
	}
	return key, nil
}

func (c *cursors) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// encode returns the cursor for position (dateAdded, seq) under filters.
func (c *cursors) encode(dateAdded, seq int64, filters [12]byte) string {
	b := make([]byte, 0, cursorLen)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(dateAdded))
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = append(b, filters[:]...)
	b = append(b, c.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decode checks s and returns its position. A cursor that does not
// decode, was not signed by this node, or was issued for other filters is
// an EINVALID error (400).
func (c *cursors) decode(s string, filters [12]byte) (dateAdded, seq int64, err error) {
	invalid := focal.Errorf(focal.EINVALID, "next is not valid (altered, from another server, or sent with other filters)")
	if base64.RawURLEncoding.DecodedLen(len(s)) != cursorLen {
		return 0, 0, invalid
	}
	b, derr := base64.RawURLEncoding.DecodeString(s)
	if derr != nil || len(b) != cursorLen || b[0] != cursorVersion {
		return 0, 0, invalid
	}
	payload, sum := b[:cursorLen-16], b[cursorLen-16:]
	if !hmac.Equal(sum, c.mac(payload)) {
		return 0, 0, invalid
	}
	if !hmac.Equal(payload[17:29], filters[:]) {
		return 0, 0, focal.Errorf(focal.EINVALID, "next was issued for other filters: send it with the same filters as the first page")
	}
	return int64(binary.BigEndian.Uint64(payload[1:9])), int64(binary.BigEndian.Uint64(payload[9:17])), nil
}
