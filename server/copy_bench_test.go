package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/longboatdb/longboat/server"
)

// tsbsDDL is the TSBS cpu table as `longboat bench tsbs` creates it.
const tsbsDDL = `CREATE TABLE cpu (time timestamptz NOT NULL, hostname text, region text, datacenter text, rack text, os text, arch text, team text, service text, service_version text, service_environment text, usage_user double precision, usage_system double precision, usage_idle double precision, usage_nice double precision, usage_iowait double precision, usage_irq double precision, usage_softirq double precision, usage_steal double precision, usage_guest double precision, usage_guest_nice double precision, PRIMARY KEY (hostname, region, datacenter, rack, os, arch, team, service, service_version, service_environment, time))`

// copyBatch is one binary COPY statement's data (PGCOPY header, rows,
// trailer) of TSBS-like rows, with the offsets of the time fields so that
// each use can move the rows to new timestamps in place.
type copyBatch struct {
	data     []byte
	timeOffs []int
}

const pgEpochUs = 946684800 * 1_000_000

// newCopyBatch builds n rows of `hosts` hosts, 10 s apart per host.
func newCopyBatch(n, hosts int) *copyBatch {
	cb := &copyBatch{}
	d := append([]byte("PGCOPY\n\xff\r\n\x00"), 0, 0, 0, 0, 0, 0, 0, 0)
	for i := range n {
		h := i % hosts
		d = binary.BigEndian.AppendUint16(d, 21)
		d = binary.BigEndian.AppendUint32(d, 8)
		cb.timeOffs = append(cb.timeOffs, len(d))
		d = binary.BigEndian.AppendUint64(d, 0)
		for _, tag := range []string{
			"host_" + strconv.Itoa(h), "us-west-1", "us-west-1a", strconv.Itoa(h % 97), "Ubuntu15.10",
			"x64", "NYC", strconv.Itoa(h % 19), "1", "staging",
		} {
			d = binary.BigEndian.AppendUint32(d, uint32(len(tag)))
			d = append(d, tag...)
		}
		for j := range 10 {
			d = binary.BigEndian.AppendUint32(d, 8)
			d = binary.BigEndian.AppendUint64(d, math.Float64bits(float64((i*7+j*13)%100)+0.25*float64(j)))
		}
	}
	cb.data = binary.BigEndian.AppendUint16(d, 0xFFFF)
	return cb
}

// at returns the batch's data for use number k: row i gets the time
// base + (k*n + i)/hosts * 10 s, so successive uses continue the series.
func (cb *copyBatch) at(k, hosts int, base time.Time) []byte {
	n := len(cb.timeOffs)
	b0 := base.UnixMicro() - pgEpochUs
	for i, off := range cb.timeOffs {
		us := b0 + int64((k*n+i)/hosts)*10_000_000
		binary.BigEndian.PutUint64(cb.data[off:], uint64(us))
	}
	return cb.data
}

func benchListenAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCopyBinaryTSBS runs binary COPY statements of 10,000 TSBS rows
// (as `longboat bench tsbs --load` sends them) against a real node over
// TCP, from `workers` connections at once. One op is one COPY statement;
// rows/s is the load rate, cpu-ns/row the whole process's CPU per row
// (server plus the pre-encoded client stream, which costs little).
func BenchmarkCopyBinaryTSBS(b *testing.B) {
	const rows, hosts = 10000, 100
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			ctx := context.Background()
			n, err := server.Start(ctx, server.Config{
				DataDir: b.TempDir(), PGAddr: benchListenAddr(b), HTTPAddr: benchListenAddr(b),
				RaftAddr: benchListenAddr(b), RaftRTTMillisecond: 10, Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatal(err)
			}
			defer n.Close()
			url := fmt.Sprintf("postgres://longboat@%s/longboat?sslmode=disable", n.PGAddr())
			conns := make([]*pgx.Conn, workers)
			batches := make([]*copyBatch, workers)
			for w := range conns {
				if conns[w], err = pgx.Connect(ctx, url); err != nil {
					b.Fatal(err)
				}
				defer conns[w].Close(ctx)
				batches[w] = newCopyBatch(rows, hosts)
			}
			if _, err := conns[0].Exec(ctx, tsbsDDL); err != nil {
				b.Fatal(err)
			}
			// Every COPY is the next 10,000 rows of one TSBS day, as the
			// loader sends them: all workers write the same shard.
			base := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
			copyOnce := func(w, k int) error {
				data := batches[w].at(k%86, hosts, base)
				tag, err := conns[w].PgConn().CopyFrom(ctx, bytes.NewReader(data), "COPY cpu FROM STDIN (FORMAT binary)")
				if err == nil && tag.RowsAffected() != rows {
					err = fmt.Errorf("copied %d rows, want %d", tag.RowsAffected(), rows)
				}
				return err
			}
			// Warm up: create the shard.
			if err := copyOnce(0, 0); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			c0 := processCPU()
			var wg sync.WaitGroup
			errs := make([]error, workers)
			var next atomic.Int64
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						k := int(next.Add(1))
						if k > b.N {
							return
						}
						if err := copyOnce(w, k); err != nil {
							errs[w] = err
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			cpu := processCPU() - c0
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			total := float64(b.N) * rows
			b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/row")
		})
	}
}
