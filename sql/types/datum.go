package types

// OID is a PostgreSQL type OID.
type OID uint32

// The PostgreSQL type OIDs Longboat knows.
const (
	Unknown     OID = 0 // also the OID sent for parameters whose type cannot be inferred
	Bool        OID = 16
	Bytea       OID = 17
	Name        OID = 19
	Int8        OID = 20
	Int2        OID = 21
	Int4        OID = 23
	Text        OID = 25
	Oid         OID = 26
	JSON        OID = 114
	Float4      OID = 700
	Float8      OID = 701
	UnknownLit  OID = 705 // PostgreSQL's "unknown" pseudo-type; never sent as a parameter type
	Varchar     OID = 1043
	Date        OID = 1082
	Timestamp   OID = 1114
	Timestamptz OID = 1184
	Interval    OID = 1186
	Numeric     OID = 1700
	UUID        OID = 2950
	JSONB       OID = 3802
	TextArray   OID = 1009
	Int4Array   OID = 1007
	Int2Array   OID = 1005
	OidArray    OID = 1028
	NameArray   OID = 1003
	Char        OID = 18
	Regproc     OID = 24
	BPChar      OID = 1042
	Void        OID = 2278 // result of functions called for their effect (pg_sleep); text "" and binary empty
)

// Datum is one SQL value. See the package documentation for which field holds
// the value of each type. The zero Datum is an untyped NULL only if Null is
// set; construct values with the helpers below.
type Datum struct {
	T    OID
	Null bool
	I    int64
	F    float64
	S    string
	X    int64 // interval: months<<32 | uint32(days)
}

// NullOf returns the NULL of type t.
func NullOf(t OID) Datum { return Datum{T: t, Null: true} }

// NewBool returns a bool datum.
func NewBool(b bool) Datum {
	if b {
		return Datum{T: Bool, I: 1}
	}
	return Datum{T: Bool}
}

// NewInt returns an integer datum of type t (Int2, Int4, Int8 or Oid).
func NewInt(t OID, v int64) Datum { return Datum{T: t, I: v} }

// NewFloat8 returns a float8 datum.
func NewFloat8(v float64) Datum { return Datum{T: Float8, F: v} }

// NewText returns a text datum.
func NewText(s string) Datum { return Datum{T: Text, S: s} }

// NewTimestamptz returns a timestamptz datum from microseconds since the Unix epoch.
func NewTimestamptz(us int64) Datum { return Datum{T: Timestamptz, I: us} }

// NewTimestamp returns a timestamp (without time zone) datum from microseconds since the Unix epoch.
func NewTimestamp(us int64) Datum { return Datum{T: Timestamp, I: us} }

// NewInterval returns an interval datum.
func NewInterval(months, days int32, us int64) Datum {
	return Datum{T: Interval, I: us, X: int64(months)<<32 | int64(uint32(days))}
}

// IntervalParts splits an interval datum into months, days and microseconds.
func (d Datum) IntervalParts() (months, days int32, us int64) {
	return int32(d.X >> 32), int32(uint32(d.X)), d.I
}

// Bool reports the value of a bool datum.
func (d Datum) Bool() bool { return d.I != 0 }
