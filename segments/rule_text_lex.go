package segments

import (
	"fmt"
	"strconv"
	"strings"
)

// TextError is a syntax error in the text form, with its position.
type TextError struct {
	Offset int // byte offset from the start, 0-based
	Line   int // 1-based
	Column int // 1-based, in bytes
	Msg    string
}

func (e *TextError) Error() string {
	return fmt.Sprintf("segment rule text %d:%d: %s", e.Line, e.Column, e.Msg)
}

type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokWord             // identifiers, keywords, numbers and windows
	tokString           // a double-quoted Go string literal, unquoted
	tokPunct            // ( ) , = != > >= < <=
)

type token struct {
	kind tokenKind
	text string
	pos  int
}

func (t token) describe() string {
	if t.kind == tokEOF {
		return "end of text"
	}
	return strconv.Quote(t.text)
}

// lex splits the text into tokens, or reports the first character it cannot
// read.
func lex(src string) ([]token, *TextError) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			end, err := stringEnd(src, i)
			if err != nil {
				return nil, textError(src, i, err.Error())
			}
			s, uerr := strconv.Unquote(src[i:end])
			if uerr != nil {
				return nil, textError(src, i, "bad string literal: "+uerr.Error())
			}
			toks = append(toks, token{tokString, s, i})
			i = end
		case isWordByte(c) || c == '-':
			j, number := i+1, c == '-' || (c >= '0' && c <= '9')
			for j < len(src) && (isWordByte(src[j]) || src[j] == '.' || inExponent(src, j, number)) {
				j++
			}
			toks = append(toks, token{tokWord, src[i:j], i})
			i = j
		default:
			n := punctLen(src[i:])
			if n == 0 {
				return nil, textError(src, i, fmt.Sprintf("unexpected character %q", rune(c)))
			}
			toks = append(toks, token{tokPunct, src[i : i+n], i})
			i += n
		}
	}
	return append(toks, token{tokEOF, "", len(src)}), nil
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// inExponent accepts a + or - right after the e of a number, as in 1e+06.
func inExponent(src string, j int, number bool) bool {
	return number && (src[j] == '+' || src[j] == '-') && (src[j-1] == 'e' || src[j-1] == 'E')
}

func stringEnd(src string, start int) (int, error) {
	for i := start + 1; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		case '\n':
			return 0, fmt.Errorf("string not closed before the end of the line")
		}
	}
	return 0, fmt.Errorf("string not closed")
}

func punctLen(s string) int {
	for _, p := range []string{"!=", ">=", "<=", "(", ")", ",", "=", ">", "<"} {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}

func textError(src string, offset int, msg string) *TextError {
	line := 1 + strings.Count(src[:offset], "\n")
	col := offset - strings.LastIndex(src[:offset], "\n")
	return &TextError{Offset: offset, Line: line, Column: col, Msg: msg}
}
