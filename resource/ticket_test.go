package resource_test

import (
	"bytes"
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
	"github.com/stratos-net/stratos/resource"
	"github.com/stratos-net/stratos/resource/storetest"
)

// A node stores only what its meta node placed and forwards only to nodes
// the meta node chose: every store needs the meta node's ticket.
func TestStoreNeedsTicket(t *testing.T) {
	meta := newFakeMeta(t)
	a, b := startNode(t, meta), startNode(t, meta)
	data, id := storetest.Data(9, 100<<10)
	impostor := mustKey(t)
	both := []*storagev1.Peer{a.peer(), b.peer()}
	for name, mutate := range map[string]func(h *storagev1.StoreHeader){
		"no ticket": func(h *storagev1.StoreHeader) { h.Ticket = nil },
		"signed by another key": func(h *storagev1.StoreHeader) {
			h.Ticket = ticket(impostor, h.TaskId, h.SliceId, h.Size, both)
		},
		"for another task": func(h *storagev1.StoreHeader) {
			h.Ticket = ticket(meta.key, "other", h.SliceId, h.Size, both)
		},
		"for another size": func(h *storagev1.StoreHeader) {
			h.Ticket = ticket(meta.key, h.TaskId, h.SliceId, h.Size+1, both)
		},
		"not naming the receiver": func(h *storagev1.StoreHeader) {
			h.Ticket = ticket(meta.key, h.TaskId, h.SliceId, h.Size, []*storagev1.Peer{b.peer()})
		},
		"downstream at another address": func(h *storagev1.StoreHeader) {
			h.Downstream = []*storagev1.Peer{{NodeId: b.ID(), Addr: "127.0.0.1:1"}}
		},
		"tampered after signing": func(h *storagev1.StoreHeader) { h.Ticket.Size++; h.Size++ },
	} {
		t.Run(name, func(t *testing.T) {
			h := pipelineHeader("t", data, id.String(), a, b)
			mutate(h)
			_, err := resource.StoreSlice(context.Background(), a.client(t), h, bytes.NewReader(data))
			if status.Code(err) != codes.PermissionDenied {
				t.Fatalf("err = %v, want PermissionDenied", err)
			}
			if !a.empty() || !b.empty() {
				t.Fatal("a refused store left a slice behind")
			}
		})
	}
}
