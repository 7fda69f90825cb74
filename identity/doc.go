// Package identity holds a node's ed25519 key (DESIGN §3): the node ID
// derived from it, the signed receipts a resource node gives for every slice
// it stores, and TLS 1.3 configurations whose certificates come from the node
// key, so a client can check that it reached the node the meta node named.
package identity
