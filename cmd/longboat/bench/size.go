package bench

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// DirSize returns the disk usage of dir like du: allocated blocks of every
// file, falling back to the apparent size where blocks are unknown. Files
// that vanish during the walk are skipped.
func DirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += int64(st.Blocks) * 512
		} else if info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cannot measure %s: %w", dir, err)
	}
	return total, nil
}

// RelationSize asks PostgreSQL for pg_total_relation_size('cpu').
func RelationSize(ctx context.Context, conn *pgconn.PgConn) (int64, error) {
	res, err := runQuery(ctx, conn, "SELECT pg_total_relation_size('cpu')", ProtocolSimple, true)
	if err != nil {
		return 0, err
	}
	if res.Err != nil {
		return 0, fmt.Errorf("cannot read relation size: %w", res.Err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 || res.Rows[0][0].Null {
		return 0, fmt.Errorf("cannot read relation size: unexpected result")
	}
	var n int64
	if _, err := fmt.Sscan(res.Rows[0][0].Text, &n); err != nil {
		return 0, fmt.Errorf("cannot parse relation size %q: %w", res.Rows[0][0].Text, err)
	}
	return n, nil
}

// humanBytes formats n as KiB/MiB/GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
