package mpp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/shard"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
	"github.com/longboatdb/longboat/sql/types"
)

// vcat adds virtual tables to a fake cluster.
type vcat struct {
	*fakeCluster
}

type memTable struct {
	cols []planner.Column
	rows [][]types.Datum
}

func (m *memTable) Columns() []planner.Column { return m.cols }
func (m *memTable) Rows(context.Context) ([][]types.Datum, error) {
	return m.rows, nil
}

func (c vcat) VirtualTable(schema, name string) (planner.VirtualTable, bool) {
	switch name {
	case "pg_class":
		return &memTable{
			cols: []planner.Column{{Name: "oid", Type: types.Oid}, {Name: "relname", Type: types.Name}, {Name: "relnamespace", Type: types.Oid}},
			rows: [][]types.Datum{
				{types.NewInt(types.Oid, 7), {T: types.Name, S: "cpu"}, types.NewInt(types.Oid, 2200)},
				{types.NewInt(types.Oid, 9), {T: types.Name, S: "pg_class"}, types.NewInt(types.Oid, 11)},
			}}, true
	case "pg_namespace":
		return &memTable{
			cols: []planner.Column{{Name: "oid", Type: types.Oid}, {Name: "nspname", Type: types.Name}},
			rows: [][]types.Datum{
				{types.NewInt(types.Oid, 11), {T: types.Name, S: "pg_catalog"}},
				{types.NewInt(types.Oid, 2200), {T: types.Name, S: "public"}},
			}}, true
	}
	return nil, false
}

var (
	_ planner.FuncCatalog      = vcat{}
	_ planner.RelationResolver = vcat{}
)

// Function provides one catalog function for the tests: lb_test_double(x)
// = 2x, strict, one argument.
func (c vcat) Function(name string) (planner.ExternalFunc, bool) {
	if name != "lb_test_double" {
		return planner.ExternalFunc{}, false
	}
	return planner.ExternalFunc{Result: types.Int8, MinArgs: 1, MaxArgs: 1, Strict: true,
		Eval: func(a []types.Datum) (types.Datum, error) { return types.NewInt(types.Int8, 2*a[0].I), nil }}, true
}

// RelationOID resolves the two relations of the test catalog.
func (c vcat) RelationOID(name string) (uint32, bool) {
	switch name {
	case "pg_class", "pg_catalog.pg_class":
		return 1259, true
	case "cpu", "public.cpu":
		return 16391, true
	}
	return 0, false
}

func TestQueries(t *testing.T) {
	c := vcat{smallCluster(0.1)}
	datadriven.RunTest(t, "testdata/queries", func(t *testing.T, d *datadriven.TestData) string {
		env := &planner.Env{Database: "benchmark", Params: []types.Datum{}, Now: tsbsStart() + 12*3600*1_000_000, User: "alice"}
		for _, a := range d.CmdArgs {
			if a.Key == "params" {
				for _, v := range a.Vals {
					env.Params = append(env.Params, types.Datum{T: types.UnknownLit, S: v})
				}
			}
		}
		p, err := planner.Build(parse(t, d.Input), c, env)
		if err != nil {
			return fmt.Sprintf("error %s: %v\n", pgerror.Code(err), err)
		}
		var sb strings.Builder
		cols := p.Columns()
		names := make([]string, len(cols))
		for i, col := range cols {
			names[i] = col.Name + ":" + types.TypeName(col.Type)
		}
		sb.WriteString(strings.Join(names, " | ") + "\n")
		err = Run(context.Background(), p, c, func(r []types.Datum) error {
			sb.WriteString(fmtRow(r) + "\n")
			return nil
		})
		if err != nil {
			sb.WriteString(fmt.Sprintf("error %s: %v\n", pgerror.Code(err), err))
		}
		return sb.String()
	})
}

// TestCancel checks that a cancelled statement stops and reports 57014.
func TestCancel(t *testing.T) {
	c := smallCluster(0)
	p, err := planner.Build(parse(t, "SELECT * FROM cpu"), c, &planner.Env{Database: "benchmark", Params: []types.Datum{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err = Run(ctx, p, c, func([]types.Datum) error {
		n++
		if n == 10 {
			cancel()
		}
		return nil
	})
	if pgerror.Code(err) != pgerror.CodeQueryCanceled {
		t.Fatalf("err = %v (%s), want 57014", err, pgerror.Code(err))
	}
	if n >= c.rows {
		t.Fatalf("read all %d rows after cancel", n)
	}
	// A pre-cancelled context fails before any scan.
	err = Run(ctx, p, c, func([]types.Datum) error { return nil })
	if pgerror.Code(err) != pgerror.CodeQueryCanceled {
		t.Fatalf("err = %v, want 57014", err)
	}
	// Aggregation paths too.
	p2, _ := planner.Build(parse(t, "SELECT hostname, max(usage_user) FROM cpu GROUP BY hostname"), c, &planner.Env{Database: "benchmark", Params: []types.Datum{}})
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel2()
	time.Sleep(time.Millisecond)
	if err := Run(ctx2, p2, c, func([]types.Datum) error { return nil }); pgerror.Code(err) != pgerror.CodeQueryCanceled {
		t.Fatalf("err = %v, want 57014", err)
	}
}

// errShards fails one shard's scan.
type errShards struct{ *fakeCluster }

type errScanner struct{}

func (errScanner) Scan(context.Context, *store.ScanRequest, func(*store.SeriesBatch) error) error {
	return errors.New("replica unavailable")
}

func (e errShards) Scanner(ctx context.Context, id uint64, ref FragmentRef) (Scanner, error) {
	if id == e.infos[len(e.infos)-1].ID {
		return errScanner{}, nil
	}
	return e.fakeCluster.Scanner(ctx, id, ref)
}

func TestFragmentError(t *testing.T) {
	c := smallCluster(0)
	for _, q := range []string{"SELECT * FROM cpu", "SELECT hostname, avg(usage_user) FROM cpu GROUP BY 1"} {
		p, err := planner.Build(parse(t, q), c, &planner.Env{Database: "benchmark", Params: []types.Datum{}})
		if err != nil {
			t.Fatal(err)
		}
		err = Run(context.Background(), p, errShards{c}, func([]types.Datum) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "replica unavailable") {
			t.Fatalf("%s: err = %v", q, err)
		}
	}
}

var _ = shard.NumSlots

// TestConcurrentRuns runs one plan from several goroutines (a Plan is
// immutable and may be Run concurrently).
func TestConcurrentRuns(t *testing.T) {
	c := smallCluster(0.1)
	for _, q := range []string{
		"SELECT time_bucket('60 seconds', time) AS minute, hostname, max(usage_user), avg(usage_guest_nice) FROM cpu WHERE usage_idle > 10 AND region <> 'x' GROUP BY 1, 2 ORDER BY 1, 2",
		"SELECT * FROM cpu WHERE usage_user > 90.0 AND hostname IN ('host_1', 'host_2', 'host_3') ORDER BY time, hostname",
		"SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC",
	} {
		p, err := planner.Build(parse(t, q), c, &planner.Env{Database: "benchmark", Params: []types.Datum{}})
		if err != nil {
			t.Fatal(err)
		}
		want := collect(t, p, c)
		errs := make(chan error, 4)
		for g := 0; g < 4; g++ {
			go func() {
				var got [][]types.Datum
				err := Run(context.Background(), p, c, func(r []types.Datum) error {
					got = append(got, r)
					return nil
				})
				if err == nil && fmt.Sprint(sortedStrings(got)) != fmt.Sprint(sortedStrings(want)) {
					err = fmt.Errorf("%s: concurrent run differs", q)
				}
				errs <- err
			}()
		}
		for g := 0; g < 4; g++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPgSleepCancel checks that pg_sleep stops as soon as the statement's
// context is cancelled (CancelRequest) or times out (statement_timeout),
// with SQLSTATE 57014 and PostgreSQL's messages, in a projection and in a
// WHERE evaluated inside a fragment. A pg_sleep that ignored the context
// would make each case run for an hour.
func TestPgSleepCancel(t *testing.T) {
	c := smallCluster(0)
	env := &planner.Env{Database: "benchmark", Params: []types.Datum{}}
	for _, q := range []string{
		"SELECT pg_sleep(3600)",
		"SELECT hostname FROM cpu WHERE hostname = 'host_1' AND pg_sleep(3600) IS NULL",
	} {
		p, err := planner.Build(parse(t, q), c, env)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		err = Run(ctx, p, c, func([]types.Datum) error { return nil })
		if pgerror.Code(err) != pgerror.CodeQueryCanceled || !strings.Contains(err.Error(), "canceling statement due to user request") {
			t.Errorf("%s: cancel: err = %v (%s), want 57014 user request", q, err, pgerror.Code(err))
		}
		ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
		err = Run(ctx, p, c, func([]types.Datum) error { return nil })
		cancel()
		if pgerror.Code(err) != pgerror.CodeQueryCanceled || !strings.Contains(err.Error(), "statement timeout") {
			t.Errorf("%s: timeout: err = %v (%s), want 57014 statement timeout", q, err, pgerror.Code(err))
		}
	}
}

// TestPgSleepNotFolded checks that pg_sleep, being volatile, is never
// evaluated while planning: folding would call it without an executor
// (no EvalContext.Sleep) and fail the build with 0A000.
func TestPgSleepNotFolded(t *testing.T) {
	c := smallCluster(0)
	env := &planner.Env{Database: "benchmark", Params: []types.Datum{}}
	for _, q := range []string{
		"SELECT pg_sleep(3600)",
		"SELECT pg_sleep(1 + 2) IS NULL",
		"SELECT hostname FROM cpu WHERE pg_sleep(3600) IS NULL AND time < '2016-01-02'",
	} {
		p, err := planner.Build(parse(t, q), c, env)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if !strings.Contains(strings.Join(p.Explain(), "\n"), "pg_sleep") {
			t.Errorf("%s: pg_sleep folded away:\n%s", q, strings.Join(p.Explain(), "\n"))
		}
	}
}
