package pgdialect

import (
	"strconv"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	tidbtypes "github.com/pingcap/tidb/pkg/parser/types"
)

// pgType is a PostgreSQL type name as written in a cast or column
// definition, reduced to PostgreSQL's canonical short name.
type pgType struct {
	name  string   // canonical base name: int4, float8, timestamptz, varchar, bpchar, ...
	mods  []string // type modifiers as written: ["10", "2"] for numeric(10,2)
	array int      // number of [] dimensions
}

// String renders the canonical form used in __lb_cast: name, then
// "(m1,m2)" if there are modifiers, then "[]" per array dimension.
func (t pgType) String() string {
	s := t.name
	if len(t.mods) > 0 {
		s += "(" + strings.Join(t.mods, ",") + ")"
	}
	for i := 0; i < t.array; i++ {
		s += "[]"
	}
	return s
}

// typeAliases maps single-word PostgreSQL type spellings to canonical names.
var typeAliases = map[string]string{
	"bool": "bool", "boolean": "bool",
	"int2": "int2", "smallint": "int2",
	"int4": "int4", "int": "int4", "integer": "int4",
	"int8": "int8", "bigint": "int8",
	"float4": "float4", "real": "float4",
	"float8": "float8", "float": "float8",
	"numeric": "numeric", "decimal": "numeric", "dec": "numeric",
	"text": "text", "varchar": "varchar", "name": "name",
	"char": "bpchar", "character": "bpchar", "bpchar": "bpchar",
	"oid": "oid", "regclass": "regclass", "regtype": "regtype", "regproc": "regproc",
	"regprocedure": "regprocedure", "regnamespace": "regnamespace", "regrole": "regrole",
	"regoper": "regoper", "regoperator": "regoperator", "regconfig": "regconfig",
	"date": "date", "time": "time", "timetz": "timetz",
	"timestamp": "timestamp", "timestamptz": "timestamptz", "interval": "interval",
	"json": "json", "jsonb": "jsonb", "bytea": "bytea", "uuid": "uuid",
	"inet": "inet", "cidr": "cidr", "macaddr": "macaddr", "money": "money", "xml": "xml",
	"bit": "bit", "varbit": "varbit", "tid": "tid", "xid": "xid", "cid": "cid",
	"int2vector": "int2vector", "oidvector": "oidvector", "void": "void",
	"anyarray": "anyarray", "record": "record", "cstring": "cstring", "unknown": "unknown",
	"tsvector": "tsvector", "tsquery": "tsquery", "pg_lsn": "pg_lsn",
}

// parseType reads a type name from nodes[i:]. It returns the type and the
// index after it. ok is false if nodes[i] does not start a type name.
// Unknown single words are accepted only when any is true (after "::" and
// in CAST, where anything is a type name); typed literals need a known name.
func parseType(nodes []*node, i int, any bool) (t pgType, next int, ok bool) {
	if i >= len(nodes) {
		return t, i, false
	}
	// Optional schema qualification: pg_catalog.int4, public.mytype.
	if i+2 < len(nodes) && (nodes[i].kind == nTok && (nodes[i].tok.kind == tkIdent || nodes[i].tok.kind == tkQIdent)) &&
		nodes[i+1].isPunct(".") && nodes[i+2].kind == nTok && (nodes[i+2].tok.kind == tkIdent || nodes[i+2].tok.kind == tkQIdent) {
		i += 2
		any = true
	}
	n := nodes[i]
	if n.kind != nTok {
		return t, i, false
	}
	switch n.tok.kind {
	case tkQIdent:
		// A quoted type name keeps its spelling; "char" is the internal
		// single-byte type, not character(1).
		t.name = n.tok.val
		if !any && n.tok.val != "char" {
			return t, i, false
		}
		i++
	case tkIdent:
		w := n.tok.val
		i++
		nextWord := func(k int) string {
			if k < len(nodes) {
				return nodes[k].word()
			}
			return ""
		}
		switch w {
		case "double":
			if nextWord(i) != "precision" {
				return t, i, false
			}
			t.name = "float8"
			i++
		case "character", "char", "national", "nchar":
			if w == "national" {
				if nw := nextWord(i); nw != "character" && nw != "char" {
					return t, i, false
				}
				i++
			}
			t.name = "bpchar"
			if nextWord(i) == "varying" {
				t.name = "varchar"
				i++
			}
		case "bit":
			t.name = "bit"
			if nextWord(i) == "varying" {
				t.name = "varbit"
				i++
			}
		case "timestamp", "time":
			t.name = w
			if i < len(nodes) && nodes[i].kind == nParen {
				t.mods = modsOf(nodes[i])
				i++
			}
			if (nextWord(i) == "with" || nextWord(i) == "without") && nextWord(i+1) == "time" && nextWord(i+2) == "zone" {
				if nextWord(i) == "with" {
					t.name += "tz"
					if w == "time" {
						t.name = "timetz"
					}
				}
				i += 3
			}
			return withArray(nodes, i, t)
		case "interval":
			t.name = "interval"
			// Interval field qualifiers (YEAR TO MONTH, HOUR, ...) are accepted
			// and dropped: they only restrict which fields are kept.
			for isIntervalField(nextWord(i)) || nextWord(i) == "to" && isIntervalField(nextWord(i+1)) {
				i++
			}
		case "float":
			t.name = "float8"
			if i < len(nodes) && nodes[i].kind == nParen {
				m := modsOf(nodes[i])
				i++
				if len(m) == 1 {
					if p, err := strconv.Atoi(m[0]); err == nil && p >= 1 && p <= 24 {
						t.name = "float4"
					}
				}
			}
			return withArray(nodes, i, t)
		default:
			c, known := typeAliases[w]
			if !known {
				if !any || isBoundaryWord(w) {
					return t, i, false
				}
				c = w
			}
			t.name = c
		}
	default:
		return t, i, false
	}
	if i < len(nodes) && nodes[i].kind == nParen {
		t.mods = modsOf(nodes[i])
		i++
	} else if t.name == "bpchar" && n.tok.kind == tkIdent && n.tok.val != "bpchar" {
		t.mods = []string{"1"} // char and character mean character(1)
	}
	return withArray(nodes, i, t)
}

func withArray(nodes []*node, i int, t pgType) (pgType, int, bool) {
	for i < len(nodes) {
		if nodes[i].kind == nBracket && (len(nodes[i].kids) == 0 || len(nodes[i].kids) == 1 && nodes[i].kids[0].kind == nTok && nodes[i].kids[0].tok.kind == tkNumber) {
			t.array++
			i++
			continue
		}
		if nodes[i].isWord("array") {
			t.array++
			i++
			if i < len(nodes) && nodes[i].kind == nBracket {
				i++
			}
			continue
		}
		break
	}
	return t, i, true
}

func isIntervalField(w string) bool {
	switch w {
	case "year", "month", "day", "hour", "minute", "second":
		return true
	}
	return false
}

// modsOf returns the comma-separated texts of a type-modifier group.
func modsOf(g *node) []string {
	var mods []string
	var cur strings.Builder
	for _, k := range g.kids {
		if k.isPunct(",") {
			mods = append(mods, cur.String())
			cur.Reset()
			continue
		}
		if k.kind == nTok {
			cur.WriteString(k.tok.val)
		} else {
			cur.WriteString("?")
		}
	}
	if cur.Len() > 0 || len(mods) > 0 {
		mods = append(mods, cur.String())
	}
	return mods
}

// SplitCastType splits the canonical type text used in __lb_cast and
// returned by PGTypeOfColumn into its base name, type modifiers and array
// dimensions: "numeric(10,2)" → ("numeric", [10 2], 0); "text[]" →
// ("text", nil, 1). Non-numeric modifiers are returned as -1.
func SplitCastType(s string) (base string, mods []int, arrayDims int) {
	for strings.HasSuffix(s, "[]") {
		arrayDims++
		s = s[:len(s)-2]
	}
	if i := strings.IndexByte(s, '('); i >= 0 && strings.HasSuffix(s, ")") {
		for _, m := range strings.Split(s[i+1:len(s)-1], ",") {
			v, err := strconv.Atoi(strings.TrimSpace(m))
			if err != nil {
				v = -1
			}
			mods = append(mods, v)
		}
		s = s[:i]
	}
	return s, mods, arrayDims
}

// ddlType maps a PostgreSQL column type to the TiDB type text for CREATE
// TABLE. The mapping is a bijection on the supported types so that
// PGTypeOfColumn can invert it from the parsed FieldType.
func ddlType(t pgType) (string, error) {
	if t.array > 0 {
		return "", pgerror.Unsupported("array column type " + t.String())
	}
	mod := func() string {
		if len(t.mods) == 0 {
			return ""
		}
		return "(" + strings.Join(t.mods, ",") + ")"
	}
	intMods := func(max int) error {
		if len(t.mods) > max {
			return pgerror.Newf(pgerror.CodeSyntaxError, "invalid type modifier for type %s", t.name)
		}
		for _, m := range t.mods {
			if _, err := strconv.Atoi(m); err != nil {
				return pgerror.Newf(pgerror.CodeSyntaxError, "type modifiers must be simple constants or identifiers")
			}
		}
		return nil
	}
	switch t.name {
	case "timestamptz", "timestamp", "time", "varchar", "bpchar":
		if err := intMods(1); err != nil {
			return "", err
		}
	case "numeric":
		if err := intMods(2); err != nil {
			return "", err
		}
	default:
		if len(t.mods) > 0 {
			return "", pgerror.Newf(pgerror.CodeSyntaxError, "type modifier is not allowed for type %q", t.name)
		}
	}
	switch t.name {
	case "timestamptz":
		return "TIMESTAMP" + mod(), nil
	case "timestamp":
		return "DATETIME" + mod(), nil
	case "date":
		return "DATE", nil
	case "time":
		return "TIME" + mod(), nil
	case "float8":
		return "DOUBLE", nil
	case "float4":
		return "FLOAT", nil
	case "int8":
		return "BIGINT", nil
	case "int4":
		return "INT", nil
	case "int2":
		return "SMALLINT", nil
	case "bool":
		return "BOOLEAN", nil
	case "text":
		return "TEXT", nil
	case "varchar":
		if len(t.mods) == 0 {
			return "MEDIUMTEXT", nil
		}
		return "VARCHAR" + mod(), nil
	case "bpchar":
		if len(t.mods) == 0 {
			return "CHAR(1)", nil
		}
		return "CHAR" + mod(), nil
	case "numeric":
		return "DECIMAL" + mod(), nil
	case "jsonb":
		return "JSON", nil
	case "bytea":
		return "BLOB", nil
	case "uuid":
		return "BINARY(16)", nil
	}
	switch t.name {
	case "serial", "serial4", "serial8", "bigserial", "smallserial", "serial2":
		return "", pgerror.Unsupported("serial column type " + t.name)
	}
	return "", pgerror.Unsupported("column type " + t.String())
}

// PGTypeOfColumn inverts the CREATE TABLE type mapping: given the TiDB
// FieldType of a column definition produced by Normalize, it returns the
// PostgreSQL type in the canonical form of __lb_cast ("timestamptz",
// "varchar(20)", "numeric(10,2)", "bpchar(3)", ...), or "" if the field
// type is not one the mapping produces.
//
//	TIMESTAMP[(p)]  timestamptz[(p)]     DATETIME[(p)]  timestamp[(p)]
//	DATE            date                 TIME[(p)]      time[(p)]
//	DOUBLE          float8               FLOAT          float4
//	BIGINT          int8                 INT            int4
//	SMALLINT        int2                 BOOLEAN        bool (TINYINT(1))
//	TEXT            text                 MEDIUMTEXT     varchar (no length)
//	VARCHAR(n)      varchar(n)           CHAR(n)        bpchar(n)
//	DECIMAL         numeric              DECIMAL(p[,s]) numeric(p[,s])
//	JSON            jsonb                BLOB           bytea
//	BINARY(16)      uuid
func PGTypeOfColumn(ft *tidbtypes.FieldType) string {
	if ft == nil {
		return ""
	}
	withFsp := func(name string) string {
		if d := ft.GetDecimal(); d >= 0 {
			return name + "(" + strconv.Itoa(d) + ")"
		}
		return name
	}
	switch ft.GetType() {
	case mysql.TypeTimestamp:
		return withFsp("timestamptz")
	case mysql.TypeDatetime:
		return withFsp("timestamp")
	case mysql.TypeDate:
		return "date"
	case mysql.TypeDuration:
		return withFsp("time")
	case mysql.TypeDouble:
		return "float8"
	case mysql.TypeFloat:
		return "float4"
	case mysql.TypeLonglong:
		return "int8"
	case mysql.TypeLong:
		return "int4"
	case mysql.TypeShort:
		return "int2"
	case mysql.TypeTiny:
		return "bool"
	case mysql.TypeBlob:
		if mysql.HasBinaryFlag(ft.GetFlag()) || ft.GetCharset() == "binary" {
			return "bytea"
		}
		return "text"
	case mysql.TypeMediumBlob:
		return "varchar"
	case mysql.TypeVarchar, mysql.TypeVarString:
		if ft.GetFlen() < 0 {
			return "varchar"
		}
		return "varchar(" + strconv.Itoa(ft.GetFlen()) + ")"
	case mysql.TypeString:
		if ft.GetCharset() == "binary" && ft.GetFlen() == 16 {
			return "uuid"
		}
		if ft.GetFlen() < 0 {
			return "bpchar(1)"
		}
		return "bpchar(" + strconv.Itoa(ft.GetFlen()) + ")"
	case mysql.TypeNewDecimal:
		switch {
		case ft.GetFlen() < 0:
			return "numeric"
		case ft.GetDecimal() < 0:
			return "numeric(" + strconv.Itoa(ft.GetFlen()) + ")"
		default:
			return "numeric(" + strconv.Itoa(ft.GetFlen()) + "," + strconv.Itoa(ft.GetDecimal()) + ")"
		}
	case mysql.TypeJSON:
		return "jsonb"
	}
	return ""
}
