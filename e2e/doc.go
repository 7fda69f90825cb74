// Package e2e tests the network as a whole: in-process clusters with real
// gRPC on loopback and real disks (cluster_test.go), and the built stratos
// binary running `stratos devnet` as separate processes (process_test.go).
package e2e
