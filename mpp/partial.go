package mpp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/longboatdb/longboat/planner"
	"github.com/longboatdb/longboat/shard/store"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// PartialAggregator is an optional capability of a Scanner whose shard is
// on another node. For a fragment under a pushed aggregate, the coordinator
// asks it for the fragment's partial aggregate instead of its points: the
// node holding the shard runs ServePartialAggregate and sends back the
// partial groups (AppendPartialAgg's encoding), a few kilobytes where the
// points would be megabytes.
type PartialAggregator interface {
	PartialAggregate(ctx context.Context) ([]byte, error)
}

// consume returns the batch callback of a fragment aggregated by a: block
// statistics and point runs are folded into its groups.
func (a *fragAgg) consume(f *fragment) func(*store.SeriesBatch) error {
	return func(b *store.SeriesBatch) error {
		tg := a.tagGroup(b)
		if b.Stats != nil {
			a.addStats(tg, b.Stats)
			return nil
		}
		if a.filter != nil {
			f.setBatchTags(b)
		}
		return a.addBatch(tg, b)
	}
}

// newFragmentAgg prepares the fragment and partial aggregation of scan s
// under the pushed aggregate ba.
func newFragmentAgg(ec *planner.EvalContext, s *planner.Scan, ba *planner.BucketAgg) (*fragment, *fragAgg) {
	f := newFragment(ec, s)
	fa := newFragAgg(ba)
	if s.Filter != nil {
		fa.filter = f
	}
	if ba.StatsOK {
		f.req.UseStats = fa.useStats
	}
	return f, fa
}

// ServePartialAggregate runs, on the node that holds the shard, the
// fragment ref names in p — a scan under a pushed aggregate — over sc, and
// returns its partial groups encoded with AppendPartialAgg.
func ServePartialAggregate(ctx context.Context, p *planner.Plan, ref FragmentRef, sc Scanner) ([]byte, error) {
	s, ec, err := fragmentScan(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	ba := pushedOver(p, s)
	if ba == nil {
		return nil, pgerror.Newf(pgerror.CodeInternal, "fragment %d has no pushed aggregate (plan mismatch between nodes)", ref.Scan)
	}
	f, fa := newFragmentAgg(ec, s, ba)
	if err := serveScan(ctx, ref, sc, f, fa.consume(f)); err != nil {
		return nil, err
	}
	return fa.appendPartial(nil), nil
}

// partialAggFormat versions AppendPartialAgg's encoding.
const partialAggFormat = 1

// appendPartial appends the partial groups of a to dst:
//
//	format uvarint, naggs uvarint,
//	ntagvals uvarint, per tag tuple: nvals uvarint, per value: len uvarint, bytes
//	ngroups uvarint, per group: tags uvarint, bucket varint,
//	  per aggregate: n varint, sum, min, max (float64 bits, 8 bytes LE),
//	  firstT varint, lastT varint, first, last (float64 bits), flags byte
//	  (1 firstNull, 2 lastNull, 4 haveBounds)
func (a *fragAgg) appendPartial(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, partialAggFormat)
	dst = binary.AppendUvarint(dst, uint64(a.naggs))
	dst = binary.AppendUvarint(dst, uint64(len(a.tagVals)))
	for _, vals := range a.tagVals {
		dst = binary.AppendUvarint(dst, uint64(len(vals)))
		for _, v := range vals {
			dst = binary.AppendUvarint(dst, uint64(len(v)))
			dst = append(dst, v...)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.keys)))
	for gi, k := range a.keys {
		dst = binary.AppendUvarint(dst, uint64(k.tags))
		dst = binary.AppendVarint(dst, k.bucket)
		for _, s := range a.states[gi*a.naggs : (gi+1)*a.naggs] {
			dst = binary.AppendVarint(dst, s.n)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.sum))
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.min))
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.max))
			dst = binary.AppendVarint(dst, s.firstT)
			dst = binary.AppendVarint(dst, s.lastT)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.first))
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.last))
			var flags byte
			if s.firstNull {
				flags |= 1
			}
			if s.lastNull {
				flags |= 2
			}
			if s.haveBounds {
				flags |= 4
			}
			dst = append(dst, flags)
		}
	}
	return dst
}

var errPartialCorrupt = errors.New("corrupt partial aggregate")

// partialReader decodes appendPartial's encoding with bounds checks.
type partialReader struct {
	b   []byte
	err error
}

func (r *partialReader) uvarint() uint64 { return readVarint(r, binary.Uvarint) }
func (r *partialReader) varint() int64   { return readVarint(r, binary.Varint) }

// readVarint decodes one varint with dec (binary.Uvarint or Varint).
func readVarint[T uint64 | int64](r *partialReader, dec func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := dec(r.b)
	if n <= 0 {
		r.err = errPartialCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *partialReader) f64() float64 {
	if r.err != nil || len(r.b) < 8 {
		r.err = errPartialCorrupt
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *partialReader) byte1() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = errPartialCorrupt
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// count reads a count and checks that at least min bytes per item remain.
func (r *partialReader) count(min int) int {
	n := r.uvarint()
	if r.err == nil && (n > uint64(len(r.b)) || (min > 0 && n > uint64(len(r.b)/min))) {
		r.err = errPartialCorrupt
		return 0
	}
	return int(n)
}

// decodePartial fills a (fresh, from newFragAgg) with the partial groups
// encoded in data.
func (a *fragAgg) decodePartial(data []byte) error {
	r := &partialReader{b: data}
	if f := r.uvarint(); r.err == nil && f != partialAggFormat {
		return fmt.Errorf("partial aggregate format %d, want %d", f, partialAggFormat)
	}
	if n := r.uvarint(); r.err == nil && n != uint64(a.naggs) {
		return fmt.Errorf("partial aggregate has %d aggregates, the plan %d (plan mismatch between nodes)", n, a.naggs)
	}
	ntags := r.count(1)
	for range ntags {
		nvals := r.count(1)
		vals := make([]string, nvals)
		for j := range vals {
			l := r.count(0)
			if r.err != nil {
				break
			}
			vals[j] = string(r.b[:l])
			r.b = r.b[l:]
		}
		if r.err != nil {
			return r.err
		}
		a.tagVals = append(a.tagVals, vals)
	}
	ngroups := r.count(2 + a.naggs*(1+8*5+1+1))
	for range ngroups {
		k := groupKey{tags: int32(r.uvarint()), bucket: r.varint()}
		if r.err == nil && (k.tags < 0 || int(k.tags) >= len(a.tagVals)) {
			r.err = errPartialCorrupt
		}
		if r.err != nil {
			return r.err
		}
		a.keys = append(a.keys, k)
		for range a.naggs {
			s := aggState{n: r.varint(), sum: r.f64(), min: r.f64(), max: r.f64(), firstT: r.varint(), lastT: r.varint(), first: r.f64(), last: r.f64()}
			flags := r.byte1()
			s.firstNull, s.lastNull, s.haveBounds = flags&1 != 0, flags&2 != 0, flags&4 != 0
			a.states = append(a.states, s)
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes", errPartialCorrupt, len(r.b))
	}
	return r.err
}
