package session

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/longboatdb/longboat/server/pgwire"
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/sql/pgdialect"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

func tagOnly(kind pgwire.StatementKind, tag string) pgwire.Statement {
	return &funcStmt{kind: kind, run: func(context.Context) (string, error) { return tag, nil }}
}

func (s *Session) utilityStatement(res *pgdialect.Result) (pgwire.Statement, error) {
	switch u := res.Utility.(type) {
	case *pgdialect.Begin:
		return tagOnly(pgwire.KindBegin, "BEGIN"), nil
	case *pgdialect.Commit:
		return tagOnly(pgwire.KindCommit, "COMMIT"), nil
	case *pgdialect.Rollback:
		return tagOnly(pgwire.KindRollback, "ROLLBACK"), nil
	case *pgdialect.Set:
		return &setStmt{s: s, u: u}, nil
	case *pgdialect.Show:
		return s.show(u)
	case *pgdialect.ShowTables:
		return s.showTables(), nil
	case *pgdialect.Discard:
		return tagOnly(pgwire.KindOther, "DISCARD "+strings.ToUpper(u.What)), nil
	case *pgdialect.Deallocate:
		// Prepared statements live in pgwire; DEALLOCATE as SQL is accepted
		// for clients that send it after protocol-level Close.
		return tagOnly(pgwire.KindOther, "DEALLOCATE"), nil
	case *pgdialect.CreateDatabase:
		return &funcStmt{run: func(ctx context.Context) (string, error) { return "CREATE DATABASE", s.createDatabase(ctx, u) }}, nil
	case *pgdialect.DropDatabase:
		return &funcStmt{run: func(ctx context.Context) (string, error) {
			if u.Name == s.database {
				return "", pgerror.New("55006", "cannot drop the currently open database")
			}
			return "DROP DATABASE", s.h.Host.DropDatabase(ctx, u.Name, u.IfExists)
		}}, nil
	case *pgdialect.Copy:
		return s.copyStatement(u)
	}
	return nil, pgerror.Unsupported(fmt.Sprintf("utility statement %T", res.Utility))
}

func (s *Session) applySet(u *pgdialect.Set) error {
	name := strings.ToLower(u.Name)
	if u.Default {
		s.reset(name)
		return nil
	}
	switch name {
	case "timezone", "time zone":
		v := strings.ToLower(strings.Trim(u.Value, "'\""))
		switch v {
		case "utc", "etc/utc", "gmt", "z", "zulu", "universal", "+00", "+00:00", "0", "default", "local":
			return nil
		}
		return pgerror.WithHint(pgerror.Newf(pgerror.CodeFeatureNotSupported, "time zone %q is not supported", u.Value),
			"Longboat sessions run in UTC.")
	case "statement_timeout":
		if _, err := parseTimeoutSetting(u.Value); err != nil {
			return err
		}
		s.set(name, u.Value)
		return nil
	case "read_consistency":
		v := strings.ToLower(u.Value)
		if v != "strong" && v != "follower" {
			return pgerror.Newf(pgerror.CodeInvalidParameterValue, "invalid value for parameter \"read_consistency\": %q", u.Value)
		}
		s.set(name, v)
		return nil
	case "client_encoding":
		v := strings.ToUpper(strings.ReplaceAll(u.Value, "-", ""))
		if v != "UTF8" && v != "UNICODE" {
			return pgerror.Newf(pgerror.CodeFeatureNotSupported, "client encoding %q is not supported; use UTF8", u.Value)
		}
		return nil
	}
	s.set(name, u.Value)
	return nil
}

func (s *Session) show(u *pgdialect.Show) (pgwire.Statement, error) {
	name := strings.ToLower(u.Name)
	if name == "all" {
		return &rowsStmt{
			cols: []pgwire.Column{textCol("name"), textCol("setting"), textCol("description")},
			rows: func(context.Context) ([][]types.Datum, error) {
				var rows [][]types.Datum
				for _, n := range settingNames() {
					v, _ := s.setting(n)
					rows = append(rows, []types.Datum{types.NewText(n), types.NewText(v), types.NewText("")})
				}
				return rows, nil
			},
			tag: func(n int) string { return "SHOW" },
		}, nil
	}
	return &rowsStmt{
		cols: []pgwire.Column{textCol(name)},
		rows: func(context.Context) ([][]types.Datum, error) {
			v, ok := s.setting(name)
			if !ok {
				return nil, pgerror.Newf(pgerror.CodeUndefinedObject, "unrecognized configuration parameter %q", u.Name)
			}
			return [][]types.Datum{{types.NewText(v)}}, nil
		},
		tag: func(int) string { return "SHOW" },
	}, nil
}

func (s *Session) showTables() pgwire.Statement {
	return &rowsStmt{
		cols: []pgwire.Column{textCol("table_name")},
		rows: func(context.Context) ([][]types.Datum, error) {
			cat := s.h.Host.Catalog()
			db, ok := cat.Database(s.database)
			if !ok {
				return nil, pgerror.Newf(pgerror.CodeInvalidCatalogName, "database %q does not exist", s.database)
			}
			var rows [][]types.Datum
			for _, t := range cat.Tables(db.ID) {
				rows = append(rows, []types.Datum{types.NewText(t.Name)})
			}
			return rows, nil
		},
	}
}

// createDatabase applies CREATE DATABASE name WITH (replicas, partition_interval, ttl, slot_groups).
func (s *Session) createDatabase(ctx context.Context, u *pgdialect.CreateDatabase) error {
	db := shard.Database{Name: u.Name}
	for k, v := range u.Options {
		switch strings.ToLower(k) {
		case "replicas":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 7 {
				return pgerror.Newf(pgerror.CodeInvalidParameterValue, "replicas must be an integer between 1 and 7, got %q", v)
			}
			db.Replicas = n
		case "slot_groups":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > shard.NumSlots {
				return pgerror.Newf(pgerror.CodeInvalidParameterValue, "slot_groups must be an integer between 1 and %d, got %q", shard.NumSlots, v)
			}
			db.SlotGroups = n
		case "partition_interval":
			d, err := parseDuration(v)
			if err != nil || d < time.Minute {
				return pgerror.Newf(pgerror.CodeInvalidParameterValue, "partition_interval must be an interval of at least 1 minute, got %q", v)
			}
			db.PartitionInterval = d
		case "ttl":
			d, err := parseDuration(v)
			if err != nil || d < 0 {
				return pgerror.Newf(pgerror.CodeInvalidParameterValue, "ttl must be a non-negative interval, got %q", v)
			}
			db.TTL = d
		case "owner", "encoding", "template", "lc_collate", "lc_ctype", "locale", "connection_limit", "connection limit", "is_template", "allow_connections", "tablespace":
			// PostgreSQL options without meaning here.
		default:
			return pgerror.Newf(pgerror.CodeInvalidParameterValue, "option %q not recognized", k)
		}
	}
	return s.h.Host.CreateDatabase(ctx, db, u.IfNotExists)
}

// parseDuration parses a PostgreSQL interval ('1 day', '30 days', '1h') into
// a fixed duration; months count as 30 days.
func parseDuration(v string) (time.Duration, error) {
	d, err := types.ParseText(types.Interval, v)
	if err != nil {
		return 0, err
	}
	months, days, us := d.IntervalParts()
	total := us + (int64(months)*30+int64(days))*24*3600*1_000_000
	return time.Duration(total) * time.Microsecond, nil
}
