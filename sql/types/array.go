package types

import (
	"encoding/binary"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// One-dimensional arrays (text[], name[], int2[], int4[], oid[]) are kept in
// Datum.S in PostgreSQL's text form, e.g. `{a,"b c",NULL}`. The binary form
// is PostgreSQL's array_send:
//
//	int32 ndim (0 or 1) | int32 hasnull | uint32 elemtype |
//	[int32 length | int32 lbound=1] | per element: int32 len (-1 NULL), bytes

// ArrayElem returns the element type of a supported array type, or 0.
func ArrayElem(t OID) OID {
	switch t {
	case TextArray:
		return Text
	case NameArray:
		return Name
	case Int2Array:
		return Int2
	case Int4Array:
		return Int4
	case OidArray:
		return Oid
	}
	return 0
}

func errArraySyntax(s string) error {
	return pgerror.Newf(pgerror.CodeInvalidTextRep, "malformed array literal: %q", s)
}

// parseArrayText splits a one-dimensional array literal into elements;
// nil entries are NULLs.
func parseArrayText(s string) ([]*string, error) {
	orig := s
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, errArraySyntax(orig)
	}
	body := s[1 : len(s)-1]
	var out []*string
	if strings.TrimSpace(body) == "" {
		return out, nil
	}
	i := 0
	for {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		if i >= len(body) {
			return nil, errArraySyntax(orig)
		}
		var elem strings.Builder
		quoted := false
		if body[i] == '"' {
			quoted = true
			i++
			closed := false
			for i < len(body) {
				c := body[i]
				if c == '\\' && i+1 < len(body) {
					elem.WriteByte(body[i+1])
					i += 2
					continue
				}
				if c == '"' {
					i++
					closed = true
					break
				}
				elem.WriteByte(c)
				i++
			}
			if !closed {
				return nil, errArraySyntax(orig)
			}
			for i < len(body) && body[i] == ' ' {
				i++
			}
		} else {
			for i < len(body) && body[i] != ',' {
				c := body[i]
				if c == '{' || c == '}' || c == '"' {
					return nil, errArraySyntax(orig)
				}
				if c == '\\' && i+1 < len(body) {
					elem.WriteByte(body[i+1])
					i += 2
					continue
				}
				elem.WriteByte(c)
				i++
			}
		}
		v := elem.String()
		if !quoted {
			v = strings.TrimRight(v, " ")
			if v == "" {
				return nil, errArraySyntax(orig)
			}
		}
		if !quoted && strings.EqualFold(v, "NULL") {
			out = append(out, nil)
		} else {
			out = append(out, &v)
		}
		if i >= len(body) {
			return out, nil
		}
		if body[i] != ',' {
			return nil, errArraySyntax(orig)
		}
		i++
	}
}

// formatArrayText renders elements as PostgreSQL's array_out does.
func formatArrayText(elems []*string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		if e == nil {
			b.WriteString("NULL")
			continue
		}
		v := *e
		if needsArrayQuote(v) {
			b.WriteByte('"')
			for j := 0; j < len(v); j++ {
				if v[j] == '"' || v[j] == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(v[j])
			}
			b.WriteByte('"')
		} else {
			b.WriteString(v)
		}
	}
	b.WriteByte('}')
	return b.String()
}

func needsArrayQuote(v string) bool {
	if v == "" || strings.EqualFold(v, "NULL") {
		return true
	}
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '{', '}', ',', '"', '\\', ' ', '\t', '\n', '\r', '\v', '\f':
			return true
		}
	}
	return false
}

// parseArray validates and canonicalises an array literal of type t.
func parseArray(t OID, s string) (Datum, error) {
	elems, err := parseArrayText(s)
	if err != nil {
		return Datum{}, err
	}
	et := ArrayElem(t)
	for _, e := range elems {
		if e == nil {
			continue
		}
		d, err := ParseText(et, *e)
		if err != nil {
			return Datum{}, err
		}
		*e = string(FormatText(nil, d))
	}
	return Datum{T: t, S: formatArrayText(elems)}, nil
}

// appendArrayBinary encodes the text form s of an array of type t. A value
// that is not a valid literal encodes as an empty array.
func appendArrayBinary(dst []byte, t OID, s string) []byte {
	et := ArrayElem(t)
	elems, err := parseArrayText(s)
	if err != nil || len(elems) == 0 {
		dst = binary.BigEndian.AppendUint32(dst, 0)
		dst = binary.BigEndian.AppendUint32(dst, 0)
		return binary.BigEndian.AppendUint32(dst, uint32(et))
	}
	hasNull := uint32(0)
	for _, e := range elems {
		if e == nil {
			hasNull = 1
		}
	}
	dst = binary.BigEndian.AppendUint32(dst, 1)
	dst = binary.BigEndian.AppendUint32(dst, hasNull)
	dst = binary.BigEndian.AppendUint32(dst, uint32(et))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(elems)))
	dst = binary.BigEndian.AppendUint32(dst, 1)
	for _, e := range elems {
		if e == nil {
			dst = binary.BigEndian.AppendUint32(dst, 0xFFFFFFFF)
			continue
		}
		d, err := ParseText(et, *e)
		if err != nil {
			d = Datum{T: Text, S: *e}
		}
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst = FormatBinary(dst, d)
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	}
	return dst
}

// decodeArrayBinary decodes array_send output into the text form.
func decodeArrayBinary(t OID, b []byte) (Datum, error) {
	bad := func() (Datum, error) { return Datum{}, errBinaryFormat(TypeName(t)) }
	if len(b) < 12 {
		return bad()
	}
	ndim := int32(binary.BigEndian.Uint32(b))
	elemType := OID(binary.BigEndian.Uint32(b[8:]))
	et := ArrayElem(t)
	if elemType != et {
		return Datum{}, pgerror.Newf(pgerror.CodeDatatypeMismatch, "binary data has array element type %d instead of expected %d", elemType, et)
	}
	b = b[12:]
	if ndim == 0 {
		if len(b) != 0 {
			return bad()
		}
		return Datum{T: t, S: "{}"}, nil
	}
	if ndim != 1 || len(b) < 8 {
		return Datum{}, pgerror.Newf(pgerror.CodeFeatureNotSupported, "only one-dimensional arrays are supported")
	}
	n := int32(binary.BigEndian.Uint32(b))
	b = b[8:]
	if n < 0 || int(n) > len(b)/4 {
		return bad()
	}
	elems := make([]*string, 0, n)
	for i := int32(0); i < n; i++ {
		if len(b) < 4 {
			return bad()
		}
		l := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if l == -1 {
			elems = append(elems, nil)
			continue
		}
		if l < 0 || int(l) > len(b) {
			return bad()
		}
		d, err := ParseBinary(et, b[:l])
		if err != nil {
			return Datum{}, err
		}
		b = b[l:]
		v := string(FormatText(nil, d))
		elems = append(elems, &v)
	}
	if len(b) != 0 {
		return bad()
	}
	return Datum{T: t, S: formatArrayText(elems)}, nil
}
