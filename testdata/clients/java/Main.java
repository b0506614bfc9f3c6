// pgjdbc against a Longboat node: the flow a Java application (or a tool
// built on JDBC) runs.
//
// Usage: java -cp /usr/share/java/postgresql.jar Main.java HOST PORT
//
// Prints one line per check; the Go test (server/clients_test.go) compares
// the output with Main.out. Any unexpected exception ends the program with a
// stack trace and a non-zero status. prepareThreshold=1 makes pgjdbc switch
// to a named server-side statement on the second execution, and binary
// transfer (on by default) then asks for binary results.

import java.sql.*;
import java.time.*;
import java.util.*;

public class Main {
    static void show(String label, Object value) {
        System.out.println(label + ": " + value);
    }

    static String row(ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        StringBuilder sb = new StringBuilder("[");
        for (int i = 1; i <= md.getColumnCount(); i++) {
            if (i > 1) sb.append(", ");
            Object o = rs.getObject(i);
            sb.append(rs.wasNull() ? "NULL" : o.getClass().getSimpleName() + "=" + o);
        }
        return sb.append("]").toString();
    }

    static Connection connect(String host, String port, boolean rewrite) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "longboat");
        p.setProperty("prepareThreshold", "1");
        p.setProperty("reWriteBatchedInserts", Boolean.toString(rewrite));
        p.setProperty("ApplicationName", "jdbc-flow");
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/longboat", p);
    }

    public static void main(String[] args) throws Exception {
        TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
        String host = args[0], port = args[1];
        Instant t0 = Instant.parse("2024-05-01T00:00:00Z");
        try (Connection c = connect(host, port, false)) {
            DatabaseMetaData dmd = c.getMetaData();
            show("product", dmd.getDatabaseProductName());
            show("driver", dmd.getDriverName());
            try (Statement st = c.createStatement()) {
                st.execute("DROP TABLE IF EXISTS jdbc_cpu");
                st.execute("CREATE TABLE jdbc_cpu (time timestamptz NOT NULL, host text, region varchar(20),"
                        + " usage double precision, cores integer, up boolean, PRIMARY KEY (host, region, time))");
                show("create update count", st.getUpdateCount());
            }

            // PreparedStatement with setTimestamp / setString / setDouble / setObject.
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO jdbc_cpu (time, host, region, usage, cores, up) VALUES (?, ?, ?, ?, ?, ?)")) {
                for (int i = 0; i < 3; i++) {
                    ps.setTimestamp(1, Timestamp.from(t0.plusSeconds(10L * i)));
                    ps.setString(2, "h1");
                    ps.setString(3, "eu");
                    ps.setDouble(4, 10.5 + i);
                    ps.setObject(5, Integer.valueOf(4 + i));
                    ps.setObject(6, Boolean.valueOf(i % 2 == 0));
                    show("insert " + i, ps.executeUpdate());
                }
                // setObject with OffsetDateTime (sent as timestamptz) and NULLs.
                ps.setObject(1, OffsetDateTime.of(2024, 5, 1, 2, 0, 30, 250_000_000, ZoneOffset.ofHours(2)));
                ps.setString(2, "h2");
                ps.setString(3, "us");
                ps.setNull(4, Types.DOUBLE);
                ps.setNull(5, Types.INTEGER);
                ps.setObject(6, null, Types.BOOLEAN);
                show("insert nulls", ps.executeUpdate());
            }

            // Batches without rewriting: one Bind/Execute per row.
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO jdbc_cpu (time, host, region, usage, cores, up) VALUES (?, ?, ?, ?, ?, ?)")) {
                for (int i = 0; i < 4; i++) {
                    ps.setTimestamp(1, Timestamp.from(t0.plusSeconds(60L + i)));
                    ps.setString(2, "h3");
                    ps.setString(3, "ap");
                    ps.setDouble(4, i * 0.25);
                    ps.setInt(5, i);
                    ps.setBoolean(6, true);
                    ps.addBatch();
                }
                show("batch", Arrays.toString(ps.executeBatch()));
            }

            // Server-prepared, binary results: the same query three times.
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT time, host, region, usage, cores, up FROM jdbc_cpu WHERE host = ? AND time >= ? ORDER BY time")) {
                for (int run = 0; run < 3; run++) {
                    ps.setString(1, "h1");
                    ps.setObject(2, OffsetDateTime.of(2024, 5, 1, 0, 0, 5, 0, ZoneOffset.UTC));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            show("run " + run, row(rs) + " instant=" + rs.getTimestamp(1).toInstant()
                                    + " odt=" + rs.getObject(1, OffsetDateTime.class) + " usage=" + rs.getDouble("usage"));
                        }
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT time, usage, cores, up FROM jdbc_cpu WHERE host = ?")) {
                ps.setString(1, "h2");
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        show("h2", row(rs) + " odt=" + rs.getObject(1, OffsetDateTime.class));
                        rs.getDouble(2);
                        show("h2 usage wasNull", rs.wasNull());
                    }
                }
            }

            // ResultSetMetaData: names, labels, types, table names.
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT time_bucket('1 minute', time) AS minute, host, count(*) AS n, avg(usage), max(cores) AS max_cores"
                            + " FROM jdbc_cpu WHERE time < ? GROUP BY minute, host ORDER BY minute, host")) {
                ps.setTimestamp(1, Timestamp.from(Instant.parse("2024-05-02T00:00:00Z")));
                try (ResultSet rs = ps.executeQuery()) {
                    ResultSetMetaData md = rs.getMetaData();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        show("column " + i, md.getColumnLabel(i) + " " + md.getColumnTypeName(i) + " " + md.getColumnType(i)
                                + " " + md.getColumnClassName(i));
                    }
                    while (rs.next()) {
                        show("bucket", row(rs));
                    }
                }
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT host, region, usage FROM jdbc_cpu LIMIT 1")) {
                ResultSetMetaData md = rs.getMetaData();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    show("base column " + i, md.getTableName(i) + "." + md.getColumnName(i) + " " + md.getColumnTypeName(i)
                            + " nullable=" + md.isNullable(i));
                }
            }

            // DatabaseMetaData: pg_catalog queries.
            try (ResultSet rs = dmd.getTables(null, "public", "jdbc%", new String[] {"TABLE"})) {
                while (rs.next()) {
                    show("table", rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME") + " " + rs.getString("TABLE_TYPE"));
                }
            }
            try (ResultSet rs = dmd.getColumns(null, "public", "jdbc_cpu", "%")) {
                while (rs.next()) {
                    show("column", rs.getInt("ORDINAL_POSITION") + " " + rs.getString("COLUMN_NAME") + " " + rs.getString("TYPE_NAME")
                            + " " + rs.getInt("DATA_TYPE") + " nullable=" + rs.getString("IS_NULLABLE"));
                }
            }
            // Errors carry SQLSTATEs; the connection stays usable.
            try (Statement st = c.createStatement()) {
                st.executeQuery("SELECT * FROM nosuch");
                show("unknown table", "no exception");
            } catch (SQLException e) {
                show("unknown table", e.getSQLState() + " " + e.getMessage());
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT nosuch FROM jdbc_cpu WHERE host = ?")) {
                ps.setString(1, "h1");
                ps.executeQuery();
                show("unknown column", "no exception");
            } catch (SQLException e) {
                show("unknown column", e.getSQLState());
            }

            // A cursor: setFetchSize in a transaction fetches in chunks (PortalSuspended).
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT host, cores FROM jdbc_cpu WHERE host = ? ORDER BY time")) {
                ps.setFetchSize(2);
                ps.setString(1, "h3");
                List<String> got = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        got.add(rs.getString(1) + "/" + rs.getInt(2));
                    }
                }
                show("fetch size 2", got);
            }
            c.commit();
            c.setAutoCommit(true);

            // Statement.cancel() sends a CancelRequest for the running pg_sleep.
            // It repeats until the statement has ended: a cancel that arrives
            // before the statement runs is ignored, as by PostgreSQL.
            try (Statement st = c.createStatement()) {
                java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
                Thread canceller = new Thread(() -> {
                    try {
                        while (!done.await(100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                            st.cancel();
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                canceller.start();
                try {
                    st.executeQuery("SELECT pg_sleep(30)");
                    show("cancel", "no exception");
                } catch (SQLException e) {
                    show("cancel", e.getSQLState() + " " + e.getMessage());
                } finally {
                    done.countDown();
                    canceller.join();
                }
                try (ResultSet rs = st.executeQuery("SELECT pg_sleep(0.01), 1 AS one")) {
                    rs.next();
                    show("after cancel", row(rs) + " " + rs.getMetaData().getColumnTypeName(1));
                }
            }
        }

        // reWriteBatchedInserts=true: the batch arrives as multi-row INSERTs.
        try (Connection c = connect(host, port, true)) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_cpu (time, host, region, usage) VALUES (?, ?, ?, ?)")) {
                for (int i = 0; i < 5; i++) {
                    ps.setTimestamp(1, Timestamp.from(t0.plusSeconds(120L + i)));
                    ps.setString(2, "h4");
                    ps.setString(3, "eu");
                    ps.setDouble(4, 100 + i);
                    ps.addBatch();
                }
                show("rewritten batch", Arrays.toString(ps.executeBatch()));
            }
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT host, count(*), sum(usage) FROM jdbc_cpu GROUP BY host ORDER BY host")) {
                while (rs.next()) {
                    show("per host", row(rs));
                }
            }
        }
    }
}
