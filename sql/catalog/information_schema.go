package catalog

import (
	"context"
	"strconv"

	"github.com/longboatdb/longboat/sql/types"
)

// currentCatalog is the SQL catalog name: the current database's name.
func currentCatalog(v View) string {
	if db := v.CurrentDatabase(); db != nil {
		return db.Name
	}
	return ""
}

func isSchemata(_ context.Context, v View, rs *rowSet) error {
	cat := currentCatalog(v)
	for _, s := range []struct{ name, owner string }{
		{"information_schema", sessionUser(v)},
		{"pg_catalog", sessionUser(v)},
		{"public", "pg_database_owner"},
	} {
		rs.add().
			set("catalog_name", dName(cat)).
			set("schema_name", dName(s.name)).
			set("schema_owner", dName(s.owner))
	}
	return nil
}

func isTables(_ context.Context, v View, rs *rowSet) error {
	cat := currentCatalog(v)
	for _, r := range relations(v) {
		if r.kind == 'i' {
			continue
		}
		typ := "BASE TABLE"
		if r.kind == 'v' {
			typ = "VIEW"
		}
		rs.add().
			set("table_catalog", dName(cat)).
			set("table_schema", dName(nspName(r.nsp))).
			set("table_name", dName(r.name)).
			set("table_type", dVarchar(typ)).
			set("is_insertable_into", dYesNo(r.kind == 'r')).
			set("is_typed", dYesNo(false))
	}
	return nil
}

func isColumns(_ context.Context, v View, rs *rowSet) error {
	cat := currentCatalog(v)
	for _, r := range relations(v) {
		if r.kind == 'i' {
			continue
		}
		for i, c := range r.cols {
			ti, ok := lookupType(c.typ)
			udt := ""
			if ok {
				udt = ti.name
			}
			row := rs.add().
				set("table_catalog", dName(cat)).
				set("table_schema", dName(nspName(r.nsp))).
				set("table_name", dName(r.name)).
				set("column_name", dName(c.name)).
				set("ordinal_position", dInt4(i+1)).
				set("is_nullable", dYesNo(!c.notNull)).
				set("data_type", dVarchar(infoSchemaDataType(c.typ))).
				set("udt_catalog", dName(cat)).
				set("udt_schema", dName("pg_catalog")).
				set("udt_name", dName(udt)).
				set("dtd_identifier", dName(strconv.Itoa(i+1))).
				set("is_self_referencing", dYesNo(false)).
				set("is_identity", dYesNo(false)).
				set("identity_cycle", dYesNo(false)).
				set("is_generated", dVarchar("NEVER")).
				set("is_updatable", dYesNo(r.kind == 'r'))
			if ok && ti.collation == CollationC {
				row.set("collation_catalog", dName(cat)).
					set("collation_schema", dName("pg_catalog")).
					set("collation_name", dName("C"))
			}
			setColumnPrecision(row, c)
		}
	}
	return nil
}

// setColumnPrecision fills the length/precision columns of
// information_schema.columns as PostgreSQL's _pg_char_max_length,
// _pg_numeric_precision and friends compute them.
func setColumnPrecision(row row, c relCol) {
	switch c.typ {
	case types.Varchar, types.BPChar:
		if c.typmod >= 4 {
			n := int(c.typmod - 4)
			row.set("character_maximum_length", dInt4(n)).set("character_octet_length", dInt4(n*4))
		} else {
			row.set("character_octet_length", dInt4(1073741824))
		}
	case types.Text:
		row.set("character_octet_length", dInt4(1073741824))
	case types.Int2:
		row.set("numeric_precision", dInt4(16)).set("numeric_precision_radix", dInt4(2)).set("numeric_scale", dInt4(0))
	case types.Int4:
		row.set("numeric_precision", dInt4(32)).set("numeric_precision_radix", dInt4(2)).set("numeric_scale", dInt4(0))
	case types.Int8:
		row.set("numeric_precision", dInt4(64)).set("numeric_precision_radix", dInt4(2)).set("numeric_scale", dInt4(0))
	case types.Float4:
		row.set("numeric_precision", dInt4(24)).set("numeric_precision_radix", dInt4(2))
	case types.Float8:
		row.set("numeric_precision", dInt4(53)).set("numeric_precision_radix", dInt4(2))
	case types.Numeric:
		row.set("numeric_precision_radix", dInt4(10))
		if c.typmod >= 4 {
			tm := c.typmod - 4
			row.set("numeric_precision", dInt4(int((tm>>16)&0xFFFF))).set("numeric_scale", dInt4(int(int16(tm&0xFFFF))))
		}
	case types.Date:
		row.set("datetime_precision", dInt4(0))
	case types.Timestamp, types.Timestamptz, types.Interval, 1083:
		p := 6
		if c.typmod >= 0 && c.typ != types.Interval {
			p = int(c.typmod)
		}
		row.set("datetime_precision", dInt4(p))
	}
}

func isTableConstraints(_ context.Context, v View, rs *rowSet) error {
	cat := currentCatalog(v)
	ts := userTables(v)
	for i := range ts {
		t := &ts[i]
		if len(pkColumns(t)) == 0 {
			continue
		}
		rs.add().
			set("constraint_catalog", dName(cat)).
			set("constraint_schema", dName("public")).
			set("constraint_name", dName(pkName(t))).
			set("table_catalog", dName(cat)).
			set("table_schema", dName("public")).
			set("table_name", dName(t.Name)).
			set("constraint_type", dVarchar("PRIMARY KEY")).
			set("is_deferrable", dYesNo(false)).
			set("initially_deferred", dYesNo(false)).
			set("enforced", dYesNo(true))
	}
	return nil
}

func isKeyColumnUsage(_ context.Context, v View, rs *rowSet) error {
	cat := currentCatalog(v)
	ts := userTables(v)
	for i := range ts {
		t := &ts[i]
		for pos, c := range pkColumns(t) {
			rs.add().
				set("constraint_catalog", dName(cat)).
				set("constraint_schema", dName("public")).
				set("constraint_name", dName(pkName(t))).
				set("table_catalog", dName(cat)).
				set("table_schema", dName("public")).
				set("table_name", dName(t.Name)).
				set("column_name", dName(t.Columns[c].Name)).
				set("ordinal_position", dInt4(pos+1))
		}
	}
	return nil
}
