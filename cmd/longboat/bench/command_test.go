package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTargets(t *testing.T) {
	ts, err := parseTargets([]string{
		"longboat=postgres://u@127.0.0.1:5433/longboat",
		"postgres=postgres://postgres@127.0.0.1:5432/tsbs?sslmode=disable",
		"pg2=postgres://postgres@127.0.0.1:5432/tsbs2",
	}, []string{"pg2=postgres"}, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3 || ts[0].Schema != SchemaLongboat || ts[1].Schema != SchemaPostgres || ts[2].Schema != SchemaPostgres {
		t.Fatalf("schemas: %+v %+v %+v", ts[0], ts[1], ts[2])
	}
	if ts[1].URL != "postgres://postgres@127.0.0.1:5432/tsbs?sslmode=disable" || ts[0].cfg.Port != 5433 || ts[0].cfg.Database != "longboat" {
		t.Fatalf("urls: %+v", ts[1])
	}
	if ts[0].cfg.RuntimeParams["timezone"] != "UTC" {
		t.Fatal("timezone not set")
	}
	all, err := parseTargets([]string{"a=postgres://x@h/db"}, []string{"postgres"}, "")
	if err != nil || all[0].Schema != SchemaPostgres {
		t.Fatalf("schema for all: %v %v", all, err)
	}
	bare, err := parseTargets([]string{"postgres://x@h/db"}, nil, "")
	if err != nil || bare[0].Name != "t1" {
		t.Fatalf("bare URL: %v %v", bare, err)
	}
	for _, bad := range [][]string{
		nil,
		{"a=postgres://x@h/db", "a=postgres://x@h/db"},
		{"a=notaurl://"},
	} {
		if _, err := parseTargets(bad, nil, ""); err == nil {
			t.Fatalf("no error for %v", bad)
		}
	}
	if _, err := parseTargets([]string{"a=postgres://x@h/db"}, []string{"b=postgres"}, ""); err == nil {
		t.Fatal("no error for --schema of an unknown target")
	}
	if _, err := parseTargets([]string{"a=postgres://x@h/db"}, []string{"a=mysql"}, ""); err == nil {
		t.Fatal("no error for unknown dialect")
	}
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("postgres://u:secret@h:1/db"); strings.Contains(got, "secret") {
		t.Fatalf("password leaked: %s", got)
	}
	if got := redactURL("postgres://u@h:1/db"); got != "postgres://u@h:1/db" {
		t.Fatalf("changed: %s", got)
	}
}

func TestQueryTypesAndFiles(t *testing.T) {
	if got, _ := ParseQueryTypes("all"); len(got) != 15 {
		t.Fatalf("all: %d types", len(got))
	}
	if got, _ := ParseQueryTypes("none"); got != nil {
		t.Fatalf("none: %v", got)
	}
	got, err := ParseQueryTypes("lastpoint, high-cpu-1,lastpoint")
	if err != nil || len(got) != 2 || got[0] != "lastpoint" || got[1] != "high-cpu-1" {
		t.Fatalf("list: %v %v", got, err)
	}
	if _, err := ParseQueryTypes("lastpoint,nope"); err == nil {
		t.Fatal("no error for unknown type")
	}
	qs, err := ParseQueryFile(strings.NewReader("-- comment\nSELECT 1;\n\n  SELECT 2  \n"))
	if err != nil || len(qs) != 2 || qs[0] != "SELECT 1" || qs[1] != "SELECT 2" {
		t.Fatalf("file: %q %v", qs, err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "queries"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "queries", "lastpoint.sql"), []byte("SELECT 1\nSELECT 2\nSELECT 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sets, err := LoadQuerySets(dir, []string{"lastpoint"}, 2)
	if err != nil || len(sets) != 1 || len(sets[0].Queries) != 2 {
		t.Fatalf("sets: %v %v", sets, err)
	}
	if _, err := LoadQuerySets(dir, []string{"high-cpu-1"}, 2); err == nil {
		t.Fatal("no error for a missing file")
	}
}

func TestFindModuleRoot(t *testing.T) {
	wd, _ := os.Getwd()
	root, ok := findModuleRoot(wd)
	if !ok || filepath.Base(filepath.Dir(filepath.Dir(wd))) != "cmd" && root == "" {
		t.Fatalf("root %q from %s", root, wd)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	if _, ok := findModuleRoot(t.TempDir()); ok {
		t.Fatal("found a module root in an empty temp dir")
	}
}

func TestHumanBytesAndDirSize(t *testing.T) {
	if humanBytes(512) != "512 B" || humanBytes(1536) != "1.5 KiB" || humanBytes(3<<30) != "3.0 GiB" {
		t.Fatal(humanBytes(512), humanBytes(1536), humanBytes(3<<30))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, 100<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := DirSize(dir)
	if err != nil || n < 100<<10 {
		t.Fatalf("DirSize = %d, %v", n, err)
	}
	if _, err := DirSize(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("no error for a missing dir")
	}
}
