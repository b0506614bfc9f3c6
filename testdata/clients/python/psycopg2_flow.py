"""psycopg2 against a Longboat node: the flow a Python application runs.

Usage: /usr/bin/python3 psycopg2_flow.py HOST PORT

Prints one line per check; the Go test (server/clients_test.go) compares the
output with psycopg2_flow.out. Any unexpected exception ends the program with
a traceback and a non-zero status. psycopg2 interpolates %s parameters on the
client and sends plain Query messages (simple protocol), wrapped in BEGIN
unless autocommit is on.
"""
import datetime
import decimal
import io
import sys
import threading

import psycopg2
import psycopg2.errors
import psycopg2.extensions

UTC = datetime.timezone.utc
CEST = datetime.timezone(datetime.timedelta(hours=2))


def show(label, value):
    print(f"{label}: {value!r}")


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    conn = psycopg2.connect(host=host, port=port, user="longboat", dbname="longboat",
                            application_name="psycopg2-flow", connect_timeout=10)
    show("server_encoding", conn.get_parameter_status("server_encoding"))
    show("DateStyle", conn.get_parameter_status("DateStyle"))
    show("integer_datetimes", conn.get_parameter_status("integer_datetimes"))
    show("application_name", conn.get_parameter_status("application_name"))
    cur = conn.cursor()

    cur.execute("DROP TABLE IF EXISTS weather")
    show("drop", cur.statusmessage)
    cur.execute("""CREATE TABLE weather (
        time timestamptz NOT NULL, site text, sensor text,
        temp double precision, rain numeric(8,3), note text,
        PRIMARY KEY (site, sensor, time))""")
    show("create", cur.statusmessage)
    show("status in transaction", conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS)
    conn.commit()

    # executemany: psycopg2 quotes every %s itself; one INSERT per row.
    rows = [
        (datetime.datetime(2024, 5, 1, 2, 0, 0, tzinfo=CEST), "oslo", "t1", 11.5, decimal.Decimal("0.250"), "first"),
        (datetime.datetime(2024, 5, 1, 0, 15, 0, 123456, tzinfo=UTC), "oslo", "t1", -3.25, decimal.Decimal("1.5"), None),
        (datetime.datetime(2024, 5, 1, 0, 45, 0, tzinfo=UTC), "oslo", "t2", None, None, "it's quoted"),
        (datetime.datetime(2024, 5, 1, 1, 5, 0, tzinfo=UTC), "rome", "t1", 20.0, decimal.Decimal("12345.678"), "a\\b"),
    ]
    cur.executemany(
        "INSERT INTO weather (time, site, sensor, temp, rain, note) VALUES (%s, %s, %s, %s, %s, %s)", rows)
    show("executemany rowcount", cur.rowcount)
    conn.commit()

    # COPY FROM STDIN in CSV: an empty unquoted field is NULL, a quoted one is ''.
    csv = io.StringIO(
        "2024-05-01 01:10:00+00,rome,t1,21.5,0.125,\"with, comma\"\n"
        "2024-05-01 01:20:00+00,rome,t2,,2,\n"
        "2024-05-01 01:30:00+00,rome,t2,19.75,,\"\"\n"
    )
    cur.copy_expert("COPY weather (time, site, sensor, temp, rain, note) FROM STDIN WITH (FORMAT csv)", csv)
    show("copy rowcount", cur.rowcount)
    show("copy status", cur.statusmessage)
    conn.commit()

    conn.autocommit = True
    cur.execute("SELECT count(*), count(temp), count(note), count(rain) FROM weather")
    show("counts", cur.fetchone())

    # time_bucket and aggregates; the bounds are tz-aware datetimes.
    cur.execute("""SELECT time_bucket('1 hour', time) AS hour, site, count(*) AS n,
                          avg(temp) AS avg_temp, min(temp), max(temp), sum(temp)
                   FROM weather WHERE time >= %s AND time < %s
                   GROUP BY hour, site ORDER BY hour, site""",
                (datetime.datetime(2024, 5, 1, tzinfo=UTC), datetime.datetime(2024, 5, 2, tzinfo=UTC)))
    show("bucket columns", [d.name for d in cur.description])
    for row in cur.fetchall():
        show("bucket", row)

    # timestamptz round trip: what goes in comes back as the same instant, in UTC.
    cur.execute("SELECT time, temp, rain, note FROM weather WHERE site = %s AND sensor = %s ORDER BY time",
                ("oslo", "t1"))
    got = cur.fetchall()
    for row in got:
        show("oslo t1", row)
    show("round trip equal", sorted(r[0] for r in got) == sorted(r[0] for r in rows if r[1:3] == ("oslo", "t1")))
    show("tzinfo utcoffset", got[0][0].utcoffset())

    # numeric / Decimal
    cur.execute("SELECT rain FROM weather WHERE rain IS NOT NULL ORDER BY rain")
    show("rain", [r[0] for r in cur.fetchall()])
    try:
        cur.execute("INSERT INTO weather (time, site, sensor, rain) VALUES (%s, 'oslo', 't9', %s)",
                    (datetime.datetime(2024, 5, 1, tzinfo=UTC), decimal.Decimal("99999.9996")))
        show("numeric overflow", "not raised")
    except psycopg2.errors.NumericValueOutOfRange as e:
        show("numeric overflow", (type(e).__name__, e.pgcode, e.diag.message_detail))
    cur.execute("SELECT %s::numeric * 2 AS twice, %s::numeric + 0.001 AS plus", (decimal.Decimal("10.005"), decimal.Decimal("-0.5")))
    show("decimal arithmetic", cur.fetchone())
    show("numeric type_code", cur.description[0].type_code)

    # NULLs both ways
    cur.execute("SELECT note, temp FROM weather WHERE site = 'oslo' AND sensor = 't2'")
    show("nulls", cur.fetchall())
    cur.execute("SELECT %s::text IS NULL, %s AS x", (None, None))
    show("null params", cur.fetchone())
    cur.execute("SELECT note FROM weather WHERE site = 'rome' AND sensor = 't2' ORDER BY time")
    show("csv null vs empty", cur.fetchall())

    # Server-side SET / SHOW.
    cur.execute("SET application_name = 'renamed'")
    show("set status", cur.statusmessage)
    cur.execute("SHOW application_name")
    show("show application_name", cur.fetchone())
    show("parameter status application_name", conn.get_parameter_status("application_name"))
    cur.execute("SET TIME ZONE 'UTC'")
    cur.execute("SHOW TimeZone")
    show("show timezone", cur.fetchone())
    cur.execute("SET extra_float_digits = 3")
    cur.execute("SHOW extra_float_digits")
    show("show extra_float_digits", cur.fetchone())
    cur.execute("SELECT current_setting('application_name')")
    show("current_setting", cur.fetchone())

    # A syntax error inside a transaction: SyntaxError with SQLSTATE 42601, the
    # transaction is aborted (25P02) until ROLLBACK, then the connection works.
    conn.autocommit = False
    try:
        cur.execute("SELEC time FROM weather")
        show("syntax error", "not raised")
    except psycopg2.errors.SyntaxError as e:
        show("syntax error", (type(e).__name__, e.pgcode))
    show("status after error", conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INERROR)
    try:
        cur.execute("SELECT 1")
        show("in failed transaction", "not raised")
    except psycopg2.errors.InFailedSqlTransaction as e:
        show("in failed transaction", (type(e).__name__, e.pgcode))
    conn.rollback()
    cur.execute("SELECT count(*) FROM weather")
    show("after rollback", cur.fetchone())
    conn.commit()
    try:
        cur.execute("SELECT * FROM nosuch")
    except psycopg2.errors.UndefinedTable as e:
        show("undefined table", (type(e).__name__, e.pgcode, e.diag.message_primary))
    conn.rollback()
    conn.autocommit = True

    # pg_sleep returns void (psycopg2 has no caster for it: a string).
    cur.execute("SELECT pg_sleep(0.05)")
    show("pg_sleep", cur.fetchone())
    show("pg_sleep type_code", cur.description[0].type_code)

    # Cancellation: conn.cancel() from another thread sends a CancelRequest.
    # It repeats until the statement has ended: a CancelRequest that arrives
    # before the statement starts is ignored (as by PostgreSQL), and on a
    # loaded machine the first one may.
    done = threading.Event()

    def canceller():
        while not done.wait(0.1):
            conn.cancel()

    thread = threading.Thread(target=canceller)
    thread.start()
    try:
        cur.execute("SELECT pg_sleep(30)")
        show("cancel", "not raised")
    except psycopg2.errors.QueryCanceled as e:
        show("cancel", (type(e).__name__, e.pgcode))
    finally:
        done.set()
        thread.join()
    cur.execute("SELECT 1 AS one")
    show("after cancel", cur.fetchone())

    # statement_timeout cancels on the server side.
    cur.execute("SET statement_timeout = '100ms'")
    cur.execute("SHOW statement_timeout")
    show("show statement_timeout", cur.fetchone())
    try:
        cur.execute("SELECT pg_sleep(30)")
        show("statement timeout", "not raised")
    except psycopg2.errors.QueryCanceled as e:
        show("statement timeout", (type(e).__name__, e.pgcode, e.diag.message_primary))
    try:
        cur.execute("SET statement_timeout = 'soon'")
        show("bad statement_timeout", "not raised")
    except psycopg2.errors.InvalidParameterValue as e:
        show("bad statement_timeout", (type(e).__name__, e.pgcode))
    cur.execute("SET statement_timeout = 0")
    cur.execute("SELECT pg_sleep(0.2), 2 AS two")
    show("no timeout", cur.fetchone())

    conn.close()
    show("closed", conn.closed)


if __name__ == "__main__":
    main()
