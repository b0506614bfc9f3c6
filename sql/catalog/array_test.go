package catalog

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestParseArray(t *testing.T) {
	f := func(in string, want []ArrayElem) {
		t.Helper()
		got, err := ParseArray(in)
		if err != nil {
			t.Fatalf("ParseArray(%q): %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ParseArray(%q) = %+v, want %+v", in, got, want)
		}
	}
	s := func(ss ...string) []ArrayElem {
		out := []ArrayElem{}
		for _, x := range ss {
			if x == "<null>" {
				out = append(out, ArrayElem{Null: true})
				continue
			}
			out = append(out, ArrayElem{S: x})
		}
		return out
	}
	f("{}", s())
	f(" { } ", s())
	f("{a}", s("a"))
	f("{1,2,3}", s("1", "2", "3"))
	f("{ a , b }", s("a", "b"))
	f(`{"a b","",NULL,"NULL",null}`, s("a b", "", "<null>", "NULL", "<null>"))
	f(`{"x\"y","p\\q"}`, s(`x"y`, `p\q`))
	f(`{a\,b,\NULL}`, s("a,b", "NULL"))
	f(`{"$user", public}`, s("$user", "public"))
	f(`{a\ }`, s("a "))

	for _, bad := range []string{"", "a", "{", "{a", "{a,}", "{,a}", `{"a}`, "{a}x", `{a"b}`, "{{1},{2}}", "[1:2]={a,b}", `{a\`} {
		if got, err := ParseArray(bad); err == nil {
			t.Errorf("ParseArray(%q) = %+v, want error", bad, got)
		}
	}
}

func TestFormatArray(t *testing.T) {
	f := func(want string, es ...ArrayElem) {
		t.Helper()
		if got := FormatArray(es); got != want {
			t.Fatalf("FormatArray(%+v) = %q, want %q", es, got, want)
		}
	}
	f("{}")
	f("{a,b}", ArrayElem{S: "a"}, ArrayElem{S: "b"})
	f(`{"a b","NULL","","x\"y","p\\q",NULL}`,
		ArrayElem{S: "a b"}, ArrayElem{S: "NULL"}, ArrayElem{S: ""}, ArrayElem{S: `x"y`}, ArrayElem{S: `p\q`}, ArrayElem{Null: true})
}

func TestArrayRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab ,{}\"\\NULnul\t1")
	for iter := 0; iter < 5000; iter++ {
		es := make([]ArrayElem, rng.IntN(5))
		for i := range es {
			if rng.IntN(6) == 0 {
				es[i] = ArrayElem{Null: true}
				continue
			}
			b := make([]byte, rng.IntN(6))
			for j := range b {
				b[j] = alphabet[rng.IntN(len(alphabet))]
			}
			es[i] = ArrayElem{S: string(b)}
		}
		text := FormatArray(es)
		got, err := ParseArray(text)
		if err != nil {
			t.Fatalf("ParseArray(FormatArray(%+v) = %q): %v", es, text, err)
		}
		if len(es) == 0 {
			es = []ArrayElem{}
		}
		if !reflect.DeepEqual(got, es) {
			t.Fatalf("round trip of %+v via %q gave %+v", es, text, got)
		}
	}
}

func FuzzParseArray(f *testing.F) {
	for _, s := range []string{"{}", "{a,b}", `{"a b",NULL,""}`, `{a\,b}`, "{{1}}", "[1:1]={a}", `{"x\"y"}`, " {a , b } "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ParseArray(s)
		if err != nil {
			return
		}
		// Whatever parses must survive a format/parse round trip.
		again, err := ParseArray(FormatArray(es))
		if err != nil {
			t.Fatalf("reparse of %q: %v", FormatArray(es), err)
		}
		if !reflect.DeepEqual(again, es) {
			t.Fatalf("%q: parsed %+v, round trip %+v", s, es, again)
		}
	})
}

func TestParseIdent(t *testing.T) {
	f := func(in string, strict bool, want ...string) {
		t.Helper()
		got, err := ParseIdent(in, strict)
		if err != nil {
			t.Fatalf("ParseIdent(%q): %v", in, err)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("ParseIdent(%q) = %q, want %q", in, got, want)
		}
	}
	f("public", true, "public")
	f("Public.CPU", true, "public", "cpu")
	f(`"My ""T""".x`, true, `My "T"`, "x")
	f(` a . b `, true, "a", "b")
	f("a.b()", false, "a", "b")
	for _, bad := range []string{"", ".", "a.", `"a`, `""`, "a b", "1a", "a.b()"} {
		if got, err := ParseIdent(bad, true); err == nil {
			t.Errorf("ParseIdent(%q) = %q, want error", bad, got)
		}
	}
}

func FuzzParseIdent(f *testing.F) {
	for _, s := range []string{"a", "A.b", `"x y".z`, `"a""b"`, " a . b ", "a.", `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts, err := ParseIdent(s, true)
		if err != nil {
			return
		}
		quoted := make([]string, len(parts))
		for i, p := range parts {
			quoted[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
		}
		again, err := ParseIdent(strings.Join(quoted, "."), true)
		if err != nil || !reflect.DeepEqual(again, parts) {
			t.Fatalf("%q: parts %q, requoted round trip %q, %v", s, parts, again, err)
		}
	})
}

func TestQuoteIdentRoundTrip(t *testing.T) {
	for _, s := range []string{"cpu", "time", "Cpu", `a"b`, "user", "x1", "_", "1x", "été", "select"} {
		parts, err := ParseIdent(QuoteIdent(s), true)
		if err != nil || len(parts) != 1 || parts[0] != s {
			t.Errorf("QuoteIdent(%q) = %q does not parse back: %q, %v", s, QuoteIdent(s), parts, err)
		}
	}
}
