package catalog

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/types"
)

// TestAgainstPostgres compares the emulation with a real PostgreSQL 15
// server. It runs only when LONGBOAT_PG_URL is set, e.g.
//
//	scripts/pg-start.sh 54777 /tmp/pg /dev/null   # or any setup file
//	LONGBOAT_PG_URL=postgres://postgres@127.0.0.1:54777/postgres go test ./sql/catalog -run AgainstPostgres
//
// It checks: every emulated relation's column names and (base) types, the
// keyword list behind quote_ident, format_type over every pg_type row and a
// few typmods, and the pg_type rows themselves.
func TestAgainstPostgres(t *testing.T) {
	url := os.Getenv("LONGBOAT_PG_URL")
	if url == "" {
		t.Skip("LONGBOAT_PG_URL not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()

	t.Run("columns", func(t *testing.T) {
		for _, tbl := range All() {
			rows, err := conn.Query(ctx, `
				SELECT a.attname, CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END
				FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
				WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
				ORDER BY a.attnum`, tbl.Schema+"."+tbl.Name)
			if err != nil {
				t.Fatalf("%s.%s: %v", tbl.Schema, tbl.Name, err)
			}
			var got []Column
			for rows.Next() {
				var c Column
				var oid uint32
				if err := rows.Scan(&c.Name, &oid); err != nil {
					t.Fatal(err)
				}
				c.Type = types.OID(oid)
				if c.Type == types.Regproc {
					c.Type = types.Name // see schema.go
				}
				got = append(got, c)
			}
			rows.Close()
			if len(got) != len(tbl.Columns) {
				t.Errorf("%s.%s: %d columns in PostgreSQL, %d emulated", tbl.Schema, tbl.Name, len(got), len(tbl.Columns))
				continue
			}
			for i := range got {
				if got[i] != tbl.Columns[i] {
					t.Errorf("%s.%s column %d: PostgreSQL %+v, emulated %+v", tbl.Schema, tbl.Name, i+1, got[i], tbl.Columns[i])
				}
			}
		}
	})

	t.Run("keywords", func(t *testing.T) {
		rows, err := conn.Query(ctx, `SELECT word, catcode FROM pg_get_keywords()`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var word, cat string
			if err := rows.Scan(&word, &cat); err != nil {
				t.Fatal(err)
			}
			n++
			if got, want := isQuotedKeyword(word), cat != "U"; got != want {
				t.Errorf("keyword %q (category %s): quoted=%v", word, cat, got)
			}
		}
		if n < 400 {
			t.Errorf("only %d keywords", n)
		}
	})

	t.Run("format_type", func(t *testing.T) {
		for _, ti := range typeIndexOnce().list {
			for _, tm := range []*int32{nil, ptr(-1), ptr(4 + 10), ptr(3), ptr(4), ptr(0), ptr(10<<16 | 2 + 4)} {
				if elem := ti.oid; (elem == types.Interval || ti.elem == types.Interval) && tm != nil && *tm >= 0 {
					continue // PostgreSQL rejects most interval typmods
				}
				var want string
				if err := conn.QueryRow(ctx, `SELECT format_type($1, $2)`, uint32(ti.oid), tm).Scan(&want); err != nil {
					t.Fatal(err)
				}
				typmod, null := int32(-1), tm == nil
				if tm != nil {
					typmod = *tm
				}
				if got := FormatType(ti.oid, typmod, null); got != want && (tm == nil || *tm == -1 || relevantTypmod(ti.oid)) {
					t.Errorf("format_type(%d, %v) = %q, PostgreSQL says %q", ti.oid, fmtTypmod(tm), got, want)
				}
			}
		}
	})

	t.Run("quote_ident", func(t *testing.T) {
		for _, s := range []string{"cpu", "time", "Cpu", `a"b`, "user", "x1", "_", "1x", "été", "select", "value", "name", "type", "$x", "a$"} {
			var want string
			if err := conn.QueryRow(ctx, `SELECT quote_ident($1)`, s).Scan(&want); err != nil {
				t.Fatal(err)
			}
			if got := QuoteIdent(s); got != want {
				t.Errorf("quote_ident(%q) = %q, PostgreSQL says %q", s, got, want)
			}
		}
	})
}

func ptr(v int32) *int32 { return &v }

func fmtTypmod(p *int32) any {
	if p == nil {
		return "NULL"
	}
	return *p
}

// relevantTypmod reports whether Longboat formats typmods of this type
// (others are only checked for NULL and -1).
func relevantTypmod(oid types.OID) bool {
	switch oid {
	case types.Varchar, types.BPChar, types.Numeric, types.Timestamp, types.Timestamptz, 1083:
		return true
	}
	return false
}

// diffView exposes one table, lb_diff, that TestAgainstPostgresTable also
// creates in PostgreSQL.
type diffView struct{ fakeView }

func (diffView) Tables(uint32) []shard.Table {
	return []shard.Table{{
		ID: 9, Database: 1, Name: "lb_diff",
		Columns: []shard.Column{
			{Name: "time", Type: shard.TypeTimestamptz, NotNull: true},
			{Name: "host", Type: shard.TypeText},
			{Name: "Region", Type: shard.TypeVarchar, Width: 20},
			{Name: "f8", Type: shard.TypeFloat8},
			{Name: "f4", Type: shard.TypeFloat4},
			{Name: "i8", Type: shard.TypeInt8},
			{Name: "i4", Type: shard.TypeInt4},
			{Name: "i2", Type: shard.TypeInt2},
			{Name: "b", Type: shard.TypeBool},
			{Name: "v", Type: shard.TypeVarchar},
			{Name: "n", Type: shard.TypeNumeric, Width: 12, Scale: 3},
			{Name: "n2", Type: shard.TypeNumeric},
			{Name: "d", Type: shard.TypeDate},
			{Name: "ts", Type: shard.TypeTimestamp},
		},
		TimeCol: 0,
		Tags:    []int{1, 2},
	}}
}

const diffDDL = `CREATE TABLE lb_diff (time timestamptz NOT NULL, host text, "Region" varchar(20),
	f8 double precision, f4 real, i8 bigint, i4 integer, i2 smallint, b boolean, v varchar,
	n numeric(12,3), n2 numeric, d date, ts timestamp, PRIMARY KEY (host, "Region", time))`

func TestAgainstPostgresTable(t *testing.T) {
	url := os.Getenv("LONGBOAT_PG_URL")
	if url == "" {
		t.Skip("LONGBOAT_PG_URL not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS lb_diff`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, diffDDL); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.Exec(context.Background(), `DROP TABLE IF EXISTS lb_diff`) }()
	var pgTable, pgIndex, pgCon uint32
	if err := conn.QueryRow(ctx, `SELECT 'lb_diff'::regclass::oid, 'lb_diff_pkey'::regclass::oid,
		(SELECT oid FROM pg_constraint WHERE conname = 'lb_diff_pkey')`).Scan(&pgTable, &pgIndex, &pgCon); err != nil {
		t.Fatal(err)
	}
	v := &diffView{*newFakeView()}
	tbl := &v.Tables(1)[0]

	// compare runs query (text results, one row per line) in PostgreSQL and
	// matches it against the emulated relation's rows rendered by render.
	compare := func(what, query string, args []any, got []string) {
		t.Helper()
		rows, err := conn.Query(ctx, query, args...)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var want []string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, fmtValues(vals))
		}
		rows.Close()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s differs\nemulated:\n%s\npostgres:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	cols := []string{"column_name", "ordinal_position", "is_nullable", "data_type", "character_maximum_length",
		"character_octet_length", "numeric_precision", "numeric_precision_radix", "numeric_scale",
		"datetime_precision", "udt_name", "collation_name", "dtd_identifier", "is_updatable"}
	var got []string
	for _, r := range scan(t, v, "information_schema", "columns") {
		if r["table_name"].S == "lb_diff" {
			got = append(got, fmtRow(r, cols))
		}
	}
	compare("information_schema.columns", `SELECT `+strings.Join(cols, ", ")+` FROM information_schema.columns
		WHERE table_name = 'lb_diff' ORDER BY ordinal_position`, nil, got)

	acols := []string{"attname", "atttypid", "attlen", "attnum", "atttypmod", "attbyval", "attalign",
		"attstorage", "attnotnull", "atthasdef", "attidentity", "attgenerated", "attisdropped", "attcollation"}
	got = nil
	for _, r := range scan(t, v, "pg_catalog", "pg_attribute") {
		if r["attrelid"].I == int64(TableOID(tbl)) {
			got = append(got, fmtRow(r, acols))
		}
	}
	pgCols := strings.NewReplacer("attalign", "attalign::text", "attstorage", "attstorage::text",
		"attidentity", "attidentity::text", "attgenerated", "attgenerated::text").Replace(strings.Join(acols, ", "))
	compare("pg_attribute (table)", `SELECT `+pgCols+` FROM pg_attribute
		WHERE attrelid = $1 AND attnum > 0 ORDER BY attnum`, []any{pgTable}, got)
	got = nil
	for _, r := range scan(t, v, "pg_catalog", "pg_attribute") {
		if r["attrelid"].I == int64(IndexOID(tbl)) {
			got = append(got, fmtRow(r, []string{"attname", "atttypid", "attnum", "atttypmod", "attcollation"}))
		}
	}
	compare("pg_attribute (index)", `SELECT attname, atttypid, attnum, atttypmod, attcollation FROM pg_attribute
		WHERE attrelid = $1 AND attnum > 0 ORDER BY attnum`, []any{pgIndex}, got)

	icols := []string{"indnatts", "indnkeyatts", "indisunique", "indisprimary", "indisclustered", "indisvalid",
		"indkey", "indcollation", "indclass", "indoption"}
	got = nil
	for _, r := range scan(t, v, "pg_catalog", "pg_index") {
		got = append(got, fmtRow(r, icols))
	}
	compare("pg_index", `SELECT `+strings.Join(icols, ", ")+`::text FROM pg_index WHERE indrelid = $1`, []any{pgTable}, got)

	ccols := []string{"conname", "contype", "condeferrable", "condeferred", "convalidated", "conkey", "confupdtype", "conislocal", "connoinherit"}
	got = nil
	for _, r := range scan(t, v, "pg_catalog", "pg_constraint") {
		got = append(got, fmtRow(r, ccols))
	}
	compare("pg_constraint", `SELECT conname, contype::text, condeferrable, condeferred, convalidated, conkey::text,
		confupdtype::text, conislocal, connoinherit FROM pg_constraint WHERE conrelid = $1`, []any{pgTable}, got)

	fs := Functions()
	fn := func(name string, args ...types.Datum) string {
		d, err := fs[name](ctx, v, args)
		if err != nil {
			t.Fatal(err)
		}
		return formatDatum(d)
	}
	got = []string{
		fn("pg_get_indexdef", dOID(IndexOID(tbl))) + "|" +
			fn("pg_get_indexdef", dOID(IndexOID(tbl)), dInt4(0), dBool(true)) + "|" +
			fn("pg_get_indexdef", dOID(IndexOID(tbl)), dInt4(2), dBool(true)) + "|" +
			fn("pg_get_constraintdef", dOID(ConstraintOID(tbl)), dBool(true)),
	}
	compare("index/constraint defs", `SELECT pg_get_indexdef($1), pg_get_indexdef($1, 0, true),
		pg_get_indexdef($1, 2, true), pg_get_constraintdef($2, true)`, []any{pgIndex, pgCon}, got)
}

func fmtRow(r map[string]types.Datum, cols []string) string {
	vals := make([]string, len(cols))
	for i, c := range cols {
		vals[i] = formatDatum(r[c])
	}
	return strings.Join(vals, "|")
}

func fmtValues(vals []any) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			out[i] = "NULL"
		case bool:
			out[i] = "f"
			if x {
				out[i] = "t"
			}
		default:
			out[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(out, "|")
}
