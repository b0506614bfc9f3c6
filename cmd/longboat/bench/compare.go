package bench

import (
	"fmt"
	"slices"
	"strings"
)

// Mismatch is one difference between two results of the same query.
type Mismatch struct {
	// Row is the 0-based row index (in A's order for ordered results, in
	// sorted order for multisets); -1 when the mismatch is not about a row.
	Row int
	// Column is the column name ("" when not about one column).
	Column string
	A, B   string
	Msg    string
}

func (m Mismatch) String() string {
	var sb strings.Builder
	sb.WriteString(m.Msg)
	if m.Row >= 0 {
		fmt.Fprintf(&sb, " row %d", m.Row)
	}
	if m.Column != "" {
		fmt.Fprintf(&sb, " column %q", m.Column)
	}
	switch {
	case m.A != "" && m.B != "":
		fmt.Fprintf(&sb, ": a=%s b=%s", m.A, m.B)
	case m.A != "":
		fmt.Fprintf(&sb, ": a=%s", m.A)
	case m.B != "":
		fmt.Fprintf(&sb, ": b=%s", m.B)
	}
	return sb.String()
}

// collector gathers mismatches up to a limit.
type collector struct {
	out []Mismatch
	max int
}

// add records m and reports whether the limit is reached.
func (c *collector) add(m Mismatch) bool {
	c.out = append(c.out, m)
	return c.max > 0 && len(c.out) >= c.max
}

// CompareResults compares a and b of the same sql exactly: column names,
// type OIDs and text values. Without an outermost ORDER BY rows compare as
// sorted multisets; with one, in order, except that rows tied on the ORDER BY
// keys compare as multisets. When an ORDER BY key cannot be mapped to an
// output column, rows compare strictly in order. At most max mismatches are
// returned (all when max <= 0).
func CompareResults(sql string, a, b *Result, max int) []Mismatch {
	c := &collector{max: max}
	compareResults(sql, a, b, c)
	return c.out
}

func compareResults(sql string, a, b *Result, c *collector) {
	if a.Err != nil || b.Err != nil {
		switch {
		case a.Err == nil:
			c.add(Mismatch{Row: -1, Msg: "only b failed", B: b.Err.Code + " " + b.Err.Message})
		case b.Err == nil:
			c.add(Mismatch{Row: -1, Msg: "only a failed", A: a.Err.Code + " " + a.Err.Message})
		case a.Err.Code != b.Err.Code:
			c.add(Mismatch{Row: -1, Msg: "different errors", A: a.Err.Code + " " + a.Err.Message, B: b.Err.Code + " " + b.Err.Message})
		}
		return
	}
	if len(a.Columns) != len(b.Columns) {
		c.add(Mismatch{Row: -1, Msg: "column count", A: fmt.Sprint(len(a.Columns)), B: fmt.Sprint(len(b.Columns))})
		return
	}
	for i := range a.Columns {
		ca, cb := a.Columns[i], b.Columns[i]
		if ca.Name != cb.Name {
			if c.add(Mismatch{Row: -1, Column: ca.Name, Msg: fmt.Sprintf("column %d name", i+1), A: fmt.Sprintf("%q", ca.Name), B: fmt.Sprintf("%q", cb.Name)}) {
				return
			}
		}
		if ca.OID != cb.OID {
			if c.add(Mismatch{Row: -1, Column: ca.Name, Msg: fmt.Sprintf("column %d type OID", i+1), A: fmt.Sprint(ca.OID), B: fmt.Sprint(cb.OID)}) {
				return
			}
		}
	}
	if len(a.Rows) != len(b.Rows) {
		if c.add(Mismatch{Row: -1, Msg: "row count", A: fmt.Sprint(len(a.Rows)), B: fmt.Sprint(len(b.Rows))}) {
			return
		}
	}
	keys, hasOrder, ok := ParseOrderBy(sql)
	if !hasOrder {
		diffSortedGroups(a.Columns, sortedCopy(a.Rows), sortedCopy(b.Rows), 0, c)
		return
	}
	var keyIdx []int
	if ok {
		keyIdx, ok = resolveOrderKeys(keys, a.Columns)
	}
	compareOrdered(a, b, keyIdx, !ok, c)
}

func sortedCopy(rows [][]Cell) [][]Cell {
	c := slices.Clone(rows)
	slices.SortFunc(c, compareRows)
	return c
}

// diffSortedGroups merges two sorted row lists. When both have the same
// length, rows pair up positionally and the first differing column is shown;
// otherwise rows only in a / only in b are listed. It reports whether the
// limit was reached.
func diffSortedGroups(cols []Column, ra, rb [][]Cell, base int, c *collector) bool {
	if len(ra) == len(rb) {
		for i := range ra {
			if compareRows(ra[i], rb[i]) != 0 {
				if c.add(rowMismatch(cols, base+i, ra[i], rb[i])) {
					return true
				}
			}
		}
		return false
	}
	i, j := 0, 0
	for i < len(ra) || j < len(rb) {
		var d int
		switch {
		case i >= len(ra):
			d = 1
		case j >= len(rb):
			d = -1
		default:
			d = compareRows(ra[i], rb[j])
		}
		switch {
		case d == 0:
			i++
			j++
		case d < 0:
			if c.add(Mismatch{Row: base + i, Msg: "row only in a", A: formatRow(ra[i])}) {
				return true
			}
			i++
		default:
			if c.add(Mismatch{Row: base + j, Msg: "row only in b", B: formatRow(rb[j])}) {
				return true
			}
			j++
		}
	}
	return false
}

func rowMismatch(cols []Column, row int, ra, rb []Cell) Mismatch {
	for c := 0; c < len(ra) && c < len(rb); c++ {
		if compareCells(ra[c], rb[c]) != 0 {
			name := fmt.Sprintf("#%d", c+1)
			if c < len(cols) {
				name = cols[c].Name
			}
			return Mismatch{Row: row, Column: name, Msg: "value", A: ra[c].String(), B: rb[c].String()}
		}
	}
	return Mismatch{Row: row, Msg: "row width", A: formatRow(ra), B: formatRow(rb)}
}

func formatRow(r []Cell) string {
	parts := make([]string, len(r))
	for i, c := range r {
		parts[i] = c.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func sameKey(a, b []Cell, keyIdx []int) bool {
	for _, k := range keyIdx {
		if k >= len(a) || k >= len(b) || compareCells(a[k], b[k]) != 0 {
			return false
		}
	}
	return true
}

// groupEnd returns the end of the tie group starting at i.
func groupEnd(rows [][]Cell, i int, keyIdx []int, strict bool) int {
	j := i + 1
	if strict {
		return j
	}
	for j < len(rows) && sameKey(rows[i], rows[j], keyIdx) {
		j++
	}
	return j
}

// compareOrdered walks both results tie group by tie group. Groups must have
// the same keys in the same order; rows inside a group compare as multisets.
// After the first misaligned group it stops: later rows would only repeat
// the same shift.
func compareOrdered(a, b *Result, keyIdx []int, strict bool, c *collector) {
	i, j := 0, 0
	for i < len(a.Rows) && j < len(b.Rows) {
		ei := groupEnd(a.Rows, i, keyIdx, strict)
		ej := groupEnd(b.Rows, j, keyIdx, strict)
		switch {
		case strict:
			if compareRows(a.Rows[i], b.Rows[j]) != 0 {
				if c.add(rowMismatch(a.Columns, i, a.Rows[i], b.Rows[j])) {
					return
				}
			}
		case !sameKey(a.Rows[i], b.Rows[j], keyIdx):
			m := rowMismatch(a.Columns, i, a.Rows[i], b.Rows[j])
			m.Msg = "order/key"
			c.add(m)
			return
		default:
			if diffSortedGroups(a.Columns, sortedCopy(a.Rows[i:ei]), sortedCopy(b.Rows[j:ej]), i, c) || ei-i != ej-j {
				return
			}
		}
		i, j = ei, ej
	}
	// Tail rows of the longer side (the row count was reported already).
	for ; i < len(a.Rows); i++ {
		if c.add(Mismatch{Row: i, Msg: "extra row in a", A: formatRow(a.Rows[i])}) {
			return
		}
	}
	for ; j < len(b.Rows); j++ {
		if c.add(Mismatch{Row: j, Msg: "extra row in b", B: formatRow(b.Rows[j])}) {
			return
		}
	}
}
