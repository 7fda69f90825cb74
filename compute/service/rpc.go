package service

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stratos-net/stratos/x/trustedfn/round"
)

// The JSON-RPC 2.0 interface nodes offer (Stratosphere §4.1.1: "nodes offer
// cloud services through the JSON RPC"), over HTTP POST.
const (
	MethodCall = "fn_call" // params CallParams, result CallResult
	MethodLoad = "fn_load" // params LoadParams, result {}
	// MethodRound is the app sending a node its salt and the call of a
	// round (Stratosphere §3.2 Step 2): params JoinParams, result {}.
	MethodRound = "fn_round"
	// MethodLogs is the app owner reading the node's log of the app's
	// calls: params LogsParams, result []LogEntry.
	MethodLogs = "fn_logs"
)

// Error codes beyond JSON-RPC's own.
const (
	CodeParse         = -32700
	CodeInvalid       = -32600
	CodeNoMethod      = -32601
	CodeParams        = -32602
	CodeInternal      = -32603
	CodeNotLoaded     = -32001 // send the module with fn_load, then call again
	CodeNotServed     = -32002 // this node does not serve the app
	CodeBusy          = -32003 // at capacity; try again
	CodeModuleRefused = -32004 // the module does not hash to the app's code or cannot be metered
	CodeRound         = -32005 // the node refused the round (wrong salt: it complained on chain)
	CodeNotOwner      = -32006 // not signed by the app's owner
)

// Request is a JSON-RPC request.
type Request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// Response is a JSON-RPC response.
type Response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// Error is a JSON-RPC error.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("json-rpc error %d: %s", e.Code, e.Message) }

// ErrNotLoaded is a node that has not got the app's module yet.
var ErrNotLoaded = errors.New("module not loaded")

// CallParams is one call. Every node of the app gets the same Seed and
// TimeUnixNano, so every node computes the same bytes (DESIGN §8).
type CallParams struct {
	App          string `json:"app"`
	Function     string `json:"function"`
	Input        []byte `json:"input"` // base64 in JSON
	Seed         []byte `json:"seed"`  // 32 bytes
	TimeUnixNano int64  `json:"time_unix_nano"`
	Gas          int64  `json:"gas,omitempty"` // 0: the node's default limit
}

// LoadParams gives a node an app's module; the node keeps it only if its
// SHA-256 is the app's code hash on chain.
type LoadParams struct {
	App    string `json:"app"`
	Module []byte `json:"module"`
}

// JoinParams is a round's Step 2 for one node: the app's salt for it and
// the call the round is about (its hash is the round's call_hash).
type JoinParams struct {
	Round   uint64     `json:"round"`
	AppSalt []byte     `json:"app_salt"`
	Call    CallParams `json:"call"`
	// OwnerKey and Signature: the app owner's account key (compressed
	// secp256k1) and its signature over JoinBytes, so that nobody else can
	// hand a node a false salt and make it complain about the app.
	OwnerKey  []byte `json:"owner_key"`
	Signature []byte `json:"signature"`
}

// LogsParams asks for the last Limit entries of the node's log of an app's
// calls, signed by the app's owner over LogsBytes within MaxLogsSkew of the
// node's clock.
type LogsParams struct {
	App       string `json:"app"`
	Limit     int    `json:"limit,omitempty"` // 0: 50; at most 1000
	UnixNano  int64  `json:"unix_nano"`
	OwnerKey  []byte `json:"owner_key"`
	Signature []byte `json:"signature"`
}

// MaxLogsSkew bounds how old a logs request may be.
const MaxLogsSkew = 5 * time.Minute

// LogsBytes is what the app's owner signs in a LogsParams.
func LogsBytes(p LogsParams) []byte {
	b := []byte("stratos/fn/logs/v1")
	b = binary.AppendUvarint(b, uint64(len(p.App)))
	b = append(b, p.App...)
	return binary.BigEndian.AppendUint64(b, uint64(p.UnixNano))
}

// LogEntry is one call in a node's log: what the function logged (its
// stderr, at most 4 KiB of it) besides what it answered.
type LogEntry struct {
	Time     time.Time `json:"time"`
	Function string    `json:"function"`
	Call     string    `json:"call"`   // hex CallHash
	Output   string    `json:"output"` // hex output hash
	GasUsed  int64     `json:"gas_used"`
	Error    string    `json:"error,omitempty"`
	Stderr   string    `json:"stderr,omitempty"`
}

// JoinBytes is what the app's owner signs in a JoinParams.
func JoinBytes(chainID string, p JoinParams) []byte {
	b := []byte("stratos/fn/join/v1")
	for _, f := range [][]byte{[]byte(chainID), p.AppSalt} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.BigEndian.AppendUint64(b, p.Round)
	call := CallHash(p.Call)
	return append(b, call[:]...)
}

// Joiner takes part in rounds (package trust).
type Joiner interface {
	Join(ctx context.Context, p JoinParams) error
}

// CallResult is a node's answer, signed by the node's key over
// ResultBytes, so a caller can show anyone what the node answered.
type CallResult struct {
	Node    string `json:"node"`
	Output  []byte `json:"output"`
	Error   string `json:"error,omitempty"` // what the function did wrong, the same words on every node
	GasUsed int64  `json:"gas_used"`
	// OutputHash is round.OutputHash of Outcome: what a round commits to.
	OutputHash []byte `json:"output_hash"`
	Signature  []byte `json:"signature"`
}

// Outcome is the bytes nodes agree on: the output, or the error, tagged.
func Outcome(output []byte, errText string) []byte {
	if errText != "" {
		return append([]byte("err:"), errText...)
	}
	return append([]byte("ok:"), output...)
}

// CallHash names a call: what the app sends nodes in a round's call_hash.
func CallHash(p CallParams) round.Hash {
	b := []byte("stratos/fn/call/v1")
	for _, f := range [][]byte{[]byte(p.App), []byte(p.Function), p.Input, p.Seed} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(p.TimeUnixNano))
	return round.OutputHash(b)
}

// ResultBytes is what a node signs: its ID, the call, the output hash and
// the gas.
func ResultBytes(node string, call round.Hash, outputHash []byte, gas int64) []byte {
	b := []byte("stratos/fn/result/v1")
	b = binary.AppendUvarint(b, uint64(len(node)))
	b = append(b, node...)
	b = append(b, call[:]...)
	b = append(b, outputHash...)
	return binary.BigEndian.AppendUint64(b, uint64(gas))
}

// Verify checks a result's signature by pub and that its hash is of its
// outcome.
func (r CallResult) Verify(pub ed25519.PublicKey, call round.Hash) error {
	h := round.OutputHash(Outcome(r.Output, r.Error))
	if string(h[:]) != string(r.OutputHash) {
		return errors.New("output hash does not match the output")
	}
	if !ed25519.Verify(pub, ResultBytes(r.Node, call, r.OutputHash, r.GasUsed), r.Signature) {
		return errors.New("bad signature")
	}
	return nil
}
