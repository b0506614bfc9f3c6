// node-postgres (Debian's node-pg) against a Longboat node: the flow a
// Node.js application runs.
//
// Usage: node pg_flow.js HOST PORT
//
// Prints one line per check; the Go test (server/clients_test.go) compares
// the output with pg_flow.out. Any unexpected error ends the program with a
// non-zero status. node-postgres uses the extended protocol for every query
// with parameters (unnamed statement, parameter types left to the server,
// text results) and parses timestamptz into Date, int8/numeric into strings.
'use strict';

process.env.TZ = 'UTC';
const { Client } = require('pg');

function show(label, value) {
  console.log(label + ': ' + JSON.stringify(value));
}

async function main() {
  const [host, port] = process.argv.slice(2);
  const client = new Client({
    host, port: Number(port), user: 'longboat', database: 'longboat',
    application_name: 'node-flow', connectionTimeoutMillis: 10000,
  });
  await client.connect();

  await client.query('DROP TABLE IF EXISTS node_metrics');
  const created = await client.query(`CREATE TABLE node_metrics (
      time timestamptz NOT NULL, device text, metric text, value double precision,
      total bigint, ok boolean, PRIMARY KEY (device, metric, time))`);
  show('create', created.command);

  // Parameterized inserts: Date, string, number, null, boolean.
  const ins = 'INSERT INTO node_metrics (time, device, metric, value, total, ok) VALUES ($1, $2, $3, $4, $5, $6)';
  let n = 0;
  for (const row of [
    [new Date('2024-05-01T00:00:00.000Z'), 'd1', 'temp', 21.5, 10, true],
    [new Date('2024-05-01T00:00:30.125Z'), 'd1', 'temp', 22.25, 11, false],
    [new Date('2024-05-01T00:01:00.000Z'), 'd1', 'temp', null, null, null],
    ['2024-05-01T02:01:00+02:00', 'd2', 'hum', 55, '9007199254740993', true],
  ]) {
    const r = await client.query(ins, row);
    n += r.rowCount;
    show('insert', [r.command, r.rowCount]);
  }
  const multi = await client.query(
    'INSERT INTO node_metrics (time, device, metric, value) VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)',
    [new Date('2024-05-01T00:02:00Z'), 'd2', 'hum', 56.5, new Date('2024-05-01T00:03:00Z'), 'd2', 'hum', 57]);
  show('multi-row insert', [multi.command, multi.rowCount]);

  // Rows as objects; timestamptz as Date; int8 as string; NULLs as null.
  const sel = await client.query(
    'SELECT time, device, value, total, ok FROM node_metrics WHERE device = $1 AND time >= $2 ORDER BY time',
    ['d1', new Date('2024-05-01T00:00:00Z')]);
  show('fields', sel.fields.map((f) => [f.name, f.dataTypeID]));
  show('rowCount', sel.rowCount);
  for (const r of sel.rows) {
    show('row', { time: r.time.toISOString(), isDate: r.time instanceof Date, device: r.device, value: r.value, total: r.total, ok: r.ok });
  }
  const big = await client.query('SELECT total FROM node_metrics WHERE device = $1 ORDER BY time', ['d2']);
  show('int8 as string', big.rows.map((r) => r.total));

  // Aggregates with time_bucket; count is int8 → string, avg float8 → number.
  const agg = await client.query(
    `SELECT time_bucket('1 minute', time) AS minute, count(*) AS n, avg(value) AS avg, max(value)
       FROM node_metrics WHERE time < $1 GROUP BY minute ORDER BY minute`, [new Date('2024-05-02T00:00:00Z')]);
  for (const r of agg.rows) {
    show('bucket', [r.minute.toISOString(), r.n, r.avg, r.max]);
  }

  // A named prepared statement, executed twice (Parse once, then Bind/Execute).
  for (const device of ['d1', 'd2']) {
    const r = await client.query({ name: 'count-device', text: 'SELECT count(*)::int4 AS n FROM node_metrics WHERE device = $1', values: [device] });
    show('prepared ' + device, r.rows[0]);
  }
  // rowMode array.
  const arr = await client.query({ text: 'SELECT device, metric FROM node_metrics WHERE device = $1 ORDER BY time LIMIT 2', values: ['d2'], rowMode: 'array' });
  show('array rows', arr.rows);

  // Simple query (no parameters) with several statements.
  const many = await client.query("SELECT 1 AS a; SELECT 'two' AS b");
  show('multi-statement', many.map((r) => r.rows));

  // Transactions.
  await client.query('BEGIN');
  const inTx = await client.query('SELECT count(*) AS n FROM node_metrics');
  await client.query('COMMIT');
  show('count in transaction', inTx.rows[0].n);

  // Errors carry SQLSTATE and position; the client stays usable.
  for (const sql of ['SELECT * FROM nosuch', 'SELEC 1', 'SELECT nosuch FROM node_metrics']) {
    try {
      await client.query(sql);
      show('error', 'none for ' + sql);
    } catch (e) {
      show('error', [e.code, e.message, e.position]);
    }
  }
  try {
    await client.query('INSERT INTO node_metrics (time, device, metric, value) VALUES ($1, $2, $3, $4)', ['not a time', 'd9', 'x', 1]);
    show('bad timestamp', 'none');
  } catch (e) {
    show('bad timestamp', e.code);
  }
  const after = await client.query('SELECT $1::text AS echo', ['still here']);
  show('after errors', after.rows[0]);
  await client.end();

  // statement_timeout as a connection option (sent as a startup parameter).
  const timed = new Client({ host, port: Number(port), user: 'longboat', database: 'longboat', statement_timeout: 100 });
  await timed.connect();
  try {
    await timed.query('SELECT pg_sleep(30)');
    show('statement_timeout', 'none');
  } catch (e) {
    show('statement_timeout', [e.code, e.message]);
  }
  const ok = await timed.query('SELECT pg_sleep(0.01) AS slept');
  show('void result', ok.rows);
  await timed.end();
  show('inserted', n);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
