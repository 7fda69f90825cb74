// Package types holds x/trustedfn's messages, state, parameters and errors.
package types
