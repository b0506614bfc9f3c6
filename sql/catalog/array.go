package catalog

import (
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// ArrayElem is one element of an array value.
type ArrayElem struct {
	S    string
	Null bool
}

// IsArrayType reports whether oid is an array type (or one of the vector
// types int2vector and oidvector, which behave as arrays).
func IsArrayType(oid types.OID) bool {
	_, ok := ArrayElemType(oid)
	return ok
}

// ArrayElemType returns the element type of an array (or vector) type.
func ArrayElemType(oid types.OID) (types.OID, bool) {
	t, ok := lookupType(oid)
	if !ok || t.elem == 0 || t.len != -1 {
		return 0, false
	}
	return t.elem, true
}

// ArrayTypeOf returns the array type whose elements are elem.
func ArrayTypeOf(elem types.OID) (types.OID, bool) {
	t, ok := lookupType(elem)
	if !ok || t.array == 0 {
		return 0, false
	}
	return t.array, true
}

// NewArray returns an array datum of array type t holding elems, in the
// PostgreSQL text form. For int2vector and oidvector the text form is the
// space-separated list.
func NewArray(t types.OID, elems []ArrayElem) types.Datum {
	if t == Int2Vector || t == OidVector {
		parts := make([]string, len(elems))
		for i, e := range elems {
			parts[i] = e.S
		}
		return types.Datum{T: t, S: strings.Join(parts, " ")}
	}
	return types.Datum{T: t, S: FormatArray(elems)}
}

// NewStringArray is NewArray for elements that are never NULL.
func NewStringArray(t types.OID, elems ...string) types.Datum {
	es := make([]ArrayElem, len(elems))
	for i, s := range elems {
		es[i] = ArrayElem{S: s}
	}
	return NewArray(t, es)
}

// ArrayElements decodes an array datum (see NewArray). A NULL datum has no
// elements; callers that distinguish NULL from '{}' check d.Null first.
func ArrayElements(d types.Datum) ([]ArrayElem, error) {
	if d.Null {
		return nil, nil
	}
	if d.T == Int2Vector || d.T == OidVector {
		return ParseVector(d.S), nil
	}
	return ParseArray(d.S)
}

// ParseVector decodes the text form of int2vector/oidvector ("1 2 3").
func ParseVector(s string) []ArrayElem {
	fs := strings.Fields(s)
	out := make([]ArrayElem, len(fs))
	for i, f := range fs {
		out[i] = ArrayElem{S: f}
	}
	return out
}

// FormatArray renders a one-dimensional array in PostgreSQL's text form, as
// array_out does: elements are double-quoted when they are empty, spell
// NULL, or contain braces, commas, quotes, backslashes or white space.
func FormatArray(elems []ArrayElem) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		if e.Null {
			b.WriteString("NULL")
			continue
		}
		if !needsArrayQuote(e.S) {
			b.WriteString(e.S)
			continue
		}
		b.WriteByte('"')
		for j := 0; j < len(e.S); j++ {
			c := e.S[j]
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

func needsArrayQuote(s string) bool {
	if s == "" || strings.EqualFold(s, "NULL") {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '}', ',', '"', '\\', ' ', '\t', '\n', '\r', '\v', '\f':
			return true
		}
	}
	return false
}

// errMalformedArray is the error for array text that does not parse.
func errMalformedArray(s, detail string) error {
	return &pgerror.Error{Code: pgerror.CodeInvalidTextRep, Message: "malformed array literal: \"" + s + "\"", Detail: detail}
}

func isArraySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// ParseArray decodes the text form of a one-dimensional array ('{a,"b c",NULL}').
// Multi-dimensional arrays and explicit bounds ('[1:2]={…}') are rejected with
// SQLSTATE 22P02 / 0A000.
func ParseArray(s string) ([]ArrayElem, error) {
	i := 0
	for i < len(s) && isArraySpace(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '[' {
		return nil, pgerror.Newf(pgerror.CodeFeatureNotSupported, "array bounds decorations are not supported: %q", s)
	}
	if i >= len(s) || s[i] != '{' {
		return nil, errMalformedArray(s, `Array value must start with "{" or dimension information.`)
	}
	i++
	var out []ArrayElem
	// Empty array.
	j := i
	for j < len(s) && isArraySpace(s[j]) {
		j++
	}
	if j < len(s) && s[j] == '}' {
		j++
		for j < len(s) && isArraySpace(s[j]) {
			j++
		}
		if j != len(s) {
			return nil, errMalformedArray(s, "Junk after closing right brace.")
		}
		return []ArrayElem{}, nil
	}
	for {
		for i < len(s) && isArraySpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return nil, errMalformedArray(s, "Unexpected end of input.")
		}
		switch s[i] {
		case '{':
			return nil, pgerror.Newf(pgerror.CodeFeatureNotSupported, "multidimensional arrays are not supported: %q", s)
		case '}', ',':
			return nil, errMalformedArray(s, "Unexpected \""+string(s[i])+"\" character.")
		}
		var b strings.Builder
		quoted, escaped := false, false
		if s[i] == '"' {
			quoted = true
			i++
			for {
				if i >= len(s) {
					return nil, errMalformedArray(s, "Unexpected end of input.")
				}
				c := s[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' {
					i++
					if i >= len(s) {
						return nil, errMalformedArray(s, "Unexpected end of input.")
					}
					c = s[i]
				}
				b.WriteByte(c)
				i++
			}
			for i < len(s) && isArraySpace(s[i]) {
				i++
			}
		} else {
			// Unquoted: up to ',' or '}', trailing white space trimmed
			// (but escaped white space kept).
			keep := 0 // length of b up to the last escaped or non-space byte
			for i < len(s) && s[i] != ',' && s[i] != '}' {
				c := s[i]
				switch {
				case c == '"' || c == '{':
					return nil, errMalformedArray(s, "Unexpected \""+string(c)+"\" character.")
				case c == '\\':
					i++
					if i >= len(s) {
						return nil, errMalformedArray(s, "Unexpected end of input.")
					}
					escaped = true
					b.WriteByte(s[i])
					keep = b.Len()
				default:
					b.WriteByte(c)
					if !isArraySpace(c) {
						keep = b.Len()
					}
				}
				i++
			}
			str := b.String()[:keep]
			b.Reset()
			b.WriteString(str)
		}
		e := ArrayElem{S: b.String()}
		if !quoted && !escaped && strings.EqualFold(e.S, "NULL") {
			e = ArrayElem{Null: true}
		}
		out = append(out, e)
		if i >= len(s) {
			return nil, errMalformedArray(s, "Unexpected end of input.")
		}
		if s[i] == ',' {
			i++
			continue
		}
		if s[i] != '}' {
			return nil, errMalformedArray(s, "Unexpected array element.")
		}
		i++
		for i < len(s) && isArraySpace(s[i]) {
			i++
		}
		if i != len(s) {
			return nil, errMalformedArray(s, "Junk after closing right brace.")
		}
		return out, nil
	}
}
