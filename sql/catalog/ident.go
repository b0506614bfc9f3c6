package catalog

import "strings"

// QuoteIdent is PostgreSQL's quote_ident: the identifier is returned as is
// when it is a valid unquoted identifier (lower-case letters, digits,
// underscores, not starting with a digit) and not a keyword that PostgreSQL
// would misread (any keyword except unreserved ones); otherwise it is double-
// quoted with embedded quotes doubled.
func QuoteIdent(s string) string {
	if !needsQuote(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case c >= '0' && c <= '9':
			if i == 0 {
				return true
			}
		default:
			// PostgreSQL treats bytes >= 0x80 as identifier letters, but
			// quote_ident still quotes them only if not "safe"; it checks
			// for lower-case ASCII, digits and '_' only.
			return true
		}
	}
	return isQuotedKeyword(s)
}

// isQuotedKeyword reports whether s is one of PostgreSQL 15's reserved,
// type_func_name or col_name keywords (kwlist.h): quote_ident and ruleutils
// quote these; unreserved keywords stay bare.
func isQuotedKeyword(s string) bool {
	switch s {
	case "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both",
		"case", "cast", "check", "collate", "column", "constraint", "create", "current_catalog",
		"current_date", "current_role", "current_time", "current_timestamp", "current_user",
		"default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false",
		"fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially",
		"intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not",
		"null", "offset", "on", "only", "or", "order", "placing", "primary", "references",
		"returning", "select", "session_user", "some", "symmetric", "table", "then", "to",
		"trailing", "true", "union", "unique", "user", "using", "variadic", "when", "where",
		"window", "with", "authorization", "binary", "collation", "concurrently", "cross",
		"current_schema", "freeze", "full", "ilike", "inner", "is", "isnull", "join", "left",
		"like", "natural", "notnull", "outer", "overlaps", "right", "similar", "tablesample",
		"verbose", "between", "bigint", "bit", "boolean", "char", "character", "coalesce", "dec",
		"decimal", "exists", "extract", "float", "greatest", "grouping", "inout", "int",
		"integer", "interval", "least", "national", "nchar", "none", "normalize", "nullif",
		"numeric", "out", "overlay", "position", "precision", "real", "row", "setof", "smallint",
		"substring", "time", "timestamp", "treat", "trim", "values", "varchar", "xmlattributes",
		"xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse",
		"xmlpi", "xmlroot", "xmlserialize", "xmltable":
		return true
	}
	return false
}
