package stixfeed

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file is a parser for STIX 2.x patterns (STIX 2.1 part 9,
// "STIX Patterning"). It reads the whole grammar into a tree, so that a
// pattern focal does not use is still told apart from one that is broken,
// and Pattern.Simple then picks out the subset focal turns into events:
// one comparison, or comparisons joined by OR.

// MaxPatternLen bounds the pattern text the parser reads.
const MaxPatternLen = 128 << 10

// maxDepth bounds the nesting of parentheses and brackets.
const maxDepth = 64

// Pattern is a parsed STIX pattern.
type Pattern struct {
	Root ObsExpr
}

// ObsExpr is an observation expression: an observation in brackets, a
// group in parentheses, or two joined by AND, OR or FOLLOWEDBY.
type ObsExpr interface{ obsExpr() }

// ObsBinary joins two observation expressions with Op: "AND", "OR" or
// "FOLLOWEDBY".
type ObsBinary struct {
	Op          string
	Left, Right ObsExpr
}

// Observation is "[ comparison expression ]" with its qualifiers.
type Observation struct {
	Expr       CompExpr
	Qualifiers []Qualifier
}

// ObsGroup is "( observation expressions )" with its qualifiers.
type ObsGroup struct {
	Inner      ObsExpr
	Qualifiers []Qualifier
}

// Qualifier is WITHIN n SECONDS, REPEATS n TIMES or START t STOP t.
type Qualifier struct {
	Kind string    // "WITHIN", "REPEATS" or "START"
	Args []Literal // the number, or the start and stop timestamps
}

// CompExpr is a comparison expression inside an observation: a
// comparison, or two joined by AND or OR.
type CompExpr interface{ compExpr() }

// CompBinary joins two comparison expressions with Op: "AND" or "OR".
type CompBinary struct {
	Op          string
	Left, Right CompExpr
}

// Comparison is "path [NOT] op value", "path [NOT] IN (values)" or
// "EXISTS path".
type Comparison struct {
	Path    ObjectPath
	Negated bool
	Op      string    // "=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"
	Value   Literal   // for every operator but IN and EXISTS
	Set     []Literal // for IN
}

func (ObsBinary) obsExpr()    {}
func (Observation) obsExpr()  {}
func (ObsGroup) obsExpr()     {}
func (CompBinary) compExpr()  {}
func (*Comparison) compExpr() {}

// ObjectPath is "type:property.sub[index]".
type ObjectPath struct {
	Type  string
	Steps []PathStep
}

// PathStep is one step of an object path: a property name, a list index,
// or any list element ("[*]").
type PathStep struct {
	Key     string
	Index   int
	IsIndex bool
	Any     bool
}

// String renders the path the way STIX writes it, quoting property names
// that are not plain identifiers: file:hashes.'SHA-256'.
func (p ObjectPath) String() string {
	var b strings.Builder
	b.WriteString(p.Type)
	b.WriteByte(':')
	for i, s := range p.Steps {
		switch {
		case s.Any:
			b.WriteString("[*]")
		case s.IsIndex:
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			if isPlainIdent(s.Key) {
				b.WriteString(s.Key)
			} else {
				b.WriteString(quote(s.Key))
			}
		}
	}
	return b.String()
}

// LitKind is the kind of a literal.
type LitKind int

// The literal kinds.
const (
	LitString LitKind = iota
	LitInt
	LitFloat
	LitBool
	LitTimestamp // t'…'
	LitHex       // h'…'
	LitBinary    // b'…'
)

// Literal is a constant in a pattern. Text is the value: a string's
// content with escapes resolved, a number's or boolean's spelling, or the
// quoted content of t'…', h'…' and b'…'.
type Literal struct {
	Kind LitKind
	Text string
}

// ParsePattern parses a STIX 2.x pattern.
func ParsePattern(s string) (*Pattern, error) {
	if len(s) > MaxPatternLen {
		return nil, fmt.Errorf("pattern longer than %d bytes", MaxPatternLen)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.observations(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errorf(t, "unexpected %s after the pattern", t)
	}
	return &Pattern{Root: root}, nil
}

// Simple returns the comparisons of a pattern that is one comparison or
// comparisons joined by OR (inside one observation, across observations
// joined by OR, or both), with the operators =, IN and ISSUBSET and
// without NOT. For any other pattern it says what it did not understand.
func (p *Pattern) Simple() ([]*Comparison, error) {
	var out []*Comparison
	err := simpleObs(p.Root, &out)
	return out, err
}

// ErrNotSimple marks a valid pattern outside the subset Simple reads.
var ErrNotSimple = errors.New("pattern is not one comparison or an OR of comparisons")

func simpleObs(e ObsExpr, out *[]*Comparison) error {
	switch e := e.(type) {
	case ObsBinary:
		if e.Op != "OR" {
			return fmt.Errorf("%w: observations joined by %s", ErrNotSimple, e.Op)
		}
		if err := simpleObs(e.Left, out); err != nil {
			return err
		}
		return simpleObs(e.Right, out)
	case Observation:
		if len(e.Qualifiers) > 0 {
			return fmt.Errorf("%w: qualifier %s", ErrNotSimple, e.Qualifiers[0].Kind)
		}
		return simpleComp(e.Expr, out)
	case ObsGroup:
		if len(e.Qualifiers) > 0 {
			return fmt.Errorf("%w: qualifier %s", ErrNotSimple, e.Qualifiers[0].Kind)
		}
		return simpleObs(e.Inner, out)
	}
	return fmt.Errorf("%w: unknown expression %T", ErrNotSimple, e)
}

func simpleComp(e CompExpr, out *[]*Comparison) error {
	switch e := e.(type) {
	case CompBinary:
		if e.Op != "OR" {
			return fmt.Errorf("%w: comparisons joined by %s", ErrNotSimple, e.Op)
		}
		if err := simpleComp(e.Left, out); err != nil {
			return err
		}
		return simpleComp(e.Right, out)
	case *Comparison:
		if e.Negated {
			return fmt.Errorf("%w: NOT %s on %s", ErrNotSimple, e.Op, e.Path)
		}
		switch e.Op {
		case "=", "IN", "ISSUBSET":
			*out = append(*out, e)
			return nil
		}
		return fmt.Errorf("%w: operator %s on %s", ErrNotSimple, e.Op, e.Path)
	}
	return fmt.Errorf("%w: unknown comparison %T", ErrNotSimple, e)
}

// Values returns the literals a comparison compares with: its value, or
// the members of its IN set.
func (c *Comparison) Values() []Literal {
	if c.Op == "IN" {
		return c.Set
	}
	if c.Op == "EXISTS" {
		return nil
	}
	return []Literal{c.Value}
}

// Lexer.

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tKeyword
	tString
	tInt
	tFloat
	tBool
	tTimestamp
	tHex
	tBinary
	tPunct // [ ] ( ) : . , *
	tOp    // = != < <= > >=
)

type token struct {
	kind tokKind
	text string // identifier, keyword, operator or punctuation; a literal's value
	pos  int    // byte offset in the pattern
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of pattern"
	case tString:
		return "string " + quote(cutText(t.text))
	case tIdent:
		return "name " + strconv.Quote(cutText(t.text))
	}
	return strconv.Quote(cutText(t.text))
}

func cutText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "FOLLOWEDBY": true, "LIKE": true,
	"MATCHES": true, "ISSUPERSET": true, "ISSUBSET": true, "EXISTS": true,
	"LAST": true, "IN": true, "START": true, "STOP": true, "SECONDS": true,
	"WITHIN": true, "REPEATS": true, "TIMES": true,
}

func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f':
			i++
		case c == '[' || c == ']' || c == '(' || c == ')' || c == ':' || c == ',' || c == '*':
			toks = append(toks, token{tPunct, string(c), i})
			i++
		case c == '.' && !(i+1 < len(s) && isDigit(s[i+1])):
			toks = append(toks, token{tPunct, ".", i})
			i++
		case c == '=':
			if i+1 < len(s) && s[i+1] == '=' {
				toks = append(toks, token{tOp, "=", i})
				i += 2
			} else {
				toks = append(toks, token{tOp, "=", i})
				i++
			}
		case c == '!':
			if i+1 < len(s) && s[i+1] == '=' {
				toks = append(toks, token{tOp, "!=", i})
				i += 2
			} else {
				return nil, fmt.Errorf("offset %d: '!' must be followed by '='", i)
			}
		case c == '<':
			switch {
			case i+1 < len(s) && s[i+1] == '=':
				toks = append(toks, token{tOp, "<=", i})
				i += 2
			case i+1 < len(s) && s[i+1] == '>':
				toks = append(toks, token{tOp, "!=", i})
				i += 2
			default:
				toks = append(toks, token{tOp, "<", i})
				i++
			}
		case c == '>':
			if i+1 < len(s) && s[i+1] == '=' {
				toks = append(toks, token{tOp, ">=", i})
				i += 2
			} else {
				toks = append(toks, token{tOp, ">", i})
				i++
			}
		case c == '\'':
			v, n, err := lexString(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, v, i})
			i = n
		case (c == 't' || c == 'h' || c == 'b') && i+1 < len(s) && s[i+1] == '\'':
			v, n, err := lexString(s, i+1)
			if err != nil {
				return nil, err
			}
			kind := map[byte]tokKind{'t': tTimestamp, 'h': tHex, 'b': tBinary}[c]
			if err := checkTyped(kind, v); err != nil {
				return nil, fmt.Errorf("offset %d: %v", i, err)
			}
			toks = append(toks, token{kind, v, i})
			i = n
		case isDigit(c) || c == '-' || c == '+' || c == '.':
			t, n, err := lexNumber(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = n
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			w := s[i:j]
			switch {
			case keywords[w]:
				toks = append(toks, token{tKeyword, w, i})
			case strings.EqualFold(w, "true") || strings.EqualFold(w, "false"):
				toks = append(toks, token{tBool, strings.ToLower(w), i})
			default:
				toks = append(toks, token{tIdent, w, i})
			}
			i = j
		default:
			return nil, fmt.Errorf("offset %d: unexpected character %q", i, rune(c))
		}
	}
	return append(toks, token{tEOF, "", len(s)}), nil
}

// lexString reads a quoted string whose opening quote is s[i]. The only
// escapes are \' and \\.
func lexString(s string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if j+1 < len(s) && (s[j+1] == '\'' || s[j+1] == '\\') {
				b.WriteByte(s[j+1])
				j++
				continue
			}
			return "", 0, fmt.Errorf("offset %d: bad escape in a string (only \\' and \\\\)", j)
		case '\'':
			return b.String(), j + 1, nil
		default:
			b.WriteByte(s[j])
		}
	}
	return "", 0, fmt.Errorf("offset %d: string not closed", i)
}

// checkTyped checks the content of t'…', h'…' and b'…'.
func checkTyped(kind tokKind, v string) error {
	switch kind {
	case tTimestamp:
		if !isTimestamp(v) {
			return fmt.Errorf("bad timestamp t'%s' (want RFC 3339 in UTC, e.g. t'2026-01-02T03:04:05Z')", cutText(v))
		}
	case tHex:
		if len(v)%2 != 0 || strings.Trim(v, "0123456789abcdefABCDEF") != "" {
			return fmt.Errorf("bad hex literal h'%s'", cutText(v))
		}
	case tBinary:
		if len(v)%4 != 0 || strings.Trim(strings.TrimRight(v, "="), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != "" {
			return fmt.Errorf("bad base64 literal b'%s'", cutText(v))
		}
	}
	return nil
}

// isTimestamp accepts YYYY-MM-DDTHH:MM:SS[.s+]Z.
func isTimestamp(v string) bool {
	if len(v) < 20 || v[len(v)-1] != 'Z' {
		return false
	}
	const shape = "dddd-dd-ddTdd:dd:dd"
	for i := 0; i < len(shape); i++ {
		if shape[i] == 'd' && !isDigit(v[i]) || shape[i] != 'd' && shape[i] != v[i] {
			return false
		}
	}
	rest := v[len(shape) : len(v)-1]
	if rest == "" {
		return true
	}
	return len(rest) > 1 && rest[0] == '.' && strings.Trim(rest[1:], "0123456789") == ""
}

func lexNumber(s string, i int) (token, int, error) {
	j := i
	if s[j] == '-' || s[j] == '+' {
		j++
	}
	digits := j
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	kind := tInt
	if j < len(s) && s[j] == '.' {
		kind = tFloat
		j++
		frac := j
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == frac {
			return token{}, 0, fmt.Errorf("offset %d: bad number %q", i, s[i:j])
		}
	} else if j == digits {
		return token{}, 0, fmt.Errorf("offset %d: unexpected character %q", i, rune(s[i]))
	}
	if j < len(s) && isIdentPart(s[j]) && s[j] != '-' {
		return token{}, 0, fmt.Errorf("offset %d: bad number %q", i, cutText(s[i:j+1]))
	}
	return token{kind, s[i:j], i}, j, nil
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '-' }

func isPlainIdent(s string) bool {
	if s == "" || !isIdentStart(s[0]) || keywords[s] || strings.EqualFold(s, "true") || strings.EqualFold(s, "false") {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentPart(s[i]) || s[i] == '-' {
			return false
		}
	}
	return true
}

// quote writes s as a pattern string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Parser.

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) is(kind tokKind, text string) bool {
	t := p.peek()
	return t.kind == kind && t.text == text
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", t.pos, fmt.Sprintf(format, args...))
}

func (p *parser) expect(kind tokKind, text, what string) error {
	if !p.is(kind, text) {
		t := p.peek()
		return p.errorf(t, "want %s, got %s", what, t)
	}
	p.next()
	return nil
}

// observations: or (FOLLOWEDBY or)*
func (p *parser) observations(depth int) (ObsExpr, error) {
	return p.obsBinary(depth, 0)
}

var obsLevels = []string{"FOLLOWEDBY", "OR", "AND"}

func (p *parser) obsBinary(depth, level int) (ObsExpr, error) {
	if level == len(obsLevels) {
		return p.observation(depth)
	}
	left, err := p.obsBinary(depth, level+1)
	if err != nil {
		return nil, err
	}
	for p.is(tKeyword, obsLevels[level]) {
		p.next()
		right, err := p.obsBinary(depth, level+1)
		if err != nil {
			return nil, err
		}
		left = ObsBinary{Op: obsLevels[level], Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) observation(depth int) (ObsExpr, error) {
	if depth >= maxDepth {
		return nil, p.errorf(p.peek(), "nested deeper than %d levels", maxDepth)
	}
	t := p.peek()
	var e ObsExpr
	switch {
	case p.is(tPunct, "["):
		p.next()
		c, err := p.comparisons(depth+1, 0)
		if err != nil {
			return nil, err
		}
		if err := p.expect(tPunct, "]", "']' closing the observation"); err != nil {
			return nil, err
		}
		q, err := p.qualifiers()
		if err != nil {
			return nil, err
		}
		e = Observation{Expr: c, Qualifiers: q}
	case p.is(tPunct, "("):
		p.next()
		inner, err := p.observations(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect(tPunct, ")", "')'"); err != nil {
			return nil, err
		}
		q, err := p.qualifiers()
		if err != nil {
			return nil, err
		}
		e = ObsGroup{Inner: inner, Qualifiers: q}
	default:
		return nil, p.errorf(t, "want '[' or '(' starting an observation, got %s", t)
	}
	return e, nil
}

func (p *parser) qualifiers() ([]Qualifier, error) {
	var qs []Qualifier
	for {
		switch {
		case p.is(tKeyword, "WITHIN"):
			p.next()
			n := p.next()
			if n.kind != tInt && n.kind != tFloat || strings.HasPrefix(n.text, "-") {
				return nil, p.errorf(n, "WITHIN wants a positive number, got %s", n)
			}
			if err := p.expect(tKeyword, "SECONDS", "SECONDS"); err != nil {
				return nil, err
			}
			qs = append(qs, Qualifier{Kind: "WITHIN", Args: []Literal{lit(n)}})
		case p.is(tKeyword, "REPEATS"):
			p.next()
			n := p.next()
			if n.kind != tInt || strings.HasPrefix(n.text, "-") {
				return nil, p.errorf(n, "REPEATS wants a positive integer, got %s", n)
			}
			if err := p.expect(tKeyword, "TIMES", "TIMES"); err != nil {
				return nil, err
			}
			qs = append(qs, Qualifier{Kind: "REPEATS", Args: []Literal{lit(n)}})
		case p.is(tKeyword, "START"):
			p.next()
			a := p.next()
			if a.kind != tTimestamp {
				return nil, p.errorf(a, "START wants a timestamp t'…', got %s", a)
			}
			if err := p.expect(tKeyword, "STOP", "STOP"); err != nil {
				return nil, err
			}
			b := p.next()
			if b.kind != tTimestamp {
				return nil, p.errorf(b, "STOP wants a timestamp t'…', got %s", b)
			}
			qs = append(qs, Qualifier{Kind: "START", Args: []Literal{lit(a), lit(b)}})
		default:
			return qs, nil
		}
	}
}

var compLevels = []string{"OR", "AND"}

func (p *parser) comparisons(depth, level int) (CompExpr, error) {
	if level == len(compLevels) {
		return p.propTest(depth)
	}
	left, err := p.comparisons(depth, level+1)
	if err != nil {
		return nil, err
	}
	for p.is(tKeyword, compLevels[level]) {
		p.next()
		right, err := p.comparisons(depth, level+1)
		if err != nil {
			return nil, err
		}
		left = CompBinary{Op: compLevels[level], Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) propTest(depth int) (CompExpr, error) {
	if depth >= maxDepth {
		return nil, p.errorf(p.peek(), "nested deeper than %d levels", maxDepth)
	}
	if p.is(tPunct, "(") {
		p.next()
		e, err := p.comparisons(depth+1, 0)
		if err != nil {
			return nil, err
		}
		if err := p.expect(tPunct, ")", "')'"); err != nil {
			return nil, err
		}
		return e, nil
	}
	if p.is(tKeyword, "EXISTS") {
		p.next()
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
		p.next()
		c.Negated = true
	}
	op := p.next()
	switch {
	case op.kind == tOp:
		c.Op = op.text
		v := p.next()
		if !isLiteral(v.kind) {
			return nil, p.errorf(v, "want a value after %s, got %s", op.text, v)
		}
		if v.kind == tBool && op.text != "=" && op.text != "!=" {
			return nil, p.errorf(v, "a boolean cannot be compared with %s", op.text)
		}
		c.Value = lit(v)
	case op.kind == tKeyword && op.text == "IN":
		c.Op = "IN"
		if err := p.expect(tPunct, "(", "'(' starting the IN set"); err != nil {
			return nil, err
		}
		for !p.is(tPunct, ")") {
			if len(c.Set) > 0 {
				if err := p.expect(tPunct, ",", "',' or ')' in the IN set"); err != nil {
					return nil, err
				}
			}
			v := p.next()
			if !isLiteral(v.kind) {
				return nil, p.errorf(v, "want a value in the IN set, got %s", v)
			}
			c.Set = append(c.Set, lit(v))
		}
		p.next()
	case op.kind == tKeyword && (op.text == "LIKE" || op.text == "MATCHES" || op.text == "ISSUBSET" || op.text == "ISSUPERSET"):
		c.Op = op.text
		v := p.next()
		if v.kind != tString {
			return nil, p.errorf(v, "%s wants a string, got %s", op.text, v)
		}
		c.Value = lit(v)
	default:
		return nil, p.errorf(op, "want a comparison operator after %s, got %s", path, op)
	}
	return c, nil
}

func (p *parser) objectPath() (ObjectPath, error) {
	t := p.next()
	if t.kind != tIdent {
		return ObjectPath{}, p.errorf(t, "want an object type (e.g. ipv4-addr), got %s", t)
	}
	path := ObjectPath{Type: t.text}
	if err := p.expect(tPunct, ":", "':' after the object type "+strconv.Quote(t.text)); err != nil {
		return ObjectPath{}, err
	}
	first := p.next()
	if first.kind != tIdent && first.kind != tString {
		return ObjectPath{}, p.errorf(first, "want a property name after %q, got %s", t.text+":", first)
	}
	path.Steps = append(path.Steps, PathStep{Key: first.text})
	for {
		switch {
		case p.is(tPunct, "."):
			p.next()
			k := p.next()
			if k.kind != tIdent && k.kind != tString {
				return ObjectPath{}, p.errorf(k, "want a property name after '.', got %s", k)
			}
			path.Steps = append(path.Steps, PathStep{Key: k.text})
		case p.is(tPunct, "[") && p.i+2 < len(p.toks) && p.toks[p.i+2].kind == tPunct && p.toks[p.i+2].text == "]":
			idx := p.toks[p.i+1]
			switch {
			case idx.kind == tPunct && idx.text == "*":
				path.Steps = append(path.Steps, PathStep{Any: true})
			case idx.kind == tInt:
				n, err := strconv.Atoi(idx.text)
				if err != nil {
					return ObjectPath{}, p.errorf(idx, "bad list index %s", idx)
				}
				path.Steps = append(path.Steps, PathStep{Index: n, IsIndex: true})
			default:
				return ObjectPath{}, p.errorf(idx, "want a list index or '*', got %s", idx)
			}
			p.i += 3
		default:
			return path, nil
		}
	}
}

func isLiteral(k tokKind) bool {
	switch k {
	case tString, tInt, tFloat, tBool, tTimestamp, tHex, tBinary:
		return true
	}
	return false
}

func lit(t token) Literal {
	kind := map[tokKind]LitKind{
		tString: LitString, tInt: LitInt, tFloat: LitFloat, tBool: LitBool,
		tTimestamp: LitTimestamp, tHex: LitHex, tBinary: LitBinary,
	}[t.kind]
	return Literal{Kind: kind, Text: t.text}
}

// String renders the pattern in canonical form: single spaces, operators
// as STIX writes them, parentheses where the structure needs them.
// Parsing the result gives the same pattern.
func (p *Pattern) String() string {
	var b strings.Builder
	writeObs(&b, p.Root)
	return b.String()
}

func writeObs(b *strings.Builder, e ObsExpr) {
	switch e := e.(type) {
	case ObsBinary:
		writeObs(b, e.Left)
		b.WriteString(" " + e.Op + " ")
		writeObs(b, e.Right)
	case Observation:
		b.WriteByte('[')
		writeComp(b, e.Expr, "", false)
		b.WriteByte(']')
		writeQualifiers(b, e.Qualifiers)
	case ObsGroup:
		b.WriteByte('(')
		writeObs(b, e.Inner)
		b.WriteByte(')')
		writeQualifiers(b, e.Qualifiers)
	}
}

func writeQualifiers(b *strings.Builder, qs []Qualifier) {
	for _, q := range qs {
		switch q.Kind {
		case "WITHIN":
			b.WriteString(" WITHIN " + q.Args[0].String() + " SECONDS")
		case "REPEATS":
			b.WriteString(" REPEATS " + q.Args[0].String() + " TIMES")
		case "START":
			b.WriteString(" START " + q.Args[0].String() + " STOP " + q.Args[1].String())
		}
	}
}

var compPrec = map[string]int{"OR": 1, "AND": 2}

// writeComp writes e, in parentheses when it binds less tightly than its
// parent operator (or as tightly, on the right: the operators group to
// the left).
func writeComp(b *strings.Builder, e CompExpr, parent string, right bool) {
	switch e := e.(type) {
	case CompBinary:
		paren := parent != "" && (compPrec[e.Op] < compPrec[parent] || right && compPrec[e.Op] == compPrec[parent])
		if paren {
			b.WriteByte('(')
		}
		writeComp(b, e.Left, e.Op, false)
		b.WriteString(" " + e.Op + " ")
		writeComp(b, e.Right, e.Op, true)
		if paren {
			b.WriteByte(')')
		}
	case *Comparison:
		b.WriteString(e.String())
	}
}

// String renders one comparison.
func (c *Comparison) String() string {
	if c.Op == "EXISTS" {
		return "EXISTS " + c.Path.String()
	}
	s := c.Path.String()
	if c.Negated {
		s += " NOT"
	}
	s += " " + c.Op + " "
	if c.Op == "IN" {
		parts := make([]string, len(c.Set))
		for i, v := range c.Set {
			parts[i] = v.String()
		}
		return s + "(" + strings.Join(parts, ", ") + ")"
	}
	return s + c.Value.String()
}

// String renders a literal as a pattern writes it.
func (l Literal) String() string {
	switch l.Kind {
	case LitString:
		return quote(l.Text)
	case LitTimestamp:
		return "t'" + l.Text + "'"
	case LitHex:
		return "h'" + l.Text + "'"
	case LitBinary:
		return "b'" + l.Text + "'"
	}
	return l.Text
}
