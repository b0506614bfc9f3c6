package raftsm

import (
	"encoding/json"
	"fmt"
	"io"

	sm "github.com/lni/dragonboat/v4/statemachine"
)

// Meta snapshot format: one JSON document
//
//	{"format":1,"state":{...Catalog...}}
//
// The meta group is small (catalog, partition table, registry), so the
// whole state is rewritten on every snapshot.
const metaSnapshotFormat = 1

type metaSnapshot struct {
	Format int      `json:"format"`
	State  *Catalog `json:"state"`
}

// QueryCatalog is a Lookup query answered by the meta state machine with
// the current *Catalog.
type QueryCatalog struct{}

// Result.Value of meta commands.
const (
	metaOK     uint64 = 0
	metaFailed uint64 = 1
)

// metaSM is the in-memory state machine of the meta group. Dragonboat
// serialises Update, Lookup (read lock), snapshots and Close.
type metaSM struct {
	state *Catalog
	// publish receives an immutable copy of the state after every change
	// (and after a snapshot is recovered). It must not block.
	publish func(*Catalog)
}

var _ sm.IStateMachine = (*metaSM)(nil)

func newMetaSM(publish func(*Catalog)) *metaSM {
	m := &metaSM{state: newEmptyState(), publish: publish}
	m.notify()
	return m
}

func (m *metaSM) notify() {
	if m.publish != nil {
		m.publish(m.state.clone())
	}
}

// Update applies one meta command. Malformed commands and refused DDL are
// business errors in the Result; Update never returns an error.
func (m *metaSM) Update(e sm.Entry) (sm.Result, error) {
	c, err := decodeMetaCommand(e.Cmd)
	if err != nil {
		return encodeMetaError(&metaError{Code: "XX000", Message: err.Error()}), nil
	}
	res, merr, changed := applyMeta(m.state, c)
	if changed {
		m.notify()
	}
	if merr != nil {
		return encodeMetaError(merr), nil
	}
	data, err := json.Marshal(&res)
	if err != nil {
		return encodeMetaError(&metaError{Code: "XX000", Message: err.Error()}), nil
	}
	return sm.Result{Value: metaOK, Data: data}, nil
}

func encodeMetaError(e *metaError) sm.Result {
	data, _ := json.Marshal(e)
	return sm.Result{Value: metaFailed, Data: data}
}

// decodeMetaResult turns a meta Result back into the answer or its error.
func decodeMetaResult(r sm.Result) (metaResult, error) {
	var res metaResult
	if r.Value != metaOK {
		var e metaError
		if err := json.Unmarshal(r.Data, &e); err != nil {
			return res, fmt.Errorf("longboat/raftsm: malformed meta error %q: %w", r.Data, err)
		}
		return res, e.pg()
	}
	if err := json.Unmarshal(r.Data, &res); err != nil {
		return res, fmt.Errorf("longboat/raftsm: malformed meta result %q: %w", r.Data, err)
	}
	return res, nil
}

// Lookup answers QueryCatalog.
func (m *metaSM) Lookup(q interface{}) (interface{}, error) {
	switch q.(type) {
	case QueryCatalog, *QueryCatalog:
		return m.state.clone(), nil
	default:
		return nil, fmt.Errorf("longboat/raftsm: unknown meta query %T", q)
	}
}

// SaveSnapshot writes the whole state as JSON.
func (m *metaSM) SaveSnapshot(w io.Writer, _ sm.ISnapshotFileCollection, _ <-chan struct{}) error {
	data, err := json.Marshal(&metaSnapshot{Format: metaSnapshotFormat, State: m.state})
	if err != nil {
		return fmt.Errorf("longboat/raftsm: cannot encode meta snapshot: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	return nil
}

// RecoverFromSnapshot replaces the state with a saved one.
func (m *metaSM) RecoverFromSnapshot(r io.Reader, _ []sm.SnapshotFile, _ <-chan struct{}) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("longboat/raftsm: cannot read meta snapshot: %w", err)
	}
	st, err := decodeMetaSnapshot(data)
	if err != nil {
		return err
	}
	m.state = st
	m.notify()
	return nil
}

func decodeMetaSnapshot(data []byte) (*Catalog, error) {
	var snap metaSnapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return nil, fmt.Errorf("longboat/raftsm: malformed meta snapshot: %w", err)
	}
	if snap.Format != metaSnapshotFormat || snap.State == nil {
		return nil, fmt.Errorf("longboat/raftsm: unknown meta snapshot format %d", snap.Format)
	}
	return snap.State, nil
}

// Close does nothing: the state lives in memory and in the Raft log.
func (m *metaSM) Close() error { return nil }
