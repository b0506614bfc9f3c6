package main

// TestCrashKill9 is the crash test of the real binary: concurrent writers
// (extended- and simple-protocol multi-row INSERT, binary and text COPY),
// SIGKILL at a random moment, restart on the same data directory, and a
// check of every row. See docs/architecture.md, "Durability".
//
// What it asserts (the promise Longboat makes):
//
//   - Every row of a statement acknowledged with CommandComplete is present
//     after the restart, with exactly the values written.
//   - No (series, time) is present twice (checked on the scanned rows and
//     with count(*) against count(DISTINCT time) per series).
//   - A statement in flight at the kill is atomic per shard: it is cut into
//     one batch per shard (up to ingest.Options.MinBatchRows, 4096 rows on
//     one shard; the statements here are smaller), each batch is one Raft
//     entry, so for every shard its rows are all present or all absent.
//     Present rows carry the written values.
//     Nothing beyond what was sent ever appears.
//   - What a read after the restart returns stays true: an in-flight row
//     seen present stays present, one seen absent stays absent, through the
//     later cycles.
//   - The later write of the same series and time wins across restarts.
//
// The kill delay and statement sizes come from a seeded RNG; the seed is
// logged and LONGBOAT_CRASH_SEED replays it (scheduling still varies).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/longboatdb/longboat/shard"
)

const (
	crashDB         = "crash"
	crashTable      = "pts"
	crashSlotGroups = 4
	crashPartition  = time.Hour
	crashCycles     = 3
	// crashStep is the time between a writer's consecutive rows.
	crashStep = 10 * time.Millisecond
	// crashOverwriteRows is the number of points of the overwrite series.
	crashOverwriteRows = 64
	// crashOverwriteTag is the series that is overwritten in every cycle.
	crashOverwriteTag = "ow"
)

// crashBase is the time of seq 0: 10 s before a partition boundary, so that
// writers cross into a second partition (whose shards are created lazily,
// mid-run) after 1000 rows.
func crashBase() time.Time {
	return time.Date(2024, 1, 1, 1, 0, 0, 0, time.UTC).Add(-10 * time.Second)
}

type writeKind int

const (
	kindInsertExtended writeKind = iota // multi-row INSERT, $n parameters (Parse/Bind/Execute)
	kindInsertSimple                    // multi-row INSERT with literals (simple Query)
	kindCopyBinary                      // COPY FROM STDIN (FORMAT binary) via pgx.CopyFrom
	kindCopyText                        // COPY FROM STDIN, text format
)

func (k writeKind) String() string {
	return [...]string{"insert-extended", "insert-simple", "copy-binary", "copy-text"}[k]
}

// crashRow is row n of writer w. A writer alternates between two series, so
// that a statement usually touches two slot groups (and, at the partition
// boundary, two partitions): several shards.
type crashRow struct {
	tag  string
	time time.Time
	seq  int64
	v    float64
	note string
}

func rowOf(w int, n int64) crashRow {
	return crashRow{
		tag:  fmt.Sprintf("w%d.%d", w, n%2),
		time: crashBase().Add(time.Duration(n) * crashStep),
		seq:  n,
		v:    float64(n)/4 + float64(w), // exact in binary: equality is exact
		note: fmt.Sprintf("w%d#%d", w, n),
	}
}

// shardKey identifies the shard a row lands in: (partition start, slot group).
type shardKey struct {
	part  int64
	group int
}

func (r crashRow) shardKey() shardKey {
	return shardKey{
		part:  shard.PartitionStart(r.time.UnixMicro(), crashPartition),
		group: shard.SlotGroup(shard.Slot(r.tag), crashSlotGroups),
	}
}

// rowState is what the checker knows about one row.
type rowState uint8

const (
	rowUnsent rowState = iota // never sent (seq >= writer.next)
	rowMust                   // acknowledged, or seen present after a crash
	rowMaybe                  // in flight at a kill, not yet observed
	rowAbsent                 // in flight at a kill, observed absent
)

type span struct{ first, n int64 }

// crashWriter is one concurrent client. Between cycles its fields are only
// read by the test goroutine; during a cycle only its own goroutine uses
// them.
type crashWriter struct {
	id    int
	kind  writeKind
	next  int64      // next seq to send
	state []rowState // by seq
	maybe []span     // statements in flight at a kill, not yet verified
	acked int64      // rows acknowledged in total
	stmts int        // statements acknowledged in total
}

// run writes statements until one fails. A failure before killed is set is
// an error; after it, the failed statement is in flight (maybe).
func (w *crashWriter) run(ctx context.Context, url string, rng *rand.Rand, killed *atomic.Bool) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		if killed.Load() {
			return nil
		}
		return fmt.Errorf("writer %d (%s): connect: %w", w.id, w.kind, err)
	}
	defer conn.Close(context.Background())
	for ctx.Err() == nil {
		var size int64
		switch w.kind {
		case kindInsertExtended, kindInsertSimple:
			size = 1 + rng.Int64N(40)
		default:
			size = 20 + rng.Int64N(780)
		}
		first := w.next
		w.next += size
		for range size {
			w.state = append(w.state, rowMaybe)
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := w.exec(sctx, conn, first, size)
		cancel()
		if err == nil {
			for n := first; n < first+size; n++ {
				w.state[n] = rowMust
			}
			w.acked += size
			w.stmts++
			continue
		}
		w.maybe = append(w.maybe, span{first, size})
		if killed.Load() {
			return nil
		}
		return fmt.Errorf("writer %d (%s): statement of rows %d..%d failed before the kill: %w",
			w.id, w.kind, first, first+size-1, err)
	}
	return nil
}

// exec sends rows [first, first+n) of the writer as one statement and
// checks the CommandComplete tag.
func (w *crashWriter) exec(ctx context.Context, conn *pgx.Conn, first, n int64) error {
	rows := make([]crashRow, n)
	for i := range rows {
		rows[i] = rowOf(w.id, first+int64(i))
	}
	return execRows(ctx, conn, w.kind, rows)
}

func execRows(ctx context.Context, conn *pgx.Conn, kind writeKind, rows []crashRow) error {
	var tag string
	var affected int64
	switch kind {
	case kindInsertExtended:
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + crashTable + " (time, writer, seq, v, note) VALUES ")
		args := make([]any, 0, 5*len(rows))
		for i, r := range rows {
			if i > 0 {
				sb.WriteByte(',')
			}
			p := 5 * i
			fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d)", p+1, p+2, p+3, p+4, p+5)
			args = append(args, r.time, r.tag, r.seq, r.v, r.note)
		}
		ct, err := conn.Exec(ctx, sb.String(), args...)
		if err != nil {
			return err
		}
		tag, affected = ct.String(), ct.RowsAffected()
	case kindInsertSimple:
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + crashTable + " (time, writer, seq, v, note) VALUES ")
		for i, r := range rows {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "('%s', '%s', %d, %s, '%s')", pgTime(r.time), r.tag, r.seq, pgFloat(r.v), r.note)
		}
		res, err := conn.PgConn().Exec(ctx, sb.String()).ReadAll()
		if err != nil {
			return err
		}
		if len(res) != 1 {
			return fmt.Errorf("%d results for one statement", len(res))
		}
		tag, affected = res[0].CommandTag.String(), res[0].CommandTag.RowsAffected()
	case kindCopyBinary:
		n, err := conn.CopyFrom(ctx, pgx.Identifier{crashTable}, []string{"time", "writer", "seq", "v", "note"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := rows[i]
				return []any{r.time, r.tag, r.seq, r.v, r.note}, nil
			}))
		if err != nil {
			return err
		}
		tag, affected = fmt.Sprintf("COPY %d", n), n
	case kindCopyText:
		var sb strings.Builder
		for _, r := range rows {
			fmt.Fprintf(&sb, "%s\t%s\t%d\t%s\t%s\n", pgTime(r.time), r.tag, r.seq, pgFloat(r.v), r.note)
		}
		ct, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(sb.String()),
			"COPY "+crashTable+" (time, writer, seq, v, note) FROM STDIN")
		if err != nil {
			return err
		}
		tag, affected = ct.String(), ct.RowsAffected()
	}
	if affected != int64(len(rows)) {
		return fmt.Errorf("command tag %q for %d rows", tag, len(rows))
	}
	return nil
}

func pgTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000000") + "+00" }

func pgFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// crashSeed is LONGBOAT_CRASH_SEED, or a fresh seed.
func crashSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("LONGBOAT_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LONGBOAT_CRASH_SEED=%q: %v", s, err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and SIGKILLs the real binary; skipped in -short mode")
	}
	seed := crashSeed(t)
	t.Logf("seed %d (replay with LONGBOAT_CRASH_SEED=%d)", seed, seed)
	dir := t.TempDir()
	t0 := time.Now()
	bin := buildBinary(t.Context(), t, dir) // bounded by go test's -timeout only
	t.Logf("built the binary in %.1fs", time.Since(t0).Seconds())
	t0 = time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	node := newNodeProcess(t, bin, dir)
	node.start(ctx)
	createCrashSchema(ctx, t, node)

	kinds := []writeKind{kindInsertExtended, kindInsertExtended, kindInsertSimple, kindInsertSimple, kindCopyBinary, kindCopyText}
	writers := make([]*crashWriter, len(kinds))
	for i, k := range kinds {
		writers[i] = &crashWriter{id: i, kind: k}
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	for cycle := 1; cycle <= crashCycles; cycle++ {
		overwrite(ctx, t, node, cycle)

		var killed atomic.Bool
		wctx, stopWriters := context.WithCancel(ctx)
		errs := make([]error, len(writers))
		var wg sync.WaitGroup
		for i, w := range writers {
			wrng := rand.New(rand.NewPCG(seed, uint64(cycle*100+i+1)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = w.run(wctx, node.url(crashDB), wrng, &killed)
			}()
		}
		delay := time.Duration(800+rng.IntN(2200)) * time.Millisecond
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		killed.Store(true)
		node.kill()
		tk := time.Now()
		wg.Wait()
		stopWriters()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}

		node.start(ctx)
		t.Logf("cycle %d: SIGKILL after %v; restarted and healthy in %.2fs", cycle, delay, time.Since(tk).Seconds())
		tv := time.Now()
		verifyCrash(ctx, t, node, writers, cycle)
		t.Logf("cycle %d: verified in %.2fs", cycle, time.Since(tv).Seconds())
		if t.Failed() {
			t.FailNow()
		}
	}

	// A clean shutdown and restart keep everything too; nothing is in
	// flight any more, so every row's fate is settled.
	if !node.stop() {
		t.Fatalf("longboat did not shut down cleanly on SIGTERM")
	}
	node.start(ctx)
	verifyCrash(ctx, t, node, writers, crashCycles)
	var acked, stmts int64
	for _, w := range writers {
		acked += w.acked
		stmts += int64(w.stmts)
	}
	t.Logf("%d acknowledged rows in %d statements over %d kill/restart cycles, all present once; %.1fs after the build",
		acked, stmts, crashCycles, time.Since(t0).Seconds())
}

func createCrashSchema(ctx context.Context, t *testing.T, node *nodeProcess) {
	t.Helper()
	c, err := pgx.Connect(ctx, node.url("longboat"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s WITH (slot_groups = %d, partition_interval = '1 hour')",
		crashDB, crashSlotGroups)); err != nil {
		t.Fatal(err)
	}
	c2, err := pgx.Connect(ctx, node.url(crashDB))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(context.Background())
	if _, err := c2.Exec(ctx, "CREATE TABLE "+crashTable+` (time timestamptz NOT NULL, writer text,
		seq bigint, v double precision, note text, PRIMARY KEY (writer, time))`); err != nil {
		t.Fatal(err)
	}
}

// overwriteRow is point i of the overwrite series in generation gen.
func overwriteRow(gen int, i int) crashRow {
	return crashRow{
		tag:  crashOverwriteTag,
		time: crashBase().Add(time.Duration(i) * crashStep),
		seq:  int64(gen),
		v:    float64(gen*1000 + i),
		note: fmt.Sprintf("gen%d", gen),
	}
}

// overwrite writes every point of the overwrite series twice (generations
// 2c and 2c+1 of cycle c), the first by INSERT, the second by COPY; both
// are acknowledged before the writers start.
func overwrite(ctx context.Context, t *testing.T, node *nodeProcess, cycle int) {
	t.Helper()
	c, err := pgx.Connect(ctx, node.url(crashDB))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	for i, kind := range []writeKind{kindInsertExtended, kindCopyText} {
		gen := 2*cycle + i
		rows := make([]crashRow, crashOverwriteRows)
		for j := range rows {
			rows[j] = overwriteRow(gen, j)
		}
		if err := execRows(ctx, c, kind, rows); err != nil {
			t.Fatalf("overwrite generation %d: %v", gen, err)
		}
	}
}

// verifyCrash reads back every row and checks it against what the writers
// know; it settles the fate of in-flight statements.
func verifyCrash(ctx context.Context, t *testing.T, node *nodeProcess, writers []*crashWriter, cycle int) {
	t.Helper()
	var nerr int
	errorf := func(format string, args ...any) {
		nerr++
		if nerr <= 20 {
			t.Errorf("cycle %d: "+format, append([]any{cycle}, args...)...)
		}
	}
	c, err := pgx.Connect(ctx, node.url(crashDB))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())

	found := make([][]bool, len(writers))
	for i, w := range writers {
		found[i] = make([]bool, w.next)
	}
	perTag := map[string]int64{}
	overwritten := make([]int, crashOverwriteRows)
	rows, err := c.Query(ctx, "SELECT writer, time, seq, v, note FROM "+crashTable)
	if err != nil {
		t.Fatal(err)
	}
	var got crashRow
	var scanned int64
	for rows.Next() {
		if err := rows.Scan(&got.tag, &got.time, &got.seq, &got.v, &got.note); err != nil {
			t.Fatal(err)
		}
		got.time = got.time.UTC() // pgx returns local time; compare in UTC
		scanned++
		perTag[got.tag]++
		if got.tag == crashOverwriteTag {
			i := int(got.time.Sub(crashBase()) / crashStep)
			want := overwriteRow(2*cycle+1, i)
			if i < 0 || i >= crashOverwriteRows || got.time.Sub(crashBase())%crashStep != 0 {
				errorf("overwrite series: unexpected row %+v", got)
			} else if overwritten[i]++; got != want {
				errorf("overwrite series point %d: got %+v, want the later write %+v", i, got, want)
			}
			continue
		}
		var w, k int
		if _, err := fmt.Sscanf(got.tag, "w%d.%d", &w, &k); err != nil || w < 0 || w >= len(writers) {
			errorf("row of unknown series %+v", got)
			continue
		}
		n := got.seq
		if n < 0 || n >= writers[w].next {
			errorf("writer %d: row %+v was never sent (next seq %d)", w, got, writers[w].next)
			continue
		}
		if want := rowOf(w, n); got.tag != want.tag || !got.time.Equal(want.time) || got.v != want.v || got.note != want.note {
			errorf("writer %d row %d: got %+v, want %+v", w, n, got, want)
		}
		if found[w][n] {
			errorf("writer %d row %d (%s at %s) is present twice", w, n, got.tag, pgTime(got.time))
		}
		found[w][n] = true
		if writers[w].state[n] == rowAbsent {
			errorf("writer %d row %d was absent after an earlier restart and is present now", w, n)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for i, n := range overwritten {
		if n != 1 {
			errorf("overwrite series point %d present %d times", i, n)
		}
	}

	// count(*) against count(DISTINCT time) per series, through SQL
	// aggregation (block statistics) rather than the scan above.
	agg, err := c.Query(ctx, "SELECT writer, count(*), count(DISTINCT time) FROM "+crashTable+" GROUP BY writer")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for agg.Next() {
		var tag string
		var cnt, distinct int64
		if err := agg.Scan(&tag, &cnt, &distinct); err != nil {
			t.Fatal(err)
		}
		seen++
		if cnt != distinct || cnt != perTag[tag] {
			errorf("series %s: count(*) %d, count(DISTINCT time) %d, rows scanned %d", tag, cnt, distinct, perTag[tag])
		}
	}
	if err := agg.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(perTag) {
		errorf("GROUP BY writer returned %d series, the scan %d", seen, len(perTag))
	}

	var must, missing, maybeStmts, maybePresent, maybeAbsent, partial int64
	for wi, w := range writers {
		for n, st := range w.state {
			if st == rowMust {
				must++
				if !found[wi][n] {
					missing++
					errorf("writer %d (%s): acknowledged row %d (%+v) is missing", wi, w.kind, n, rowOf(wi, int64(n)))
				}
			}
		}
		// Settle the in-flight statements: per shard, all rows or none.
		for _, sp := range w.maybe {
			maybeStmts++
			groups := map[shardKey][]int64{}
			for n := sp.first; n < sp.first+sp.n; n++ {
				k := rowOf(wi, n).shardKey()
				groups[k] = append(groups[k], n)
			}
			keys := make([]shardKey, 0, len(groups))
			for k := range groups {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool {
				return keys[i].part < keys[j].part || keys[i].part == keys[j].part && keys[i].group < keys[j].group
			})
			present := 0
			for _, k := range keys {
				ns := groups[k]
				var have []int64
				for _, n := range ns {
					if found[wi][n] {
						have = append(have, n)
					}
				}
				if len(have) != 0 && len(have) != len(ns) {
					errorf("writer %d (%s): in-flight statement rows %d..%d: shard (partition %d, group %d) has %d of its %d rows (%v): a batch was applied partly",
						wi, w.kind, sp.first, sp.first+sp.n-1, k.part, k.group, len(have), len(ns), have)
				}
				if len(have) > 0 {
					present++
				}
				for _, n := range ns {
					if found[wi][n] {
						w.state[n] = rowMust
						maybePresent++
					} else {
						w.state[n] = rowAbsent
						maybeAbsent++
					}
				}
			}
			if present != 0 && present != len(keys) {
				partial++
			}
		}
		w.maybe = nil
	}
	t.Logf("cycle %d: %d rows scanned; %d acknowledged rows present (%d missing); %d in-flight statements: %d rows present, %d absent (%d statements committed on some shards only)",
		cycle, scanned, must-missing, missing, maybeStmts, maybePresent, maybeAbsent, partial)
	if nerr > 20 {
		t.Errorf("cycle %d: %d more errors", cycle, nerr-20)
	}
}
