package catalog

import (
	"context"
	"errors"
	"testing"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

func oidArg(v uint32) types.Datum { return dOID(v) }
func i4(v int) types.Datum        { return dInt4(v) }
func txt(s string) types.Datum    { return dText(s) }
func unk(s string) types.Datum    { return types.Datum{T: types.UnknownLit, S: s} }

func call(t *testing.T, v View, name string, args ...types.Datum) types.Datum {
	t.Helper()
	f, ok := Functions()[name]
	if !ok {
		t.Fatalf("function %s missing", name)
	}
	d, err := f(context.Background(), v, args)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

func TestFunctionResults(t *testing.T) {
	v := newFakeView()
	cpu := uint32(16384)
	for _, c := range []struct {
		name string
		args []types.Datum
		want string
	}{
		{"format_type", []types.Datum{oidArg(1184), i4(-1)}, "timestamp with time zone"},
		{"pg_catalog.format_type", []types.Datum{oidArg(701), i4(-1)}, "double precision"},
		{"format_type", []types.Datum{oidArg(1043), i4(24)}, "character varying(20)"},
		{"format_type", []types.Datum{oidArg(1700), i4(10<<16 | 2 + 4)}, "numeric(10,2)"},
		{"format_type", []types.Datum{oidArg(1184), i4(3)}, "timestamp(3) with time zone"},
		{"format_type", []types.Datum{oidArg(1042), types.NullOf(types.Int4)}, "character"},
		{"format_type", []types.Datum{oidArg(1042), i4(-1)}, "bpchar"},
		{"format_type", []types.Datum{oidArg(1015), i4(14)}, "character varying(10)[]"},
		{"format_type", []types.Datum{oidArg(1009), i4(-1)}, "text[]"},
		{"format_type", []types.Datum{oidArg(18), i4(-1)}, `"char"`},
		{"format_type", []types.Datum{oidArg(99999), i4(-1)}, "???"},
		{"format_type", []types.Datum{unk("23"), unk("-1")}, "integer"},
		{"pg_get_constraintdef", []types.Datum{oidArg(0x50000000)}, `PRIMARY KEY (hostname, region, "time")`},
		{"pg_get_constraintdef", []types.Datum{oidArg(0x50000000), dBool(true)}, `PRIMARY KEY (hostname, region, "time")`},
		{"pg_get_indexdef", []types.Datum{oidArg(0x40000000)}, `CREATE UNIQUE INDEX cpu_pkey ON public.cpu USING btree (hostname, region, "time")`},
		{"pg_get_indexdef", []types.Datum{oidArg(0x40000000), i4(0), dBool(true)}, `CREATE UNIQUE INDEX cpu_pkey ON cpu USING btree (hostname, region, "time")`},
		{"pg_get_indexdef", []types.Datum{oidArg(0x40000000), i4(3), dBool(true)}, `"time"`},
		{"pg_get_indexdef", []types.Datum{oidArg(0x40000001)}, `CREATE UNIQUE INDEX weather_pkey ON public.weather USING btree (location, ts)`},
		{"pg_get_userbyid", []types.Datum{oidArg(10)}, "alice"},
		{"pg_get_userbyid", []types.Datum{oidArg(6171)}, "pg_database_owner"},
		{"pg_get_userbyid", []types.Datum{oidArg(77)}, "unknown (OID=77)"},
		{"pg_encoding_to_char", []types.Datum{i4(6)}, "UTF8"},
		{"pg_table_is_visible", []types.Datum{oidArg(cpu)}, "t"},
		{"pg_table_is_visible", []types.Datum{unk("16384")}, "t"},
		{"pg_table_is_visible", []types.Datum{oidArg(1259)}, "t"},
		{"pg_table_is_visible", []types.Datum{oidArg(13425)}, "f"},
		{"pg_table_is_visible", []types.Datum{oidArg(0x40000000)}, "t"},
		{"pg_table_is_visible", []types.Datum{oidArg(5)}, "NULL"},
		{"array_to_string", []types.Datum{NewStringArray(types.TextArray, "a", "b c"), txt(",")}, "a,b c"},
		{"array_to_string", []types.Datum{types.NullOf(AclitemArray), txt("\n")}, "NULL"},
		{"array_to_string", []types.Datum{types.Datum{T: types.TextArray, S: "{a,NULL,c}"}, txt("-")}, "a-c"},
		{"array_to_string", []types.Datum{types.Datum{T: types.TextArray, S: "{a,NULL,c}"}, txt("-"), txt("*")}, "a-*-c"},
		{"quote_ident", []types.Datum{txt("time")}, `"time"`},
		{"quote_ident", []types.Datum{txt("cpu")}, "cpu"},
		{"quote_ident", []types.Datum{txt("Cpu")}, `"Cpu"`},
		{"quote_ident", []types.Datum{txt(`a"b`)}, `"a""b"`},
		{"quote_ident", []types.Datum{txt("public")}, "public"},
		{"quote_ident", []types.Datum{txt("user")}, `"user"`},
		{"quote_ident", []types.Datum{txt("1x")}, `"1x"`},
		{"current_schema", nil, "public"},
		{"current_schemas", []types.Datum{dBool(true)}, "{pg_catalog,public}"},
		{"current_schemas", []types.Datum{dBool(false)}, "{public}"},
		{"current_database", nil, "metrics"},
		{"current_user", nil, "alice"},
		{"session_user", nil, "alice"},
		{"user", nil, "alice"},
		{"version", nil, VersionString},
		{"pg_backend_pid", nil, "4242"},
		{"current_setting", []types.Datum{txt("server_version_num")}, "150000"},
		{"current_setting", []types.Datum{txt("nope"), dBool(true)}, "NULL"},
		{"obj_description", []types.Datum{oidArg(cpu), txt("pg_class")}, "NULL"},
		{"col_description", []types.Datum{oidArg(cpu), i4(1)}, "NULL"},
		{"pg_get_expr", []types.Datum{types.NullOf(PGNodeTree), oidArg(cpu)}, "NULL"},
		{"pg_get_partkeydef", []types.Datum{oidArg(cpu)}, "NULL"},
		{"has_table_privilege", []types.Datum{oidArg(cpu), txt("SELECT")}, "t"},
		{"has_schema_privilege", []types.Datum{txt("public"), txt("USAGE")}, "t"},
		{"pg_postmaster_start_time", nil, "NULL"},
		{"inet_server_addr", nil, "NULL"},
		{"string_to_array", []types.Datum{txt(`"$user", public`), txt(",")}, `{"\"$user\""," public"}`},
		{"string_to_array", []types.Datum{txt(""), txt(",")}, "{}"},
		{"string_to_array", []types.Datum{txt("a,b"), types.NullOf(types.Text)}, "{a,\",\",b}"},
		{"array_lower", []types.Datum{NewStringArray(types.TextArray, "a", "b"), i4(1)}, "1"},
		{"array_upper", []types.Datum{NewStringArray(types.TextArray, "a", "b"), i4(1)}, "2"},
		{"array_length", []types.Datum{NewStringArray(types.TextArray, "a", "b"), i4(1)}, "2"},
		{"array_length", []types.Datum{NewStringArray(types.TextArray), i4(1)}, "NULL"},
		{"cardinality", []types.Datum{types.Datum{T: types.Int2Array, S: "{2,3,1}"}}, "3"},
		{"parse_ident", []types.Datum{txt(`Public."My Table"`)}, `{public,"My Table"}`},
		{"pg_size_pretty", []types.Datum{dInt8(16384)}, "16 kB"},
		{"pg_size_pretty", []types.Datum{dInt8(100)}, "100 bytes"},
		{"pg_size_pretty", []types.Datum{dInt8(10 << 20)}, "10 MB"},
		{"pg_size_pretty", []types.Datum{dInt8(1 << 40)}, "1024 GB"},
	} {
		got := formatDatum(call(t, v, c.name, c.args...))
		if got != c.want {
			t.Errorf("%s(%v) = %q, want %q", c.name, c.args, got, c.want)
		}
	}
}

func TestFunctionResultTypesMatchDefs(t *testing.T) {
	v := newFakeView()
	// Zero-argument functions must return their declared result type.
	for _, d := range funcDefs() {
		if d.MinArgs != 0 {
			continue
		}
		got, err := d.call(context.Background(), v, nil)
		if err != nil {
			t.Fatalf("%s(): %v", d.Name, err)
		}
		if got.T != d.Result {
			t.Errorf("%s(): type %d, declared %d", d.Name, got.T, d.Result)
		}
	}
	if d, ok := LookupFunc("PG_CATALOG.Format_Type"); !ok || d.Result != types.Text {
		t.Errorf("LookupFunc(format_type) = %+v, %v", d, ok)
	}
}

func TestFunctionErrors(t *testing.T) {
	v := newFakeView()
	fs := Functions()
	code := func(err error) string {
		var pe *pgerror.Error
		if errors.As(err, &pe) {
			return pe.Code
		}
		return ""
	}
	if _, err := fs["format_type"](context.Background(), v, []types.Datum{oidArg(1)}); code(err) != pgerror.CodeUndefinedFunction {
		t.Errorf("format_type with 1 arg: %v", err)
	}
	if _, err := fs["current_setting"](context.Background(), v, []types.Datum{txt("nope")}); code(err) != pgerror.CodeUndefinedObject {
		t.Errorf("current_setting(nope): %v", err)
	}
	if _, err := fs["pg_get_userbyid"](context.Background(), v, []types.Datum{txt("abc")}); code(err) != pgerror.CodeInvalidTextRep {
		t.Errorf("pg_get_userbyid('abc'): %v", err)
	}
	if _, err := fs["parse_ident"](context.Background(), v, []types.Datum{txt(`a.`)}); code(err) != pgerror.CodeInvalidParameterValue {
		t.Errorf("parse_ident('a.'): %v", err)
	}
	// Strict functions return NULL of their result type on NULL input.
	d, err := fs["pg_get_indexdef"](context.Background(), v, []types.Datum{types.NullOf(types.Oid)})
	if err != nil || !d.Null || d.T != types.Text {
		t.Errorf("pg_get_indexdef(NULL) = %+v, %v", d, err)
	}
}

func TestArrayIndex(t *testing.T) {
	arr := NewStringArray(types.TextArray, `"$user"`, " public")
	for i, want := range map[int64]string{0: "NULL", 1: `"$user"`, 2: " public", 3: "NULL"} {
		d, err := ArrayIndex(arr, i)
		if err != nil || formatDatum(d) != want || d.T != types.Text {
			t.Errorf("arr[%d] = %+v, %v; want %q", i, d, err, want)
		}
	}
	d, err := ArrayIndex(types.Datum{T: types.Int2Array, S: "{2,3,1}"}, 2)
	if err != nil || d.T != types.Int2 || d.I != 3 {
		t.Errorf("int2[] subscript = %+v, %v", d, err)
	}
	d, err = ArrayIndex(types.Datum{T: Int2Vector, S: "2 3 1"}, 0)
	if err != nil || d.T != types.Int2 || d.I != 2 {
		t.Errorf("int2vector[0] = %+v, %v", d, err)
	}
}
