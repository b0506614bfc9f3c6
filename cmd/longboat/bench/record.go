package bench

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CPUColumns returns the cpu table's 21 columns in table order.
func CPUColumns() []string {
	return append([]string{
		"time", "hostname", "region", "datacenter", "rack", "os", "arch", "team",
		"service", "service_version", "service_environment",
	}, cpuMetrics()...)
}

const (
	numTags   = 10
	numFields = 10
	numCols   = 1 + numTags + numFields
)

// cpuRow is one parsed CSV record. Null has bit i set when table column i
// (0 = time, which is NOT NULL and never null here) is NULL.
type cpuRow struct {
	Time   time.Time
	Tags   [numTags]string
	Fields [numFields]float64
	Null   uint32
}

// csvLayout maps CSV positions to table columns, from the header line.
type csvLayout struct {
	// colOf[i] is the table column of CSV field i.
	colOf [numCols]int
}

// parseHeader reads the header record: all 21 table columns, in any order.
func parseHeader(rec []string) (csvLayout, error) {
	var l csvLayout
	if len(rec) != numCols {
		return l, fmt.Errorf("header has %d columns, want %d", len(rec), numCols)
	}
	pos := make(map[string]int, numCols)
	for i, c := range CPUColumns() {
		pos[c] = i
	}
	var seen [numCols]bool
	for i, name := range rec {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))
		c, ok := pos[name]
		if !ok {
			return l, fmt.Errorf("unknown column %q in header", name)
		}
		if seen[c] {
			return l, fmt.Errorf("duplicate column %q in header", name)
		}
		seen[c] = true
		l.colOf[i] = c
	}
	return l, nil
}

// parseRecord converts one CSV record. An empty field is NULL, as in
// PostgreSQL's CSV COPY (which cannot tell it from a quoted "" here; the
// TSBS data has neither).
func (l *csvLayout) parseRecord(rec []string, r *cpuRow) error {
	if len(rec) != numCols {
		return fmt.Errorf("record has %d fields, want %d", len(rec), numCols)
	}
	r.Null = 0
	for i, s := range rec {
		c := l.colOf[i]
		switch {
		case c == 0:
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return fmt.Errorf("cannot parse time %q: %w", s, err)
			}
			r.Time = t
		case s == "":
			r.Null |= 1 << c
			if c <= numTags {
				r.Tags[c-1] = ""
			} else {
				r.Fields[c-1-numTags] = 0
			}
		case c <= numTags:
			r.Tags[c-1] = s
		default:
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return fmt.Errorf("cannot parse %s value %q: %w", CPUColumns()[c], s, err)
			}
			r.Fields[c-1-numTags] = f
		}
	}
	return nil
}

// values fills dst (len numCols) with r's values as pgx takes them (the
// tests encode them with pgx to check appendCopyRow).
func (r *cpuRow) values(dst []any) {
	dst[0] = r.Time
	for j := range numTags {
		if r.Null&(1<<(1+j)) != 0 {
			dst[1+j] = nil
		} else {
			dst[1+j] = r.Tags[j]
		}
	}
	for j := range numFields {
		if r.Null&(1<<(1+numTags+j)) != 0 {
			dst[1+numTags+j] = nil
		} else {
			dst[1+numTags+j] = r.Fields[j]
		}
	}
}
