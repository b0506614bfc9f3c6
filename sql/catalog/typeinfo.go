package catalog

import (
	"strconv"
	"strings"
	"sync"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/types"
)

// typeInfo is one pg_type row (see typeinfo_data.go).
type typeInfo struct {
	oid        types.OID
	name       string // typname
	len        int16
	byval      bool
	typtype    byte
	category   byte
	preferred  bool
	elem       types.OID
	array      types.OID
	input      string
	output     string
	receive    string
	send       string
	modin      string
	modout     string
	align      byte
	storage    byte
	collation  uint32
	subscript  string
	formatName string // format_type(oid, NULL)
}

// typeIndex is the immutable lookup structure over builtinTypes.
type typeIndex struct {
	list   []typeInfo
	byOID  map[types.OID]*typeInfo
	byName map[string]types.OID // typname and SQL spellings, lower case
}

var typeIndexOnce = sync.OnceValue(func() *typeIndex {
	ti := &typeIndex{list: builtinTypes(), byOID: map[types.OID]*typeInfo{}, byName: map[string]types.OID{}}
	for i := range ti.list {
		t := &ti.list[i]
		ti.byOID[t.oid] = t
		ti.byName[t.name] = t.oid
	}
	for i := range ti.list {
		t := &ti.list[i]
		if _, ok := ti.byName[t.formatName]; !ok {
			ti.byName[t.formatName] = t.oid
		}
	}
	for alias, oid := range map[string]types.OID{
		"int": types.Int4, "integer": types.Int4, "smallint": types.Int2, "bigint": types.Int8,
		"boolean": types.Bool, "real": types.Float4, "float": types.Float8,
		"double precision": types.Float8, "decimal": types.Numeric, "dec": types.Numeric,
		"character varying": types.Varchar, "character": types.BPChar, "char": types.BPChar,
		`"char"`: types.Char, "timestamptz": types.Timestamptz, "timestamp": types.Timestamp,
		"timestamp with time zone": types.Timestamptz, "timestamp without time zone": types.Timestamp,
		"time": 1083, "time without time zone": 1083,
	} {
		ti.byName[alias] = oid
	}
	return ti
})

// lookupType returns the pg_type row of oid.
func lookupType(oid types.OID) (*typeInfo, bool) {
	t, ok := typeIndexOnce().byOID[oid]
	return t, ok
}

// TypeOIDByName resolves a type name as PostgreSQL's regtype input would:
// typnames ("int4", "_text"), SQL spellings ("integer", "timestamp with time
// zone", "character varying"), an optional pg_catalog. prefix, optional
// double quotes, a trailing "[]" for arrays, and a typmod in parentheses,
// which is ignored ("varchar(10)"). Case-insensitive.
func TypeOIDByName(name string) (types.OID, bool) {
	s := strings.ToLower(strings.TrimSpace(name))
	s = strings.TrimPrefix(s, "pg_catalog.")
	array := false
	if strings.HasSuffix(s, "[]") {
		array = true
		s = strings.TrimSpace(strings.TrimSuffix(s, "[]"))
	}
	if i := strings.IndexByte(s, '('); i >= 0 {
		if j := strings.IndexByte(s[i:], ')'); j >= 0 {
			s = strings.TrimSpace(s[:i] + s[i+j+1:])
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 2 && s[0] == '"' && s[len(s)-1] == '"' && s != `"char"` {
		s = s[1 : len(s)-1]
	}
	ti := typeIndexOnce()
	oid, ok := ti.byName[s]
	if !ok {
		return 0, false
	}
	if array {
		t := ti.byOID[oid]
		if t.array == 0 {
			return 0, false
		}
		return t.array, true
	}
	return oid, true
}

// ColumnTypmod returns the PostgreSQL atttypmod of a column: varchar(n) is
// n+4, numeric(p,s) is (p<<16 | s)+4, everything else -1.
func ColumnTypmod(c *shard.Column) int32 {
	switch c.Type {
	case shard.TypeVarchar:
		if c.Width > 0 {
			return int32(c.Width) + 4
		}
	case shard.TypeNumeric:
		if c.Width > 0 {
			return int32(c.Width)<<16 | int32(c.Scale&0xFFFF) + 4
		}
	}
	return -1
}

// FormatType is PostgreSQL's format_type(oid, typmod). typmodNull selects the
// format_type(oid, NULL) spelling, which differs for bpchar ("character"
// instead of "bpchar"). An unknown OID formats as "???", as in PostgreSQL.
func FormatType(oid types.OID, typmod int32, typmodNull bool) string {
	t, ok := lookupType(oid)
	if !ok {
		return "???"
	}
	if t.elem != 0 && t.len == -1 && t.subscript == "array_subscript_handler" && oid != Int2Vector && oid != OidVector {
		return FormatType(t.elem, typmod, typmodNull) + "[]"
	}
	if typmodNull {
		typmod = -1
	}
	// Typmod suffixes follow the types' typmodout functions: a typmod >= 0
	// is "given"; char/varchar print "(n)" only when n > 0.
	lenSuffix := func() string {
		if typmod > 4 {
			return "(" + strconv.Itoa(int(typmod-4)) + ")"
		}
		return ""
	}
	switch oid {
	case types.BPChar:
		if typmod >= 0 {
			return "character" + lenSuffix()
		}
		if typmodNull {
			return "character"
		}
		return "bpchar"
	case types.Varchar:
		if typmod >= 0 {
			return "character varying" + lenSuffix()
		}
	case types.Numeric:
		if typmod >= 4 { // is_valid_numeric_typmod
			tm := typmod - 4
			prec := (tm >> 16) & 0xFFFF
			scale := ((tm & 0x7FF) ^ 1024) - 1024 // sign-extended 11 bits, as in PostgreSQL 15
			return "numeric(" + strconv.Itoa(int(prec)) + "," + strconv.Itoa(int(scale)) + ")"
		}
	case types.Timestamp, types.Timestamptz, 1083:
		if typmod >= 0 {
			base, rest, _ := strings.Cut(t.formatName, " ")
			return base + "(" + strconv.Itoa(int(typmod)) + ") " + rest
		}
	case types.Interval:
		if typmod >= 0 {
			if prec := typmod & 0xFFFF; prec != 0xFFFF {
				return "interval(" + strconv.Itoa(int(prec)) + ")"
			}
		}
	}
	return t.formatName
}

// infoSchemaDataType is information_schema.columns.data_type for a type.
func infoSchemaDataType(oid types.OID) string {
	t, ok := lookupType(oid)
	switch {
	case !ok:
		return "USER-DEFINED"
	case t.elem != 0 && t.len == -1:
		return "ARRAY"
	}
	return FormatType(oid, -1, true)
}
