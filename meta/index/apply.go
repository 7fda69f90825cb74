package index

import (
	"crypto/ed25519"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

// Apply applies one command as one atomic, synced batch and returns its
// result. It is deterministic: the same commands in the same order on the
// same state write the same bytes and return the same results, so replicas
// fed the same log agree. A command that fails writes nothing; its error
// wraps one of the package's sentinels and names what was wrong.
func (ix *Index) Apply(cmd *metav1.Command) (*metav1.CommandResult, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.applyLocked(cmd, nil)
}

// ApplyAt applies the command at position at of a replicated log. The
// position is written in the same atomic batch as the state the command
// produced, so after a crash the index knows exactly which commands it
// holds: a command at or before Applied() is not applied again
// (ErrApplied), and a replayed log never counts traffic or a task twice.
//
// The batch is not synced: the log is the durable record, and a command
// lost in a crash is applied again from it. Writes reach the store in
// order, so what survives a crash is always a prefix of the log, and
// Applied() names its end. Sync makes everything applied durable, as a
// log that is about to drop entries needs.
func (ix *Index) ApplyAt(at Position, cmd *metav1.Command) (*metav1.CommandResult, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.applied.Less(at) {
		return nil, fmt.Errorf("%w: command at %v, the index holds up to %v", ErrApplied, at, ix.applied)
	}
	return ix.applyLocked(cmd, &at)
}

// applyLocked applies cmd in one batch, with the log position if at is set.
func (ix *Index) applyLocked(cmd *metav1.Command, at *Position) (*metav1.CommandResult, error) {
	if cmd == nil {
		return nil, fmt.Errorf("nil command: %w", ErrBadCommand)
	}
	t := ix.begin()
	if changesStorage(cmd) {
		if err := t.prepareStorage(); err != nil {
			return nil, fmt.Errorf("apply: %w: %w", ErrStore, err)
		}
	}
	if err := t.expire(cmd.GetUnixNano()); err != nil {
		return nil, fmt.Errorf("apply: %w: %w", ErrStore, err)
	}
	if g := cmd.GetGuard(); g != nil {
		if err := t.guard(cmd.GetUnixNano(), g); err != nil {
			return nil, err
		}
	}
	res, err := t.apply(cmd)
	if err != nil {
		return nil, err
	}
	sync := at == nil
	if at != nil {
		t.setRaw([]byte(keyApplied), at.encode())
	}
	if err := t.commit(sync); err != nil {
		return nil, fmt.Errorf("apply: %w: %w", ErrStore, err)
	}
	if at != nil {
		ix.applied = *at
	}
	return res, nil
}

func (t *txn) apply(cmd *metav1.Command) (*metav1.CommandResult, error) {
	now := cmd.GetUnixNano()
	switch op := cmd.GetOp().(type) {
	case *metav1.Command_RegisterNode:
		return t.registerNode(now, op.RegisterNode)
	case *metav1.Command_CreateTask:
		return t.createTask(now, op.CreateTask)
	case *metav1.Command_CommitFile:
		return t.commitFile(now, op.CommitFile)
	case *metav1.Command_EndTask:
		return t.endTask(op.EndTask)
	case *metav1.Command_DeleteFile:
		return t.deleteFile(op.DeleteFile)
	case *metav1.Command_AddReplicas:
		return t.changeReplicas(op.AddReplicas.GetSliceId(), op.AddReplicas.GetNodeIds(), true)
	case *metav1.Command_RemoveReplicas:
		return t.changeReplicas(op.RemoveReplicas.GetSliceId(), op.RemoveReplicas.GetNodeIds(), false)
	case *metav1.Command_AddTraffic:
		return t.addTraffic(op.AddTraffic)
	case *metav1.Command_TakeTraffic:
		return t.takeTraffic(op.TakeTraffic)
	case *metav1.Command_RestoreTraffic:
		return t.restoreTraffic(op.RestoreTraffic)
	case *metav1.Command_OpenDownload:
		return t.openDownload(now, op.OpenDownload)
	case *metav1.Command_CountDownload:
		return t.countDownload(now, op.CountDownload)
	case *metav1.Command_Reassign:
		return t.reassign(now, op.Reassign)
	case *metav1.Command_SettleReport:
		return t.settleReport(op.SettleReport)
	case *metav1.Command_MakeBucket:
		return t.makeBucket(now, op.MakeBucket)
	case *metav1.Command_RemoveBucket:
		return t.removeBucket(op.RemoveBucket)
	case *metav1.Command_ComposeFile:
		return t.composeFile(now, op.ComposeFile)
	default:
		return nil, fmt.Errorf("no operation: %w", ErrBadCommand)
	}
}

func badCommand(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrBadCommand)
}

// commandPath validates a path carried by a command: the error is both
// ErrBadCommand and ErrBadPath.
func commandPath(p string) (string, error) {
	clean, err := CleanPath(p)
	if err != nil {
		return "", fmt.Errorf("%w: %w", err, ErrBadCommand)
	}
	return clean, nil
}

func (t *txn) registerNode(now int64, c *metav1.RegisterNodeCmd) (*metav1.CommandResult, error) {
	n := c.GetNode()
	if n == nil {
		return nil, badCommand("register node: no node record")
	}
	if err := checkName("node ID", n.NodeId); err != nil {
		return nil, fmt.Errorf("register node: %w", err)
	}
	if len(n.PublicKey) != ed25519.PublicKeySize {
		return nil, badCommand("register node %s: public key is %d bytes, want %d", n.NodeId, len(n.PublicKey), ed25519.PublicKeySize)
	}
	if n.Addr == "" {
		return nil, badCommand("register node %s: no address", n.NodeId)
	}
	rec := proto.CloneOf(n)
	rec.RegisteredUnixNano = now
	var old metav1.NodeRecord
	found, err := t.getMsg(nodeKey(n.NodeId), &old, false)
	if err != nil {
		return nil, fmt.Errorf("register node %s: %w", n.NodeId, err)
	}
	if found {
		rec.RegisteredUnixNano = old.RegisteredUnixNano
	}
	if err := t.set(nodeKey(n.NodeId), rec); err != nil {
		return nil, fmt.Errorf("register node %s: %w", n.NodeId, err)
	}
	return &metav1.CommandResult{}, nil
}

func (t *txn) createTask(now int64, c *metav1.CreateTaskCmd) (*metav1.CommandResult, error) {
	if c == nil {
		return nil, badCommand("create task: empty")
	}
	switch c.Kind {
	case metav1.TaskKind_TASK_KIND_UPLOAD, metav1.TaskKind_TASK_KIND_DOWNLOAD, metav1.TaskKind_TASK_KIND_REPAIR:
	default:
		return nil, badCommand("create task: kind %v", c.Kind)
	}
	if err := checkName("owner", c.Owner); err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	path, err := commandPath(c.Path)
	if err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	if c.TtlNanos <= 0 || now > math.MaxInt64-c.TtlNanos {
		return nil, badCommand("create task %s %s: ttl %d", c.Owner, path, c.TtlNanos)
	}
	if c.Kind == metav1.TaskKind_TASK_KIND_UPLOAD {
		if err := t.checkUploadTarget(c.Owner, path, c.Overwrite); err != nil {
			return nil, fmt.Errorf("create task: %w", err)
		}
	}
	seq, err := t.counter(keyTaskSeq)
	if err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	seq++
	task := &metav1.Task{
		Id: taskID(seq), Kind: c.Kind, Owner: c.Owner, Path: path, Size: c.Size,
		Overwrite: c.Overwrite, CreatedUnixNano: now, ExpiresUnixNano: now + c.TtlNanos,
	}
	if err := t.reserve(now, task.Owner, task.Id, c.Reservation); err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	t.knownAbsent(taskKey(seq)) // sequence numbers are given once
	if err := t.set(taskKey(seq), task); err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	if err := t.addCounter(keyTaskSeq, 1); err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	return &metav1.CommandResult{Task: task}, nil
}

// checkUploadTarget says whether a file may be written at (owner, path):
// not over an existing file unless overwrite. A name may be a file and a
// directory at once, as S3 keys "a" and "a/b" are two objects (DESIGN §9);
// List gives both entries.
func (t *txn) checkUploadTarget(owner, path string, overwrite bool) error {
	if _, err := t.get(fileKey(owner, path), true); err == nil {
		if !overwrite {
			return fmt.Errorf("file %s %s: %w", owner, path, ErrExists)
		}
	} else if !isNotFound(err) {
		return err
	}
	return nil
}

func (t *txn) task(id string) (*metav1.Task, uint64, error) {
	seq, ok := parseTaskID(id)
	if !ok {
		return nil, 0, fmt.Errorf("task %q: %w", clip(id), ErrNotFound)
	}
	task := new(metav1.Task)
	found, err := t.getMsg(taskKey(seq), task, false)
	if err != nil {
		return nil, 0, fmt.Errorf("task %s: %w", id, err)
	}
	if !found {
		return nil, 0, fmt.Errorf("task %s: %w", id, ErrNotFound)
	}
	return task, seq, nil
}

func (t *txn) endTask(c *metav1.EndTaskCmd) (*metav1.CommandResult, error) {
	task, seq, err := t.task(c.GetTaskId())
	if err != nil {
		return nil, fmt.Errorf("end task: %w", err)
	}
	t.del(taskKey(seq))
	t.releaseReservation(task.Owner, task.Id)
	return &metav1.CommandResult{}, nil
}

func (t *txn) commitFile(now int64, c *metav1.CommitFileCmd) (*metav1.CommandResult, error) {
	if c == nil || c.File == nil {
		return nil, badCommand("commit file: no file")
	}
	task, seq, err := t.task(c.TaskId)
	if err != nil {
		return nil, fmt.Errorf("commit file: %w", err)
	}
	f := c.File
	switch {
	case task.Kind != metav1.TaskKind_TASK_KIND_UPLOAD:
		return nil, badCommand("commit file: task %s is a %v task", task.Id, task.Kind)
	case now > task.ExpiresUnixNano:
		return nil, fmt.Errorf("commit file: task %s expired at %d, now %d: %w", task.Id, task.ExpiresUnixNano, now, ErrTaskExpired)
	case f.Owner != task.Owner || f.Path != task.Path:
		return nil, badCommand("commit file: file %s %s is not task %s's %s %s", clip(f.Owner), clip(f.Path), task.Id, task.Owner, task.Path)
	}
	if err := checkContent(f, c.Replicas); err != nil {
		return nil, fmt.Errorf("commit file %s %s: %w", f.Owner, f.Path, err)
	}
	if err := checkObjectMeta(f.Object); err != nil {
		return nil, fmt.Errorf("commit file %s %s: %w", f.Owner, f.Path, err)
	}
	if err := t.checkUploadTarget(f.Owner, f.Path, task.Overwrite); err != nil {
		return nil, fmt.Errorf("commit file: %w", err)
	}
	res, err := t.writeFile(now, f, c.Replicas)
	if err != nil {
		return nil, fmt.Errorf("commit file %s %s: %w", f.Owner, f.Path, err)
	}
	if c.CountTraffic {
		if err := t.countUpload(f, c.Replicas); err != nil {
			return nil, fmt.Errorf("commit file %s %s: %w", f.Owner, f.Path, err)
		}
	}
	t.del(taskKey(seq))
	t.releaseReservation(task.Owner, task.Id)
	return res, nil
}

// checkContent checks a file's slices against its size, its file ID and the
// replica sets (DESIGN §6.1: the file ID is the Merkle root of slice IDs).
func checkContent(f *metav1.FileEntry, replicas []*metav1.ReplicaSet) error {
	if len(replicas) != len(f.Slices) {
		return badCommand("%d replica sets for %d slices", len(replicas), len(f.Slices))
	}
	ids := make([]slice.ID, len(f.Slices))
	sizes := make(map[string]uint64, len(f.Slices))
	var total uint64
	for i, s := range f.Slices {
		id, err := slice.ParseID(s.GetId())
		if err != nil {
			return fmt.Errorf("slice %d: %w: %w", i, err, ErrBadCommand)
		}
		if size, ok := sizes[s.Id]; ok && size != s.Size {
			return badCommand("slice %s appears with sizes %d and %d", s.Id, size, s.Size)
		}
		sizes[s.Id] = s.Size
		ids[i] = id
		if total+s.Size < total {
			return badCommand("slice sizes overflow")
		}
		total += s.Size
		for _, n := range replicas[i].GetNodeIds() {
			if err := checkName("node ID", n); err != nil {
				return fmt.Errorf("slice %d replicas: %w", i, err)
			}
		}
	}
	if total != f.Size {
		return badCommand("size %d, but slices add up to %d", f.Size, total)
	}
	if root := slice.Root(ids).String(); f.FileId != root {
		return badCommand("file ID %q, but the slices' Merkle root is %s", clip(f.FileId), root)
	}
	return nil
}

// writeFile stores f (replacing any file at its path) with its slice and
// file-ID records and counters.
func (t *txn) writeFile(now int64, f *metav1.FileEntry, replicas []*metav1.ReplicaSet) (*metav1.CommandResult, error) {
	entry := proto.CloneOf(f)
	entry.CreatedUnixNano = now
	key := fileKey(f.Owner, f.Path)
	var newSlices int64
	// References to the new content first, so a slice the old content shares
	// never drops to zero and is never released.
	for _, u := range sliceUses(entry.Slices) {
		var nodes []string
		for _, i := range u.at {
			nodes = append(nodes, replicas[i].GetNodeIds()...)
		}
		created, err := t.addSliceRefs(u.ref, nodes, entry.Owner, u.count())
		if err != nil {
			return nil, err
		}
		if created {
			newSlices++
		}
	}
	res := &metav1.CommandResult{File: entry}
	old := new(metav1.FileEntry)
	replaced, err := t.getMsg(key, old, true)
	if err != nil {
		return nil, err
	}
	if replaced {
		t.delPresent(fileIDKey(old.FileId, old.Owner, old.Path), nil)
		if res.Released, err = t.release(old); err != nil {
			return nil, err
		}
	} else if err := t.addCounter(keyFiles, 1); err != nil {
		return nil, err
	}
	if err := t.set(key, entry); err != nil {
		return nil, err
	}
	// New, unless the old entry had this file ID too: its delete above
	// said so first, and the first word stands.
	t.setNew(fileIDKey(entry.FileId, entry.Owner, entry.Path), nil)
	t.added = append(t.added, key)
	t.noteObject(entry.Owner, entry.Path, true)
	if err := t.addCounter(keySlices, newSlices-int64(len(res.Released))); err != nil {
		return nil, err
	}
	return res, nil
}

// addSliceRefs counts n more uses of a slice by owner's files, creating its
// entry if needed, and adds the replicas. Every owner's share of the
// slice's stored bytes moves with its references and replicas (storage.go).
func (t *txn) addSliceRefs(ref *metav1.SliceRef, replicas []string, owner string, n uint64) (created bool, err error) {
	key := sliceKey(ref.Id)
	s := new(metav1.SliceEntry)
	found, err := t.getMsg(key, s, true)
	if err != nil {
		return false, err
	}
	if !found {
		s = &metav1.SliceEntry{Id: ref.Id, Size: ref.Size}
		t.added = append(t.added, key)
	} else if s.Size != ref.Size {
		return false, badCommand("slice %s has size %d, not %d", ref.Id, s.Size, ref.Size)
	}
	err = t.changeSlice(s, owner, int64(n), func() error {
		s.Refs += n
		return t.addHolders(s, replicas)
	})
	if err != nil {
		return false, err
	}
	return !found, t.set(key, s)
}

// addHolders merges nodes into s.Replicas (sorted, unique), writes the
// holder index for the new ones and counts the slice's bytes as held by
// them.
func (t *txn) addHolders(s *metav1.SliceEntry, nodes []string) error {
	for _, n := range nodes {
		i, ok := slices.BinarySearch(s.Replicas, n)
		if ok {
			continue
		}
		s.Replicas = slices.Insert(s.Replicas, i, n)
		t.setNew(holderKey(n, s.Id), nil)
		if err := t.addHeld(n, s.Size, true); err != nil {
			return err
		}
	}
	return nil
}

// removeHolders takes nodes out of s.Replicas, with their holder index and
// held bytes.
func (t *txn) removeHolders(s *metav1.SliceEntry, nodes []string) error {
	kept := s.Replicas[:0]
	for _, n := range s.Replicas {
		if !slices.Contains(nodes, n) {
			kept = append(kept, n)
			continue
		}
		t.delPresent(holderKey(n, s.Id), nil)
		if err := t.addHeld(n, s.Size, false); err != nil {
			return err
		}
	}
	s.Replicas = kept
	return nil
}

// release drops one reference per slice occurrence in f and removes the
// slices no file uses any more, returning them with their replicas (in the
// order their last use in f comes): the nodes holding them may delete them.
func (t *txn) release(f *metav1.FileEntry) ([]*metav1.SliceEntry, error) {
	uses := sliceUses(f.Slices)
	slices.SortFunc(uses, func(a, b *sliceUse) int { return a.at[len(a.at)-1] - b.at[len(b.at)-1] })
	var released []*metav1.SliceEntry
	for _, u := range uses {
		key := sliceKey(u.ref.Id)
		s := new(metav1.SliceEntry)
		found, err := t.getMsg(key, s, true)
		if err != nil {
			return nil, err
		}
		if !found || s.Refs < u.count() {
			return nil, fmt.Errorf("index corrupt: file %s %s uses slice %s %d times, which has %d references", f.Owner, f.Path, u.ref.Id, u.count(), s.Refs)
		}
		var held []string
		err = t.changeSlice(s, f.Owner, -int64(u.count()), func() error {
			s.Refs -= u.count()
			if s.Refs > 0 {
				return nil
			}
			held = slices.Clone(s.Replicas)
			return t.removeHolders(s, held)
		})
		if err != nil {
			return nil, fmt.Errorf("file %s %s, slice %s: %w", f.Owner, f.Path, u.ref.Id, err)
		}
		if s.Refs > 0 {
			if err := t.set(key, s); err != nil {
				return nil, err
			}
			continue
		}
		t.del(key)
		s.Replicas = held // the nodes that may delete it
		released = append(released, s)
	}
	return released, nil
}

func (t *txn) deleteFile(c *metav1.DeleteFileCmd) (*metav1.CommandResult, error) {
	owner := c.GetOwner()
	if err := checkName("owner", owner); err != nil {
		return nil, fmt.Errorf("delete file: %w", err)
	}
	path, err := commandPath(c.GetPath())
	if err != nil {
		return nil, fmt.Errorf("delete file: %w", err)
	}
	key := fileKey(owner, path)
	f := new(metav1.FileEntry)
	found, err := t.getMsg(key, f, true)
	if err != nil {
		return nil, fmt.Errorf("delete file %s %s: %w", owner, path, err)
	}
	if !found {
		return nil, fmt.Errorf("delete file %s %s: %w", owner, path, ErrNotFound)
	}
	t.del(key)
	t.delPresent(fileIDKey(f.FileId, owner, path), nil)
	t.noteObject(owner, path, false)
	released, err := t.release(f)
	if err != nil {
		return nil, fmt.Errorf("delete file %s %s: %w", owner, path, err)
	}
	if err := t.addCounter(keyFiles, -1); err != nil {
		return nil, err
	}
	if err := t.addCounter(keySlices, -int64(len(released))); err != nil {
		return nil, err
	}
	return &metav1.CommandResult{File: f, Released: released}, nil
}

// changeReplicas adds or removes replica locations of a slice; its
// references are unchanged.
func (t *txn) changeReplicas(id string, nodes []string, add bool) (*metav1.CommandResult, error) {
	verb := "remove replicas"
	if add {
		verb = "add replicas"
	}
	if _, err := slice.ParseID(id); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", verb, err, ErrBadCommand)
	}
	if len(nodes) == 0 {
		return nil, badCommand("%s of %s: no node IDs", verb, id)
	}
	for _, n := range nodes {
		if err := checkName("node ID", n); err != nil {
			return nil, fmt.Errorf("%s of %s: %w", verb, id, err)
		}
	}
	s := new(metav1.SliceEntry)
	found, err := t.getMsg(sliceKey(id), s, true)
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", verb, id, err)
	}
	if !found {
		return nil, fmt.Errorf("%s: slice %s: %w", verb, id, ErrNotFound)
	}
	change := t.removeHolders
	if add {
		change = t.addHolders
	}
	// Every owner of the slice now stores it on more or fewer replicas.
	err = t.changeSlice(s, "", 0, func() error { return change(s, nodes) })
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", verb, id, err)
	}
	if err := t.set(sliceKey(id), s); err != nil {
		return nil, fmt.Errorf("%s of %s: %w", verb, id, err)
	}
	return &metav1.CommandResult{}, nil
}
