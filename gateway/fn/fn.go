// Package fn serves trusted-function calls at POST /fn/<app>/<function> as
// JSON-RPC 2.0 (issue 10; Stratosphere §3.1: the distribution layer
// "accessed through ... JSON RPC"): the request's params are the call's
// input, the result the output the app's nodes agreed on, with who agreed.
//
//	curl -d '{"jsonrpc":"2.0","id":1,"method":"greet","params":{"name":"Ada"}}' \
//	    http://127.0.0.1:9000/fn/app1.../greet
package fn

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/stratos-net/stratos/compute/caller"
	"github.com/stratos-net/stratos/compute/service"
)

// Prefix is where calls are served.
const Prefix = "/fn/"

// maxBody bounds a request.
const maxBody = 8 << 20

// Caller makes calls (package caller).
type Caller interface {
	Call(ctx context.Context, app, function string, input []byte) (caller.Result, error)
}

// Errors beyond JSON-RPC's own (service.CodeParse, service.CodeInvalid).
const (
	codeNoAgreement = -32010
	codeFnError     = -32011
	codeCall        = -32012
)

// Result is what a call answers.
type Result struct {
	// Output is the agreed output: as JSON if it is JSON, else in
	// OutputBase64.
	Output       json.RawMessage `json:"output,omitempty"`
	OutputBase64 []byte          `json:"output_base64,omitempty"`
	Agreed       []string        `json:"agreed"`
	Quorum       int             `json:"quorum"`
	Nodes        int             `json:"nodes"`
	GasUsed      int64           `json:"gas_used"`
}

// Handler serves calls.
type Handler struct {
	calls Caller
	log   *slog.Logger
}

// New returns the handler.
func New(c Caller, log *slog.Logger) *Handler { return &Handler{calls: c, log: log} }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a JSON-RPC 2.0 request: its params are the call's input", http.StatusMethodNotAllowed)
		return
	}
	app, function, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, Prefix), "/")
	if !ok || app == "" || function == "" || strings.Contains(function, "/") {
		write(w, http.StatusNotFound, service.Response{Error: &service.Error{Code: service.CodeInvalid, Message: "POST to /fn/<app>/<function>"}})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		write(w, http.StatusRequestEntityTooLarge, service.Response{Error: &service.Error{Code: service.CodeInvalid, Message: err.Error()}})
		return
	}
	var req service.Request
	if err := json.Unmarshal(body, &req); err != nil {
		write(w, http.StatusBadRequest, service.Response{Error: &service.Error{Code: service.CodeParse, Message: err.Error()}})
		return
	}
	resp := service.Response{ID: req.ID}
	if req.JSONRPC != "2.0" || (req.Method != "" && req.Method != function) {
		resp.Error = &service.Error{Code: service.CodeInvalid, Message: `want "jsonrpc":"2.0" and a "method" that is the URL's function (or none)`}
		write(w, http.StatusBadRequest, resp)
		return
	}
	res, err := h.calls.Call(r.Context(), app, function, req.Params)
	switch {
	case errors.Is(err, caller.ErrNoAgreement):
		resp.Error = &service.Error{Code: codeNoAgreement, Message: err.Error(), Data: res.Answers}
	case err != nil:
		resp.Error = &service.Error{Code: codeCall, Message: err.Error()}
	case res.FnError != "":
		resp.Error = &service.Error{Code: codeFnError, Message: "the function failed on the nodes alike: " + res.FnError,
			Data: map[string]any{"agreed": res.Agreed}}
	default:
		out := Result{Agreed: res.Agreed, Quorum: res.Quorum, Nodes: len(res.Answers), GasUsed: res.GasUsed}
		if json.Valid(res.Output) {
			out.Output = res.Output
		} else {
			out.OutputBase64 = res.Output
		}
		resp.Result, _ = json.Marshal(out)
	}
	if resp.Error != nil {
		h.log.Info("fn call failed", "app", app, "function", function, "err", resp.Error.Message)
	}
	write(w, http.StatusOK, resp)
}

func write(w http.ResponseWriter, status int, resp service.Response) {
	resp.JSONRPC = "2.0"
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(resp)
}
