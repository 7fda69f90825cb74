// Package types holds x/pot's messages, state, parameters and errors: volume
// reports of meta nodes and the rewards they pay (DESIGN §7).
package types
