package session

import (
	"context"
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	tidbtypes "github.com/pingcap/tidb/pkg/parser/types"

	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// colTypeOf inverts the normalizer's PostgreSQL → TiDB column type mapping
// (see sql/pgdialect): TIMESTAMP is timestamptz, DATETIME is timestamp, ...
func colTypeOf(ft *tidbtypes.FieldType) (shard.ColType, error) {
	switch ft.GetType() {
	case mysql.TypeTimestamp:
		return shard.TypeTimestamptz, nil
	case mysql.TypeDatetime:
		return shard.TypeTimestamp, nil
	case mysql.TypeDouble:
		return shard.TypeFloat8, nil
	case mysql.TypeFloat:
		return shard.TypeFloat4, nil
	case mysql.TypeLonglong:
		return shard.TypeInt8, nil
	case mysql.TypeLong, mysql.TypeInt24:
		return shard.TypeInt4, nil
	case mysql.TypeShort:
		return shard.TypeInt2, nil
	case mysql.TypeTiny:
		return shard.TypeBool, nil
	case mysql.TypeBlob, mysql.TypeMediumBlob, mysql.TypeLongBlob, mysql.TypeTinyBlob:
		return shard.TypeText, nil
	case mysql.TypeVarchar, mysql.TypeVarString, mysql.TypeString:
		return shard.TypeVarchar, nil
	case mysql.TypeNewDecimal:
		return shard.TypeNumeric, nil
	case mysql.TypeDate:
		return shard.TypeDate, nil
	}
	return 0, pgerror.Unsupported(fmt.Sprintf("column type %s", ft.String()))
}

func isTimeType(t shard.ColType) bool { return t == shard.TypeTimestamptz || t == shard.TypeTimestamp }

// tableFromAST builds the catalog table of CREATE TABLE. The time column is
// the last primary-key column of a timestamp type (or, without a primary
// key, the first timestamp column); tags are the other primary-key columns in
// key order, or, without a primary key, every text/varchar column.
func tableFromAST(n *ast.CreateTableStmt) (shard.Table, error) {
	t := shard.Table{Name: n.Table.Name.O, TimeCol: -1}
	if n.Table.Schema.O != "" && n.Table.Schema.L != "public" {
		return t, pgerror.Newf(pgerror.CodeFeatureNotSupported, "schema %q is not supported; tables live in schema public", n.Table.Schema.O)
	}
	var pk []string
	for i, cd := range n.Cols {
		ct, err := colTypeOf(cd.Tp)
		if err != nil {
			return t, fmt.Errorf("column %q: %w", cd.Name.Name.O, err)
		}
		name := cd.Name.Name.O
		if t.ColumnIndex(name) >= 0 {
			return t, pgerror.Newf(pgerror.CodeDuplicateColumn, "column %q specified more than once", name)
		}
		col := shard.Column{ID: uint16(i + 1), Name: name, Type: ct}
		if ct == shard.TypeVarchar && cd.Tp.GetFlen() > 0 && cd.Tp.GetFlen() < 65535 {
			col.Width = cd.Tp.GetFlen()
		}
		if ct == shard.TypeNumeric {
			col.Width, col.Scale = cd.Tp.GetFlen(), cd.Tp.GetDecimal()
			if col.Width > 0 && col.Scale < 0 {
				col.Scale = 0 // numeric(p) is numeric(p,0)
			}
		}
		for _, o := range cd.Options {
			switch o.Tp {
			case ast.ColumnOptionNotNull:
				col.NotNull = true
			case ast.ColumnOptionNull, ast.ColumnOptionComment:
			case ast.ColumnOptionPrimaryKey:
				pk = append(pk, name)
				col.NotNull = true
			default:
				return t, pgerror.Unsupported(fmt.Sprintf("column option %q", columnOptionName(o.Tp)))
			}
		}
		t.Columns = append(t.Columns, col)
	}
	if len(t.Columns) > 1600 {
		return t, pgerror.New(pgerror.CodeTooManyColumns, "tables can have at most 1600 columns")
	}
	for _, c := range n.Constraints {
		switch c.Tp {
		case ast.ConstraintPrimaryKey:
			if len(pk) > 0 {
				return t, pgerror.Newf(pgerror.CodeInvalidTableDefinition, "multiple primary keys for table %q are not allowed", t.Name)
			}
			for _, k := range c.Keys {
				if k.Column == nil {
					return t, pgerror.Unsupported("expression in PRIMARY KEY")
				}
				pk = append(pk, k.Column.Name.O)
			}
		default:
			return t, pgerror.Unsupported("constraints other than PRIMARY KEY")
		}
	}
	if len(pk) > 0 {
		for _, name := range pk {
			i := t.ColumnIndex(name)
			if i < 0 {
				return t, pgerror.Newf(pgerror.CodeUndefinedColumn, "column %q named in key does not exist", name)
			}
			t.Columns[i].NotNull = true
		}
		last := t.ColumnIndex(pk[len(pk)-1])
		if !isTimeType(t.Columns[last].Type) {
			for _, name := range pk {
				if isTimeType(t.Columns[t.ColumnIndex(name)].Type) {
					last = t.ColumnIndex(name)
				}
			}
		}
		if !isTimeType(t.Columns[last].Type) {
			return t, pgerror.WithHint(pgerror.Newf(pgerror.CodeInvalidTableDefinition, "the primary key of %q has no timestamp column", t.Name),
				"A Longboat table is keyed by its tags and a time column: PRIMARY KEY (tag1, tag2, time).")
		}
		t.TimeCol = last
		for _, name := range pk {
			i := t.ColumnIndex(name)
			if i == last {
				continue
			}
			if !isTagType(t.Columns[i].Type) {
				return t, pgerror.Newf(pgerror.CodeInvalidTableDefinition, "primary key column %q must be text, varchar or an integer type to be a tag", name)
			}
			t.Tags = append(t.Tags, i)
		}
	} else {
		for i, c := range t.Columns {
			if isTimeType(c.Type) && t.TimeCol < 0 {
				t.TimeCol = i
			}
		}
		if t.TimeCol < 0 {
			return t, pgerror.WithHint(pgerror.Newf(pgerror.CodeInvalidTableDefinition, "table %q has no timestamp column", t.Name),
				"A Longboat table needs a timestamptz or timestamp column.")
		}
		for i, c := range t.Columns {
			if c.Type == shard.TypeText || c.Type == shard.TypeVarchar {
				t.Tags = append(t.Tags, i)
			}
		}
	}
	t.Columns[t.TimeCol].NotNull = true
	for _, i := range t.Tags {
		if c := t.Columns[i]; c.Type != shard.TypeText && c.Type != shard.TypeVarchar {
			return t, pgerror.Newf(pgerror.CodeFeatureNotSupported, "tag column %q must be text or varchar", c.Name)
		}
	}
	return t, nil
}

func isTagType(t shard.ColType) bool { return t == shard.TypeText || t == shard.TypeVarchar }

func columnOptionName(tp ast.ColumnOptionType) string {
	switch tp {
	case ast.ColumnOptionDefaultValue:
		return "DEFAULT"
	case ast.ColumnOptionUniqKey:
		return "UNIQUE"
	case ast.ColumnOptionAutoIncrement:
		return "serial/identity"
	case ast.ColumnOptionCheck:
		return "CHECK"
	case ast.ColumnOptionReference:
		return "REFERENCES"
	case ast.ColumnOptionGenerated:
		return "GENERATED"
	}
	return fmt.Sprintf("option %d", tp)
}

func (s *Session) currentDB() (*shard.Database, error) {
	db, ok := s.h.Host.Catalog().Database(s.database)
	if !ok {
		return nil, pgerror.Newf(pgerror.CodeInvalidCatalogName, "database %q does not exist", s.database)
	}
	return db, nil
}

func (s *Session) createTable(ctx context.Context, n *ast.CreateTableStmt) (string, error) {
	if n.ReferTable != nil || n.Select != nil {
		return "", pgerror.Unsupported("CREATE TABLE ... AS / LIKE")
	}
	t, err := tableFromAST(n)
	if err != nil {
		return "", err
	}
	db, err := s.currentDB()
	if err != nil {
		return "", err
	}
	if err := s.h.Host.CreateTable(ctx, db.ID, t, n.IfNotExists); err != nil {
		return "", err
	}
	return "CREATE TABLE", nil
}

func (s *Session) dropTable(ctx context.Context, n *ast.DropTableStmt) (string, error) {
	if n.IsView {
		return "", pgerror.Unsupported("views")
	}
	db, err := s.currentDB()
	if err != nil {
		return "", err
	}
	for _, tn := range n.Tables {
		if tn.Schema.O != "" && !strings.EqualFold(tn.Schema.O, "public") {
			return "", pgerror.Newf(pgerror.CodeUndefinedTable, "table \"%s.%s\" does not exist", tn.Schema.O, tn.Name.O)
		}
		if err := s.h.Host.DropTable(ctx, db.ID, tn.Name.O, n.IfExists); err != nil {
			return "", err
		}
	}
	return "DROP TABLE", nil
}
