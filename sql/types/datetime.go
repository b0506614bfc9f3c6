package types

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// Time constants. Datum timestamps count microseconds from the Unix epoch;
// PostgreSQL's binary formats count from 2000-01-01.
const (
	usPerSec    = int64(1_000_000)
	usPerMinute = 60 * usPerSec
	usPerHour   = 60 * usPerMinute
	usPerDay    = 24 * usPerHour

	// pgEpochDays is 2000-01-01 in days since 1970-01-01.
	pgEpochDays = int64(10957)
	// pgEpochUs is 2000-01-01 00:00:00 UTC in microseconds since the Unix epoch.
	pgEpochUs = pgEpochDays * usPerDay

	// Range of valid timestamps, as PostgreSQL: 4714-11-24 BC .. 294276-12-31 AD.
	// minTimestampUs is 4714-11-24 00:00:00 BC (Julian day 0), PostgreSQL's minimum.
	minTimestampUs = int64(-210866803200000000)
	// maxTimestampUs is the last microsecond of the last whole day representable
	// as int64 Unix microseconds (294247-01-09). PostgreSQL goes to 294276 AD
	// but counts from 2000; the difference is a documented gap.
	maxTimestampUs = int64(106751991)*usPerDay - 1
	minDateDays    = int64(-2440588)   // 4714-11-24 BC
	maxDateDays    = int64(2145042905) // 5874897-12-31
)

// Infinity sentinels for timestamp, timestamptz and date datums.
const (
	InfinityUs    = int64(math.MaxInt64)
	NegInfinityUs = int64(math.MinInt64)
)

// daysFromCivil returns days since 1970-01-01 of the proleptic Gregorian date
// y-m-d (y may be <= 0: year 0 is 1 BC). Howard Hinnant's algorithm.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	var era int64
	if y >= 0 {
		era = y / 400
	} else {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	var era int64
	if z >= 0 {
		era = z / 146097
	} else {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// floorDiv returns floor(a/b) and the non-negative remainder for b > 0.
func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}

func appendPadded(dst []byte, v int64, width int) []byte {
	var buf [24]byte
	i := len(buf)
	if v < 0 {
		v = -v
	}
	for v > 0 || len(buf)-i < width {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[i:]...)
}

// appendDate appends y-m-d in ISO style; BC suffix handled by the caller.
func appendYMD(dst []byte, y, m, d int64) []byte {
	if y <= 0 {
		y = 1 - y
	}
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, m, 2)
	dst = append(dst, '-')
	return appendPadded(dst, d, 2)
}

// appendFraction appends ".ffffff" with trailing zeros trimmed, or nothing
// for zero. us must be in [0, 1e6).
func appendFraction(dst []byte, us int64) []byte {
	if us == 0 {
		return dst
	}
	var buf [7]byte
	buf[0] = '.'
	for i := 6; i >= 1; i-- {
		buf[i] = byte('0' + us%10)
		us /= 10
	}
	n := 7
	for buf[n-1] == '0' {
		n--
	}
	return append(dst, buf[:n]...)
}

// appendTimestamp appends a timestamp in DateStyle ISO; withTZ adds "+00".
func appendTimestamp(dst []byte, us int64, withTZ bool) []byte {
	switch us {
	case InfinityUs:
		return append(dst, "infinity"...)
	case NegInfinityUs:
		return append(dst, "-infinity"...)
	}
	days, rem := floorDiv(us, usPerDay)
	y, m, d := civilFromDays(days)
	dst = appendYMD(dst, y, m, d)
	dst = append(dst, ' ')
	dst = appendPadded(dst, rem/usPerHour, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, rem/usPerMinute%60, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, rem/usPerSec%60, 2)
	dst = appendFraction(dst, rem%usPerSec)
	if withTZ {
		dst = append(dst, "+00"...)
	}
	if y <= 0 {
		dst = append(dst, " BC"...)
	}
	return dst
}

func appendDate(dst []byte, days int64) []byte {
	switch days {
	case InfinityUs:
		return append(dst, "infinity"...)
	case NegInfinityUs:
		return append(dst, "-infinity"...)
	}
	y, m, d := civilFromDays(days)
	dst = appendYMD(dst, y, m, d)
	if y <= 0 {
		dst = append(dst, " BC"...)
	}
	return dst
}

// dtScanner is a tiny cursor over a date/time literal.
type dtScanner struct {
	s string
	i int
}

func (p *dtScanner) eof() bool { return p.i >= len(p.s) }

func (p *dtScanner) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *dtScanner) skipSpaces() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// digits reads a run of decimal digits, returning the value and the count.
func (p *dtScanner) digits() (v int64, n int) {
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		if v < math.MaxInt64/10-10 {
			v = v*10 + int64(p.s[p.i]-'0')
		} else {
			v = math.MaxInt64 / 2 // overflow marker: out of range later
		}
		p.i++
		n++
	}
	return v, n
}

// fractionUs reads ".ddd" (the dot already consumed) and returns
// microseconds. Like PostgreSQL it converts the fraction with strtod and
// rounds with rint (half to even on the double value).
func (p *dtScanner) fractionUs() (int64, bool) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i == start {
		return 0, true
	}
	f, err := strconv.ParseFloat("0."+p.s[start:p.i], 64)
	if err != nil {
		return 0, false
	}
	return int64(math.RoundToEven(f * 1e6)), true
}

type dtKind int

const (
	dtTimestamp dtKind = iota
	dtTimestamptz
	dtDate
)

func (k dtKind) typeName() string {
	switch k {
	case dtTimestamptz:
		return "timestamp with time zone"
	case dtDate:
		return "date"
	}
	return "timestamp without time zone"
}

func errDatetimeSyntax(k dtKind, s string) error {
	return pgerror.Newf(pgerror.CodeInvalidDatetimeFormat, "invalid input syntax for type %s: %q", k.typeName(), s)
}

func errDatetimeRange(s string) error {
	return pgerror.Newf(pgerror.CodeDatetimeFieldOverflow, "date/time field value out of range: %q", s)
}

// parseDateTime parses a date, timestamp or timestamptz literal and returns
// microseconds since the Unix epoch in UTC (for dtDate: days). Zones are
// applied for timestamptz and ignored for timestamp, as PostgreSQL does.
func parseDateTime(k dtKind, s string) (int64, error) {
	orig := s
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "infinity", "+infinity":
		return InfinityUs, nil
	case "-infinity":
		return NegInfinityUs, nil
	case "epoch":
		return 0, nil
	}
	p := dtScanner{s: s}
	y, ny := p.digits()
	if ny == 0 {
		return 0, errDatetimeSyntax(k, orig)
	}
	var m, d int64
	if ny == 8 && (p.eof() || p.peek() == ' ' || p.peek() == 'T' || p.peek() == 't') {
		// YYYYMMDD
		y, m, d = y/10000, y/100%100, y%100
	} else {
		sep := p.peek()
		if sep != '-' && sep != '/' && sep != '.' {
			return 0, errDatetimeSyntax(k, orig)
		}
		p.i++
		var nm, nd int
		m, nm = p.digits()
		if nm == 0 || p.peek() != sep {
			return 0, errDatetimeSyntax(k, orig)
		}
		p.i++
		d, nd = p.digits()
		if nd == 0 {
			return 0, errDatetimeSyntax(k, orig)
		}
		if ny <= 2 && nd >= 3 {
			// MM/DD/YYYY (DateStyle MDY).
			y, m, d = d, y, m
		}
	}
	var hh, mi, ss, frac int64
	hasTime := false
	tzSeen := false
	var tzOffsetSec int64
	bc := false
	// Time part: 'T' or spaces then HH:MM[:SS[.f]].
	if !p.eof() {
		save := p.i
		if c := p.peek(); c == 'T' || c == 't' {
			p.i++
		} else {
			p.skipSpaces()
		}
		if c := p.peek(); c >= '0' && c <= '9' {
			var n int
			hh, n = p.digits()
			if n == 0 || n > 2 || p.peek() != ':' {
				return 0, errDatetimeSyntax(k, orig)
			}
			p.i++
			mi, n = p.digits()
			if n != 2 {
				return 0, errDatetimeSyntax(k, orig)
			}
			if p.peek() == ':' {
				p.i++
				ss, n = p.digits()
				if n != 2 {
					return 0, errDatetimeSyntax(k, orig)
				}
				if p.peek() == '.' {
					p.i++
					frac, _ = p.fractionUs()
				}
			}
			hasTime = true
		} else {
			p.i = save
		}
	}
	// Zone and era.
	for !p.eof() {
		p.skipSpaces()
		if p.eof() {
			break
		}
		c := p.peek()
		switch {
		case (c == '+' || c == '-') && !tzSeen:
			p.i++
			sign := int64(1)
			if c == '-' {
				sign = -1
			}
			h, n := p.digits()
			var mm, sec int64
			switch {
			case n == 4:
				h, mm = h/100, h%100
			case n == 6:
				h, mm, sec = h/10000, h/100%100, h%100
			case n == 1 || n == 2:
				if p.peek() == ':' {
					p.i++
					var n2 int
					mm, n2 = p.digits()
					if n2 != 2 {
						return 0, errDatetimeSyntax(k, orig)
					}
					if p.peek() == ':' {
						p.i++
						sec, n2 = p.digits()
						if n2 != 2 {
							return 0, errDatetimeSyntax(k, orig)
						}
					}
				}
			default:
				return 0, errDatetimeSyntax(k, orig)
			}
			if h > 15 || mm > 59 || sec > 59 {
				return 0, errDatetimeRange(orig)
			}
			tzOffsetSec = sign * (h*3600 + mm*60 + sec)
			tzSeen = true
		case isAlpha(c):
			start := p.i
			for !p.eof() && (isAlpha(p.peek()) || p.peek() == '/' || p.peek() == '_') {
				p.i++
			}
			word := s[start:p.i]
			lw := strings.ToLower(word)
			switch {
			case lw == "bc":
				bc = true
			case lw == "ad":
			case (lw == "z" || lw == "utc" || lw == "gmt" || lw == "zulu" || lw == "ut") && !tzSeen:
				tzSeen = true
				// UTC/GMT may be followed by an offset, e.g. "UTC+3"; not supported.
			case !tzSeen && strings.Contains(word, "/"):
				loc, err := time.LoadLocation(word)
				if err != nil {
					return 0, pgerror.Newf(pgerror.CodeInvalidParameterValue, "time zone %q not recognized", word)
				}
				if !hasTime && k == dtDate {
					tzSeen = true
					continue
				}
				// Offset at that local wall time.
				yy := y
				if bc {
					yy = 1 - y
				}
				t := time.Date(int(yy), time.Month(m), int(d), int(hh), int(mi), int(ss), 0, loc)
				_, off := t.Zone()
				tzOffsetSec = int64(off)
				tzSeen = true
			default:
				return 0, errDatetimeSyntax(k, orig)
			}
		default:
			return 0, errDatetimeSyntax(k, orig)
		}
	}
	if bc {
		if y == 0 {
			return 0, errDatetimeRange(orig)
		}
		y = 1 - y
	}
	if m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) {
		return 0, errDatetimeRange(orig)
	}
	if y > 5874898 || y < -5000 {
		return 0, outOfRange(k, orig)
	}
	days := daysFromCivil(y, m, d)
	if k == dtDate {
		if days < minDateDays || days > maxDateDays {
			return 0, outOfRange(k, orig)
		}
		return days, nil
	}
	if days < minDateDays || days > maxTimestampUs/usPerDay {
		return 0, outOfRange(k, orig)
	}
	if hh > 24 || mi > 59 || ss > 60 || (hh == 24 && (mi != 0 || ss != 0 || frac != 0)) {
		return 0, errDatetimeRange(orig)
	}
	us := days*usPerDay + hh*usPerHour + mi*usPerMinute + ss*usPerSec + frac
	if k == dtTimestamptz {
		us -= tzOffsetSec * usPerSec
	}
	if us < minTimestampUs || us > maxTimestampUs {
		return 0, outOfRange(k, orig)
	}
	return us, nil
}

func outOfRange(k dtKind, s string) error {
	if k == dtDate {
		return pgerror.Newf(pgerror.CodeDatetimeFieldOverflow, "date out of range: %q", s)
	}
	return pgerror.Newf(pgerror.CodeDatetimeFieldOverflow, "timestamp out of range: %q", s)
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
