package caller

import "crypto/rand"

// seed is a fresh random seed for the default source of call seeds.
func seed() [32]byte {
	var s [32]byte
	rand.Read(s[:])
	return s
}
