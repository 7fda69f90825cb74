package cli

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/gateway/share"
	"github.com/stratos-net/stratos/home"
)

// shareJSON is a link in --json output.
type shareJSON struct {
	ID        string `json:"id"`
	URL       string `json:"url"`
	Path      string `json:"path"`
	Dir       bool   `json:"dir,omitempty"`
	Account   string `json:"account"`
	Created   string `json:"created"`
	Expires   string `json:"expires,omitempty"`
	Password  bool   `json:"password,omitempty"`
	Encrypted bool   `json:"encrypted,omitempty"`
	State     string `json:"state"` // active, expired or revoked
}

func toShareJSON(sh share.Share, url string, now time.Time) shareJSON {
	j := shareJSON{ID: sh.ID, URL: url, Path: sh.Path, Dir: sh.Dir, Account: sh.Address,
		Created: sh.Created.Format(time.RFC3339), Password: sh.Password != nil, Encrypted: sh.Encrypted, State: "active"}
	if !sh.Expires.IsZero() {
		j.Expires = sh.Expires.Format(time.RFC3339)
	}
	switch err := sh.State(now); {
	case errors.Is(err, share.ErrRevoked):
		j.State = "revoked"
	case errors.Is(err, share.ErrExpired):
		j.State = "expired"
	}
	return j
}

// shareAccount is the keyring name and address the link reads as.
func shareAccount(f clientFlags) (name, addr, gateway string, err error) {
	cc, err := home.LoadClient(f.home)
	if err != nil {
		return "", "", "", err
	}
	name = or(f.from, cc.Key)
	if name == "" {
		return "", "", "", fmt.Errorf("say whose files to share: --from NAME (a key in the home's keyring; see `stratos keys list --home %s`)", f.home)
	}
	_, addr, err = keyringSigner(f.home, name)
	return name, addr, strings.TrimSuffix(cc.Gateway, "/"), err
}

func newShareCmd() *cobra.Command {
	var f clientFlags
	var expires time.Duration
	var password bool
	var gatewayURL string
	cmd := &cobra.Command{
		Use:   "share REMOTE",
		Short: "Make a link that opens a file or a directory to anyone who has it",
		Long: `Prints a link to REMOTE (a file or a directory) on the home's gateway: a page
with a download button (and a player for audio and video) in a browser, the
bytes with curl. The link works until it expires or you revoke it
(` + "`stratos share revoke ID`" + `); with --password it asks for a password first
(curl -u :PASSWORD LINK). A link to an encrypted file carries the file's key
after the #, which browsers never send to the gateway: the page decrypts in
the browser. Anyone with the whole link can read the file.`,
		Example: "  stratos share /videos/movie.mp4 --expires 24h\n  stratos share /photos --password\n  stratos share ls\n  stratos share revoke 7Jd0sV2d1fYq3x9p",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			remote := remoteArg(args[0])
			if expires < 0 {
				return fmt.Errorf("--expires %v is negative; 0 means never", expires)
			}
			name, addr, gw, err := shareAccount(f)
			if err != nil {
				return err
			}
			if gatewayURL != "" {
				gw = strings.TrimSuffix(gatewayURL, "/")
			}
			if gw == "" {
				return fmt.Errorf("this home names no gateway; pass its URL with --gateway http://HOST:PORT")
			}
			c, err := f.open()
			if err != nil {
				return err
			}
			defer c.Close()
			sh := share.Share{Account: name, Address: addr, Path: remote}
			var fragment string
			st, err := c.Stat(cmd.Context(), remote)
			if strings.HasSuffix(remote, "/") {
				err = client.ErrNotFound // a directory, even where a file has its name
			}
			switch {
			case err == nil:
				sh.Path = st.GetFile().GetPath()
				if st.GetFile().GetEncrypted() {
					k, err := c.FileKey(cmd.Context(), sh.Path)
					if err != nil {
						return err
					}
					sh.Encrypted, fragment = true, "#k="+base64.RawURLEncoding.EncodeToString(k[:])
				}
			case errors.Is(err, client.ErrNotFound):
				if entries, lerr := c.List(cmd.Context(), strings.TrimSuffix(remote, "/")); lerr != nil || len(entries) == 0 {
					return explain(fmt.Errorf("share %s: no such file, and no directory with files in it: %w", remote, errors.Join(err, lerr)), f.home)
				}
				sh.Dir, sh.Path = true, strings.TrimSuffix(remote, "/")
				if sh.Path == "" {
					return errors.New("share /: share a directory under it, not the whole namespace")
				}
			default:
				return explain(err, f.home)
			}
			now := time.Now()
			if expires > 0 {
				sh.Expires = now.Add(expires).UTC()
			}
			if password {
				pw, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				if sh.Password, err = share.HashPassword(pw); err != nil {
					return err
				}
			}
			store, err := share.Open(share.Path(f.home))
			if err != nil {
				return err
			}
			sh, token, err := store.Create(sh, now)
			if err != nil {
				return err
			}
			url := gw + share.Prefix + token
			if sh.Dir {
				url += "/"
			}
			url += fragment
			if f.json {
				return printJSON(cmd.OutOrStdout(), toShareJSON(sh, url, now))
			}
			fmt.Fprintln(cmd.OutOrStdout(), url)
			what := "until revoked"
			if !sh.Expires.IsZero() {
				what = "until " + sh.Expires.Local().Format("2006-01-02 15:04 MST")
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "share %s: %s opens for anyone with the link, %s (stratos share revoke %s)\n", sh.ID, sh.Path, what, sh.ID)
			return nil
		},
	}
	addClientFlags(cmd, &f)
	cmd.Flags().DurationVar(&expires, "expires", 7*24*time.Hour, "how long the link works (0: until revoked)")
	cmd.Flags().BoolVar(&password, "password", false, "ask for a password the link will need (read from standard input when it is not a terminal)")
	cmd.Flags().StringVar(&gatewayURL, "gateway", "", "the gateway's base URL for the link (default: gateway in <home>/client.toml)")
	cmd.AddCommand(newShareLsCmd(), newShareRevokeCmd())
	return cmd
}

// readPassword asks twice on a terminal, or reads one line from a pipe.
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	if fh, ok := in.(*os.File); ok && term.IsTerminal(int(fh.Fd())) {
		fmt.Fprint(prompt, "password for the link: ")
		a, err := term.ReadPassword(int(fh.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		fmt.Fprint(prompt, "again: ")
		b, err := term.ReadPassword(int(fh.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ")
		}
		if len(a) == 0 {
			return "", errors.New("an empty password")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if line = strings.TrimRight(line, "\r\n"); line == "" {
		return "", errors.New("--password: no password on standard input")
	}
	return line, nil
}

func newShareLsCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the account's share links",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, addr, gw, err := shareAccount(f)
			if err != nil {
				return err
			}
			store, err := share.Open(share.Path(f.home))
			if err != nil {
				return err
			}
			all, err := store.List(addr)
			if err != nil {
				return err
			}
			now := time.Now()
			out := []shareJSON{}
			for _, sh := range all {
				token, err := store.Token(sh.ID)
				if err != nil {
					return err
				}
				url := gw + share.Prefix + token
				if sh.Dir {
					url += "/"
				}
				out = append(out, toShareJSON(sh, url, now))
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tPATH\tSTATE\tEXPIRES\tPASSWORD\tURL")
			for _, j := range out {
				exp, pw, p := or(j.Expires, "never"), "no", j.Path
				if j.Password {
					pw = "yes"
				}
				if j.Dir {
					p += "/"
				}
				u := j.URL
				if j.Encrypted {
					u += "#k=… (encrypted: the key is only in the link first printed)"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, p, j.State, exp, pw, u)
			}
			return w.Flush()
		},
	}
	addClientFlags(cmd, &f)
	return cmd
}

func newShareRevokeCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a share link: it answers 403 from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, addr, _, err := shareAccount(f)
			if err != nil {
				return err
			}
			store, err := share.Open(share.Path(f.home))
			if err != nil {
				return err
			}
			sh, err := store.Revoke(addr, args[0], time.Now())
			if err != nil {
				return fmt.Errorf("%w (see `stratos share ls --home %s`)", err, f.home)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), toShareJSON(sh, "", time.Now()))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s (%s)\n", sh.ID, sh.Path)
			return nil
		},
	}
	addClientFlags(cmd, &f)
	return cmd
}
