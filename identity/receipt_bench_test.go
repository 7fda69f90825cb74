package identity

import (
	"crypto/ed25519"
	"testing"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// go test -run x -bench TrafficReceipt ./identity/
//
// What a receipt costs (DESIGN §7): the downloader signs one every quarter
// fetch window, and the meta leader verifies each one it counts, before it
// proposes the count (issue 8: a million task reports a period).
func BenchmarkSignTrafficReceipt(b *testing.B) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	r := &storagev1.TrafficReceipt{TaskId: "d0123456789abcdef", SliceId: "s0123456789abcdef0123456789abcdef", NodeId: "st1node", Bytes: 16 << 20}
	for b.Loop() {
		SignTrafficReceipt(key, r)
	}
}

func BenchmarkVerifyTrafficReceipt(b *testing.B) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := key.Public().(ed25519.PublicKey)
	r := &storagev1.TrafficReceipt{TaskId: "d0123456789abcdef", SliceId: "s0123456789abcdef0123456789abcdef", NodeId: "st1node", Bytes: 16 << 20}
	SignTrafficReceipt(key, r)
	for b.Loop() {
		if err := VerifyTrafficReceipt(pub, r); err != nil {
			b.Fatal(err)
		}
	}
}
