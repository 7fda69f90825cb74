package resource

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

func testClaim(task string, bytes uint64) *claim {
	return &claim{receipt: &storagev1.TrafficReceipt{TaskId: task, SliceId: "s", NodeId: "n", Bytes: bytes, Signature: []byte("sig")}, sent: bytes}
}

func pendingBytes(l *servedLog) map[string]uint64 {
	out := map[string]uint64{}
	for k, c := range l.pending {
		out[k[0]] = c.receipt.GetBytes()
	}
	return out
}

// Issue 8: the receipts a node holds until it reports them survive a crash
// (the journal is never closed or compacted here), a torn last record is
// dropped without losing the ones before it, and what was reported is gone
// from the journal once it is compacted.
func TestServedLogSurvivesCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), servedJournal)
	var l servedLog
	if err := l.open(path); err != nil {
		t.Fatal(err)
	}
	l.keep(testClaim("a", 10))
	l.keep(testClaim("b", 20))
	l.keep(testClaim("a", 15)) // cumulative: replaces a's
	l.keep(testClaim("a", 5))  // older: ignored

	var after servedLog // the node starts again without having reported
	if err := after.open(path); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(pendingBytes(&after)); got != "map[a:15 b:20]" {
		t.Fatalf("after a crash: %s, want a:15 b:20", got)
	}

	// A crash in the middle of an append (by the node as it runs now).
	after.keep(testClaim("c", 30))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(appendRecord(nil, testClaim("d", 40))[:7])
	f.Close()
	var torn servedLog
	if err := torn.open(path); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(pendingBytes(&torn)); got != "map[a:15 b:20 c:30]" {
		t.Fatalf("after a torn append: %s, want a:15 b:20 c:30", got)
	}

	// Reported claims leave the journal at the next compaction.
	torn.take(10)
	torn.keep(testClaim("e", 50))
	if err := torn.close(); err != nil {
		t.Fatal(err)
	}
	var last servedLog
	if err := last.open(path); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(pendingBytes(&last)); got != "map[e:50]" {
		t.Fatalf("after reporting: %s, want e:50", got)
	}
}

// A served log without a journal (no data directory) keeps claims in
// memory only.
func TestServedLogWithoutJournal(t *testing.T) {
	var l servedLog
	l.keep(testClaim("a", 1))
	if err := l.compact(); err != nil || l.len() != 1 {
		t.Fatalf("compact without a journal: %v, %d pending", err, l.len())
	}
}

// The journal is read back at start: whatever its bytes (a disk that
// rotted, a file someone edited), decoding never panics, never returns a
// claim without a receipt, and what it returns encodes back to a prefix of
// the input.
func FuzzDecodeJournal(f *testing.F) {
	f.Add(appendRecord(appendRecord(nil, testClaim("a", 1)), testClaim("b", 2)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{3, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		claims, err := decodeJournal(b)
		var again []byte
		for _, c := range claims {
			if c.receipt == nil {
				t.Fatal("a claim without a receipt")
			}
			again = appendRecord(again, c)
		}
		if err == nil && len(claims) == 0 && len(b) != 0 {
			t.Fatal("bytes decoded to nothing without an error")
		}
		if _, err := decodeJournal(again); err != nil {
			t.Fatalf("re-encoded claims do not decode: %v", err)
		}
	})
}
