package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"
)

// NewCommand returns the "bench" command with its workloads ("tsbs").
func NewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run benchmark workloads against any Postgres-wire address",
	}
	cmd.AddCommand(newTSBSCommand())
	return cmd
}

// target is one --target name=url.
type target struct {
	Name   string
	URL    string
	Schema string
	cfg    *pgx.ConnConfig
}

func (t *target) pgxConnect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.ConnectConfig(ctx, t.cfg.Copy())
}

func (t *target) pgconnConnect(ctx context.Context) (*pgconn.PgConn, error) {
	return pgconn.ConnectConfig(ctx, &t.cfg.Copy().Config)
}

// parseConnConfig parses url; a non-empty timezone is sent as a startup
// parameter unless the URL sets one.
func parseConnConfig(u, timezone string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return nil, fmt.Errorf("cannot parse %q: %w", redactURL(u), err)
	}
	if timezone != "" {
		if _, ok := cfg.RuntimeParams["timezone"]; !ok {
			cfg.RuntimeParams["timezone"] = timezone
		}
	}
	return cfg, nil
}

// redactURL hides a password in a connection URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// parseTargets turns --target and --schema values into targets.
func parseTargets(specs, schemas []string, timezone string) ([]*target, error) {
	if len(specs) == 0 {
		return nil, errors.New("at least one --target name=postgres://... is required")
	}
	var all string
	perName := map[string]string{}
	for _, s := range schemas {
		name, dialect, ok := strings.Cut(s, "=")
		if !ok {
			all = s
			continue
		}
		perName[name] = dialect
	}
	var out []*target
	seen := map[string]bool{}
	for i, s := range specs {
		name, u, ok := strings.Cut(s, "=")
		if !ok || strings.Contains(name, "://") {
			name, u = fmt.Sprintf("t%d", i+1), s
		}
		if name == "" || u == "" {
			return nil, fmt.Errorf("bad --target %q: want name=postgres://...", s)
		}
		if seen[name] {
			return nil, fmt.Errorf("duplicate target name %q", name)
		}
		seen[name] = true
		schema := InferSchema(name)
		if all != "" {
			schema = all
		}
		if d, ok := perName[name]; ok {
			schema = d
		}
		if schema != SchemaLongboat && schema != SchemaPostgres {
			return nil, fmt.Errorf("target %s: unknown schema %q (longboat|postgres)", name, schema)
		}
		cfg, err := parseConnConfig(u, timezone)
		if err != nil {
			return nil, err
		}
		out = append(out, &target{Name: name, URL: u, Schema: schema, cfg: cfg})
	}
	for name := range perName {
		if !seen[name] {
			return nil, fmt.Errorf("--schema names unknown target %q", name)
		}
	}
	return out, nil
}

// DefaultDataDir is $LONGBOAT_TSBS_DIR, else the first existing
// shared/bench/tsbs next to the repository root found above the working
// directory or next to one of its parents, else /work/shared/bench/tsbs
// (where the workplace keeps it), else ../shared/bench/tsbs relative to the
// working directory.
func DefaultDataDir() string {
	if d := os.Getenv("LONGBOAT_TSBS_DIR"); d != "" {
		return d
	}
	if wd, err := os.Getwd(); err == nil {
		if root, ok := findModuleRoot(wd); ok {
			for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
				d := filepath.Join(dir, "shared", "bench", "tsbs")
				if _, err := os.Stat(d); err == nil {
					return d
				}
				if filepath.Dir(dir) == dir {
					break
				}
			}
		}
	}
	if _, err := os.Stat(workplaceDataDir); err == nil {
		return workplaceDataDir
	}
	return filepath.Join("..", "shared", "bench", "tsbs")
}

// workplaceDataDir is where the TSBS data set lives on the project's
// machines when the repository is not checked out next to it.
const workplaceDataDir = "/work/shared/bench/tsbs"

// findModuleRoot walks up from dir to the directory holding Longboat's go.mod.
func findModuleRoot(dir string) (string, bool) {
	for {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			isOurs := sc.Scan() && strings.TrimSpace(sc.Text()) == "module github.com/longboatdb/longboat"
			f.Close()
			if isOurs {
				return dir, true
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

type tsbsFlags struct {
	targets        []string
	schemas        []string
	sizes          []string
	data           string
	load           bool
	loadWorkers    int
	batchSize      int
	copyFormat     string
	vacuum         bool
	queries        string
	queriesPerType int
	seed           uint64
	runs           int
	queryWorkers   int
	protocol       string
	timeout        time.Duration
	jsonOut        string
}

func newTSBSCommand() *cobra.Command {
	var f tsbsFlags
	cmd := &cobra.Command{
		Use:   "tsbs",
		Short: "TSBS cpu-only workload: load, query latencies, side-by-side ratios",
		Long: `Runs the TSBS cpu-only workload (100 hosts, one day, 864k rows; 15 query
types) against one or more Postgres-wire targets, one target at a time.

  longboat bench tsbs --load \
    --target longboat=postgres://u@127.0.0.1:5433/longboat \
    --target postgres=postgres://postgres@127.0.0.1:5432/tsbs

The schema dialect of a target is "postgres" when its name contains
"postgres", else "longboat"; override with --schema name=dialect.
With two or more targets the report shows, per query type, the ratio of the
first target's mean latency to the second's and their geometric mean
(below 1: the first target is faster).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTSBS(cmd.Context(), cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.targets, "target", nil, "name=postgres://... (repeatable; order matters for ratios)")
	fl.StringArrayVar(&f.schemas, "schema", nil, "schema dialect, longboat|postgres, as name=dialect (repeatable) or one value for all targets")
	fl.StringArrayVar(&f.sizes, "size", nil, "name=/path/to/datadir: report the directory's disk usage after the run (repeatable)")
	fl.StringVar(&f.data, "data", DefaultDataDir(), "TSBS data directory (queries/, "+DataFile+", postgres-setup.sql); env LONGBOAT_TSBS_DIR")
	fl.BoolVar(&f.load, "load", false, "(re)create table cpu and load the data set first")
	fl.IntVar(&f.loadWorkers, "workers", 2, "parallel loader connections")
	fl.IntVar(&f.batchSize, "batch-size", 10000, "rows per COPY statement")
	fl.StringVar(&f.copyFormat, "copy-format", CopyBinary, "loader COPY format: binary (pgx CopyFrom) | csv")
	fl.BoolVar(&f.vacuum, "pg-vacuum", true, "after loading a postgres-schema target, run VACUUM ANALYZE cpu (not timed)")
	fl.StringVar(&f.queries, "queries", "all", "query types: all | none | comma-separated list")
	fl.IntVar(&f.queriesPerType, "queries-per-type", 100, "queries per type")
	fl.Uint64Var(&f.seed, "seed", 0, "generate fresh queries with this seed instead of reading the query files")
	fl.IntVar(&f.runs, "runs", 1, "passes over each type's queries")
	fl.IntVar(&f.queryWorkers, "query-workers", 1, "parallel query connections")
	fl.StringVar(&f.protocol, "protocol", string(ProtocolExtended), "query protocol: extended | simple")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "per-query timeout (0: none)")
	fl.StringVar(&f.jsonOut, "json", "", "write the results as JSON to this file")
	cmd.AddCommand(newDiffCommand(), newGenerateCommand())
	return cmd
}

// querySets loads the query files or, when seeded, generates queries.
func querySets(dataDir, spec string, perType int, seeded bool, seed uint64) ([]QuerySet, string, error) {
	types, err := ParseQueryTypes(spec)
	if err != nil {
		return nil, "", err
	}
	if seeded {
		sets, err := GenerateQuerySets(types, seed, perType)
		return sets, fmt.Sprintf("generated, seed %d", seed), err
	}
	sets, err := LoadQuerySets(dataDir, types, perType)
	return sets, "files " + filepath.Join(dataDir, "queries"), err
}

// TargetReport is one target's results.
type TargetReport struct {
	Name   string     `json:"name"`
	URL    string     `json:"url"`
	Schema string     `json:"schema"`
	Load   *LoadStats `json:"load,omitempty"`
	// DirSizeBytes is the du of --size's directory.
	DirSizeBytes *int64 `json:"dir_size_bytes,omitempty"`
	DirSizePath  string `json:"dir_size_path,omitempty"`
	// RelationSizeBytes is pg_total_relation_size('cpu') (postgres schema).
	RelationSizeBytes *int64      `json:"pg_total_relation_size_bytes,omitempty"`
	Queries           []TypeStats `json:"queries"`
}

// Ratio is one query type's mean-latency ratio of the first target to the
// second.
type Ratio struct {
	Type  string  `json:"type"`
	Ratio float64 `json:"ratio"`
}

// Report is the whole run, as written by --json.
type Report struct {
	Started        time.Time      `json:"started"`
	Data           string         `json:"data"`
	QuerySource    string         `json:"query_source"`
	QueriesPerType int            `json:"queries_per_type"`
	Runs           int            `json:"runs"`
	QueryWorkers   int            `json:"query_workers"`
	Protocol       string         `json:"protocol"`
	Targets        []TargetReport `json:"targets"`
	// Ratios and GeoMeanRatio compare Targets[0] to Targets[1].
	RatioOf      string  `json:"ratio_of,omitempty"`
	Ratios       []Ratio `json:"ratios,omitempty"`
	GeoMeanRatio float64 `json:"geomean_ratio,omitempty"`
}

func runTSBS(ctx context.Context, cmd *cobra.Command, f *tsbsFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	stderr := cmd.ErrOrStderr()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	targets, err := parseTargets(f.targets, f.schemas, "")
	if err != nil {
		return err
	}
	proto, err := parseProtocol(f.protocol)
	if err != nil {
		return err
	}
	sizeDirs := map[string]string{}
	for _, s := range f.sizes {
		name, dir, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("bad --size %q: want name=/path", s)
		}
		sizeDirs[name] = dir
	}
	sets, source, err := querySets(f.data, f.queries, f.queriesPerType, cmd.Flags().Changed("seed"), f.seed)
	if err != nil {
		return err
	}
	rep := Report{
		Started: time.Now().UTC(), Data: f.data, QuerySource: source, QueriesPerType: f.queriesPerType,
		Runs: f.runs, QueryWorkers: f.queryWorkers, Protocol: string(proto),
	}
	for _, t := range targets {
		rep.Targets = append(rep.Targets, TargetReport{Name: t.Name, URL: redactURL(t.URL), Schema: t.Schema})
	}
	// Load every target first, one at a time.
	if f.load {
		for i, t := range targets {
			st, err := loadTarget(ctx, t, f, stderr, log)
			if err != nil {
				return fmt.Errorf("target %s: %w", t.Name, err)
			}
			rep.Targets[i].Load = &st
		}
	}
	queryErrors := 0
	for i, t := range targets {
		if len(sets) == 0 {
			break
		}
		fmt.Fprintf(stderr, "%s: running %d query types (%s)\n", t.Name, len(sets), source)
		stats, err := RunQueries(ctx, t.pgconnConnect, sets, RunOptions{
			Workers: f.queryWorkers, Runs: f.runs, Protocol: proto, Timeout: f.timeout,
			Progress: stderr, Label: t.Name + ": ",
		})
		if err != nil {
			return fmt.Errorf("target %s: %w", t.Name, err)
		}
		rep.Targets[i].Queries = stats
		for _, s := range stats {
			queryErrors += s.Errors
		}
	}
	// Sizes.
	for i, t := range targets {
		if dir, ok := sizeDirs[t.Name]; ok {
			n, err := DirSize(dir)
			if err != nil {
				log.Warn("cannot measure size", "target", t.Name, "err", err)
			} else {
				rep.Targets[i].DirSizeBytes, rep.Targets[i].DirSizePath = &n, dir
			}
		}
		if t.Schema == SchemaPostgres {
			if n, err := relationSize(ctx, t); err != nil {
				log.Warn("cannot read pg_total_relation_size", "target", t.Name, "err", err)
			} else {
				rep.Targets[i].RelationSizeBytes = &n
			}
		}
	}
	if len(rep.Targets) >= 2 {
		rep.RatioOf = rep.Targets[0].Name + " / " + rep.Targets[1].Name
		rep.Ratios, rep.GeoMeanRatio = ratios(rep.Targets[0].Queries, rep.Targets[1].Queries)
	}
	writeReport(cmd.OutOrStdout(), &rep)
	if f.jsonOut != "" {
		b, err := json.MarshalIndent(&rep, "", "  ")
		if err != nil {
			return fmt.Errorf("cannot encode report: %w", err)
		}
		if err := os.WriteFile(f.jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("cannot write report: %w", err)
		}
	}
	if queryErrors > 0 {
		return fmt.Errorf("%d queries failed (see the errors column)", queryErrors)
	}
	return nil
}

func relationSize(ctx context.Context, t *target) (int64, error) {
	c, err := t.pgconnConnect(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close(context.Background())
	return RelationSize(ctx, c)
}

func loadTarget(ctx context.Context, t *target, f *tsbsFlags, stderr io.Writer, log *slog.Logger) (LoadStats, error) {
	c, err := t.pgxConnect(ctx)
	if err != nil {
		return LoadStats{}, fmt.Errorf("cannot connect: %w", err)
	}
	defer c.Close(context.Background())
	if err := CreateSchema(ctx, c, t.Schema, f.data, log); err != nil {
		return LoadStats{}, err
	}
	fmt.Fprintf(stderr, "%s: loading %s with %d workers (%s COPY, batches of %d)\n",
		t.Name, DataFile, f.loadWorkers, f.copyFormat, f.batchSize)
	st, err := Load(ctx, t.pgxConnect, LoadOptions{
		File: filepath.Join(f.data, DataFile), Workers: f.loadWorkers, BatchSize: f.batchSize,
		Format: f.copyFormat, Progress: stderr, Label: t.Name + ": ",
	})
	if err != nil {
		return LoadStats{}, err
	}
	fmt.Fprintf(stderr, "%s: loaded %d rows in %.2fs (%.0f rows/s)\n", t.Name, st.Rows, st.ElapsedSec, st.RowsPerSec)
	if t.Schema == SchemaPostgres && f.vacuum {
		t0 := time.Now()
		if err := execScript(ctx, c.PgConn(), "VACUUM ANALYZE cpu"); err != nil {
			return st, fmt.Errorf("cannot vacuum: %w", err)
		}
		fmt.Fprintf(stderr, "%s: VACUUM ANALYZE cpu took %.2fs (not counted)\n", t.Name, time.Since(t0).Seconds())
	}
	return st, nil
}

// ratios divides a's mean latencies by b's, per type present in both.
func ratios(a, b []TypeStats) ([]Ratio, float64) {
	bm := map[string]float64{}
	for _, s := range b {
		if s.N > 0 {
			bm[s.Type] = s.MeanMs
		}
	}
	var out []Ratio
	var xs []float64
	for _, s := range a {
		m, ok := bm[s.Type]
		if !ok || s.N == 0 || m <= 0 {
			continue
		}
		r := s.MeanMs / m
		out = append(out, Ratio{Type: s.Type, Ratio: r})
		xs = append(xs, r)
	}
	return out, GeoMean(xs)
}

func writeReport(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "TSBS cpu-only: queries %s, %d per type, %d run(s), %d worker(s), %s protocol\n",
		rep.QuerySource, rep.QueriesPerType, rep.Runs, rep.QueryWorkers, rep.Protocol)
	for _, t := range rep.Targets {
		fmt.Fprintf(w, "\n== %s (%s, schema %s)\n", t.Name, t.URL, t.Schema)
		if t.Load != nil {
			fmt.Fprintf(w, "load: %d rows in %.2fs = %.0f rows/s (%d workers, %s COPY)\n",
				t.Load.Rows, t.Load.ElapsedSec, t.Load.RowsPerSec, t.Load.Workers, t.Load.Format)
		}
		if t.DirSizeBytes != nil {
			fmt.Fprintf(w, "size: %s on disk (du %s)\n", humanBytes(*t.DirSizeBytes), t.DirSizePath)
		}
		if t.RelationSizeBytes != nil {
			fmt.Fprintf(w, "size: %s (pg_total_relation_size('cpu'))\n", humanBytes(*t.RelationSizeBytes))
		}
		if len(t.Queries) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "query type\tn\terrors\tmean ms\tmedian ms\tp95 ms\trows/query\t")
		for _, s := range t.Queries {
			rowsPer := 0.0
			if s.N > 0 {
				rowsPer = float64(s.Rows) / float64(s.N)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.0f\t\n", s.Type, s.N, s.Errors, s.MeanMs, s.MedianMs, s.P95Ms, rowsPer)
		}
		tw.Flush()
		for _, s := range t.Queries {
			if s.FirstError != "" {
				fmt.Fprintf(w, "  %s first error: %s\n", s.Type, s.FirstError)
			}
		}
	}
	if rep.RatioOf != "" && len(rep.Ratios) > 0 {
		fmt.Fprintf(w, "\n== mean latency ratio %s (below 1: %s is faster)\n", rep.RatioOf, rep.Targets[0].Name)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		for _, r := range rep.Ratios {
			fmt.Fprintf(tw, "%s\t%.3f\t\n", r.Type, r.Ratio)
		}
		fmt.Fprintf(tw, "geometric mean\t%.3f\t\n", rep.GeoMeanRatio)
		tw.Flush()
	}
}

type diffFlags struct {
	a, b           string
	data           string
	queries        string
	queriesPerType int
	seed           uint64
	protocol       string
	timezone       string
	timeout        time.Duration
	maxQueries     int
}

func newDiffCommand() *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Run the TSBS queries on two servers and compare the results exactly",
		Long: `Runs each query on --a then --b and compares column names, column type
OIDs and every value in text format. Queries without ORDER BY compare as
sorted multisets; with ORDER BY in order, rows tied on the ORDER BY keys as
multisets. Prints the first differences and exits non-zero on any.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if f.a == "" || f.b == "" {
				return errors.New("--a and --b are required")
			}
			proto, err := parseProtocol(f.protocol)
			if err != nil {
				return err
			}
			ca, err := parseConnConfig(f.a, f.timezone)
			if err != nil {
				return err
			}
			cb, err := parseConnConfig(f.b, f.timezone)
			if err != nil {
				return err
			}
			sets, source, err := querySets(f.data, f.queries, f.queriesPerType, cmd.Flags().Changed("seed"), f.seed)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "diff a=%s b=%s, queries %s, %d per type\n", redactURL(f.a), redactURL(f.b), source, f.queriesPerType)
			ta, tb := &target{cfg: ca}, &target{cfg: cb}
			sum, err := Diff(ctx, ta.pgconnConnect, tb.pgconnConnect, sets, DiffOptions{
				Protocol: proto, Timeout: f.timeout, MaxQueries: f.maxQueries, Out: out,
			})
			if err != nil {
				return err
			}
			if sum.Differ > 0 {
				cmd.SilenceUsage = true
				return fmt.Errorf("%d of %d queries differ", sum.Differ, sum.Queries)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.a, "a", "", "first server, postgres://...")
	fl.StringVar(&f.b, "b", "", "second server, postgres://...")
	fl.StringVar(&f.data, "data", DefaultDataDir(), "TSBS data directory; env LONGBOAT_TSBS_DIR")
	fl.StringVar(&f.queries, "queries", "all", "query types: all | comma-separated list")
	fl.IntVar(&f.queriesPerType, "queries-per-type", 100, "queries per type")
	fl.Uint64Var(&f.seed, "seed", 0, "generate fresh queries with this seed instead of reading the query files")
	fl.StringVar(&f.protocol, "protocol", string(ProtocolExtended), "query protocol: extended | simple")
	fl.StringVar(&f.timezone, "timezone", "UTC", "TimeZone startup parameter sent to both (empty: none)")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "per-query timeout (0: none)")
	fl.IntVar(&f.maxQueries, "max-print", 10, "differing queries printed in full")
	return cmd
}

func newGenerateCommand() *cobra.Command {
	var (
		seed    uint64
		perType int
		queries string
		outDir  string
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write generated TSBS queries, one file per type (<out>/<type>.sql)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			types, err := ParseQueryTypes(queries)
			if err != nil {
				return err
			}
			sets, err := GenerateQuerySets(types, seed, perType)
			if err != nil {
				return err
			}
			if outDir == "" {
				for _, s := range sets {
					for _, q := range s.Queries {
						fmt.Fprintln(cmd.OutOrStdout(), q)
					}
				}
				return nil
			}
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return fmt.Errorf("cannot create %s: %w", outDir, err)
			}
			for _, s := range sets {
				body := strings.Join(s.Queries, "\n") + "\n"
				if err := os.WriteFile(filepath.Join(outDir, s.Type+".sql"), []byte(body), 0o644); err != nil {
					return fmt.Errorf("cannot write queries: %w", err)
				}
			}
			return nil
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 1, "generator seed")
	cmd.Flags().IntVar(&perType, "queries-per-type", 100, "queries per type")
	cmd.Flags().StringVar(&queries, "queries", "all", "query types: all | comma-separated list")
	cmd.Flags().StringVar(&outDir, "out", "", "output directory (default: print to stdout)")
	return cmd
}
