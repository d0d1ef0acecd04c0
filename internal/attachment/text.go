package attachment

import (
	"io"
	"strings"
	"unicode/utf8"
)

// maxTextScan bounds how much of an attachment is read for indicators.
const maxTextScan = 1 << 20

// Text returns up to the first MiB of the stored file sha when its content
// type is textual (text/*, e-mail, JSON, XML), for extracting indicators;
// ok is false for other files.
func (s *Store) Text(sha, contentType string) (text string, ok bool, err error) {
	ct := strings.ToLower(contentType)
	if !(strings.HasPrefix(ct, "text/") || strings.HasPrefix(ct, "message/") || strings.Contains(ct, "json") || strings.Contains(ct, "xml")) {
		return "", false, nil
	}
	f, err := s.Open(sha)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTextScan))
	if err != nil {
		return "", false, err
	}
	if !utf8.Valid(b) {
		b = []byte(strings.ToValidUTF8(string(b), " "))
	}
	return string(b), true, nil
}
