// Package types holds x/register's messages, state, parameters and errors:
// resource and meta nodes, their deposits and the votes on meta nodes (DESIGN §4).
package types
