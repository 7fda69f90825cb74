package cli

import (
	"context"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratos-net/stratos/chainclient"
	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/compute/caller"
	"github.com/stratos-net/stratos/gateway"
	"github.com/stratos-net/stratos/gateway/keys"
	"github.com/stratos-net/stratos/gateway/share"
	"github.com/stratos-net/stratos/home"
	"github.com/stratos-net/stratos/overview"
	"github.com/stratos-net/stratos/trust"
)

func newGatewayCmd() *cobra.Command {
	var dir, streamAccount string
	var rounds bool
	cfg := gateway.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Serve the network over HTTP: an S3-compatible API, share links, streaming",
		Long: `Serves an S3-compatible API (DESIGN §9): buckets are top-level directories of
the account an access key belongs to, objects are its files. Make keys with
` + "`stratos gateway keys create --from NAME`" + `; the gateway reads <home>/gateway/keys.json
again when it changes.

  aws --endpoint-url http://127.0.0.1:9000 s3 cp ./movie.mp4 s3://videos/movie.mp4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ks, err := keys.Open(keys.Path(dir))
			if err != nil {
				return err
			}
			if cfg.Shares, err = share.Open(share.Path(dir)); err != nil {
				return err
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			if streamAccount != "" {
				f := clientFlags{home: dir, from: streamAccount}
				c, err := f.open(func(c *client.Config) { c.Logger = cfg.Logger })
				if err != nil {
					return fmt.Errorf("--stream-account %s: %w", streamAccount, err)
				}
				defer c.Close()
				cfg.Stream = c
			}
			if _, err := home.LoadClient(dir); err == nil {
				// The dashboard shows the network as the home's account
				// sees it: its files, its prepay.
				f := clientFlags{home: dir}
				c, err := f.open(func(c *client.Config) { c.Logger = cfg.Logger })
				if err != nil {
					return fmt.Errorf("dashboard: %w", err)
				}
				defer c.Close()
				opts := overviewOptions(dir, c)
				opts.Blocks, opts.Files = 10, 50
				if opts.ChainGRPC != "" {
					// One connection for every collection, not a dial each second.
					v, err := chainclient.Dial(opts.ChainGRPC)
					if err != nil {
						return fmt.Errorf("dashboard: %w", err)
					}
					defer v.Close()
					opts.Chain = v
				}
				cfg.Overview = func(ctx context.Context) (overview.Report, error) { return overview.Collect(ctx, c, opts) }
				if opts.Chain != nil {
					var sampler *trust.Sampler
					if rounds {
						stop, s, err := startRounds(cmd.Context(), dir, cfg.Logger)
						if err != nil {
							return fmt.Errorf("rounds: %w", err)
						}
						defer stop()
						sampler = s
					}
					if cfg.Functions, err = gatewayCaller(dir, opts.Chain, sampler); err != nil {
						return err
					}
				}
			}
			g, err := gateway.Start(cfg, ks, func(k keys.Key) (gateway.Files, error) {
				f := clientFlags{home: dir, from: k.Account, owner: k.Address}
				return f.open(func(c *client.Config) { c.Logger = cfg.Logger })
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "gateway: S3 endpoint %s (region %s)\n", g.URL(), cfg.S3.Region)
			if cfg.Overview != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "gateway: dashboard %s/\n", g.URL())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "gateway: share links %s/s/<token> (stratos share --home %s)\n", g.URL(), dir)
			if cfg.Stream != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "gateway: streaming %s/stream/<path> (the files of %s, to anyone who reaches %s)\n", g.URL(), streamAccount, cfg.Listen)
			}
			<-cmd.Context().Done()
			return g.Close()
		},
	}
	addHomeFlag(cmd, &dir)
	cmd.Flags().StringVar(&cfg.Listen, "listen", cfg.Listen, "host:port to serve on")
	cmd.Flags().StringVar(&cfg.S3.Region, "region", cfg.S3.Region, "the S3 region clients sign for")
	cmd.Flags().StringVar(&cfg.S3.VirtualHostSuffix, "virtual-host", "", "serve virtual-hosted-style requests for BUCKET.<this host name> too")
	cmd.Flags().StringVar(&streamAccount, "stream-account", "", "serve this keyring account's files at /stream/<path> with no credentials (for browsers; only on a trusted network)")
	cmd.Flags().BoolVar(&rounds, "rounds", true, "run the commit-reveal rounds of the home account's apps, on calls sampled from those served at /fn/")
	cmd.AddCommand(newGatewayKeysCmd())
	return cmd
}

func newGatewayKeysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the gateway's S3 access keys"}
	cmd.AddCommand(newGatewayKeysCreateCmd(), newGatewayKeysLsCmd(), newGatewayKeysRevokeCmd())
	return cmd
}

func newGatewayKeysCreateCmd() *cobra.Command {
	var dir, from string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create --from NAME",
		Short: "Make an access key and secret for an account in the keyring",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return fmt.Errorf("say whose key it is: --from NAME (a key in the home's keyring; see `stratos keys list --home %s`)", dir)
			}
			_, addr, err := keyringSigner(dir, from)
			if err != nil {
				return err
			}
			ks, err := keys.Open(keys.Path(dir))
			if err != nil {
				return err
			}
			k, err := ks.Create(from, addr, time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), k)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "access key: %s\nsecret key: %s\naccount:    %s (%s)\n", k.AccessKey, k.SecretKey, k.Account, k.Address)
			return nil
		},
	}
	addHomeFlag(cmd, &dir)
	cmd.Flags().StringVar(&from, "from", "", "the keyring key whose account the access key acts for")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newGatewayKeysLsCmd() *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the access keys (secrets only with --json)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ks, err := keys.Open(keys.Path(dir))
			if err != nil {
				return err
			}
			all, err := ks.List()
			if err != nil {
				return err
			}
			if asJSON {
				if all == nil {
					all = []keys.Key{}
				}
				return printJSON(cmd.OutOrStdout(), all)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ACCESS KEY\tACCOUNT\tADDRESS\tCREATED")
			for _, k := range all {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.AccessKey, k.Account, k.Address, k.Created.Format(time.RFC3339))
			}
			return w.Flush()
		},
	}
	addHomeFlag(cmd, &dir)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newGatewayKeysRevokeCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "revoke ACCESS_KEY",
		Short: "Remove an access key; requests signed with it are refused at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, err := keys.Open(keys.Path(dir))
			if err != nil {
				return err
			}
			if err := ks.Revoke(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
			return nil
		},
	}
	addHomeFlag(cmd, &dir)
	return cmd
}

// gatewayCaller calls trusted functions for POST /fn/: nodes that lack a
// module get it from the storage network, read as the home's account.
func gatewayCaller(dir string, v *chainclient.View, sampler *trust.Sampler) (*caller.Caller, error) {
	f := clientFlags{home: dir}
	cfg := caller.DefaultConfig()
	cfg.Chain = chainclient.CallerChain{View: v}
	if sampler != nil {
		cfg.Observe = sampler.Add
	}
	cfg.Module = func(ctx context.Context, app string) ([]byte, error) { return fetchModule(ctx, &f, v, app) }
	return caller.New(cfg)
}

// startRounds runs the rounds of the home account's apps (package trust):
// at each app's frequency, one round on a call sampled from those the
// gateway served, every fourth a spot check computed here.
func startRounds(ctx context.Context, dir string, log *slog.Logger) (stop func(), _ *trust.Sampler, err error) {
	f := clientFlags{home: dir}
	key, err := fromKey(dir, "")
	if err != nil {
		return nil, nil, err
	}
	ch, err := openFnChain(dir, key)
	if err != nil {
		return nil, nil, err
	}
	tc, err := loadChainClient(dir)
	if err != nil {
		ch.Close()
		return nil, nil, err
	}
	d, err := newDriver(&f, ch, tc.ChainID, key)
	if err != nil {
		ch.Close()
		return nil, nil, err
	}
	sampler := trust.NewSampler(32, mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed)))
	s := trust.NewScheduler(trust.SchedulerConfig{Owner: ch.sender.From().String(), Chain: ch.view, Driver: d,
		Sampler: sampler, SpotEvery: 4, Logger: log})
	rctx, cancel := context.WithCancel(ctx)
	go s.Run(rctx)
	return func() { cancel(); ch.Close() }, sampler, nil
}
