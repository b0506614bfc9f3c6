package types

import (
	"strconv"
	"strings"
)

// TypeName returns the name of t as PostgreSQL's format_type spells it
// ("timestamp with time zone", "double precision", "integer", ...).
// Unknown OIDs yield "???"; OID 0 yields "unknown".
func TypeName(t OID) string {
	switch t {
	case Unknown, UnknownLit:
		return "unknown"
	case Bool:
		return "boolean"
	case Bytea:
		return "bytea"
	case Char:
		return `"char"`
	case Name:
		return "name"
	case Int8:
		return "bigint"
	case Int2:
		return "smallint"
	case Int4:
		return "integer"
	case Regproc:
		return "regproc"
	case Text:
		return "text"
	case Oid:
		return "oid"
	case JSON:
		return "json"
	case Float4:
		return "real"
	case Float8:
		return "double precision"
	case BPChar:
		return "character"
	case Varchar:
		return "character varying"
	case Date:
		return "date"
	case Timestamp:
		return "timestamp without time zone"
	case Timestamptz:
		return "timestamp with time zone"
	case Interval:
		return "interval"
	case Numeric:
		return "numeric"
	case UUID:
		return "uuid"
	case JSONB:
		return "jsonb"
	case TextArray:
		return "text[]"
	case Int4Array:
		return "integer[]"
	case Int2Array:
		return "smallint[]"
	case OidArray:
		return "oid[]"
	case NameArray:
		return "name[]"
	case Void:
		return "void"
	}
	return "???"
}

// TypeLen returns pg_type.typlen of t, as sent in RowDescription: the fixed
// width in bytes, or -1 for variable-length types.
func TypeLen(t OID) int16 {
	switch t {
	case Bool, Char:
		return 1
	case Int2:
		return 2
	case Int4, Float4, Oid, Regproc, Date, Void:
		return 4
	case Int8, Float8, Timestamp, Timestamptz:
		return 8
	case Interval, UUID:
		return 16
	case Name:
		return 64
	case UnknownLit:
		return -2
	}
	return -1
}

// OIDByName resolves a PostgreSQL type name or alias (case-insensitive,
// optional "pg_catalog." prefix, type modifiers such as "(10,2)" ignored,
// "[]" for the known array types). regclass, regtype and regnamespace map to
// oid.
func OIDByName(name string) (OID, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "pg_catalog.")
	n = strings.Trim(n, `"`)
	array := false
	if strings.HasSuffix(n, "[]") {
		array = true
		n = strings.TrimSpace(strings.TrimSuffix(n, "[]"))
	}
	// float(p): precision 1-24 → real, 25-53 → double precision.
	if strings.HasPrefix(n, "float(") && strings.HasSuffix(n, ")") {
		p, err := strconv.Atoi(strings.TrimSpace(n[6 : len(n)-1]))
		if err != nil || p < 1 || p > 53 {
			return 0, false
		}
		if p <= 24 {
			return arrayOf(Float4, array)
		}
		return arrayOf(Float8, array)
	}
	// Drop type modifiers: "numeric(10,2)", "timestamp(3) with time zone".
	for {
		i := strings.IndexByte(n, '(')
		if i < 0 {
			break
		}
		j := strings.IndexByte(n[i:], ')')
		if j < 0 {
			return 0, false
		}
		n = n[:i] + n[i+j+1:]
	}
	n = strings.Join(strings.Fields(n), " ")
	var t OID
	switch n {
	case "int", "integer", "int4":
		t = Int4
	case "bigint", "int8":
		t = Int8
	case "smallint", "int2":
		t = Int2
	case "real", "float4":
		t = Float4
	case "double precision", "float8", "float", "double":
		t = Float8
	case "numeric", "decimal":
		t = Numeric
	case "text":
		t = Text
	case "varchar", "character varying":
		t = Varchar
	case "name":
		t = Name
	case "bool", "boolean":
		t = Bool
	case "date":
		t = Date
	case "timestamp", "timestamp without time zone":
		t = Timestamp
	case "timestamptz", "timestamp with time zone":
		t = Timestamptz
	case "interval":
		t = Interval
	case "oid", "regclass", "regtype", "regnamespace", "regrole", "regoper", "regprocedure":
		t = Oid
	case "regproc":
		t = Regproc
	case "json":
		t = JSON
	case "jsonb":
		t = JSONB
	case "bytea":
		t = Bytea
	case "uuid":
		t = UUID
	case `"char"`, "char", "character", "bpchar":
		// NB: SQL's char/character (without quotes) is bpchar; only the
		// quoted "char" is the one-byte type. Quotes were trimmed above, so
		// "char" resolves to bpchar as in CREATE TABLE t (c char(3)).
		t = BPChar
	case "unknown":
		t = UnknownLit
	case "_text":
		return TextArray, !array
	case "_int4":
		return Int4Array, !array
	case "_int2":
		return Int2Array, !array
	case "_oid":
		return OidArray, !array
	case "_name":
		return NameArray, !array
	default:
		return 0, false
	}
	return arrayOf(t, array)
}

func arrayOf(t OID, array bool) (OID, bool) {
	if !array {
		return t, true
	}
	switch t {
	case Text, Varchar:
		return TextArray, true
	case Int4:
		return Int4Array, true
	case Int2:
		return Int2Array, true
	case Oid:
		return OidArray, true
	case Name:
		return NameArray, true
	}
	return 0, false
}
