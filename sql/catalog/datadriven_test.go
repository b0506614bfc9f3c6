package catalog

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/longboatdb/longboat/sql/types"
)

// TestDataDriven runs testdata/* against the fake view. Commands:
//
//	rows <schema.relation> cols=a,b,c [where=col=value[,col=value]]
//	    prints the selected columns of the matching rows, "|"-separated
//	func
//	<name>(<arg>, ...)
//	    one call per line; args are 'text', NULL, true/false, or
//	    <integer>::<oid|int4|int8>
//
// Regenerate with go test ./sql/catalog -run TestDataDriven -rewrite.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		v := newFakeView()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "rows":
				return ddRows(t, v, d)
			case "func":
				return ddFuncs(t, v, d)
			}
			d.Fatalf(t, "unknown command %s", d.Cmd)
			return ""
		})
	})
}

func ddRows(t *testing.T, v View, d *datadriven.TestData) string {
	if len(d.CmdArgs) == 0 {
		d.Fatalf(t, "rows needs a relation")
	}
	tbl, ok := Lookup("", d.CmdArgs[0].Key)
	if !ok {
		d.Fatalf(t, "no relation %s", d.CmdArgs[0].Key)
	}
	var cols []string
	where := map[string]string{}
	for _, a := range d.CmdArgs[1:] {
		switch a.Key {
		case "cols":
			for _, c := range a.Vals {
				cols = append(cols, strings.Split(c, ",")...)
			}
		case "where":
			for _, w := range a.Vals {
				k, val, _ := strings.Cut(w, "=")
				where[k] = val
			}
		}
	}
	idx := map[string]int{}
	for i, c := range tbl.Columns {
		idx[c.Name] = i
	}
	if len(cols) == 0 {
		for _, c := range tbl.Columns {
			cols = append(cols, c.Name)
		}
	}
	rows, err := tbl.Rows(context.Background(), v)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	b.WriteString(strings.Join(cols, "|") + "\n")
	n := 0
rowLoop:
	for _, r := range rows {
		for k, val := range where {
			i, ok := idx[k]
			if !ok {
				d.Fatalf(t, "no column %s", k)
			}
			if formatDatum(r[i]) != val {
				continue rowLoop
			}
		}
		vals := make([]string, len(cols))
		for j, c := range cols {
			i, ok := idx[c]
			if !ok {
				d.Fatalf(t, "no column %s", c)
			}
			vals[j] = formatDatum(r[i])
		}
		b.WriteString(strings.Join(vals, "|") + "\n")
		n++
	}
	fmt.Fprintf(&b, "(%d rows)\n", n)
	return b.String()
}

func ddFuncs(t *testing.T, v View, d *datadriven.TestData) string {
	fs := Functions()
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
		line = strings.TrimSpace(line)
		open := strings.IndexByte(line, '(')
		if open < 0 || !strings.HasSuffix(line, ")") {
			d.Fatalf(t, "bad call %q", line)
		}
		name := line[:open]
		var args []types.Datum
		if inner := strings.TrimSpace(line[open+1 : len(line)-1]); inner != "" {
			for _, a := range splitArgs(inner) {
				args = append(args, parseArg(t, d, a))
			}
		}
		f, ok := fs[name]
		if !ok {
			d.Fatalf(t, "no function %s", name)
		}
		res, err := f(context.Background(), v, args)
		if err != nil {
			fmt.Fprintf(&b, "%s -> error: %v\n", line, err)
			continue
		}
		fmt.Fprintf(&b, "%s -> %s\n", line, formatDatum(res))
	}
	return b.String()
}

// splitArgs splits on commas outside single quotes.
func splitArgs(s string) []string {
	var out []string
	inQ := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			inQ = !inQ
		case ',':
			if !inQ {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

func parseArg(t *testing.T, d *datadriven.TestData, a string) types.Datum {
	switch {
	case a == "NULL":
		return types.NullOf(types.Unknown)
	case a == "true" || a == "false":
		return dBool(a == "true")
	case strings.HasPrefix(a, "'") && strings.HasSuffix(a, "'") && len(a) >= 2:
		return dText(strings.ReplaceAll(a[1:len(a)-1], "''", "'"))
	}
	num, typ, ok := strings.Cut(a, "::")
	if !ok {
		d.Fatalf(t, "bad argument %q", a)
	}
	var n int64
	if _, err := fmt.Sscan(num, &n); err != nil {
		d.Fatalf(t, "bad number %q", a)
	}
	switch typ {
	case "oid":
		return types.NewInt(types.Oid, n)
	case "int4":
		return types.NewInt(types.Int4, n)
	case "int8":
		return types.NewInt(types.Int8, n)
	case "text[]":
		d.Fatalf(t, "use 'text' for arrays")
	}
	d.Fatalf(t, "unknown type in %q", a)
	return types.Datum{}
}
