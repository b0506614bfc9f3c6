// Package pgdialect is Longboat's PostgreSQL front end: it turns the SQL
// that PostgreSQL clients send into either a TiDB AST (parsed by
// github.com/pingcap/tidb/pkg/parser in ANSI_QUOTES | PIPES_AS_CONCAT |
// NO_BACKSLASH_ESCAPES mode) or a "utility" statement that Longboat handles
// itself (BEGIN, SET, SHOW, COPY, CREATE DATABASE, ...).
//
// # Pipeline
//
//	query string ──Split──▶ statements ──Normalize──▶ *Result
//
//	Normalize(stmt):
//	  tokenize ──▶ utility? ──yes──▶ Result{Kind: KindUtility, Utility: *Set, ...}
//	     │             no
//	     ▼
//	  buildTree: tokens grouped by ( ), [ ] and CASE ... END
//	     │
//	     ▼
//	  rewrite, one nesting level at a time (children first), passes in
//	  PostgreSQL precedence order:
//	    prefix   CAST(), EXTRACT(), date_part(), ARRAY[..], ARRAY(subq),
//	             OPERATOR(..), typed literals, current_user & co., COLLATE,
//	             ISNULL/NOTNULL, ON CONFLICT/RETURNING/FILTER (0A000)
//	    DISTINCT ON
//	    postfix  x::type, x[i]                      (binds tightest)
//	    AT TIME ZONE
//	    ^        power(a, b)
//	    generic  ~ ~* !~ !~*, ||, & | << >> #, unknown operators
//	    ANY/ALL  x op ANY(array)
//	    IS [NOT] DISTINCT FROM
//	    ORDER BY ... NULLS FIRST|LAST, LIMIT/OFFSET/FETCH, functions in FROM,
//	    quoting of TiDB-reserved identifiers
//	     │
//	     ▼
//	  emit Rewritten text + segment map (rewritten offset → original offset)
//	     │
//	     ▼
//	  TiDB parser ──▶ Result{Kind: KindQuery, Stmt: ast.StmtNode}
//
// Operand bounds follow PostgreSQL's grammar precedences (gram.y): the
// operand of a binary operator extends left and right over operators that
// bind tighter, so `a - b::int` casts only b, `'x' || a + 1` concatenates
// (a + 1), and `a + 1 IS DISTINCT FROM b * 2` compares the two sums. A
// rewritten construct becomes a single operand for the passes after it.
//
// # Conventions the planner relies on
//
// Identifiers: unquoted names are folded to lower case; quoted names keep
// their case and stay double-quoted, so the planner uses the original
// spelling (CIStr.O) everywhere. TiDB-reserved words that PostgreSQL allows
// as names (key, index, usage, rank, interval, ...) are emitted quoted.
//
//	PostgreSQL                           TiDB input
//	$n                                   __lb_param(n)
//	x::t, CAST(x AS t), t 'lit'          __lb_cast(x, 'canonical')
//	interval '2' hour                    __lb_cast('2 hour', 'interval')
//	extract(f FROM x), date_part('f', x) __lb_extract('f', x)       f lower-cased
//	SELECT DISTINCT ON (a, b) rest       SELECT DISTINCT __lb_distinct_on(a, b), rest
//	ORDER BY e [ASC|DESC] NULLS FIRST    ORDER BY __lb_nulls(e, 'first') [ASC|DESC]
//	OFFSET n (no LIMIT)                  LIMIT 18446744073709551615 OFFSET n
//	LIMIT ALL, LIMIT NULL                (dropped)
//	OFFSET n ROWS FETCH FIRST m ROWS ONLY LIMIT m OFFSET n
//	LIMIT $3 OFFSET $2                   LIMIT ? OFFSET ?   Result.LimitParams = [3 2] and each
//	                                     ParamMarkerExpr's Order = n-1 ($n = Order+1)
//	E'..', U&'..', $$..$$, $t$..$t$, N'' '..' (quotes doubled, backslashes literal)
//	a ~ b, a ~* b, a !~ b, a !~* b       __lb_regex(a, '~', b), __lb_regex(a, '~*', b), ... (operator as 2nd argument)
//	OPERATOR(pg_catalog.~)               the operator itself
//	a ~~ b (and ~~*, !~~, !~~*)          (a LIKE b), (a ILIKE b), (a NOT LIKE b), ...
//	a || b                               (a || b) with operands parenthesised as PostgreSQL groups them
//	a ^ b                                power(a, b)
//	a # b                                (a ^ b)      (XOR)
//	a @> b, a && b, j -> k, any other    __lb_op(a, '@>', b)
//	a IS DISTINCT FROM b                 __lb_is_distinct(a, b)
//	a IS NOT DISTINCT FROM b             (NOT __lb_is_distinct(a, b))
//	COLLATE x                            (dropped)
//	ARRAY[a, b], nested [..]             __lb_array(a, b)
//	ARRAY(SELECT ...)                    __lb_array_subquery((SELECT ...))
//	x op ANY|SOME (arr), x op ALL (arr)  __lb_any(x, 'op', arr), __lb_all(x, 'op', arr)
//	x op ANY (SELECT ...)                unchanged (TiDB parses subquery ANY/ALL)
//	x[i]                                 __lb_subscript(x, i)
//	x AT TIME ZONE z                     __lb_at_time_zone(x, z)
//	user, current_user, session_user,    __lb_current_user()
//	current_role (bare)
//	current_schema (bare)                current_schema()
//	current_catalog                      current_database()
//	ISNULL, NOTNULL                      IS NULL, IS NOT NULL
//	FROM f(args) [AS] a [(c)]            FROM (SELECT __lb_srf('f', args) AS "c") AS "a"
//	                                     (c defaults to a, a to the function name;
//	                                     schema qualifiers such as pg_catalog. dropped)
//	numeric literal over 60 characters   __lb_cast('digits', 'numeric')
//
// DISTINCT ON: TiDB accepts `SELECT DISTINCT __lb_distinct_on(a), *`, so the
// marker is simply the first select field; its arguments are the DISTINCT ON
// expressions and the remaining fields are the real select list.
//
// # Canonical type names
//
// __lb_cast's second argument is PostgreSQL's short type name: bool, int2,
// int4, int8, float4, float8, numeric, text, varchar, name, oid, regclass,
// regtype, date, time, timetz, timestamp, timestamptz, interval, json,
// jsonb, bytea, uuid, bpchar, "char" (the quoted single-byte type) — with
// type modifiers in parentheses and one "[]" per array dimension:
// 'varchar(20)', 'numeric(10,2)', 'timestamp(3)', 'text[]'. char and
// character without a length are 'bpchar(1)', as in PostgreSQL. Multi-word
// spellings (double precision, timestamp with time zone, character
// varying(20), timestamp(3) without time zone) and schema qualifiers
// (pg_catalog.int4) are recognised; unknown names pass through lower-cased.
// SplitCastType splits the text into base name, modifiers and dimensions.
//
// # CREATE TABLE
//
// Column types are rewritten to TiDB types by a bijection that
// PGTypeOfColumn inverts from the parsed FieldType:
//
//	timestamptz[(p)] TIMESTAMP[(p)]   timestamp[(p)] DATETIME[(p)]
//	date             DATE             time[(p)]      TIME[(p)]
//	float8, double precision, float   DOUBLE
//	float4, real     FLOAT            int8, bigint   BIGINT
//	int4, int, integer INT            int2, smallint SMALLINT
//	bool, boolean    BOOLEAN          text           TEXT
//	varchar(n)       VARCHAR(n)       varchar        MEDIUMTEXT (unbounded)
//	char(n)          CHAR(n)          char           CHAR(1)
//	numeric(p[,s])   DECIMAL(p[,s])   numeric        DECIMAL (unspecified)
//	jsonb            JSON             bytea          BLOB
//	uuid             BINARY(16)
//
// serial types, arrays, json, interval and other types are 0A000.
// PRIMARY KEY (inline or as a constraint), NOT NULL, DEFAULT expressions,
// UNIQUE and CHECK pass through; COLLATE is dropped; GENERATED, temporary
// tables, PARTITION BY and INHERITS are 0A000. WITH (k = v, ...) after the
// column list is removed and returned in Result.TableOptions.
//
// CREATE INDEX without a name gets PostgreSQL's default name
// (table_col1_col2_idx, _key for UNIQUE); CONCURRENTLY, ONLY, USING method
// and WITH (...) are dropped; expression key parts are parenthesised as
// TiDB requires. DROP INDEX, which names no table in PostgreSQL, is the
// utility *DropIndex.
//
// # Utility statements
//
// BEGIN/START TRANSACTION [modes] → *Begin; COMMIT/END → *Commit;
// ROLLBACK/ABORT → *Rollback; SET/RESET → *Set; SHOW → *Show (SHOW TABLES →
// *ShowTables, a utility rather than TiDB's ShowStmt); DISCARD → *Discard;
// DEALLOCATE → *Deallocate; CREATE/DROP DATABASE → *CreateDatabase /
// *DropDatabase; DROP INDEX → *DropIndex; COPY ... FROM STDIN → *Copy.
// Savepoints, COPY TO, COPY FROM a file, LISTEN/NOTIFY and SQL-level
// PREPARE/EXECUTE are 0A000. EXPLAIN [ANALYZE] SELECT and SHOW-free DML/DDL
// go to TiDB (KindQuery).
//
// # Errors and positions
//
// Syntax errors are 42601 with PostgreSQL's 1-based character Position in
// the original statement ("syntax error at or near "WHERE"", "syntax error
// at end of input" at length+1). Errors from TiDB are located through the
// rest-of-input text TiDB reports and mapped back with the segment map;
// Result.MapPos does the same for errors found later (unknown column, ...).
// Unsupported constructs are 0A000 naming the construct.
//
// # Concurrency and cost
//
// Normalize is safe for concurrent use: TiDB parsers are not, so they are
// pooled (sync.Pool). A TSBS query normalises and parses in well under a
// millisecond (see BenchmarkNormalize).
//
// # Known gaps
//
// Aggregate FILTER, WITHIN GROUP, ORDER BY inside aggregate arguments,
// SIMILAR TO, array slices, bit-string literals and WITH ORDINALITY are
// 0A000. Bitwise & | << >> keep TiDB's relative precedence among
// themselves. Column alias lists are only supported for table functions.
package pgdialect
