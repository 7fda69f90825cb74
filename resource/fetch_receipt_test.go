package resource_test

import (
	"context"
	"io"
	"testing"

	"github.com/stratos-net/stratos/identity"
	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/resource/storetest"
)

// DESIGN §7: a holder signs for the bytes it served, so the downloader can
// prove the traffic to the meta node; a fetch without a task gets none.
func TestFetchEndsWithReceipt(t *testing.T) {
	meta := newFakeMeta(t)
	n := startNode(t, meta)
	data, _ := storetest.Data(31, 3<<20+5)
	id := put(t, data, n)
	for _, tc := range []struct {
		task         string
		offset, size uint64
		wantReceipt  bool
	}{
		{"d1", 0, 0, true},
		{"d2", 1 << 20, 1000, true},
		{"", 0, 0, false},
	} {
		st, err := n.client(t).Fetch(context.Background(), &storagev1.FetchRequest{SliceId: id.String(), TaskId: tc.task, Offset: tc.offset, Length: tc.size})
		if err != nil {
			t.Fatal(err)
		}
		var got int
		var receipt *storagev1.Receipt
		for {
			msg, err := st.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got += len(msg.GetData())
			if msg.GetReceipt() != nil {
				receipt = msg.GetReceipt()
			}
		}
		if !tc.wantReceipt {
			if receipt != nil {
				t.Fatal("a fetch without a task got a receipt")
			}
			continue
		}
		if receipt == nil || receipt.GetTaskId() != tc.task || receipt.GetSize() != uint64(got) || receipt.GetSliceId() != id.String() {
			t.Fatalf("task %s: receipt %+v for %d bytes served", tc.task, receipt, got)
		}
		if err := identity.VerifyFetchReceipt(n.key.Public(), receipt); err != nil {
			t.Fatal(err)
		}
		if identity.VerifyReceipt(n.key.Public(), receipt) == nil {
			t.Fatal("a fetch receipt passes as a store receipt: a client could commit a file it never uploaded")
		}
	}
}
