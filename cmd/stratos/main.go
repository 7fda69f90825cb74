// Command stratos is the only binary of Stratos: every node role and every
// user action is a subcommand (DESIGN §2).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stratos-net/stratos/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
