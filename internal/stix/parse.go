package stix

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParsePattern parses a STIX 2.1 pattern. The grammar is that of STIX 2.1
// part 9 (its ANTLR grammar STIXPattern.g4): observation expressions in
// brackets or parentheses joined by FOLLOWEDBY, OR and AND (binding in that
// order, loosest first, all left-associative), each optionally qualified by
// WITHIN n SECONDS, REPEATS n TIMES or START t'…' STOP t'…'; inside
// brackets, comparisons joined by OR and AND, grouped by parentheses. As in
// the grammar, keywords are upper case, "=="  and "<>" are accepted for "="
// and "!=", and /* */ and // comments are skipped. Beyond the grammar it
// checks that timestamps are real dates, that WITHIN and REPEATS counts are
// positive, and that integers fit in 64 bits. The error is a
// *PatternError; ParsePattern never panics.
func ParsePattern(s string) (*Pattern, error) {
	if len(s) > MaxPatternLen {
		return nil, &PatternError{Offset: MaxPatternLen, Msg: fmt.Sprintf("pattern longer than %d bytes", MaxPatternLen)}
	}
	p := &parser{src: s}
	if err := p.advance(); err != nil {
		return nil, err
	}
	root, err := p.observationExprs()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.errorf("unexpected %s after the pattern", p.tok.describe())
	}
	return &Pattern{Root: root}, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tKeyword
	tLiteral
	tOp // = != < <= > >=
	tPunct
)

type token struct {
	kind tokKind
	text string  // identifier, keyword, operator or punctuation
	lit  Literal // for tLiteral
	pos  int
}

// describe names a token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of pattern"
	case tLiteral:
		s := t.lit.String()
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return "literal " + s
	}
	s := t.text
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "'" + s + "'"
}

type parser struct {
	src   string
	pos   int // next byte to lex
	tok   token
	depth int
}

func (p *parser) errorf(format string, args ...any) error {
	return &PatternError{Offset: p.tok.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) is(kind tokKind, text string) bool {
	return p.tok.kind == kind && p.tok.text == text
}

// expect consumes punctuation or a keyword, or fails.
func (p *parser) expect(kind tokKind, text string) error {
	if !p.is(kind, text) {
		return p.errorf("expected '%s', got %s", text, p.tok.describe())
	}
	return p.advance()
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxPatternDepth {
		return p.errorf("nested deeper than %d levels", MaxPatternDepth)
	}
	return nil
}

// observationExprs: FOLLOWEDBY level.
func (p *parser) observationExprs() (ObservationExpr, error) {
	left, err := p.observationOr()
	if err != nil {
		return nil, err
	}
	for p.is(tKeyword, "FOLLOWEDBY") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.observationOr()
		if err != nil {
			return nil, err
		}
		left = &ObservationOp{Op: "FOLLOWEDBY", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) observationOr() (ObservationExpr, error) {
	left, err := p.observationAnd()
	if err != nil {
		return nil, err
	}
	for p.is(tKeyword, "OR") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.observationAnd()
		if err != nil {
			return nil, err
		}
		left = &ObservationOp{Op: "OR", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) observationAnd() (ObservationExpr, error) {
	left, err := p.observation()
	if err != nil {
		return nil, err
	}
	for p.is(tKeyword, "AND") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.observation()
		if err != nil {
			return nil, err
		}
		left = &ObservationOp{Op: "AND", Left: left, Right: right}
	}
	return left, nil
}

// observation: "[" comparisons "]" or "(" observation expressions ")",
// then any qualifiers.
func (p *parser) observation() (ObservationExpr, error) {
	var e ObservationExpr
	switch {
	case p.is(tPunct, "["):
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.comparisonOr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(tPunct, "]"); err != nil {
			return nil, err
		}
		p.depth--
		e = &Observation{Expr: c}
	case p.is(tPunct, "("):
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		inner, err := p.observationExprs()
		if err != nil {
			return nil, err
		}
		if err := p.expect(tPunct, ")"); err != nil {
			return nil, err
		}
		p.depth--
		e = inner
	default:
		return nil, p.errorf("expected '[' or '(', got %s", p.tok.describe())
	}
	for {
		var q Qualifier
		var err error
		switch {
		case p.is(tKeyword, "WITHIN"):
			q, err = p.within()
		case p.is(tKeyword, "REPEATS"):
			q, err = p.repeats()
		case p.is(tKeyword, "START"):
			q, err = p.startStop()
		default:
			return e, nil
		}
		if err != nil {
			return nil, err
		}
		e = &Qualified{Expr: e, Qualifier: q}
	}
}

func (p *parser) within() (Qualifier, error) {
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	l := p.tok.lit
	if p.tok.kind != tLiteral || !(l.Kind == LitInt && l.Int > 0 || l.Kind == LitFloat && l.Float > 0) {
		return Qualifier{}, p.errorf("expected a positive number of seconds after WITHIN, got %s", p.tok.describe())
	}
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	if err := p.expect(tKeyword, "SECONDS"); err != nil {
		return Qualifier{}, err
	}
	return Qualifier{Kind: "WITHIN", Value: l}, nil
}

func (p *parser) repeats() (Qualifier, error) {
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	l := p.tok.lit
	if p.tok.kind != tLiteral || l.Kind != LitInt || l.Int <= 0 {
		return Qualifier{}, p.errorf("expected a positive integer after REPEATS, got %s", p.tok.describe())
	}
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	if err := p.expect(tKeyword, "TIMES"); err != nil {
		return Qualifier{}, err
	}
	return Qualifier{Kind: "REPEATS", Value: l}, nil
}

func (p *parser) startStop() (Qualifier, error) {
	var q Qualifier
	q.Kind = "START"
	for i, dst := range []*Literal{&q.Start, &q.Stop} {
		if i == 1 {
			if err := p.expect(tKeyword, "STOP"); err != nil {
				return Qualifier{}, err
			}
		} else if err := p.advance(); err != nil {
			return Qualifier{}, err
		}
		if p.tok.kind != tLiteral || p.tok.lit.Kind != LitTimestamp {
			return Qualifier{}, p.errorf("expected a timestamp t'…', got %s", p.tok.describe())
		}
		*dst = p.tok.lit
		if err := p.advance(); err != nil {
			return Qualifier{}, err
		}
	}
	return q, nil
}

func (p *parser) comparisonOr() (ComparisonExpr, error) {
	left, err := p.comparisonAnd()
	if err != nil {
		return nil, err
	}
	for p.is(tKeyword, "OR") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.comparisonAnd()
		if err != nil {
			return nil, err
		}
		left = &ComparisonOp{Op: "OR", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) comparisonAnd() (ComparisonExpr, error) {
	left, err := p.propTest()
	if err != nil {
		return nil, err
	}
	for p.is(tKeyword, "AND") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.propTest()
		if err != nil {
			return nil, err
		}
		left = &ComparisonOp{Op: "AND", Left: left, Right: right}
	}
	return left, nil
}

// propTest: one comparison, EXISTS path, or a parenthesised comparison
// expression.
func (p *parser) propTest() (ComparisonExpr, error) {
	if p.is(tPunct, "(") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.comparisonOr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(tPunct, ")"); err != nil {
			return nil, err
		}
		p.depth--
		return c, nil
	}
	if p.is(tKeyword, "EXISTS") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		path, err := p.objectPath()
		if err != nil {
			return nil, err
		}
		return &Comparison{Path: path, Op: "EXISTS"}, nil
	}
	path, err := p.objectPath()
	if err != nil {
		return nil, err
	}
	c := &Comparison{Path: path}
	if p.is(tKeyword, "NOT") {
		c.Negated = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	opTok := p.tok
	switch {
	case p.tok.kind == tOp:
		c.Op = p.tok.text
	case p.tok.kind == tKeyword && (p.tok.text == "IN" || p.tok.text == "LIKE" || p.tok.text == "MATCHES" || p.tok.text == "ISSUBSET" || p.tok.text == "ISSUPERSET"):
		c.Op = p.tok.text
	default:
		return nil, p.errorf("expected a comparison operator, got %s", p.tok.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if c.Op == "IN" {
		set, err := p.setLiteral()
		if err != nil {
			return nil, err
		}
		c.Set = set
		return c, nil
	}
	if p.tok.kind != tLiteral {
		return nil, p.errorf("expected a literal after %s, got %s", opTok.describe(), p.tok.describe())
	}
	l := p.tok.lit
	switch c.Op {
	case "<", "<=", ">", ">=":
		if l.Kind == LitBool {
			return nil, p.errorf("%s needs an orderable literal, got %s", opTok.describe(), p.tok.describe())
		}
	case "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET":
		if l.Kind != LitString {
			return nil, p.errorf("%s needs a string literal, got %s", opTok.describe(), p.tok.describe())
		}
	}
	c.Value = l
	return c, p.advance()
}

// setLiteral: "(" [literal {"," literal}] ")".
func (p *parser) setLiteral() ([]Literal, error) {
	if err := p.expect(tPunct, "("); err != nil {
		return nil, err
	}
	set := make([]Literal, 0, 4)
	if p.is(tPunct, ")") {
		return set, p.advance()
	}
	for {
		if p.tok.kind != tLiteral {
			return nil, p.errorf("expected a literal in the set, got %s", p.tok.describe())
		}
		set = append(set, p.tok.lit)
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.is(tPunct, ")") {
			return set, p.advance()
		}
		if err := p.expect(tPunct, ","); err != nil {
			return nil, p.errorf("expected ',' or ')' in the set, got %s", p.tok.describe())
		}
	}
}

// objectPath: type ":" first-key { "." key | "[" index "]" }.
func (p *parser) objectPath() (ObjectPath, error) {
	if p.tok.kind != tIdent {
		return ObjectPath{}, p.errorf("expected an object path, got %s", p.tok.describe())
	}
	path := ObjectPath{Type: p.tok.text}
	if err := p.advance(); err != nil {
		return ObjectPath{}, err
	}
	if err := p.expect(tPunct, ":"); err != nil {
		return ObjectPath{}, err
	}
	key, err := p.pathKey()
	if err != nil {
		return ObjectPath{}, err
	}
	path.Steps = append(path.Steps, PathStep{Kind: StepKey, Key: key})
	for {
		switch {
		case p.is(tPunct, "."):
			if err := p.advance(); err != nil {
				return ObjectPath{}, err
			}
			key, err := p.pathKey()
			if err != nil {
				return ObjectPath{}, err
			}
			path.Steps = append(path.Steps, PathStep{Kind: StepKey, Key: key})
		case p.is(tPunct, "["):
			if err := p.advance(); err != nil {
				return ObjectPath{}, err
			}
			switch {
			case p.is(tPunct, "*"):
				path.Steps = append(path.Steps, PathStep{Kind: StepAny})
			case p.tok.kind == tLiteral && p.tok.lit.Kind == LitInt:
				path.Steps = append(path.Steps, PathStep{Kind: StepIndex, Index: p.tok.lit.Int})
			default:
				return ObjectPath{}, p.errorf("expected an index or '*', got %s", p.tok.describe())
			}
			if err := p.advance(); err != nil {
				return ObjectPath{}, err
			}
			if err := p.expect(tPunct, "]"); err != nil {
				return ObjectPath{}, err
			}
		default:
			return path, nil
		}
	}
}

// pathKey reads a property name: an identifier without hyphens or a
// quoted string.
func (p *parser) pathKey() (string, error) {
	switch {
	case p.tok.kind == tIdent && !strings.Contains(p.tok.text, "-"):
		k := p.tok.text
		return k, p.advance()
	case p.tok.kind == tLiteral && p.tok.lit.Kind == LitString:
		k := p.tok.lit.Str
		return k, p.advance()
	}
	return "", p.errorf("expected a property name, got %s", p.tok.describe())
}

// advance lexes the next token into p.tok.
func (p *parser) advance() error {
	if err := p.skipSpace(); err != nil {
		return err
	}
	s, i := p.src, p.pos
	tok := token{pos: i}
	if i >= len(s) {
		p.tok = token{kind: tEOF, pos: len(s)}
		return nil
	}
	c := s[i]
	fail := func(at int, format string, args ...any) error {
		return &PatternError{Offset: at, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case strings.IndexByte("[]():,*", c) >= 0:
		tok.kind, tok.text = tPunct, s[i:i+1]
		p.pos = i + 1
	case c == '.' && !(i+1 < len(s) && isDigit(s[i+1])):
		tok.kind, tok.text = tPunct, "."
		p.pos = i + 1
	case c == '=' || c == '!' || c == '<' || c == '>':
		two := ""
		if i+1 < len(s) {
			two = s[i : i+2]
		}
		switch {
		case two == "==":
			tok.text, p.pos = "=", i+2
		case two == "!=" || two == "<>":
			tok.text, p.pos = "!=", i+2
		case two == "<=" || two == ">=":
			tok.text, p.pos = two, i+2
		case c == '!':
			return fail(i, "unexpected '!' (want '!=')")
		default:
			tok.text, p.pos = s[i:i+1], i+1
		}
		tok.kind = tOp
	case c == '\'':
		str, end, err := lexString(s, i)
		if err != nil {
			return err
		}
		tok.kind, tok.lit, p.pos = tLiteral, Literal{Kind: LitString, Str: str}, end
	case (c == 't' || c == 'h' || c == 'b') && i+1 < len(s) && s[i+1] == '\'':
		str, end, err := lexString(s, i+1)
		if err != nil {
			return err
		}
		lit, err := prefixedLiteral(c, str)
		if err != nil {
			return fail(i, "%v", err)
		}
		tok.kind, tok.lit, p.pos = tLiteral, lit, end
	case isDigit(c) || c == '.' || c == '+' || c == '-':
		lit, end, err := lexNumber(s, i)
		if err != nil {
			return err
		}
		tok.kind, tok.lit, p.pos = tLiteral, lit, end
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] == '-' || isDigit(s[j]) || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
			j++
		}
		word := s[i:j]
		switch {
		case isKeyword(word):
			tok.kind, tok.text = tKeyword, word
		case word == "true" || word == "false":
			tok.kind, tok.lit = tLiteral, Literal{Kind: LitBool, Bool: word == "true"}
		default:
			tok.kind, tok.text = tIdent, word
		}
		p.pos = j
	default:
		r := s[i:min(len(s), i+4)]
		return fail(i, "unexpected character %s", strconv.QuoteToASCII(firstRune(r)))
	}
	p.tok = tok
	return nil
}

// firstRune returns the first UTF-8 sequence of s (or its first byte).
func firstRune(s string) string {
	for i := range s {
		if i > 0 {
			return s[:i]
		}
	}
	return s
}

// skipSpace skips white space and comments.
func (p *parser) skipSpace() error {
	s := p.src
	for p.pos < len(s) {
		switch c := s[p.pos]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f':
			p.pos++
		case strings.HasPrefix(s[p.pos:], "/*"):
			end := strings.Index(s[p.pos+2:], "*/")
			if end < 0 {
				return &PatternError{Offset: p.pos, Msg: "unterminated comment"}
			}
			p.pos += 2 + end + 2
		case strings.HasPrefix(s[p.pos:], "//"):
			end := strings.IndexAny(s[p.pos:], "\r\n")
			if end < 0 {
				p.pos = len(s)
			} else {
				p.pos += end
			}
		default:
			return nil
		}
	}
	return nil
}

// lexString reads a quoted string starting at s[i] == '\” and returns its
// value and the offset after the closing quote. Only \' and \\ are
// escapes.
func lexString(s string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\'':
			return b.String(), j + 1, nil
		case '\\':
			if j+1 < len(s) && (s[j+1] == '\'' || s[j+1] == '\\') {
				b.WriteByte(s[j+1])
				j++
				continue
			}
			return "", 0, &PatternError{Offset: j, Msg: "invalid escape in string: only \\' and \\\\ are allowed"}
		default:
			b.WriteByte(s[j])
		}
	}
	return "", 0, &PatternError{Offset: i, Msg: "unterminated string"}
}

// prefixedLiteral makes the literal for t'…', h'…' or b'…'.
func prefixedLiteral(prefix byte, body string) (Literal, error) {
	switch prefix {
	case 't':
		t, err := parseTime(body)
		if err != nil {
			return Literal{}, fmt.Errorf("timestamp: %v", err)
		}
		return Literal{Kind: LitTimestamp, Time: t}, nil
	case 'h':
		b, err := hex.DecodeString(body)
		if err != nil {
			return Literal{}, fmt.Errorf("hex literal: want pairs of hex digits")
		}
		return Literal{Kind: LitHex, Bytes: b}, nil
	default:
		for i := 0; i < len(body); i++ {
			c := body[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) || c == '+' || c == '/' || c == '=') {
				return Literal{}, fmt.Errorf("binary literal: %q is not a base64 character", c)
			}
		}
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return Literal{}, fmt.Errorf("binary literal: not padded base64")
		}
		return Literal{Kind: LitBinary, Bytes: b}, nil
	}
}

// lexNumber reads an integer (optional sign, no leading zeros) or a float
// (optional sign, digits, ".", digits) starting at s[i].
func lexNumber(s string, i int) (Literal, int, error) {
	j := i
	if s[j] == '+' || s[j] == '-' {
		j++
	}
	digits := j
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	intEnd := j
	if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		f, err := strconv.ParseFloat(s[i:j], 64)
		if err != nil || math.IsInf(f, 0) {
			return Literal{}, 0, &PatternError{Offset: i, Msg: "number out of range"}
		}
		return Literal{Kind: LitFloat, Float: f}, j, nil
	}
	if intEnd == digits {
		return Literal{}, 0, &PatternError{Offset: i, Msg: fmt.Sprintf("unexpected character %q", s[i])}
	}
	if s[digits] == '0' && intEnd-digits > 1 {
		return Literal{}, 0, &PatternError{Offset: i, Msg: "integer with a leading zero"}
	}
	n, err := strconv.ParseInt(s[i:intEnd], 10, 64)
	if err != nil {
		return Literal{}, 0, &PatternError{Offset: i, Msg: "integer out of range"}
	}
	return Literal{Kind: LitInt, Int: n}, intEnd, nil
}
