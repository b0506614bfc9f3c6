package copyin

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/longboatdb/longboat/sql/types"
)

// tsbsOIDs are the column types of the TSBS cpu table: time, ten tags, ten
// float fields.
func tsbsOIDs() []types.OID {
	oids := []types.OID{types.Timestamptz}
	for range 10 {
		oids = append(oids, types.Text)
	}
	for range 10 {
		oids = append(oids, types.Float8)
	}
	return oids
}

// tsbsRow is row i of a TSBS-like data set: hosts cycle fastest, 10 s apart.
func tsbsRow(i, hosts int) (us int64, tags [10]string, fields [10]float64) {
	h := i % hosts
	us = int64(i/hosts) * 10_000_000
	tags = [10]string{
		fmt.Sprintf("host_%d", h), "us-west-1", "us-west-1a", strconv.Itoa(h % 97), "Ubuntu15.10",
		"x64", "NYC", strconv.Itoa(h % 19), "1", "staging",
	}
	for j := range fields {
		fields[j] = float64((i*7+j*13)%100) + 0.5*float64(j%2)
	}
	return us, tags, fields
}

// appendBinaryTSBS appends a PGCOPY stream (header, n rows, trailer) to dst,
// as pgx CopyFrom sends it. Every nullEvery-th row has a NULL field (0:
// none).
func appendBinaryTSBS(dst []byte, n, hosts, nullEvery int) []byte {
	dst = append(dst, binarySignature...)
	dst = binary.BigEndian.AppendUint32(dst, 0) // flags
	dst = binary.BigEndian.AppendUint32(dst, 0) // extension length
	const pgEpochUs = 946684800 * 1_000_000
	for i := range n {
		us, tags, fields := tsbsRow(i, hosts)
		dst = binary.BigEndian.AppendUint16(dst, 21)
		dst = binary.BigEndian.AppendUint32(dst, 8)
		dst = binary.BigEndian.AppendUint64(dst, uint64(us-pgEpochUs))
		for _, t := range tags {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(t)))
			dst = append(dst, t...)
		}
		for j, f := range fields {
			if nullEvery > 0 && i%nullEvery == 0 && j == 3 {
				dst = binary.BigEndian.AppendUint32(dst, math.MaxUint32) // -1: NULL
				continue
			}
			dst = binary.BigEndian.AppendUint32(dst, 8)
			dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
		}
	}
	return binary.BigEndian.AppendUint16(dst, math.MaxUint16) // -1: trailer
}

// appendCSVTSBS appends the same rows as CSV lines.
func appendCSVTSBS(dst []byte, n, hosts int) []byte {
	for i := range n {
		us, tags, fields := tsbsRow(i, hosts)
		dst = types.FormatText(dst, types.Datum{T: types.Timestamptz, I: us})
		for _, t := range tags {
			dst = append(dst, ',')
			dst = append(dst, t...)
		}
		for _, f := range fields {
			dst = append(dst, ',')
			dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// expectTSBS returns row i as the Reader must decode it.
func expectTSBS(i, hosts, nullEvery int) []types.Datum {
	us, tags, fields := tsbsRow(i, hosts)
	row := []types.Datum{{T: types.Timestamptz, I: us}}
	for _, t := range tags {
		row = append(row, types.Datum{T: types.Text, S: t})
	}
	for j, f := range fields {
		if nullEvery > 0 && i%nullEvery == 0 && j == 3 {
			row = append(row, types.NullOf(types.Float8))
			continue
		}
		row = append(row, types.Datum{T: types.Float8, F: f})
	}
	return row
}

func describeRow(row []types.Datum) string {
	var sb strings.Builder
	for i, d := range row {
		if i > 0 {
			sb.WriteByte('|')
		}
		fmt.Fprintf(&sb, "%+v", d)
	}
	return sb.String()
}
