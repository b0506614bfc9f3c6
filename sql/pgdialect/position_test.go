package pgdialect

import "testing"

// TestRelationPosition checks the positions PostgreSQL 15 reports for
// "relation ... does not exist" (each statement was run on PostgreSQL).
func TestRelationPosition(t *testing.T) {
	f := func(stmt, schema, name string, want int) {
		t.Helper()
		if got := RelationPosition(stmt, schema, name); got != want {
			t.Errorf("RelationPosition(%q, %q, %q) = %d, want %d", stmt, schema, name, got, want)
		}
	}
	f("SELECT * FROM nosuch", "", "nosuch", 15)
	f("select nosuch from nosuch", "", "nosuch", 20)
	f("SELECT a, nosuch FROM t, nosuch", "", "nosuch", 26)
	f(`SELECT 1 FROM "NoSuch"`, "", "NoSuch", 15)
	f("SELECT 1 FROM NoSuch", "", "nosuch", 15)
	f("SELECT 1 FROM t JOIN public.nosuch ON true", "public", "nosuch", 22)
	f("SELECT 'from nosuch' FROM nosuch", "", "nosuch", 27)
	f("INSERT INTO nosuch VALUES (1)", "", "nosuch", 13)
	f("SELECT 1 FROM (SELECT 2 FROM nosuch) s", "", "nosuch", 30)
	f("SELECT é FROM nosuch", "", "nosuch", 15)
	f("SELECT 1", "", "nosuch", 0)
	f("SELECT 1 FROM 'unterminated", "", "nosuch", 0)
}

// TestColumnPosition checks the positions PostgreSQL 15 reports for
// "column ... does not exist".
func TestColumnPosition(t *testing.T) {
	f := func(stmt, qual, name string, want int) {
		t.Helper()
		if got := ColumnPosition(stmt, qual, name); got != want {
			t.Errorf("ColumnPosition(%q, %q, %q) = %d, want %d", stmt, qual, name, got, want)
		}
	}
	f("SELECT nosuch FROM node_metrics", "", "nosuch", 8)
	f("select w.nosuch from weather w", "w", "nosuch", 8)
	f("SELECT a FROM t WHERE nosuch > 1", "", "nosuch", 23)
	f("SELECT 'nosuch', nosuch FROM t", "", "nosuch", 18)
	f("SELECT nosuch() , nosuch FROM t", "", "nosuch", 19)
	f(`SELECT "NoSuch" FROM t`, "", "NoSuch", 8)
	f("SELECT 1", "", "nosuch", 0)
}
