package devnet

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// ControlSocket is the running devnet's control socket inside its home:
// `stratos devnet add-node` asks the devnet supervisor through it, so one
// process starts, watches and stops every node.
const ControlSocket = "devnet.sock"

// ErrNotRunning is returned when no devnet runs on a home.
var ErrNotRunning = errors.New("no devnet is running on this home")

// controlEvent is one line of the control socket's answer: a step done,
// then the node added or an error.
type controlEvent struct {
	Step  string    `json:"step,omitempty"`
	Node  *NodeInfo `json:"node,omitempty"`
	Error string    `json:"error,omitempty"`
}

// serveControl listens on the home's control socket until ctx ends. The
// socket is a file only its owner may use (mode 0600 directory entry), as
// the home's keyring is.
func (s *supervisor) serveControl(ctx context.Context) (stop func(), err error) {
	path := filepath.Join(s.cfg.Home, ControlSocket)
	os.Remove(path) // a stale socket of a devnet that died: the home lock is ours
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("devnet control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /nodes", func(w http.ResponseWriter, r *http.Request) {
		role := r.URL.Query().Get("role")
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		flush := func() {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
		info, err := s.addNode(r.Context(), role, func(step string) {
			enc.Encode(controlEvent{Step: step})
			flush()
		})
		if err != nil {
			enc.Encode(controlEvent{Error: err.Error()})
			return
		}
		enc.Encode(controlEvent{Node: &info})
	})
	srv := &http.Server{Handler: mux, BaseContext: func(net.Listener) context.Context { return ctx }}
	go srv.Serve(ln)
	return func() { srv.Close(); os.Remove(path) }, nil
}

// AddNode asks the devnet running on dir to add a node of role (meta or
// resource), telling progress each step, and returns the node as
// devnet.json lists it.
func AddNode(ctx context.Context, dir, role string, progress func(string)) (NodeInfo, error) {
	path := filepath.Join(dir, ControlSocket)
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://devnet/nodes?role="+role, nil)
	if err != nil {
		return NodeInfo{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "connection refused") {
			return NodeInfo{}, fmt.Errorf("%w (%s): start it with `stratos devnet --home %s`, then add the node", ErrNotRunning, dir, dir)
		}
		return NodeInfo{}, fmt.Errorf("devnet control socket %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return NodeInfo{}, fmt.Errorf("devnet control socket %s: %s", path, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var ev controlEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return NodeInfo{}, fmt.Errorf("devnet control socket: bad answer %q: %w", sc.Text(), err)
		}
		switch {
		case ev.Error != "":
			return NodeInfo{}, errors.New(ev.Error)
		case ev.Node != nil:
			return *ev.Node, nil
		case progress != nil:
			progress(ev.Step)
		}
	}
	if err := sc.Err(); err != nil {
		return NodeInfo{}, fmt.Errorf("devnet control socket: %w", err)
	}
	return NodeInfo{}, errors.New("the devnet stopped before the node was added")
}
