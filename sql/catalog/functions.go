package catalog

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// Func is a catalog function. args are already evaluated; the function
// never keeps them. Functions marked Strict in their FuncDef are never called
// with a NULL argument through Functions() (the wrapper returns NULL).
type Func func(ctx context.Context, v View, args []types.Datum) (types.Datum, error)

// FuncDef describes one catalog function for the planner: its result type
// (for RowDescription before execution) and accepted argument counts.
type FuncDef struct {
	Name    string    // lower case, unqualified
	Result  types.OID // result type
	MinArgs int
	MaxArgs int  // -1: variadic
	Strict  bool // NULL in any argument gives NULL without calling Fn
	Fn      Func
}

// Functions returns the catalog functions keyed by lower-case name; each is
// also present under its pg_catalog-qualified name ("pg_catalog.format_type").
// The returned Funcs check their argument count (42883 otherwise) and apply
// strictness.
//
// The map is built afresh on every call and belongs to the caller; build it
// once per session or server, not per statement.
func Functions() map[string]Func {
	defs := funcRegistry().defs
	m := make(map[string]Func, 2*len(defs))
	for _, d := range defs {
		f := d.call
		m[d.Name] = f
		m["pg_catalog."+d.Name] = f
	}
	return m
}

// funcReg is the immutable function registry.
type funcReg struct {
	defs   []FuncDef
	byName map[string]int
}

var funcRegCache struct {
	once sync.Once
	r    *funcReg
}

func funcRegistry() *funcReg {
	funcRegCache.once.Do(func() {
		r := &funcReg{defs: funcDefs(), byName: map[string]int{}}
		for i, d := range r.defs {
			r.byName[d.Name] = i
		}
		funcRegCache.r = r
	})
	return funcRegCache.r
}

// LookupFunc returns the definition of a catalog function by name (case-
// insensitive, optionally pg_catalog-qualified).
func LookupFunc(name string) (FuncDef, bool) {
	name = strings.TrimPrefix(strings.ToLower(name), "pg_catalog.")
	r := funcRegistry()
	i, ok := r.byName[name]
	if !ok {
		return FuncDef{}, false
	}
	return r.defs[i], true
}

// call checks the argument count, applies strictness and runs the function.
func (d FuncDef) call(ctx context.Context, v View, args []types.Datum) (types.Datum, error) {
	if len(args) < d.MinArgs || (d.MaxArgs >= 0 && len(args) > d.MaxArgs) {
		return types.Datum{}, pgerror.Newf(pgerror.CodeUndefinedFunction,
			"function %s with %d arguments does not exist", d.Name, len(args))
	}
	if d.Strict {
		for _, a := range args {
			if a.Null {
				return types.NullOf(d.Result), nil
			}
		}
	}
	return d.Fn(ctx, v, args)
}

// funcDefs lists every catalog function, sorted by name.
func funcDefs() []FuncDef {
	always := func(b bool) Func {
		return func(context.Context, View, []types.Datum) (types.Datum, error) { return dBool(b), nil }
	}
	null := func(t types.OID) Func {
		return func(context.Context, View, []types.Datum) (types.Datum, error) { return types.NullOf(t), nil }
	}
	userFn := func(_ context.Context, v View, _ []types.Datum) (types.Datum, error) {
		return dName(sessionUser(v)), nil
	}
	dbFn := func(_ context.Context, v View, _ []types.Datum) (types.Datum, error) {
		return dName(currentCatalog(v)), nil
	}
	zero8 := func(context.Context, View, []types.Datum) (types.Datum, error) { return dInt8(0), nil }
	return []FuncDef{
		{Name: "array_length", Result: types.Int4, MinArgs: 2, MaxArgs: 2, Strict: true, Fn: fnArrayLength},
		{Name: "array_lower", Result: types.Int4, MinArgs: 2, MaxArgs: 2, Strict: true, Fn: fnArrayLower},
		{Name: "array_to_string", Result: types.Text, MinArgs: 2, MaxArgs: 3, Fn: fnArrayToString},
		{Name: "array_upper", Result: types.Int4, MinArgs: 2, MaxArgs: 2, Strict: true, Fn: fnArrayUpper},
		{Name: "cardinality", Result: types.Int4, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: fnCardinality},
		{Name: "col_description", Result: types.Text, MinArgs: 2, MaxArgs: 2, Fn: null(types.Text)},
		{Name: "current_catalog", Result: types.Name, MinArgs: 0, MaxArgs: 0, Fn: dbFn},
		{Name: "current_database", Result: types.Name, MinArgs: 0, MaxArgs: 0, Fn: dbFn},
		{Name: "current_role", Result: types.Name, MinArgs: 0, MaxArgs: 0, Fn: userFn},
		{Name: "current_schema", Result: types.Name, MinArgs: 0, MaxArgs: 0, Fn: fnCurrentSchema},
		{Name: "current_schemas", Result: types.NameArray, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: fnCurrentSchemas},
		{Name: "current_setting", Result: types.Text, MinArgs: 1, MaxArgs: 2, Strict: true, Fn: fnCurrentSetting},
		{Name: "current_user", Result: types.Name, MinArgs: 0, MaxArgs: 0, Fn: userFn},
		{Name: "format_type", Result: types.Text, MinArgs: 2, MaxArgs: 2, Fn: fnFormatType},
		{Name: "getdatabaseencoding", Result: types.Name, MinArgs: 0, MaxArgs: 0, Fn: constName("UTF8")},
		{Name: "has_any_column_privilege", Result: types.Bool, MinArgs: 2, MaxArgs: 3, Strict: true, Fn: always(true)},
		{Name: "has_column_privilege", Result: types.Bool, MinArgs: 3, MaxArgs: 4, Strict: true, Fn: always(true)},
		{Name: "has_database_privilege", Result: types.Bool, MinArgs: 2, MaxArgs: 3, Strict: true, Fn: always(true)},
		{Name: "has_function_privilege", Result: types.Bool, MinArgs: 2, MaxArgs: 3, Strict: true, Fn: always(true)},
		{Name: "has_schema_privilege", Result: types.Bool, MinArgs: 2, MaxArgs: 3, Strict: true, Fn: always(true)},
		{Name: "has_sequence_privilege", Result: types.Bool, MinArgs: 2, MaxArgs: 3, Strict: true, Fn: always(true)},
		{Name: "has_table_privilege", Result: types.Bool, MinArgs: 2, MaxArgs: 3, Strict: true, Fn: always(true)},
		{Name: "inet_client_addr", Result: Inet, MinArgs: 0, MaxArgs: 0, Fn: fnInetAddr(false)},
		{Name: "inet_client_port", Result: types.Int4, MinArgs: 0, MaxArgs: 0, Fn: fnInetPort(false)},
		{Name: "inet_server_addr", Result: Inet, MinArgs: 0, MaxArgs: 0, Fn: fnInetAddr(true)},
		{Name: "inet_server_port", Result: types.Int4, MinArgs: 0, MaxArgs: 0, Fn: fnInetPort(true)},
		{Name: "obj_description", Result: types.Text, MinArgs: 1, MaxArgs: 2, Fn: null(types.Text)},
		{Name: "parse_ident", Result: types.TextArray, MinArgs: 1, MaxArgs: 2, Strict: true, Fn: fnParseIdent},
		{Name: "pg_backend_pid", Result: types.Int4, MinArgs: 0, MaxArgs: 0, Fn: fnBackendPID},
		{Name: "pg_client_encoding", Result: types.Name, MinArgs: 0, MaxArgs: 0, Fn: constName("UTF8")},
		{Name: "pg_encoding_to_char", Result: types.Name, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: fnEncodingToChar},
		{Name: "pg_function_is_visible", Result: types.Bool, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: always(true)},
		{Name: "pg_get_constraintdef", Result: types.Text, MinArgs: 1, MaxArgs: 2, Strict: true, Fn: fnGetConstraintDef},
		{Name: "pg_get_expr", Result: types.Text, MinArgs: 2, MaxArgs: 3, Strict: true, Fn: fnGetExpr},
		{Name: "pg_get_function_arguments", Result: types.Text, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: constText("")},
		{Name: "pg_get_function_identity_arguments", Result: types.Text, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: constText("")},
		{Name: "pg_get_function_result", Result: types.Text, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: fnGetFunctionResult},
		{Name: "pg_get_indexdef", Result: types.Text, MinArgs: 1, MaxArgs: 3, Strict: true, Fn: fnGetIndexDef},
		{Name: "pg_get_partkeydef", Result: types.Text, MinArgs: 1, MaxArgs: 1, Fn: null(types.Text)},
		{Name: "pg_get_serial_sequence", Result: types.Text, MinArgs: 2, MaxArgs: 2, Fn: null(types.Text)},
		{Name: "pg_get_statisticsobjdef_columns", Result: types.Text, MinArgs: 1, MaxArgs: 1, Fn: null(types.Text)},
		{Name: "pg_get_userbyid", Result: types.Name, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: fnGetUserByID},
		{Name: "pg_get_viewdef", Result: types.Text, MinArgs: 1, MaxArgs: 2, Fn: null(types.Text)},
		{Name: "pg_has_role", Result: types.Bool, MinArgs: 2, MaxArgs: 3, Strict: true, Fn: always(true)},
		{Name: "pg_indexes_size", Result: types.Int8, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: zero8},
		{Name: "pg_is_in_recovery", Result: types.Bool, MinArgs: 0, MaxArgs: 0, Fn: always(false)},
		{Name: "pg_postmaster_start_time", Result: types.Timestamptz, MinArgs: 0, MaxArgs: 0, Fn: fnStartTime},
		{Name: "pg_relation_is_publishable", Result: types.Bool, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: always(false)},
		{Name: "pg_relation_size", Result: types.Int8, MinArgs: 1, MaxArgs: 2, Strict: true, Fn: zero8},
		{Name: "pg_size_pretty", Result: types.Text, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: fnSizePretty},
		{Name: "pg_table_is_visible", Result: types.Bool, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: fnTableIsVisible},
		{Name: "pg_table_size", Result: types.Int8, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: zero8},
		{Name: "pg_tablespace_location", Result: types.Text, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: constText("")},
		{Name: "pg_total_relation_size", Result: types.Int8, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: zero8},
		{Name: "pg_type_is_visible", Result: types.Bool, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: always(true)},
		{Name: "quote_ident", Result: types.Text, MinArgs: 1, MaxArgs: 1, Strict: true, Fn: fnQuoteIdent},
		{Name: "session_user", Result: types.Name, MinArgs: 0, MaxArgs: 0, Fn: userFn},
		{Name: "shobj_description", Result: types.Text, MinArgs: 2, MaxArgs: 2, Fn: null(types.Text)},
		{Name: "string_to_array", Result: types.TextArray, MinArgs: 2, MaxArgs: 3, Fn: fnStringToArray},
		{Name: "user", Result: types.Name, MinArgs: 0, MaxArgs: 0, Fn: userFn},
		{Name: "version", Result: types.Text, MinArgs: 0, MaxArgs: 0, Fn: constText(VersionString)},
	}
}

// VersionString is what version() returns. Clients parse the leading
// "PostgreSQL <major>.<minor>".
const VersionString = "PostgreSQL 15.0 (Longboat) on x86_64-pc-linux-gnu, compiled by Go, 64-bit"

func constText(s string) Func {
	return func(context.Context, View, []types.Datum) (types.Datum, error) { return dText(s), nil }
}

func constName(s string) Func {
	return func(context.Context, View, []types.Datum) (types.Datum, error) { return dName(s), nil }
}

// Argument decoding. Arguments arrive typed as the planner inferred them;
// untyped literals (unknown, text) are accepted wherever PostgreSQL would
// coerce them ('16384' for an oid, 'pg_class' for a regclass is NOT resolved
// here: the planner casts names to regclass with RelationOID).

func errArg(fn string, i int, d types.Datum) error {
	return pgerror.Newf(pgerror.CodeInvalidTextRep, "%s: invalid value %q for argument %d", fn, d.S, i+1)
}

func argInt(fn string, args []types.Datum, i int) (int64, error) {
	d := args[i]
	switch d.T {
	case types.Int2, types.Int4, types.Int8, types.Oid, Regclass, Regtype, Xid, types.Bool:
		return d.I, nil
	case types.Float4, types.Float8:
		return int64(d.F), nil
	case types.Text, types.Varchar, types.Name, types.UnknownLit, types.Unknown, types.Numeric, types.BPChar:
		v, err := strconv.ParseInt(strings.TrimSpace(d.S), 10, 64)
		if err != nil {
			return 0, errArg(fn, i, d)
		}
		return v, nil
	}
	return 0, pgerror.Newf(pgerror.CodeDatatypeMismatch, "%s: argument %d has unsupported type %d", fn, i+1, d.T)
}

func argOID(fn string, args []types.Datum, i int) (uint32, error) {
	v, err := argInt(fn, args, i)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > 0xFFFFFFFF {
		// OIDs may be written as negative int4s.
		if v >= -0x80000000 && v < 0 {
			return uint32(int32(v)), nil
		}
		return 0, pgerror.Newf(pgerror.CodeNumericOutOfRange, "%s: OID %d out of range", fn, v)
	}
	return uint32(v), nil
}

func argBool(fn string, args []types.Datum, i int) (bool, error) {
	d := args[i]
	if d.T == types.Bool {
		return d.Bool(), nil
	}
	switch strings.ToLower(strings.TrimSpace(d.S)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, nil
	case "f", "false", "n", "no", "off", "0":
		return false, nil
	}
	if d.T == types.Int4 || d.T == types.Int8 || d.T == types.Int2 {
		return d.I != 0, nil
	}
	return false, errArg(fn, i, d)
}

func argText(args []types.Datum, i int) string {
	d := args[i]
	switch d.T {
	case types.Int2, types.Int4, types.Int8, types.Oid:
		return strconv.FormatInt(d.I, 10)
	}
	return d.S
}

func fnFormatType(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	if args[0].Null {
		return types.NullOf(types.Text), nil
	}
	oid, err := argOID("format_type", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	typmod, null := int64(-1), args[1].Null
	if !null {
		if typmod, err = argInt("format_type", args, 1); err != nil {
			return types.Datum{}, err
		}
	}
	return dText(FormatType(types.OID(oid), int32(typmod), null)), nil
}

func fnGetUserByID(_ context.Context, v View, args []types.Datum) (types.Datum, error) {
	oid, err := argOID("pg_get_userbyid", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	for _, r := range roles(v) {
		if r.oid == oid {
			return dName(r.name), nil
		}
	}
	return dName("unknown (OID=" + uitoa(oid) + ")"), nil
}

func fnTableIsVisible(_ context.Context, v View, args []types.Datum) (types.Datum, error) {
	oid, err := argOID("pg_table_is_visible", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	r, ok := findRelation(v, oid)
	if !ok {
		return types.NullOf(types.Bool), nil
	}
	return dBool(r.nsp == NamespacePgCatalog || r.nsp == NamespacePublic), nil
}

// fnGetExpr returns the expression text unchanged: Longboat has no node
// trees (adbin, relpartbound, polqual are always NULL), so the only non-NULL
// input is text a client passed itself.
func fnGetExpr(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	return dText(args[0].S), nil
}

// indexDef is pg_get_indexdef for t's primary-key index. pretty drops the
// schema qualification of the table, as PostgreSQL does for relations on
// the search path.
func indexDef(t *shard.Table, pretty bool) string {
	p := pkTable{t}
	idx, tbl := p.names()
	var b strings.Builder
	b.WriteString("CREATE UNIQUE INDEX ")
	b.WriteString(QuoteIdent(idx))
	b.WriteString(" ON ")
	if !pretty {
		b.WriteString("public.")
	}
	b.WriteString(QuoteIdent(tbl))
	b.WriteString(" USING btree (")
	b.WriteString(strings.Join(quoteAll(p.columnNames()), ", "))
	b.WriteString(")")
	return b.String()
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = QuoteIdent(s)
	}
	return out
}

func fnGetIndexDef(_ context.Context, v View, args []types.Datum) (types.Datum, error) {
	oid, err := argOID("pg_get_indexdef", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	kind, id := classifyOID(oid)
	if kind != oidIndex {
		return types.NullOf(types.Text), nil
	}
	t, ok := findUserTable(v, id)
	if !ok || len(pkColumns(t)) == 0 {
		return types.NullOf(types.Text), nil
	}
	col := int64(0)
	if len(args) > 1 {
		if col, err = argInt("pg_get_indexdef", args, 1); err != nil {
			return types.Datum{}, err
		}
	}
	pretty := false
	if len(args) > 2 {
		if pretty, err = argBool("pg_get_indexdef", args, 2); err != nil {
			return types.Datum{}, err
		}
	}
	pk := pkTable{t}
	if col > 0 {
		names := pk.columnNames()
		if col > int64(len(names)) {
			return dText(""), nil
		}
		return dText(QuoteIdent(names[col-1])), nil
	}
	return dText(indexDef(t, pretty)), nil
}

func fnGetConstraintDef(_ context.Context, v View, args []types.Datum) (types.Datum, error) {
	oid, err := argOID("pg_get_constraintdef", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	kind, id := classifyOID(oid)
	if kind != oidConstraint {
		return types.NullOf(types.Text), nil
	}
	t, ok := findUserTable(v, id)
	if !ok || len(pkColumns(t)) == 0 {
		return types.NullOf(types.Text), nil
	}
	return dText("PRIMARY KEY (" + strings.Join(quoteAll(pkTable{t}.columnNames()), ", ") + ")"), nil
}

func fnEncodingToChar(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	n, err := argInt("pg_encoding_to_char", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	switch n {
	case 0:
		return dName("SQL_ASCII"), nil
	case EncodingUTF8:
		return dName("UTF8"), nil
	}
	return dName(""), nil
}

func fnQuoteIdent(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	return dText(QuoteIdent(argText(args, 0))), nil
}

func fnCurrentSchema(context.Context, View, []types.Datum) (types.Datum, error) {
	return dName("public"), nil
}

func fnCurrentSchemas(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	implicit, err := argBool("current_schemas", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	if implicit {
		return NewStringArray(types.NameArray, "pg_catalog", "public"), nil
	}
	return NewStringArray(types.NameArray, "public"), nil
}

func fnCurrentSetting(_ context.Context, v View, args []types.Datum) (types.Datum, error) {
	name := argText(args, 0)
	if val, ok := CurrentSetting(v, name); ok {
		return dText(val), nil
	}
	if len(args) > 1 {
		missingOK, err := argBool("current_setting", args, 1)
		if err != nil {
			return types.Datum{}, err
		}
		if missingOK {
			return types.NullOf(types.Text), nil
		}
	}
	return types.Datum{}, pgerror.Newf(pgerror.CodeUndefinedObject, "unrecognized configuration parameter %q", name)
}

func fnBackendPID(_ context.Context, v View, _ []types.Datum) (types.Datum, error) {
	if p, ok := v.(BackendPIDer); ok {
		return dInt4(int(p.BackendPID())), nil
	}
	return dInt4(0), nil
}

func fnStartTime(_ context.Context, v View, _ []types.Datum) (types.Datum, error) {
	if s, ok := v.(StartTimer); ok {
		return types.NewTimestamptz(s.ServerStartTime()), nil
	}
	return types.NullOf(types.Timestamptz), nil
}

func fnInetAddr(server bool) Func {
	return func(_ context.Context, v View, _ []types.Datum) (types.Datum, error) {
		a, ok := v.(ServerAddresser)
		if !ok {
			return types.NullOf(Inet), nil
		}
		addr, _, ok := a.ClientAddr()
		if server {
			addr, _, ok = a.ServerAddr()
		}
		if !ok {
			return types.NullOf(Inet), nil
		}
		return types.Datum{T: Inet, S: addr}, nil
	}
}

func fnInetPort(server bool) Func {
	return func(_ context.Context, v View, _ []types.Datum) (types.Datum, error) {
		a, ok := v.(ServerAddresser)
		if !ok {
			return types.NullOf(types.Int4), nil
		}
		_, port, ok := a.ClientAddr()
		if server {
			_, port, ok = a.ServerAddr()
		}
		if !ok {
			return types.NullOf(types.Int4), nil
		}
		return dInt4(int(port)), nil
	}
}

func fnGetFunctionResult(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	oid, err := argOID("pg_get_function_result", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	defs := funcRegistry().defs
	if oid < procOIDBase || oid-procOIDBase >= uint32(len(defs)) {
		return types.NullOf(types.Text), nil
	}
	return dText(FormatType(defs[oid-procOIDBase].Result, -1, true)), nil
}

// fnSizePretty is pg_size_pretty(bigint): bytes, kB, MB, GB, TB with
// PostgreSQL's rounding (half up, switching unit at 10240 of the smaller).
func fnSizePretty(_ context.Context, _ View, args []types.Datum) (types.Datum, error) {
	n, err := argInt("pg_size_pretty", args, 0)
	if err != nil {
		return types.Datum{}, err
	}
	return dText(sizePretty(n)), nil
}

func sizePretty(size int64) string {
	abs := func(v int64) int64 {
		if v < 0 {
			return -v
		}
		return v
	}
	const limit = 10 * 1024
	const limit2 = limit*2 - 1
	if abs(size) < limit {
		return strconv.FormatInt(size, 10) + " bytes"
	}
	size >>= 9 // keep one extra bit for rounding
	units := []string{"kB", "MB", "GB", "TB", "PB"}
	for i, u := range units {
		if abs(size) < limit2 || i == len(units)-1 {
			return strconv.FormatInt(halfRounded(size), 10) + " " + u
		}
		size >>= 10
	}
	return ""
}

func halfRounded(x int64) int64 {
	if x >= 0 {
		return (x + 1) / 2
	}
	return (x - 1) / 2
}

// pkTable adapts a user table to indexDef.
type pkTable struct{ t *shard.Table }

func (p pkTable) names() (index, table string) { return pkName(p.t), p.t.Name }

func (p pkTable) columnNames() []string {
	pk := pkColumns(p.t)
	out := make([]string, len(pk))
	for i, c := range pk {
		out[i] = p.t.Columns[c].Name
	}
	return out
}
