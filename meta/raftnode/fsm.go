package raftnode

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// ErrBadEntry is the result of every command of a log entry that does not
// decode: each replica decodes the same bytes, so each refuses them alike.
var ErrBadEntry = errors.New("log entry is not a command batch")

// result is what applying one command gave.
type result struct {
	res *metav1.CommandResult
	err error
}

// fsm applies log entries to the index.
type fsm struct {
	ix  *index.Index
	log *slog.Logger
}

var (
	_ raft.FSM         = (*fsm)(nil)
	_ raft.BatchingFSM = (*fsm)(nil)
)

// Apply applies one entry; its response is a []result, one per command.
func (f *fsm) Apply(l *raft.Log) any { return f.apply(l) }

// ApplyBatch applies the entries Raft committed together.
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	for i, l := range logs {
		out[i] = f.apply(l)
	}
	return out
}

func (f *fsm) apply(l *raft.Log) []result {
	if l.Type != raft.LogCommand {
		return nil
	}
	var batch metav1.CommandBatch
	if err := proto.Unmarshal(l.Data, &batch); err != nil {
		f.log.Error("log entry does not decode; its commands are refused on every replica", "index", l.Index, "err", err)
		return []result{{err: fmt.Errorf("%w: entry %d: %w", ErrBadEntry, l.Index, err)}}
	}
	out := make([]result, len(batch.Commands))
	for i, cmd := range batch.Commands {
		res, err := f.ix.ApplyAt(index.Position{Index: l.Index, Cmd: uint32(i)}, cmd)
		if errors.Is(err, index.ErrStore) {
			// This replica can no longer follow the log: going on would make
			// its index differ from the others' for good.
			panic(fmt.Sprintf("meta index: entry %d command %d: %v", l.Index, i, err))
		}
		out[i] = result{res: res, err: err}
	}
	return out
}

// Snapshot syncs the index, so the log may forget what it applied, and
// takes a view of it to stream later.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	if err := f.ix.Sync(); err != nil {
		return nil, err
	}
	v, err := f.ix.View()
	if err != nil {
		return nil, err
	}
	return &snapshot{v: v}, nil
}

// Restore replaces the index with a snapshot sent by the leader.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return f.ix.Restore(rc)
}

type snapshot struct{ v *index.View }

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.v.WriteSnapshot(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("write index snapshot: %w", err)
	}
	return sink.Close()
}

func (s *snapshot) Release() { s.v.Close() }
