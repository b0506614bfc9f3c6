package raftsm

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/longboatdb/longboat/shard/store"
)

// fakeStorage is an in-memory Storage with the store's durability model:
// Apply buffers, Flush makes the buffer and its index durable, and a
// simulated crash (loseBuffers) drops whatever was not flushed.
type fakeStorage struct {
	mu          sync.Mutex
	durable     map[uint64]*fakeState
	applies     map[uint64]int // non-empty Apply calls per shard, ever
	dropped     []uint64
	flushRows   int  // NeedsFlush threshold
	loseBuffers bool // Flush is a no-op: what a crash before the flush leaves
}

type fakeRow struct {
	Table uint32 `json:"table"`
	Time  int64  `json:"time"`
	Tags  string `json:"tags"`
	Index uint64 `json:"index"`
}

type fakeState struct {
	Applied uint64    `json:"applied"`
	Rows    []fakeRow `json:"rows"`
}

func newFakeStorage() *fakeStorage {
	return &fakeStorage{durable: map[uint64]*fakeState{}, applies: map[uint64]int{}, flushRows: 1 << 30}
}

func (f *fakeStorage) OpenShard(id uint64) (ShardStorage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.durable[id] == nil {
		f.durable[id] = &fakeState{}
	}
	d := f.durable[id]
	return &fakeShard{f: f, id: id, buf: fakeState{Applied: d.Applied}}, nil
}

func (f *fakeStorage) DropShard(id uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.durable, id)
	f.dropped = append(f.dropped, id)
	return nil
}

func (f *fakeStorage) AppendWriteBatch(dst []byte, wb *store.WriteBatch) []byte {
	data, err := json.Marshal(wb)
	if err != nil {
		panic(err)
	}
	return append(dst, data...)
}

func (f *fakeStorage) DecodeWriteBatch(src []byte, wb *store.WriteBatch) error {
	*wb = store.WriteBatch{}
	return json.Unmarshal(src, wb)
}

// rows returns the durable rows of shard id, sorted by index.
func (f *fakeStorage) rows(id uint64) []fakeRow {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.durable[id]
	if d == nil {
		return nil
	}
	out := append([]fakeRow(nil), d.Rows...)
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

func (f *fakeStorage) applyCount(id uint64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applies[id]
}

type fakeShard struct {
	f   *fakeStorage
	id  uint64
	buf fakeState // durable rows are in f.durable; buf holds the unflushed tail
	mu  sync.Mutex
}

func (s *fakeShard) AppliedIndex() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Applied
}

func (s *fakeShard) Apply(index uint64, wb *store.WriteBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if index <= s.buf.Applied {
		return fmt.Errorf("fake: index %d applied twice (at %d)", index, s.buf.Applied)
	}
	s.buf.Applied = index
	// Like the store: a refused batch changes nothing but is recorded.
	for _, t := range wb.Tables {
		if len(t.SeriesIdx) != len(t.Times) {
			return fmt.Errorf("fake: %d series indexes for %d rows", len(t.SeriesIdx), len(t.Times))
		}
		for _, si := range t.SeriesIdx {
			if int(si) >= len(t.Series) {
				return fmt.Errorf("fake: series index %d out of range", si)
			}
		}
	}
	n := 0
	for _, t := range wb.Tables {
		for r, ts := range t.Times {
			tags := fmt.Sprint(t.Series[t.SeriesIdx[r]])
			s.buf.Rows = append(s.buf.Rows, fakeRow{Table: t.TableID, Time: ts, Tags: tags, Index: index})
			n++
		}
	}
	if len(wb.Tables) > 0 {
		s.f.mu.Lock()
		s.f.applies[s.id]++
		s.f.mu.Unlock()
	}
	return nil
}

func (s *fakeShard) NeedsFlush() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buf.Rows) >= s.f.flushRows
}

func (s *fakeShard) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if s.f.loseBuffers {
		return nil
	}
	d := s.f.durable[s.id]
	if d == nil {
		return fmt.Errorf("fake: shard %d dropped", s.id)
	}
	d.Rows = append(d.Rows, s.buf.Rows...)
	d.Applied = s.buf.Applied
	s.buf.Rows = nil
	return nil
}

func (s *fakeShard) PrepareSnapshot() (SnapshotStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	d := s.f.durable[s.id]
	st := fakeState{Applied: s.buf.Applied, Rows: append(append([]fakeRow(nil), d.Rows...), s.buf.Rows...)}
	return &fakeSnapshot{st: st}, nil
}

func (s *fakeShard) RecoverFromSnapshot(r io.Reader, done <-chan struct{}) error {
	var st fakeState
	if err := json.NewDecoder(r).Decode(&st); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.durable[s.id] = &fakeState{Applied: st.Applied, Rows: st.Rows}
	s.buf = fakeState{Applied: st.Applied}
	return nil
}

func (s *fakeShard) DeleteTable(tableID uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	keep := func(rows []fakeRow) []fakeRow {
		out := rows[:0]
		for _, r := range rows {
			if r.Table != tableID {
				out = append(out, r)
			}
		}
		return out
	}
	if d := s.f.durable[s.id]; d != nil {
		d.Rows = keep(d.Rows)
	}
	s.buf.Rows = keep(s.buf.Rows)
	return nil
}

func (s *fakeShard) Close() error { return nil }

type fakeSnapshot struct{ st fakeState }

func (s *fakeSnapshot) WriteTo(w io.Writer, done <-chan struct{}) error {
	return json.NewEncoder(w).Encode(&s.st)
}

func (s *fakeSnapshot) Close() error { return nil }

var _ Storage = (*fakeStorage)(nil)
