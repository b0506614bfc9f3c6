package ingest

import (
	"sync"

	"github.com/longboatdb/longboat/shard"
)

// Pool recycles the column buffers of committed batches, so that a steady
// load (one COPY statement after another) allocates no row storage. The
// zero value is ready to use and safe for concurrent use; a Pool is meant
// to be shared by the Writers of one node.
//
// It keeps at most poolMaxBatches buffers, and never one that has grown
// beyond poolMaxRows rows (a huge INSERT must not pin its memory).
type Pool struct {
	mu   sync.Mutex
	free []*builder
}

const (
	poolMaxBatches = 8
	poolMaxRows    = 64 << 10
)

// get returns an empty builder for the fields of tbl.
func (p *Pool) get(tbl *shard.Table, field []int, fids []uint16) *builder {
	if p != nil {
		p.mu.Lock()
		if n := len(p.free); n > 0 {
			b := p.free[n-1]
			p.free[n-1] = nil
			p.free = p.free[:n-1]
			p.mu.Unlock()
			b.reset(tbl, field, fids)
			return b
		}
		p.mu.Unlock()
	}
	return newBuilder(tbl, field, fids)
}

// put returns b, whose rows are no longer referenced, to the pool.
func (p *Pool) put(b *builder) {
	if p == nil || b.capRows() > poolMaxRows {
		return
	}
	p.mu.Lock()
	if len(p.free) < poolMaxBatches {
		p.free = append(p.free, b)
	}
	p.mu.Unlock()
}
