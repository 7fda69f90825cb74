package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/chainclient"
	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/home"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

// clientFlags are shared by every command that talks to the network.
type clientFlags struct {
	home  string
	json  bool
	owner string
	from  string
}

func addClientFlags(cmd *cobra.Command, f *clientFlags) {
	addHomeFlag(cmd, &f.home)
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON")
	cmd.Flags().StringVar(&f.owner, "owner", "", "account whose files to use (default: the --from key's address, or owner in <home>/client.toml)")
	cmd.Flags().StringVar(&f.from, "from", "", "account key in the home's keyring that signs requests (default: key in <home>/client.toml)")
}

func (f *clientFlags) open(edit ...func(*client.Config)) (*client.Client, error) {
	cc, err := home.LoadClient(f.home)
	if err != nil {
		return nil, err
	}
	cfg := client.DefaultConfig()
	cfg.MetaAddr, cfg.MetaID, cfg.Owner, cfg.Region = cc.MetaAddr, cc.MetaID, or(f.owner, cc.Owner), cc.Region
	cfg.Metas = home.Members(cc.Metas)
	if key := or(f.from, cc.Key); key != "" {
		signer, addr, err := keyringSigner(f.home, key)
		if err != nil {
			return nil, err
		}
		cfg.Signer, cfg.Owner = signer, or(f.owner, addr)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: dropTime}))
	for _, e := range edit {
		e(&cfg)
	}
	return client.New(cfg)
}

// keyringSigner loads the account key name from the home's keyring, the
// one `stratos keys` manages, with the backend the home's chain client
// config names (config/client.toml keyring-backend: "test" on a devnet;
// the Cosmos default, "os", without one). A file keyring asks for its
// passphrase on the terminal.
func keyringSigner(dir, name string) (account.Signer, string, error) {
	cc := struct {
		Backend string `toml:"keyring-backend"`
	}{Backend: chainclient.BackendOS}
	if err := home.ReadTOMLLoose(filepath.Join(dir, "config", "client.toml"), &cc); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, "", err
	}
	kr, err := chainclient.OpenKeyring(dir, cc.Backend, os.Stdin)
	if err != nil {
		return nil, "", err
	}
	return account.FromKeyring(kr, name)
}

// remoteArg reads a remote path argument: names are absolute in the
// network, so "videos/a.mp4" means "/videos/a.mp4"; a file ID stays as is.
func remoteArg(s string) string {
	if slice.IsFileID(s) || strings.HasPrefix(s, "/") {
		return s
	}
	return "/" + s
}

// dropTime leaves the time out of a command's warnings: the person reading
// them is watching.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// explain adds what to do to the errors a user can act on.
func explain(err error, home string) error {
	switch {
	case errors.Is(err, client.ErrMetaUnavailable):
		return fmt.Errorf("%w\nIs the network running? Start one with `stratos devnet --home %s`, or check it with `stratos status --home %s`", err, home, home)
	case errors.Is(err, client.ErrExists):
		return fmt.Errorf("%w\nUse --overwrite to replace it", err)
	case errors.Is(err, client.ErrNoSpace):
		return fmt.Errorf("%w\nSee free space per node with `stratos status --home %s`", err, home)
	}
	return err
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// fileJSON is how files appear in --json output.
type fileJSON struct {
	Path   string `json:"path"`
	FileID string `json:"file_id"`
	Size   uint64 `json:"size"` // of the content: an encrypted file's plaintext
	// Encrypted files are stored as ciphertext of StoredSize bytes.
	Encrypted  bool        `json:"encrypted,omitempty"`
	StoredSize uint64      `json:"stored_size,omitempty"`
	Slices     []sliceJSON `json:"slices"`
	Owner      string      `json:"owner,omitempty"`
	Created    string      `json:"created,omitempty"`
}

type sliceJSON struct {
	ID       string   `json:"id"`
	Size     uint64   `json:"size"`
	Replicas []string `json:"replicas,omitempty"`
}

func toFileJSON(f *metav1.FileEntry, entries []*metav1.SliceEntry) fileJSON {
	out := fileJSON{Path: f.GetPath(), FileID: f.GetFileId(), Size: uint64(client.PlainSize(f)), Owner: f.GetOwner(), Slices: []sliceJSON{}}
	if f.GetEncrypted() {
		out.Encrypted, out.StoredSize = true, f.GetSize()
	}
	if ns := f.GetCreatedUnixNano(); ns != 0 {
		out.Created = time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
	}
	for i, s := range f.GetSlices() {
		sj := sliceJSON{ID: s.GetId(), Size: s.GetSize()}
		if i < len(entries) {
			sj.Replicas = append([]string{}, entries[i].GetReplicas()...)
		}
		out.Slices = append(out.Slices, sj)
	}
	return out
}

// progressMin is the smallest transfer that gets a progress bar.
const progressMin = 4 << 20

// newProgress returns a progress callback drawing a bar (bytes, rate, ETA) on
// stderr when stderr is a terminal and the transfer is large; otherwise nil.
// done clears the bar.
func newProgress(total int64, desc string) (client.Progress, func()) {
	if total < progressMin || !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil, func() {}
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	)
	return func(done, _ int64) { bar.Set64(done) }, func() { bar.Finish(); fmt.Fprint(os.Stderr, "\r\033[K") }
}

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return humanBytes(int64(float64(n)/d.Seconds())) + "/s"
}
