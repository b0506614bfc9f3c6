package planner

const (
	usPerSec = 1_000_000
	usPerDay = 86400 * usPerSec
	// timescaleOrigin is TimescaleDB's default time_bucket origin for
	// widths without months: Monday 2000-01-03 00:00:00 UTC.
	timescaleOrigin = 946857600 * usPerSec
	// timescaleMonthOrigin is the origin for month widths: 2000-01-01.
	timescaleMonthOrigin = 946684800 * usPerSec
)

func floorDivI(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// bucketStart returns origin + floor((t-origin)/w)*w.
func bucketStart(t, w, origin int64) int64 {
	return origin + floorDivI(t-origin, w)*w
}

// daysFrom returns days since 1970-01-01 of a proleptic Gregorian date.
func daysFrom(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDivI(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civil converts days since 1970-01-01 to (year, month, day).
func civil(z int64) (y, m, d int64) {
	z += 719468
	era := floorDivI(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func monthDays(y, m int64) int64 {
	switch m {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}
