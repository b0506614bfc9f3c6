// Package types defines Longboat's SQL value model: PostgreSQL type OIDs, the
// Datum value carried through planning, execution and the wire, and the text
// and binary encodings PostgreSQL clients expect for each type.
//
// A Datum is a small value struct (no interface boxing): rows are []Datum and
// batches are [][]Datum, so the executor never allocates per value for
// fixed-width types.
//
// Representation by type (field of Datum that holds the value):
//
//	bool                 I (0 or 1)
//	int2, int4, int8     I
//	oid                  I
//	float4, float8       F (float4 values are rounded to float32 precision)
//	numeric              S (canonical decimal text, e.g. "12.50", "NaN")
//	text, varchar, name  S
//	date                 I (days since 1970-01-01)
//	timestamp            I (microseconds since 1970-01-01 00:00:00, no zone)
//	timestamptz          I (microseconds since 1970-01-01 00:00:00 UTC)
//	interval             I (microseconds), X (months<<32 | uint32(days))
//	unknown              S (an untyped literal or parameter in text form)
//
// Null is true for SQL NULL whatever the type.
//
// Additional representation rules (codecs in this package):
//
//	bytea                S (raw bytes)
//	uuid                 S (canonical lower-case text with hyphens)
//	json, jsonb          S (JSON text)
//	text[], name[],      S (PostgreSQL text form, e.g. {a,"b c",NULL});
//	int2[], int4[], oid[]  binary form is array_send (array.go)
//	date/timestamp(tz)   I == InfinityUs / NegInfinityUs (MaxInt64 / MinInt64)
//	                     for 'infinity' / '-infinity'
//
// Codecs (format.go, parse.go):
//
//	FormatText / ParseText      PostgreSQL 15 output/input functions with
//	                            DateStyle "ISO, MDY", TimeZone UTC,
//	                            IntervalStyle postgres, extra_float_digits 1
//	FormatBinary / ParseBinary  PostgreSQL send/recv formats (timestamps as
//	                            int64 µs since 2000-01-01, numeric base 10000)
//	TypeName / TypeLen / OIDByName, Compare (total order, NULLs last), Cast.
//
// The goldens in testdata/parse are checked against a real PostgreSQL 15 by
// TestDifferentialPostgres when LONGBOAT_TEST_PGURL is set.
package types
