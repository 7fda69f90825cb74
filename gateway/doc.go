// Package gateway serves the network over HTTP to the tools people already
// have (DESIGN §9, issue 9): an S3-compatible API (gateway/s3, over the
// storage network through gateway/s3/network) with access keys tied to
// accounts (gateway/keys).
//
// Not yet: streaming, share links, client-side encryption, the dashboard
// and /metrics; see the README's "not yet".
package gateway
