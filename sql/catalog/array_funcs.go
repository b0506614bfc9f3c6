package catalog

import (
	"context"
	"strconv"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// arrayArg decodes argument i as an array.
func arrayArg(fn string, args []types.Datum, i int) ([]ArrayElem, error) {
	d := args[i]
	if !IsArrayType(d.T) && d.T != types.Text && d.T != types.UnknownLit && d.T != types.Unknown {
		return nil, pgerror.Newf(pgerror.CodeUndefinedFunction, "function %s(%s) does not exist", fn, FormatType(d.T, -1, true))
	}
	es, err := ArrayElements(d)
	if err != nil {
		return nil, err
	}
	return es, nil
}

// ArrayIndex is arr[i] for a one-dimensional array datum with lower bound 1:
// NULL when out of range. The element is typed with the array's element type
// (text for an untyped array literal).
func ArrayIndex(arr types.Datum, i int64) (types.Datum, error) {
	elem, ok := ArrayElemType(arr.T)
	if !ok {
		elem = types.Text
	}
	if arr.Null {
		return types.NullOf(elem), nil
	}
	es, err := ArrayElements(arr)
	if err != nil {
		return types.Datum{}, err
	}
	lower := int64(1)
	if arr.T == Int2Vector || arr.T == OidVector {
		lower = 0 // vectors are zero-based, as in PostgreSQL
	}
	if i < lower || i-lower >= int64(len(es)) {
		return types.NullOf(elem), nil
	}
	return elemDatum(elem, es[i-lower])
}

// elemDatum converts an element's text to a datum of type t.
func elemDatum(t types.OID, e ArrayElem) (types.Datum, error) {
	if e.Null {
		return types.NullOf(t), nil
	}
	switch t {
	case types.Int2, types.Int4, types.Int8, types.Oid, Xid, Regclass, Regtype:
		v, err := strconv.ParseInt(e.S, 10, 64)
		if err != nil {
			return types.Datum{}, pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type %s: %q", FormatType(t, -1, true), e.S)
		}
		d := types.NewInt(t, v)
		if t == Xid || t == Regclass || t == Regtype {
			d.S = e.S // types unknown to sql/types are rendered from S
		}
		return d, nil
	case types.Float4, types.Float8:
		v, err := strconv.ParseFloat(e.S, 64)
		if err != nil {
			return types.Datum{}, pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type %s: %q", FormatType(t, -1, true), e.S)
		}
		return types.Datum{T: t, F: v}, nil
	case types.Bool:
		switch strings.ToLower(e.S) {
		case "t", "true":
			return dBool(true), nil
		case "f", "false":
			return dBool(false), nil
		}
		return types.Datum{}, pgerror.Newf(pgerror.CodeInvalidTextRep, "invalid input syntax for type boolean: %q", e.S)
	}
	return types.Datum{T: t, S: e.S}, nil
}

func dimArg(fn string, args []types.Datum) (bool, error) {
	dim, err := argInt(fn, args, 1)
	if err != nil {
		return false, err
	}
	return dim == 1, nil
}

func fnArrayLength(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	es, err := arrayArg("array_length", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	ok, err := dimArg("array_length", args)
	if err != nil || !ok || len(es) == 0 {
		return types.NullOf(types.Int4), err
	}
	return dInt4(len(es)), nil
}

func fnArrayLower(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	es, err := arrayArg("array_lower", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	ok, err := dimArg("array_lower", args)
	if err != nil || !ok || len(es) == 0 {
		return types.NullOf(types.Int4), err
	}
	if args[0].T == Int2Vector || args[0].T == OidVector {
		return dInt4(0), nil
	}
	return dInt4(1), nil
}

func fnArrayUpper(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	es, err := arrayArg("array_upper", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	ok, err := dimArg("array_upper", args)
	if err != nil || !ok || len(es) == 0 {
		return types.NullOf(types.Int4), err
	}
	if args[0].T == Int2Vector || args[0].T == OidVector {
		return dInt4(len(es) - 1), nil
	}
	return dInt4(len(es)), nil
}

func fnCardinality(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	es, err := arrayArg("cardinality", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	return dInt4(len(es)), nil
}

// fnArrayToString is array_to_string(anyarray, sep [, null_string]): NULL
// elements are skipped unless null_string is given and not NULL.
func fnArrayToString(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	if args[0].Null || args[1].Null {
		return types.NullOf(types.Text), nil
	}
	es, err := arrayArg("array_to_string", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	sep := argText(args, 1)
	nullStr, useNull := "", len(args) > 2 && !args[2].Null
	if useNull {
		nullStr = argText(args, 2)
	}
	var b strings.Builder
	first := true
	for _, e := range es {
		s := e.S
		if e.Null {
			if !useNull {
				continue
			}
			s = nullStr
		}
		if !first {
			b.WriteString(sep)
		}
		first = false
		b.WriteString(s)
	}
	return dText(b.String()), nil
}

// fnStringToArray is string_to_array(text, delimiter [, null_string]).
// A NULL delimiter splits into characters; an empty delimiter yields the
// whole string as one element; an empty input yields '{}'.
func fnStringToArray(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	if args[0].Null {
		return types.NullOf(types.TextArray), nil
	}
	s := argText(args, 0)
	if s == "" {
		return NewArray(types.TextArray, nil), nil
	}
	var parts []string
	switch {
	case args[1].Null:
		for _, r := range s {
			parts = append(parts, string(r))
		}
	case argText(args, 1) == "":
		parts = []string{s}
	default:
		parts = strings.Split(s, argText(args, 1))
	}
	useNull := len(args) > 2 && !args[2].Null
	es := make([]ArrayElem, len(parts))
	for i, p := range parts {
		es[i] = ArrayElem{S: p, Null: useNull && p == argText(args, 2)}
	}
	return NewArray(types.TextArray, es), nil
}

func fnParseIdent(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	strict := true
	if len(args) > 1 {
		var err error
		if strict, err = argBool("parse_ident", args, 1); err != nil {
			return types.Datum{}, err
		}
	}
	parts, err := ParseIdent(argText(args, 0), strict)
	if err != nil {
		return types.Datum{}, err
	}
	return NewStringArray(types.TextArray, parts...), nil
}

// ParseIdent is PostgreSQL's parse_ident: it splits a qualified identifier
// ('public."My Table"') into its parts, folding unquoted parts to lower case
// and unescaping doubled quotes in quoted parts. With strict=false, text
// after the last identifier is ignored.
func ParseIdent(s string, strict bool) ([]string, error) {
	bad := func(detail string) error {
		return &pgerror.Error{Code: pgerror.CodeInvalidParameterValue,
			Message: "string is not a valid identifier: \"" + s + "\"", Detail: detail}
	}
	var out []string
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v') {
			i++
		}
	}
	skip()
	for {
		if i < len(s) && s[i] == '"' {
			i++
			var b strings.Builder
			for {
				j := strings.IndexByte(s[i:], '"')
				if j < 0 {
					return nil, bad("String has unclosed double quotes.")
				}
				b.WriteString(s[i : i+j])
				i += j + 1
				if i < len(s) && s[i] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			if b.Len() == 0 {
				return nil, bad("Quoted identifier must not be empty.")
			}
			out = append(out, b.String())
		} else {
			start := i
			for i < len(s) && isIdentByte(s[i], i == start) {
				i++
			}
			if i == start {
				if len(out) == 0 {
					return nil, bad("No valid identifier before \".\".")
				}
				return nil, bad("No valid identifier after \".\".")
			}
			out = append(out, asciiLower(s[start:i]))
		}
		skip()
		if i < len(s) && s[i] == '.' {
			i++
			skip()
			continue
		}
		if i < len(s) && strict {
			return nil, bad("")
		}
		return out, nil
	}
}

func isIdentByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= 0x80:
		return true
	case c >= '0' && c <= '9', c == '$':
		return !first
	}
	return false
}

// asciiLower folds ASCII letters only, as PostgreSQL's identifier
// downcasing does for multi-byte encodings.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
