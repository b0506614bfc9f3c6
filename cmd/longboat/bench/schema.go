package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Schema dialects.
const (
	SchemaLongboat = "longboat"
	SchemaPostgres = "postgres"
)

// LongboatDDL creates the TSBS table in Longboat: the series key (ten tags)
// plus time is the primary key.
const LongboatDDL = `CREATE TABLE cpu (time timestamptz NOT NULL, hostname text, region text, datacenter text, rack text, os text, arch text, team text, service text, service_version text, service_environment text, usage_user double precision, usage_system double precision, usage_idle double precision, usage_nice double precision, usage_iowait double precision, usage_irq double precision, usage_softirq double precision, usage_steal double precision, usage_guest double precision, usage_guest_nice double precision, PRIMARY KEY (hostname, region, datacenter, rack, os, arch, team, service, service_version, service_environment, time))`

// postgresSetupFallback is used when the data directory has no
// postgres-setup.sql; it is a copy of that file.
const postgresSetupFallback = `CREATE TABLE cpu (
  time timestamptz NOT NULL,
  hostname text, region text, datacenter text, rack text, os text, arch text,
  team text, service text, service_version text, service_environment text,
  usage_user double precision, usage_system double precision,
  usage_idle double precision, usage_nice double precision,
  usage_iowait double precision, usage_irq double precision,
  usage_softirq double precision, usage_steal double precision,
  usage_guest double precision, usage_guest_nice double precision
);
CREATE INDEX ON cpu (hostname, time DESC);
CREATE INDEX ON cpu (time DESC);
CREATE OR REPLACE FUNCTION time_bucket(bucket_width interval, ts timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS
$$ SELECT date_bin(bucket_width, ts, TIMESTAMPTZ '2000-01-03 00:00:00+00') $$;
`

// InferSchema picks the dialect from a target name: "postgres" if the name
// contains it, else "longboat".
func InferSchema(name string) string {
	if strings.Contains(strings.ToLower(name), "postgres") {
		return SchemaPostgres
	}
	return SchemaLongboat
}

// SetupSQL returns the DDL script for dialect, reading postgres-setup.sql
// from dataDir when present.
func SetupSQL(dialect, dataDir string) (string, error) {
	switch dialect {
	case SchemaLongboat:
		return LongboatDDL, nil
	case SchemaPostgres:
		b, err := os.ReadFile(filepath.Join(dataDir, "postgres-setup.sql"))
		if errors.Is(err, os.ErrNotExist) {
			return postgresSetupFallback, nil
		}
		if err != nil {
			return "", fmt.Errorf("cannot read postgres-setup.sql: %w", err)
		}
		return string(b), nil
	}
	return "", fmt.Errorf("unknown schema %q (longboat|postgres)", dialect)
}

// CreateSchema drops table cpu if it exists (a failing DROP is logged and
// ignored) and runs the dialect's setup script.
func CreateSchema(ctx context.Context, conn *pgx.Conn, dialect, dataDir string, log *slog.Logger) error {
	script, err := SetupSQL(dialect, dataDir)
	if err != nil {
		return err
	}
	if err := execScript(ctx, conn.PgConn(), "DROP TABLE IF EXISTS cpu"); err != nil {
		log.Warn("cannot drop table cpu; continuing", "err", err)
	}
	if err := execScript(ctx, conn.PgConn(), script); err != nil {
		return fmt.Errorf("cannot create schema (%s): %w", dialect, err)
	}
	return nil
}

// execScript runs sql (possibly several statements) with the simple protocol.
func execScript(ctx context.Context, conn *pgconn.PgConn, sql string) error {
	_, err := conn.Exec(ctx, sql).ReadAll()
	return err
}
