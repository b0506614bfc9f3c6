package bench

import (
	"strconv"
	"strings"
	"unicode"
)

// OrderKey is one item of a query's outermost ORDER BY: either a column name
// (unquoted names folded to lower case, like PostgreSQL) or a 1-based ordinal.
type OrderKey struct {
	Name    string
	Ordinal int
	Desc    bool
}

// sqlTokens splits SQL into coarse tokens with their parenthesis depth,
// treating quoted strings, quoted identifiers and comments as opaque. It is
// only as precise as the differential checker needs: it finds the outermost
// ORDER BY and LIMIT, it does not parse SQL.
type sqlToken struct {
	text  string
	depth int
}

func tokenizeSQL(sql string) []sqlToken {
	var toks []sqlToken
	depth := 0
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return toks
			}
			i += j + 4
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(sql) {
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(sql) {
				j = len(sql) - 1
			}
			toks = append(toks, sqlToken{text: sql[i : j+1], depth: depth})
			i = j + 1
		case c == '(':
			toks = append(toks, sqlToken{text: "(", depth: depth})
			depth++
			i++
		case c == ')':
			if depth > 0 {
				depth--
			}
			toks = append(toks, sqlToken{text: ")", depth: depth})
			i++
		case c == ',' || c == ';':
			toks = append(toks, sqlToken{text: string(c), depth: depth})
			i++
		case c < utf8Self && unicode.IsSpace(rune(c)):
			i++
		case isWordByte(c):
			j := i
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			toks = append(toks, sqlToken{text: sql[i:j], depth: depth})
			i = j
		default:
			j := i + 1
			for j < len(sql) && !isWordByte(sql[j]) && !strings.ContainsRune("'\"(),; \t\r\n", rune(sql[j])) {
				j++
			}
			toks = append(toks, sqlToken{text: sql[i:j], depth: depth})
			i = j
		}
	}
	return toks
}

const utf8Self = 0x80

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c == '.' || c >= utf8Self ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// ParseOrderBy returns the keys of sql's outermost ORDER BY (nil when there
// is none) and ok=false when some key is an expression it cannot map to an
// output column (the caller then compares rows strictly in order).
func ParseOrderBy(sql string) (keys []OrderKey, hasOrderBy, ok bool) {
	toks := tokenizeSQL(sql)
	start := -1
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].depth == 0 && strings.EqualFold(toks[i].text, "ORDER") && strings.EqualFold(toks[i+1].text, "BY") {
			start = i + 2 // the last one wins: ORDER BY of a set operation's operand is parenthesized
		}
	}
	if start < 0 {
		return nil, false, true
	}
	ok = true
	var item []string
	flush := func() {
		if len(item) == 0 {
			ok = false
			return
		}
		k, good := parseOrderItem(item)
		if !good {
			ok = false
		}
		keys = append(keys, k)
		item = item[:0]
	}
	for _, t := range toks[start:] {
		if t.depth > 0 || t.text == "(" || t.text == ")" {
			item = append(item, t.text)
			continue
		}
		up := strings.ToUpper(t.text)
		if up == "LIMIT" || up == "OFFSET" || up == "FETCH" || up == "FOR" || t.text == ";" {
			break
		}
		if t.text == "," {
			flush()
			continue
		}
		item = append(item, t.text)
	}
	flush()
	return keys, true, ok
}

func parseOrderItem(item []string) (OrderKey, bool) {
	var k OrderKey
	// Strip trailing modifiers.
	for len(item) > 1 {
		last := strings.ToUpper(item[len(item)-1])
		switch {
		case last == "ASC":
			item = item[:len(item)-1]
		case last == "DESC":
			k.Desc = true
			item = item[:len(item)-1]
		case (last == "FIRST" || last == "LAST") && len(item) > 2 && strings.EqualFold(item[len(item)-2], "NULLS"):
			item = item[:len(item)-2]
		default:
			goto done
		}
	}
done:
	if len(item) != 1 {
		return k, false
	}
	e := item[0]
	if n, err := strconv.Atoi(e); err == nil {
		k.Ordinal = n
		return k, n > 0
	}
	if strings.HasPrefix(e, `"`) && strings.HasSuffix(e, `"`) && len(e) >= 2 {
		k.Name = strings.ReplaceAll(e[1:len(e)-1], `""`, `"`)
		return k, k.Name != "" // zero-length identifiers are invalid
	}
	if i := strings.LastIndexByte(e, '.'); i >= 0 { // table-qualified column
		e = e[i+1:]
	}
	if e == "" || !isIdentStart(e[0]) {
		return k, false
	}
	k.Name = strings.ToLower(e)
	return k, true
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= utf8Self || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// resolveOrderKeys maps keys to result column indexes. ok=false if any key
// is missing or ambiguous.
func resolveOrderKeys(keys []OrderKey, cols []Column) ([]int, bool) {
	idx := make([]int, 0, len(keys))
	for _, k := range keys {
		if k.Ordinal > 0 {
			if k.Ordinal > len(cols) {
				return nil, false
			}
			idx = append(idx, k.Ordinal-1)
			continue
		}
		found := -1
		for i, c := range cols {
			if c.Name == k.Name {
				if found >= 0 {
					return nil, false
				}
				found = i
			}
		}
		if found < 0 {
			return nil, false
		}
		idx = append(idx, found)
	}
	return idx, true
}
