package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// Snapshot stream (SnapshotVersion 1):
//
//	"LBSS" version(1)
//	records: 0x01 | uvarint keyLen | key (shard-relative: the shard prefix
//	         is stripped) | uvarint valLen | value
//	end:     0x00 | crc32c (4 bytes LE) of every preceding byte
//
// Keys come in Pebble order; the applied index is one of the meta keys.

const (
	snapRecKV  byte = 0x01
	snapRecEnd byte = 0x00
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Snapshot is a point-in-time view of one shard's keys, taken by
// PrepareSnapshot. Several may be live at once. Close releases it.
type Snapshot struct {
	db      *DB
	shardID uint64
	snap    *pebble.Snapshot
	applied uint64
}

// AppliedIndex returns the applied index the snapshot contains.
func (sn *Snapshot) AppliedIndex() uint64 { return sn.applied }

// PrepareSnapshot flushes the buffer and takes a Pebble snapshot of the
// shard's keys.
func (s *Shard) PrepareSnapshot() (*Snapshot, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if err := s.flushLocked(); err != nil {
		return nil, err
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if s.db.mu.closed {
		return nil, ErrClosed
	}
	sn := &Snapshot{db: s.db, shardID: s.id, snap: s.db.pdb.NewSnapshot(), applied: s.AppliedIndex()}
	s.db.mu.snapshots[sn] = struct{}{}
	return sn, nil
}

// Close releases the snapshot. It is safe to call more than once and
// after the DB is closed.
func (sn *Snapshot) Close() error {
	sn.db.mu.Lock()
	defer sn.db.mu.Unlock()
	if _, ok := sn.db.mu.snapshots[sn]; !ok {
		return nil
	}
	delete(sn.db.mu.snapshots, sn)
	return sn.snap.Close()
}

// WriteTo streams every key of the shard to w. It returns ErrStopped when
// done is closed.
func (sn *Snapshot) WriteTo(w io.Writer, done <-chan struct{}) error {
	if err := sn.db.acquire(); err != nil {
		return err
	}
	defer sn.db.release()
	sn.db.mu.Lock()
	_, live := sn.db.mu.snapshots[sn]
	sn.db.mu.Unlock()
	if !live {
		return ErrClosed
	}
	start, end := shardBounds(sn.shardID)
	it, err := sn.snap.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return fmt.Errorf("longboat/store: cannot snapshot shard %d: %w", sn.shardID, err)
	}
	defer it.Close()
	crc := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 256<<10)
	var hdr []byte
	hdr = append(append(hdr, snapshotMagic...), SnapshotVersion)
	if _, err := bw.Write(hdr); err != nil {
		return fmt.Errorf("longboat/store: cannot write snapshot: %w", err)
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if n++; n&1023 == 0 {
			select {
			case <-done:
				return ErrStopped
			default:
			}
		}
		k := it.Key()[shardPrefixLen:]
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		hdr = append(hdr[:0], snapRecKV)
		hdr = binary.AppendUvarint(hdr, uint64(len(k)))
		hdr = append(hdr, k...)
		hdr = binary.AppendUvarint(hdr, uint64(len(v)))
		if _, err := bw.Write(hdr); err != nil {
			return fmt.Errorf("longboat/store: cannot write snapshot: %w", err)
		}
		if _, err := bw.Write(v); err != nil {
			return fmt.Errorf("longboat/store: cannot write snapshot: %w", err)
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if err := bw.WriteByte(snapRecEnd); err != nil {
		return fmt.Errorf("longboat/store: cannot write snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("longboat/store: cannot write snapshot: %w", err)
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	if _, err := w.Write(sum[:]); err != nil {
		return fmt.Errorf("longboat/store: cannot write snapshot: %w", err)
	}
	return nil
}

// crcReader hashes what is read through it.
type crcReader struct {
	r   *bufio.Reader
	crc hash.Hash32
}

func (c *crcReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		_, _ = c.crc.Write([]byte{b})
	}
	return b, err
}

func (c *crcReader) readFull(p []byte) error {
	if _, err := io.ReadFull(c.r, p); err != nil {
		return err
	}
	_, _ = c.crc.Write(p)
	return nil
}

// RecoverFromSnapshot replaces the shard's contents (applied index
// included) with the stream written by Snapshot.WriteTo, possibly from
// another shard ID or node. The buffer is dropped. The applied index is
// written last, after the checksum is verified, so a failed recovery
// leaves the shard with applied index 0 rather than half a snapshot
// claiming to be whole.
func (s *Shard) RecoverFromSnapshot(r io.Reader, done <-chan struct{}) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if err := s.db.acquire(); err != nil {
		return err
	}
	defer s.db.release()
	s.mu.RLock()
	closed := s.mu.closed
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	s.db.clearPacked(s.id)
	if err := s.recover(r, done); err != nil {
		// Leave no half-recovered shard behind.
		start, end := shardBounds(s.id)
		_ = s.db.pdb.DeleteRange(start, end, pebble.Sync)
		_ = s.load()
		return fmt.Errorf("longboat/store: cannot recover shard %d from snapshot: %w", s.id, err)
	}
	return s.load()
}

func (s *Shard) recover(r io.Reader, done <-chan struct{}) error {
	cr := &crcReader{r: bufio.NewReaderSize(r, 256<<10), crc: crc32.New(crcTable)}
	var magic [5]byte
	if err := cr.readFull(magic[:]); err != nil {
		return err
	}
	if string(magic[:4]) != snapshotMagic || magic[4] != SnapshotVersion {
		return fmt.Errorf("bad snapshot header %q", magic[:])
	}
	start, end := shardBounds(s.id)
	b := s.db.pdb.NewBatch()
	defer func() { _ = b.Close() }()
	if err := b.DeleteRange(start, end, nil); err != nil {
		return err
	}
	appliedKey := metaKey(nil, 0, metaApplied)[shardPrefixLen:]
	var applied []byte
	var key, val []byte
	for n := 0; ; n++ {
		if n&1023 == 0 {
			select {
			case <-done:
				return ErrStopped
			default:
			}
		}
		kind, err := cr.ReadByte()
		if err != nil {
			return err
		}
		if kind == snapRecEnd {
			break
		}
		if kind != snapRecKV {
			return errCorrupt
		}
		kl, err := binary.ReadUvarint(cr)
		if err != nil {
			return err
		}
		if kl == 0 || kl > maxSnapshotKey {
			return errCorrupt
		}
		key = append(slices.Grow(key[:0], shardPrefixLen+int(kl)), s.prefix...)[:shardPrefixLen+int(kl)]
		if err := cr.readFull(key[shardPrefixLen:]); err != nil {
			return err
		}
		vl, err := binary.ReadUvarint(cr)
		if err != nil {
			return err
		}
		if vl > maxSnapshotValue {
			return errCorrupt
		}
		val = slices.Grow(val[:0], int(vl))[:vl]
		if err := cr.readFull(val); err != nil {
			return err
		}
		if bytes.Equal(key[shardPrefixLen:], appliedKey) {
			applied = append([]byte(nil), val...)
			continue
		}
		if err := b.Set(key, val, nil); err != nil {
			return err
		}
		if b.Len() > 8<<20 {
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			_ = b.Close()
			b = s.db.pdb.NewBatch()
		}
	}
	want := cr.crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(cr.r, sum[:]); err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(sum[:]) != want {
		return errors.New("snapshot checksum mismatch")
	}
	if applied != nil {
		if len(applied) != 8 {
			return errCorrupt
		}
		if err := b.Set(metaKey(nil, s.id, metaApplied), applied, nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

// DeleteTable removes every point and series of the table in the shard,
// buffered ones included (DROP TABLE). It is durable when it returns.
func (s *Shard) DeleteTable(tableID uint32) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	var dropped int64
	if ts := s.mu.tables[tableID]; ts != nil {
		var kb []byte
		for _, se := range ts.series {
			dropped += int64(len(se.times))
			kb = seriesMapKey(kb[:0], tableID, se.tags)
			delete(s.mu.byKey, string(kb))
		}
		delete(s.mu.tables, tableID)
	}
	s.mu.Unlock()
	s.buffered.Add(-dropped)
	keep := s.newSeries[:0]
	for _, se := range s.newSeries {
		if se.table != tableID {
			keep = append(keep, se)
		}
	}
	s.newSeries = keep
	b := s.db.pdb.NewBatch()
	defer b.Close()
	sp := seriesTablePrefix(nil, s.id, tableID)
	bp := blockTablePrefix(nil, s.id, tableID)
	if err := b.DeleteRange(sp, prefixEnd(sp), nil); err != nil {
		return err
	}
	if err := b.DeleteRange(bp, prefixEnd(bp), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("longboat/store: cannot delete table %d of shard %d: %w", tableID, s.id, err)
	}
	return nil
}
