package meta

import (
	"os"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/identity"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// fuzzSetup is a fresh meta node with three resource nodes and one open
// upload task for fuzzFile at /fuzz. Keys are deterministic, so the task
// and node IDs are the same in every setup and the seeds below stay valid.
func fuzzSetup(t testing.TB) (*harness, string) {
	h := newHarness(t, 3)
	return h, h.beginOn("/fuzz", fuzzFile, h.nodes...)
}

var fuzzFile = newFile("fuzz slice one", "fuzz slice two")

// runTB lets a harness made inside a fuzz target outlive the input that
// made it: its directories and cleanups belong to the whole fuzz run, its
// failures to the current input (set T before each use).
type runTB struct {
	*testing.T
	dir      string
	cleanups *[]func()
}

func (tb runTB) TempDir() string {
	d, err := os.MkdirTemp(tb.dir, "meta")
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func (tb runTB) Cleanup(fn func()) { *tb.cleanups = append(*tb.cleanups, fn) }

// FuzzCommitUpload sends arbitrary commit requests (DESIGN §11: fuzz every
// decoder of untrusted input) to a node holding one open task. The handler
// must not panic, and a file becomes visible only when every slice has
// MinReplicas distinct registered nodes whose receipts verify (DESIGN §6.2
// step 5) and the file ID is the slices' Merkle root (§6.1).
func FuzzCommitUpload(f *testing.F) {
	h, task := fuzzSetup(f)
	a, b, c := h.nodes[0], h.nodes[1], h.nodes[2]
	seed := func(req *metav1.CommitUploadRequest) {
		data, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	seed(commitReq(task, fuzzFile, a, b, c))
	seed(commitReq(task, fuzzFile, a, b))
	seed(commitReq(task, fuzzFile, a, a, a))
	seed(commitReq(task, fuzzFile))
	forged := commitReq(task, fuzzFile, a, b)
	forged.Slices[0].Receipts[1].Signature[5] ^= 0x10
	seed(forged)
	seed(&metav1.CommitUploadRequest{TaskId: task, FileId: fuzzFile.id})
	f.Add([]byte{})

	// A rejected commit changes nothing, so one node serves input after
	// input (a setup costs milliseconds); an accepted one spends the task
	// and the next input gets a fresh node.
	tb := runTB{dir: f.TempDir(), cleanups: new([]func())}
	f.Cleanup(func() {
		for _, fn := range *tb.cleanups {
			fn()
		}
	})
	h = nil
	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(metav1.CommitUploadRequest)
		if proto.Unmarshal(data, req) != nil {
			return
		}
		tb.T = t
		if h == nil {
			h, task = fuzzSetup(tb)
		}
		h.t = tb
		resp, err := h.commit(req)
		if err != nil {
			if code := status.Code(err); code == codes.Internal || code == codes.Unknown {
				t.Fatalf("commit: %v (code %v): a bad request is the caller's fault", err, code)
			}
			if h.visible("/fuzz") {
				t.Fatal("commit failed but the file is visible")
			}
			return
		}
		defer func() { h.s.Close(); h = nil }()
		checkValidCommit(t, h, task, req)
		if !h.visible("/fuzz") || resp.GetFile().GetFileId() != req.GetFileId() {
			t.Fatalf("commit succeeded with %v, but the file is not visible as such", resp.GetFile())
		}
	})
}

// checkValidCommit fails t unless req deserved to succeed.
func checkValidCommit(t *testing.T, h *harness, task string, req *metav1.CommitUploadRequest) {
	t.Helper()
	if req.GetTaskId() != task {
		t.Fatalf("commit for task %q succeeded; the open task is %s", req.GetTaskId(), task)
	}
	var refs []*metav1.SliceRef
	var size uint64
	for i, up := range req.GetSlices() {
		ref := up.GetSlice()
		refs = append(refs, ref)
		size += ref.GetSize()
		if ref.GetSize() == 0 || ref.GetSize() > testSliceSize {
			t.Fatalf("slice %d has size %d", i, ref.GetSize())
		}
		proved := map[string]bool{}
		for _, r := range up.GetReceipts() {
			rec, err := h.s.ix.Node(r.GetNodeId())
			if err != nil || r.GetTaskId() != task || r.GetSliceId() != ref.GetId() || r.GetSize() != ref.GetSize() ||
				identity.VerifyReceipt(rec.GetPublicKey(), r) != nil {
				t.Fatalf("slice %d: a receipt that does not prove it was accepted: %v", i, r)
			}
			proved[r.GetNodeId()] = true
		}
		if len(proved) < h.cfg.MinReplicas {
			t.Fatalf("slice %d committed with %d proved holders, min %d", i, len(proved), h.cfg.MinReplicas)
		}
	}
	if size != fuzzFile.size || req.GetFileId() != rootOf(refs...) {
		t.Fatalf("committed %d bytes with file ID %s; announced %d, Merkle root %s", size, req.GetFileId(), fuzzFile.size, rootOf(refs...))
	}
}
