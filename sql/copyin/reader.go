package copyin

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// CodeBadCopyFileFormat is SQLSTATE 22P04.
const CodeBadCopyFileFormat = "22P04"

// Format is a COPY data format.
type Format int

// The COPY formats.
const (
	Text Format = iota
	CSV
	Binary
)

// Options describe the stream. Zero values take PostgreSQL's defaults for
// the format (text: tab and \N; CSV: comma, empty NULL, '"' quote and escape).
type Options struct {
	Format    Format
	Header    bool
	Delimiter string
	Null      string
	HasNull   bool // Null was given explicitly (it may be "")
	Quote     string
	Escape    string
	Table     string   // for error messages
	Columns   []string // names, for error messages
}

// Reader decodes rows.
type Reader struct {
	r     *bufio.Reader
	opts  Options
	types []types.OID
	line  int
	delim byte
	quote byte
	esc   byte
	null  string
	done  bool

	fields  [][]byte
	nullFld []bool
	buf     []byte
	hdrRead bool

	// strs interns the values of text columns, per column: tag values
	// repeat on nearly every row, and sharing one string per value saves
	// an allocation per field. last is each column's previous value.
	strs []map[string]string
	last []string
	// arena holds the unquoted fields of the current CSV record; offs
	// their start and end offsets.
	arena []byte
	offs  []int
}

// Bounds of the intern table: longer values are not interned, and a
// column's table is emptied when it reaches maxInterned values (a column
// of mostly distinct values then costs a map lookup per field, not memory).
const (
	maxInternLen = 64
	maxInterned  = 4096
	// maxKeptBuf caps the field buffer kept between rows.
	maxKeptBuf = 1 << 20
)

// interned returns the interned string equal to b, if any.
func (rd *Reader) interned(col int, b []byte) (string, bool) {
	if rd.strs == nil || rd.strs[col] == nil {
		return "", false
	}
	if s := rd.last[col]; s == string(b) {
		return s, true
	}
	s, ok := rd.strs[col][string(b)] // NB: no allocation for the lookup
	if ok {
		rd.last[col] = s
	}
	return s, ok
}

// intern records s as column col's shared copy of its bytes.
func (rd *Reader) intern(col int, s string) {
	if len(s) > maxInternLen {
		return
	}
	if rd.strs == nil {
		rd.strs = make([]map[string]string, len(rd.types))
		rd.last = make([]string, len(rd.types))
	}
	m := rd.strs[col]
	if m == nil {
		m = make(map[string]string)
		rd.strs[col] = m
	}
	if len(m) >= maxInterned {
		clear(m)
	}
	m[s] = s
	rd.last[col] = s
}

// NewReader returns a Reader of rows with the given column types.
func NewReader(r io.Reader, colTypes []types.OID, opts Options) (*Reader, error) {
	rd := &Reader{r: bufio.NewReaderSize(r, 256<<10), opts: opts, types: colTypes}
	switch opts.Format {
	case Text:
		rd.delim, rd.null = '\t', `\N`
	case CSV:
		rd.delim, rd.quote, rd.esc, rd.null = ',', '"', '"', ""
	}
	if opts.Delimiter != "" {
		if len(opts.Delimiter) != 1 {
			return nil, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY delimiter must be a single one-byte character")
		}
		rd.delim = opts.Delimiter[0]
	}
	if opts.HasNull || opts.Null != "" {
		rd.null = opts.Null
	}
	if opts.Quote != "" {
		if len(opts.Quote) != 1 {
			return nil, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY quote must be a single one-byte character")
		}
		rd.quote = opts.Quote[0]
		if opts.Escape == "" {
			rd.esc = rd.quote
		}
	}
	if opts.Escape != "" {
		if len(opts.Escape) != 1 {
			return nil, pgerror.New(pgerror.CodeFeatureNotSupported, "COPY escape must be a single one-byte character")
		}
		rd.esc = opts.Escape[0]
	}
	return rd, nil
}

// Line returns the number of the line (text, CSV) or tuple (binary) last read.
func (rd *Reader) Line() int { return rd.line }

// Next decodes the next row into row (len(row) == number of columns). It
// returns false at the end of the data.
func (rd *Reader) Next(row []types.Datum) (bool, error) {
	if rd.done {
		return false, nil
	}
	if rd.opts.Format == Binary {
		return rd.nextBinary(row)
	}
	for {
		ok, err := rd.readRecord()
		if err != nil || !ok {
			rd.done = true
			return false, err
		}
		if rd.opts.Header && !rd.hdrRead {
			rd.hdrRead = true
			continue
		}
		break
	}
	if len(rd.fields) != len(row) {
		if len(rd.fields) < len(row) {
			return false, rd.errf(CodeBadCopyFileFormat, len(rd.fields), "missing data for column %q", rd.colName(len(rd.fields)))
		}
		return false, rd.errf(CodeBadCopyFileFormat, -1, "extra data after last expected column")
	}
	for i, f := range rd.fields {
		if rd.nullFld[i] {
			row[i] = types.NullOf(rd.types[i])
			continue
		}
		d, err := rd.parseText(i, f)
		if err != nil {
			return false, rd.wrap(err, i)
		}
		row[i] = d
	}
	return true, nil
}

func (rd *Reader) colName(i int) string {
	if i >= 0 && i < len(rd.opts.Columns) {
		return rd.opts.Columns[i]
	}
	return fmt.Sprintf("%d", i+1)
}

func (rd *Reader) errf(code string, col int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	detail := fmt.Sprintf("COPY %s, line %d", rd.opts.Table, rd.line)
	if col >= 0 {
		detail += ", column " + rd.colName(col)
	}
	return pgerror.WithDetail(pgerror.New(code, msg), detail)
}

func (rd *Reader) wrap(err error, col int) error {
	detail := fmt.Sprintf("COPY %s, line %d, column %s", rd.opts.Table, rd.line, rd.colName(col))
	return pgerror.WithDetail(err, detail)
}

// readLine returns the next physical line without its terminator.
func (rd *Reader) readLine() ([]byte, bool, error) {
	line, err := rd.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		rd.buf = append(rd.buf[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = rd.r.ReadSlice('\n')
			rd.buf = append(rd.buf, line...)
		}
		line = rd.buf
	}
	if err != nil && err != io.EOF {
		return nil, false, err
	}
	if len(line) == 0 && err == io.EOF {
		return nil, false, nil
	}
	rd.line++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, true, nil
}

func (rd *Reader) readRecord() (bool, error) {
	line, ok, err := rd.readLine()
	if err != nil || !ok {
		return false, err
	}
	if len(line) == 2 && line[0] == '\\' && line[1] == '.' {
		return false, nil
	}
	rd.fields = rd.fields[:0]
	rd.nullFld = rd.nullFld[:0]
	if rd.opts.Format == CSV {
		return true, rd.splitCSV(line)
	}
	return true, rd.splitText(line)
}

func (rd *Reader) splitText(line []byte) error {
	// Fields are unescaped in place into fresh slices (the line buffer is
	// reused by the next read, and values are copied by ParseText).
	start := 0
	for i := 0; i <= len(line); i++ {
		if i < len(line) && line[i] != rd.delim {
			if line[i] == '\\' {
				i++
			}
			continue
		}
		raw := line[start:min(i, len(line))]
		if string(raw) == rd.null {
			rd.fields = append(rd.fields, nil)
			rd.nullFld = append(rd.nullFld, true)
		} else {
			rd.fields = append(rd.fields, unescapeText(raw))
			rd.nullFld = append(rd.nullFld, false)
		}
		start = i + 1
	}
	return nil
}

func unescapeText(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			out = append(out, c)
			continue
		}
		i++
		switch c = raw[i]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(raw) && isHex(raw[i+1]) {
				i++
				v = v*16 + hexVal(raw[i])
				n++
			}
			if n == 0 {
				out = append(out, 'x')
			} else {
				out = append(out, byte(v))
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for n := 1; n < 3 && i+1 < len(raw) && raw[i+1] >= '0' && raw[i+1] <= '7'; n++ {
				i++
				v = v*8 + int(raw[i]-'0')
			}
			out = append(out, byte(v))
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// splitCSV splits one CSV record; a quoted field may span lines. Field
// bytes are unquoted into rd.arena, reused from record to record.
func (rd *Reader) splitCSV(line []byte) error {
	rd.arena = rd.arena[:0]
	rd.offs = rd.offs[:0]
	start := 0
	quoted, inQuote := false, false
	flush := func() {
		field := rd.arena[start:]
		isNull := !quoted && string(field) == rd.null
		rd.offs = append(rd.offs, start, len(rd.arena))
		rd.nullFld = append(rd.nullFld, isNull)
		start, quoted = len(rd.arena), false
	}
	for {
		for i := 0; i < len(line); i++ {
			c := line[i]
			if inQuote {
				switch {
				case c == rd.esc && i+1 < len(line) && (line[i+1] == rd.quote || line[i+1] == rd.esc) && (rd.esc != rd.quote || line[i+1] == rd.quote):
					rd.arena = append(rd.arena, line[i+1])
					i++
				case c == rd.quote:
					inQuote = false
				default:
					rd.arena = append(rd.arena, c)
				}
				continue
			}
			switch {
			case c == rd.delim:
				flush()
			case c == rd.quote:
				inQuote, quoted = true, true
			default:
				rd.arena = append(rd.arena, c)
			}
		}
		if !inQuote {
			break
		}
		// A quoted field continues on the next line.
		rd.arena = append(rd.arena, '\n')
		next, ok, err := rd.readLine()
		if err != nil {
			return err
		}
		if !ok {
			return rd.errf(CodeBadCopyFileFormat, len(rd.nullFld), "unterminated CSV quoted field")
		}
		line = next
	}
	flush()
	// The arena is complete: slice the fields out of it.
	for k := 0; k < len(rd.offs); k += 2 {
		if rd.nullFld[k/2] {
			rd.fields = append(rd.fields, nil)
		} else {
			rd.fields = append(rd.fields, rd.arena[rd.offs[k]:rd.offs[k+1]:rd.offs[k+1]])
		}
	}
	if cap(rd.arena) > maxKeptBuf {
		rd.arena = nil
	}
	return nil
}

// parseText converts field i of a text or CSV record. Text values come
// from the intern table; plain decimal floats skip the generic parser.
func (rd *Reader) parseText(i int, f []byte) (types.Datum, error) {
	switch t := rd.types[i]; t {
	case types.Text, types.Varchar:
		if s, ok := rd.interned(i, f); ok {
			return types.Datum{T: t, S: s}, nil
		}
		d, err := types.ParseText(t, string(f))
		if err == nil {
			rd.intern(i, d.S)
		}
		return d, err
	case types.Float8:
		if isPlainDecimal(f) {
			// NB: string(f) does not escape strconv.ParseFloat: no
			// allocation. Zero is left to ParseText, which tells an
			// underflow from a zero literal.
			if v, err := strconv.ParseFloat(string(f), 64); err == nil && v != 0 {
				return types.Datum{T: t, F: v}, nil
			}
		}
	}
	return types.ParseText(rd.types[i], string(f))
}

// isPlainDecimal reports whether f is a non-empty run of digits, signs,
// points and exponent markers (no spaces, words, hex or underscores).
func isPlainDecimal(f []byte) bool {
	if len(f) == 0 {
		return false
	}
	for _, c := range f {
		if (c < '0' || c > '9') && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E' {
			return false
		}
	}
	return true
}

var binarySignature = []byte("PGCOPY\n\377\r\n\x00")

func (rd *Reader) nextBinary(row []types.Datum) (bool, error) {
	if !rd.hdrRead {
		if err := rd.readBinaryHeader(); err != nil {
			rd.done = true
			if errors.Is(err, io.EOF) {
				return false, nil
			}
			return false, err
		}
	}
	// Fast path: the whole tuple is already buffered (all but about one
	// tuple per buffer refill); decode it in place, without copying.
	if buf, _ := rd.r.Peek(rd.r.Buffered()); len(buf) >= 2 {
		rd.line++ // for error messages
		n, ok, err := rd.decodeTuple(buf, row)
		switch {
		case err != nil:
			rd.done = true
			return false, err
		case ok && n == 0: // trailer
			rd.line--
			rd.done = true
			return false, nil
		case ok:
			_, _ = rd.r.Discard(n) // n <= Buffered(): cannot fail
			return true, nil
		}
		rd.line--
	}
	return rd.nextBinarySlow(row)
}

func (rd *Reader) readBinaryHeader() error {
	hdr := make([]byte, len(binarySignature)+8)
	if _, err := io.ReadFull(rd.r, hdr); err != nil {
		if errors.Is(err, io.EOF) {
			return err
		}
		return pgerror.Wrapf(err, CodeBadCopyFileFormat, "COPY file signature not recognized")
	}
	if !bytes.Equal(hdr[:len(binarySignature)], binarySignature) {
		return pgerror.New(CodeBadCopyFileFormat, "COPY file signature not recognized")
	}
	ext := binary.BigEndian.Uint32(hdr[len(binarySignature)+4:])
	if ext > 1<<20 {
		return pgerror.New(CodeBadCopyFileFormat, "invalid COPY file header (wrong length)")
	}
	if _, err := rd.r.Discard(int(ext)); err != nil {
		return pgerror.New(CodeBadCopyFileFormat, "invalid COPY file header (missing data)")
	}
	rd.hdrRead = true
	return nil
}

// decodeTuple decodes the tuple at the start of buf into row. It returns
// the tuple's length (0 for the trailer) and ok, or ok == false when buf
// ends before the tuple does (nothing is consumed then), or an error.
func (rd *Reader) decodeTuple(buf []byte, row []types.Datum) (int, bool, error) {
	n := int16(binary.BigEndian.Uint16(buf))
	if n == -1 {
		return 0, true, nil
	}
	if int(n) != len(row) {
		return 0, false, rd.errf(CodeBadCopyFileFormat, -1, "row field count is %d, expected %d", n, len(row))
	}
	p := 2
	for i := range row {
		if len(buf)-p < 4 {
			return 0, false, nil
		}
		l := int32(binary.BigEndian.Uint32(buf[p:]))
		p += 4
		if l == -1 {
			row[i] = types.NullOf(rd.types[i])
			continue
		}
		if l < 0 || l > 1<<30 {
			return 0, false, rd.errf(CodeBadCopyFileFormat, i, "invalid field length %d", l)
		}
		if len(buf)-p < int(l) {
			return 0, false, nil
		}
		d, err := rd.parseBinary(i, buf[p:p+int(l)])
		if err != nil {
			return 0, false, rd.wrap(err, i)
		}
		row[i] = d
		p += int(l)
	}
	return p, true, nil
}

// nextBinarySlow reads one tuple field by field; it handles tuples that
// straddle the end of the buffer and fields larger than the buffer.
func (rd *Reader) nextBinarySlow(row []types.Datum) (bool, error) {
	var b2 [2]byte
	if _, err := io.ReadFull(rd.r, b2[:]); err != nil {
		rd.done = true
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, pgerror.New(CodeBadCopyFileFormat, "unexpected EOF in COPY data")
	}
	n := int16(binary.BigEndian.Uint16(b2[:]))
	if n == -1 {
		rd.done = true
		return false, nil
	}
	rd.line++
	if int(n) != len(row) {
		rd.done = true
		return false, rd.errf(CodeBadCopyFileFormat, -1, "row field count is %d, expected %d", n, len(row))
	}
	var b4 [4]byte
	for i := range row {
		if _, err := io.ReadFull(rd.r, b4[:]); err != nil {
			rd.done = true
			return false, pgerror.New(CodeBadCopyFileFormat, "unexpected EOF in COPY data")
		}
		l := int32(binary.BigEndian.Uint32(b4[:]))
		if l == -1 {
			row[i] = types.NullOf(rd.types[i])
			continue
		}
		if l < 0 || l > 1<<30 {
			rd.done = true
			return false, rd.errf(CodeBadCopyFileFormat, i, "invalid field length %d", l)
		}
		if cap(rd.buf) < int(l) {
			rd.buf = make([]byte, l)
		}
		buf := rd.buf[:l]
		if _, err := io.ReadFull(rd.r, buf); err != nil {
			rd.done = true
			return false, pgerror.New(CodeBadCopyFileFormat, "unexpected EOF in COPY data")
		}
		d, err := rd.parseBinary(i, buf)
		if err != nil {
			rd.done = true
			return false, rd.wrap(err, i)
		}
		row[i] = d
	}
	if cap(rd.buf) > maxKeptBuf {
		rd.buf = nil
	}
	return true, nil
}

// parseBinary decodes field i. Text values come from the intern table;
// the common fixed-width types are decoded inline.
func (rd *Reader) parseBinary(i int, b []byte) (types.Datum, error) {
	switch t := rd.types[i]; t {
	case types.Float8:
		if len(b) == 8 {
			return types.Datum{T: t, F: math.Float64frombits(binary.BigEndian.Uint64(b))}, nil
		}
	case types.Text, types.Varchar:
		if s, ok := rd.interned(i, b); ok {
			return types.Datum{T: t, S: s}, nil
		}
		d, err := types.ParseBinary(t, b)
		if err == nil {
			rd.intern(i, d.S)
		}
		return d, err
	}
	return types.ParseBinary(rd.types[i], b)
}

// FormatName returns the PostgreSQL name of f.
func FormatName(f Format) string {
	return [...]string{"text", "csv", "binary"}[f]
}

// ParseFormat maps a COPY FORMAT option to a Format.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "text":
		return Text, nil
	case "csv":
		return CSV, nil
	case "binary":
		return Binary, nil
	}
	return 0, pgerror.Newf(pgerror.CodeInvalidParameterValue, "COPY format %q not recognized", s)
}
