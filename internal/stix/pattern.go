package stix

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxPatternLen is the longest pattern ParsePattern reads, in bytes.
const MaxPatternLen = 64 << 10

// MaxPatternDepth is how deeply ParsePattern lets brackets and parentheses
// nest.
const MaxPatternDepth = 100

// PatternError is a syntax error in a STIX pattern: what was wrong and the
// byte offset in the pattern where it was found.
type PatternError struct {
	Offset int
	Msg    string
}

// Error returns "pattern: at byte N: message".
func (e *PatternError) Error() string {
	return fmt.Sprintf("pattern: at byte %d: %s", e.Offset, e.Msg)
}

// Pattern is a parsed STIX pattern. Its String method writes it in
// canonical form: single spaces around operators, keywords in upper case,
// parentheses only where needed, "==" as "=", "<>" as "!=", numbers
// without "+", hex in lower case, timestamps with at least millisecond
// precision. Parsing the canonical form gives an equal Pattern.
type Pattern struct {
	Root ObservationExpr
}

// String returns the canonical pattern.
func (p *Pattern) String() string { return p.Root.String() }

// ObservationExpr is an observation expression: *Observation,
// *ObservationOp or *Qualified.
type ObservationExpr interface {
	String() string
	observationExpr()
}

// Observation is one observation: a comparison expression in brackets.
type Observation struct {
	Expr ComparisonExpr
}

// ObservationOp joins two observation expressions with Op: "AND", "OR" or
// "FOLLOWEDBY".
type ObservationOp struct {
	Op          string
	Left, Right ObservationExpr
}

// Qualified is an observation expression with a qualifier.
type Qualified struct {
	Expr      ObservationExpr
	Qualifier Qualifier
}

// Qualifier is WITHIN n SECONDS (Kind "WITHIN", Value an int or float
// literal), REPEATS n TIMES (Kind "REPEATS", Value an int literal) or
// START t'…' STOP t'…' (Kind "START", Start and Stop timestamp literals).
type Qualifier struct {
	Kind        string
	Value       Literal
	Start, Stop Literal
}

// ComparisonExpr is a comparison expression inside an observation:
// *Comparison or *ComparisonOp.
type ComparisonExpr interface {
	String() string
	comparisonExpr()
}

// ComparisonOp joins two comparison expressions with Op: "AND" or "OR".
type ComparisonOp struct {
	Op          string
	Left, Right ComparisonExpr
}

// Comparison is "path [NOT] op value", "path [NOT] IN (set)" or
// "EXISTS path". Op is one of =, !=, <, <=, >, >=, IN, LIKE, MATCHES,
// ISSUBSET, ISSUPERSET and EXISTS; Value is unused for IN (Set holds the
// values) and EXISTS.
type Comparison struct {
	Path    ObjectPath
	Negated bool
	Op      string
	Value   Literal
	Set     []Literal
}

// ObjectPath is "type:property" followed by steps: ".key", "[n]" or
// "[*]", as in file:hashes.'SHA-256' or email-message:to_refs[*].value.
type ObjectPath struct {
	Type  string
	Steps []PathStep // the first is always a key
}

// StepKind tells the kinds of path steps apart.
type StepKind int

// The kinds of path steps.
const (
	StepKey   StepKind = iota // .key (or the first property)
	StepIndex                 // [n]
	StepAny                   // [*]
)

// PathStep is one step of an object path.
type PathStep struct {
	Kind  StepKind
	Key   string // for StepKey
	Index int64  // for StepIndex
}

// LiteralKind tells the kinds of literals apart.
type LiteralKind int

// The kinds of literals.
const (
	LitString LiteralKind = iota
	LitInt
	LitFloat
	LitBool
	LitTimestamp
	LitHex
	LitBinary
)

// Literal is a constant in a pattern; the field for its Kind holds the
// value (Bytes for LitHex and LitBinary).
type Literal struct {
	Kind  LiteralKind
	Str   string
	Int   int64
	Float float64
	Bool  bool
	Time  time.Time
	Bytes []byte
}

func (*Observation) observationExpr()   {}
func (*ObservationOp) observationExpr() {}
func (*Qualified) observationExpr()     {}
func (*ComparisonOp) comparisonExpr()   {}
func (*Comparison) comparisonExpr()     {}

// StringLiteral returns a string literal.
func StringLiteral(s string) Literal { return Literal{Kind: LitString, Str: s} }

// IntLiteral returns an integer literal.
func IntLiteral(n int64) Literal { return Literal{Kind: LitInt, Int: n} }

// String returns the literal as a pattern writes it.
func (l Literal) String() string {
	switch l.Kind {
	case LitString:
		return quotePattern(l.Str)
	case LitInt:
		return strconv.FormatInt(l.Int, 10)
	case LitFloat:
		s := strconv.FormatFloat(l.Float, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case LitBool:
		return strconv.FormatBool(l.Bool)
	case LitTimestamp:
		return "t'" + formatTime(l.Time) + "'"
	case LitHex:
		return "h'" + hex.EncodeToString(l.Bytes) + "'"
	case LitBinary:
		return "b'" + base64.StdEncoding.EncodeToString(l.Bytes) + "'"
	}
	return "<invalid literal>"
}

// quotePattern writes s as a pattern string literal.
func quotePattern(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

// String returns the path, quoting keys that are not plain identifiers.
func (p ObjectPath) String() string {
	var b strings.Builder
	b.WriteString(p.Type)
	b.WriteByte(':')
	for i, s := range p.Steps {
		switch s.Kind {
		case StepKey:
			if i > 0 {
				b.WriteByte('.')
			}
			if plainIdent(s.Key) {
				b.WriteString(s.Key)
			} else {
				b.WriteString(quotePattern(s.Key))
			}
		case StepIndex:
			b.WriteByte('[')
			b.WriteString(strconv.FormatInt(s.Index, 10))
			b.WriteByte(']')
		case StepAny:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

// plainIdent reports whether s can be written unquoted as a path key: an
// identifier without hyphens that is not a keyword.
func plainIdent(s string) bool {
	if s == "" || isKeyword(s) || s == "true" || s == "false" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && isDigit(c)) {
			return false
		}
	}
	return true
}

// Precedences for writing parentheses only where needed.
func obsPrec(e ObservationExpr) int {
	if op, ok := e.(*ObservationOp); ok {
		switch op.Op {
		case "FOLLOWEDBY":
			return 1
		case "OR":
			return 2
		}
		return 3
	}
	return 4
}

func compPrec(e ComparisonExpr) int {
	if op, ok := e.(*ComparisonOp); ok {
		if op.Op == "OR" {
			return 1
		}
		return 2
	}
	return 3
}

// String returns "[comparison expression]".
func (o *Observation) String() string { return "[" + o.Expr.String() + "]" }

// String returns "left OP right", parenthesised as needed.
func (o *ObservationOp) String() string {
	p := obsPrec(o)
	l, r := o.Left.String(), o.Right.String()
	if obsPrec(o.Left) < p {
		l = "(" + l + ")"
	}
	if obsPrec(o.Right) <= p {
		r = "(" + r + ")"
	}
	return l + " " + o.Op + " " + r
}

// String returns the expression followed by its qualifier.
func (q *Qualified) String() string {
	s := q.Expr.String()
	if obsPrec(q.Expr) < 4 {
		s = "(" + s + ")"
	}
	return s + " " + q.Qualifier.String()
}

// String returns the qualifier as a pattern writes it.
func (q Qualifier) String() string {
	switch q.Kind {
	case "WITHIN":
		return "WITHIN " + q.Value.String() + " SECONDS"
	case "REPEATS":
		return "REPEATS " + q.Value.String() + " TIMES"
	case "START":
		return "START " + q.Start.String() + " STOP " + q.Stop.String()
	}
	return "<invalid qualifier>"
}

// String returns "left OP right", parenthesised as needed.
func (c *ComparisonOp) String() string {
	p := compPrec(c)
	l, r := c.Left.String(), c.Right.String()
	if compPrec(c.Left) < p {
		l = "(" + l + ")"
	}
	if compPrec(c.Right) <= p {
		r = "(" + r + ")"
	}
	return l + " " + c.Op + " " + r
}

// String returns the comparison as a pattern writes it.
func (c *Comparison) String() string {
	if c.Op == "EXISTS" {
		return "EXISTS " + c.Path.String()
	}
	var b strings.Builder
	b.WriteString(c.Path.String())
	if c.Negated {
		b.WriteString(" NOT")
	}
	b.WriteByte(' ')
	b.WriteString(c.Op)
	b.WriteByte(' ')
	if c.Op == "IN" {
		b.WriteByte('(')
		for i, v := range c.Set {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v.String())
		}
		b.WriteByte(')')
	} else {
		b.WriteString(c.Value.String())
	}
	return b.String()
}

// isKeyword reports whether s is a reserved word of the pattern grammar
// (upper case only; "true" and "false" are literals).
func isKeyword(s string) bool {
	switch s {
	case "AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET",
		"ISSUBSET", "EXISTS", "LAST", "IN", "START", "STOP", "SECONDS",
		"WITHIN", "REPEATS", "TIMES":
		return true
	}
	return false
}
