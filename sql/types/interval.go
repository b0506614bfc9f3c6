package types

import (
	"math"
	"strconv"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// appendInterval appends an interval in IntervalStyle postgres, exactly as
// PostgreSQL's EncodeInterval (INTSTYLE_POSTGRES).
func appendInterval(dst []byte, months, days int32, us int64) []byte {
	year := int64(months) / 12
	mon := int64(months) % 12
	isZero, isBefore := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !isZero {
			dst = append(dst, ' ')
		}
		if isBefore && v > 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, v, 10)
		dst = append(dst, ' ')
		dst = append(dst, unit...)
		if v != 1 {
			dst = append(dst, 's')
		}
		isBefore = v < 0
		isZero = false
	}
	part(year, "year")
	part(mon, "mon")
	part(int64(days), "day")
	if isZero || us != 0 {
		minus := us < 0
		// Magnitude without overflow for MinInt64.
		mag := uint64(us)
		if minus {
			mag = uint64(-(us + 1)) + 1
		}
		hour := mag / uint64(usPerHour)
		mag -= hour * uint64(usPerHour)
		minute := mag / uint64(usPerMinute)
		mag -= minute * uint64(usPerMinute)
		sec := mag / uint64(usPerSec)
		frac := mag - sec*uint64(usPerSec)
		if !isZero {
			dst = append(dst, ' ')
		}
		if minus {
			dst = append(dst, '-')
		} else if isBefore {
			dst = append(dst, '+')
		}
		if hour < 10 {
			dst = append(dst, '0')
		}
		dst = strconv.AppendUint(dst, hour, 10)
		dst = append(dst, ':')
		dst = appendPadded(dst, int64(minute), 2)
		dst = append(dst, ':')
		dst = appendPadded(dst, int64(sec), 2)
		dst = appendFraction(dst, int64(frac))
	}
	return dst
}

func errIntervalSyntax(s string) error {
	return pgerror.Newf(pgerror.CodeInvalidDatetimeFormat, "invalid input syntax for type interval: %q", s)
}

// codeIntervalFieldOverflow is SQLSTATE interval_field_overflow.
const codeIntervalFieldOverflow = "22015"

func errIntervalRange(s string) error {
	return pgerror.Newf(codeIntervalFieldOverflow, "interval field value out of range: %q", s)
}

// intervalAcc accumulates interval fields with fractional spill-over the way
// PostgreSQL does: fractional years → months, fractional months → days (30
// per month), fractional days/weeks → time. Integral parts are exact.
type intervalAcc struct {
	months, days, us int64
	fracUs           float64
	overflow         bool
}

func (a *intervalAcc) addInt(dst *int64, v int64) {
	r := *dst + v
	if (v > 0 && r < *dst) || (v < 0 && r > *dst) {
		a.overflow = true
	}
	*dst = r
}

// mulAdd adds whole*mult + frac*mult to the field, exactly for the whole part.
func (a *intervalAcc) mulAdd(dst *int64, whole int64, frac float64, mult int64) float64 {
	if whole != 0 && (whole > math.MaxInt64/mult || whole < math.MinInt64/mult) {
		a.overflow = true
		return 0
	}
	a.addInt(dst, whole*mult)
	return frac * float64(mult)
}

// add adds whole+frac (same sign) units.
func (a *intervalAcc) add(whole int64, frac float64, unit string) bool {
	switch unit {
	case "microsecond", "microseconds", "us", "usec", "usecs", "useconds", "microsecon":
		a.fracUs += a.mulAdd(&a.us, whole, frac, 1)
	case "millisecond", "milliseconds", "ms", "msec", "msecs", "mseconds", "millisecon":
		a.fracUs += a.mulAdd(&a.us, whole, frac, 1000)
	case "second", "seconds", "s", "sec", "secs":
		a.fracUs += a.mulAdd(&a.us, whole, frac, usPerSec)
	case "minute", "minutes", "m", "min", "mins":
		a.fracUs += a.mulAdd(&a.us, whole, frac, usPerMinute)
	case "hour", "hours", "h", "hr", "hrs":
		a.fracUs += a.mulAdd(&a.us, whole, frac, usPerHour)
	case "day", "days", "d":
		a.addDays(whole, frac, 1)
	case "week", "weeks", "w":
		a.addDays(whole, frac, 7)
	case "month", "months", "mon", "mons":
		a.addMonths(whole, frac, 1)
	case "year", "years", "y", "yr", "yrs":
		a.addMonths(whole, frac, 12)
	case "decade", "decades", "dec", "decs":
		a.addMonths(whole, frac, 120)
	case "century", "centuries", "c", "cent":
		a.addMonths(whole, frac, 1200)
	case "millennium", "millennia", "mil", "mils", "millenniums":
		a.addMonths(whole, frac, 12000)
	default:
		return false
	}
	return true
}

func (a *intervalAcc) addDays(whole int64, frac float64, mult int64) {
	f := a.mulAdd(&a.days, whole, frac, mult)
	wf := math.Trunc(f)
	a.addInt(&a.days, int64(wf))
	a.fracUs += (f - wf) * float64(usPerDay)
}

func (a *intervalAcc) addMonths(whole int64, frac float64, mult int64) {
	f := a.mulAdd(&a.months, whole, frac, mult)
	wf := math.Trunc(f)
	a.addInt(&a.months, int64(wf))
	d := (f - wf) * 30
	wd := math.Trunc(d)
	a.addInt(&a.days, int64(wd))
	a.fracUs += (d - wd) * float64(usPerDay)
}

// splitNumber parses "123.45" into 123 and 0.45 with the given sign.
func splitNumber(num string, neg bool) (int64, float64, bool) {
	ip, fp := num, ""
	if k := strings.IndexByte(num, '.'); k >= 0 {
		ip, fp = num[:k], num[k+1:]
		if strings.IndexByte(fp, '.') >= 0 {
			return 0, 0, false
		}
	}
	if ip == "" && fp == "" {
		return 0, 0, false
	}
	var whole int64
	if ip != "" {
		v, err := strconv.ParseInt(ip, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		whole = v
	}
	var frac float64
	if fp != "" {
		f, err := strconv.ParseFloat("0."+fp, 64)
		if err != nil {
			return 0, 0, false
		}
		frac = f
	}
	if neg {
		whole, frac = -whole, -frac
	}
	return whole, frac, true
}

// parseInterval parses PostgreSQL interval input (postgres/verbose style,
// compact "5m"/"1h", "HH:MM:SS" time fields, "ago", ISO 8601 "P..." form).
func parseInterval(s string) (Datum, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return Datum{}, errIntervalSyntax(orig)
	}
	if s[0] == 'P' || s[0] == 'p' {
		return parseISOInterval(orig, s[1:])
	}
	s = strings.TrimPrefix(s, "@")
	var acc intervalAcc
	ago := false
	fields := 0
	p := dtScanner{s: s}
	for {
		p.skipSpaces()
		if p.eof() {
			break
		}
		start := p.i
		sign := 1.0
		if c := p.peek(); c == '+' || c == '-' {
			if c == '-' {
				sign = -1
			}
			p.i++
			p.skipSpaces()
		}
		c := p.peek()
		if isAlpha(c) {
			if p.i != start {
				return Datum{}, errIntervalSyntax(orig)
			}
			w := p.word()
			if w == "ago" {
				ago = true
				continue
			}
			return Datum{}, errIntervalSyntax(orig)
		}
		if !(c >= '0' && c <= '9') && c != '.' {
			return Datum{}, errIntervalSyntax(orig)
		}
		numStart := p.i
		for !p.eof() && (p.peek() >= '0' && p.peek() <= '9' || p.peek() == '.') {
			p.i++
		}
		num := s[numStart:p.i]
		if p.peek() == ':' {
			// Time field HH:MM[:SS[.f]].
			p.i = numStart
			us, ok := p.timeField(sign < 0)
			if !ok {
				return Datum{}, errIntervalRange(orig)
			}
			acc.addInt(&acc.us, us)
			fields++
			continue
		}
		whole, frac, ok := splitNumber(num, sign < 0)
		if !ok {
			return Datum{}, errIntervalSyntax(orig)
		}
		p.skipSpaces()
		if isAlpha(p.peek()) {
			unit := p.word()
			if !acc.add(whole, frac, unit) {
				return Datum{}, errIntervalSyntax(orig)
			}
		} else {
			// A bare number is seconds.
			acc.add(whole, frac, "second")
		}
		fields++
	}
	if fields == 0 {
		return Datum{}, errIntervalSyntax(orig)
	}
	return acc.datum(orig, ago)
}

func (a *intervalAcc) datum(orig string, ago bool) (Datum, error) {
	a.addInt(&a.us, int64(math.RoundToEven(a.fracUs)))
	if math.IsNaN(a.fracUs) || math.Abs(a.fracUs) > 9e18 {
		a.overflow = true
	}
	if ago {
		if a.us == math.MinInt64 {
			a.overflow = true
		}
		a.months, a.days, a.us = -a.months, -a.days, -a.us
	}
	if a.overflow || a.months > math.MaxInt32 || a.months < math.MinInt32 || a.days > math.MaxInt32 || a.days < math.MinInt32 {
		return Datum{}, errIntervalRange(orig)
	}
	return NewInterval(int32(a.months), int32(a.days), a.us), nil
}

// word reads a run of letters, lower-cased.
func (p *dtScanner) word() string {
	start := p.i
	for !p.eof() && isAlpha(p.peek()) {
		p.i++
	}
	return strings.ToLower(p.s[start:p.i])
}

// timeField parses HH:MM[:SS[.f]] (or MM:SS.f when the second field has a
// fraction) and returns microseconds.
func (p *dtScanner) timeField(neg bool) (int64, bool) {
	h, n := p.digits()
	if n == 0 || p.peek() != ':' {
		return 0, false
	}
	p.i++
	m, n := p.digits()
	if n == 0 {
		return 0, false
	}
	var sec, frac int64
	if p.peek() == ':' {
		p.i++
		sec, n = p.digits()
		if n == 0 {
			return 0, false
		}
		if p.peek() == '.' {
			p.i++
			frac, _ = p.fractionUs()
		}
	} else if p.peek() == '.' {
		// MM:SS.fff
		p.i++
		frac, _ = p.fractionUs()
		h, m, sec = 0, h, m
	}
	if m > 59 || sec > 59 || h > math.MaxInt64/usPerHour {
		return 0, false
	}
	rest := m*usPerMinute + sec*usPerSec + frac
	hus := h * usPerHour
	if neg {
		// Computed in the negative domain so that MinInt64 is reachable.
		if -hus < math.MinInt64+rest {
			return 0, false
		}
		return -hus - rest, true
	}
	if hus > math.MaxInt64-rest {
		return 0, false
	}
	return hus + rest, true
}

// parseISOInterval parses the part after 'P' of an ISO 8601 duration.
func parseISOInterval(orig, s string) (Datum, error) {
	var acc intervalAcc
	inTime := false
	fields := 0
	for len(s) > 0 {
		if s[0] == 'T' || s[0] == 't' {
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i >= len(s) {
			return Datum{}, errIntervalSyntax(orig)
		}
		num, neg := s[:i], false
		if num[0] == '-' || num[0] == '+' {
			num, neg = num[1:], num[0] == '-'
		}
		whole, frac, ok := splitNumber(num, neg)
		if !ok {
			return Datum{}, errIntervalSyntax(orig)
		}
		var unit string
		switch s[i] | 0x20 {
		case 'y':
			unit = "year"
		case 'm':
			if inTime {
				unit = "minute"
			} else {
				unit = "month"
			}
		case 'w':
			unit = "week"
		case 'd':
			unit = "day"
		case 'h':
			unit = "hour"
		case 's':
			unit = "second"
		default:
			return Datum{}, errIntervalSyntax(orig)
		}
		acc.add(whole, frac, unit)
		fields++
		s = s[i+1:]
	}
	if fields == 0 {
		return Datum{}, errIntervalSyntax(orig)
	}
	return acc.datum(orig, false)
}
