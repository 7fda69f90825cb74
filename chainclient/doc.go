// Package chainclient is everything the storage network reads from and
// sends to the value layer (DESIGN §3, §4, §7), in one place.
//
// A View reads, from a validator's gRPC endpoint: which resource and meta
// nodes are registered and active in x/register, the minimum deposits, how
// much each account has prepaid in x/sds, the prices, and x/pot's ledger
// period. The meta node decides what to do with the answers.
//
// A Sender signs and broadcasts the network's own transactions with one key
// of a test keyring, as the devnet provides (a production meta node would
// hold its operator key the same way): the meta leader's index anchors
// (x/sds) and volume reports (x/pot), and the registrations and approvals
// with which the devnet adds nodes (x/register). It waits until each
// transaction is in a block and its messages succeeded.
package chainclient
