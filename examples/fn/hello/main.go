// Command hello is an example trusted function (issue 10): build it with
// examples/fn/build.sh (GOOS=wasip1 GOARCH=wasm go build) and deploy the
// .wasm. The sandbox calls it with the function's name as its first
// argument and the input on standard input; it answers on standard output.
//
//	greet  {"name": "Ada"}  ->  {"greeting":"Hello, Ada!"}
//	lucky  {"name": "Ada"}  ->  {"name":"Ada","number":N,"at":"..."}
//
// lucky reads the clock and draws a random number: both come from the
// call (the block time and the call's seed), so every node answers the
// same.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"
)

type input struct {
	Name string `json:"name"`
}

func main() {
	if len(os.Args) < 2 {
		fail("no function named; call greet or lucky")
	}
	var in input
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("read input: %v", err)
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &in); err != nil {
			fail("input is not JSON: %v", err)
		}
	}
	if in.Name == "" {
		in.Name = "world"
	}
	var out any
	switch os.Args[1] {
	case "greet":
		out = map[string]string{"greeting": "Hello, " + in.Name + "!"}
	case "lucky":
		out = map[string]any{"name": in.Name, "number": rand.IntN(1000), "at": time.Now().UTC().Format(time.RFC3339)}
	default:
		fail("no function %q; call greet or lucky", os.Args[1])
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}
