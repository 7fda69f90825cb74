package fn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stratos-net/stratos/compute/caller"
	"github.com/stratos-net/stratos/compute/service"
)

type fakeCaller struct {
	app, function string
	input         []byte
	res           caller.Result
	err           error
}

func (f *fakeCaller) Call(_ context.Context, app, function string, input []byte) (caller.Result, error) {
	f.app, f.function, f.input = app, function, input
	return f.res, f.err
}

func post(t *testing.T, h http.Handler, path, body string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s: not JSON: %q", path, rec.Body.String())
	}
	return rec.Code, out
}

func TestCallPassesParamsAndReturnsTheAgreedOutput(t *testing.T) {
	fc := &fakeCaller{res: caller.Result{Output: []byte(`{"greeting":"Hello, Ada!"}`), Agreed: []string{"a", "b", "c"}, Quorum: 3,
		Answers: make([]caller.Answer, 4)}}
	h := New(fc, slog.New(slog.DiscardHandler))
	code, out := post(t, h, "/fn/app1x/greet", `{"jsonrpc":"2.0","id":7,"method":"greet","params":{"name":"Ada"}}`)
	if code != 200 || fc.app != "app1x" || fc.function != "greet" || string(fc.input) != `{"name":"Ada"}` {
		t.Fatalf("%d: called %s %s %q", code, fc.app, fc.function, fc.input)
	}
	res := out["result"].(map[string]any)
	if res["output"].(map[string]any)["greeting"] != "Hello, Ada!" || len(res["agreed"].([]any)) != 3 || res["nodes"].(float64) != 4 || out["id"].(float64) != 7 {
		t.Fatalf("result %v", out)
	}
}

func TestCallErrorsAreJSONRPCErrors(t *testing.T) {
	fc := &fakeCaller{err: errors.Join(caller.ErrNoAgreement)}
	h := New(fc, slog.New(slog.DiscardHandler))
	for _, tc := range []struct {
		path, body string
		code       float64
	}{
		{"/fn/app1x/greet", `{"jsonrpc":"2.0","id":1,"params":{}}`, codeNoAgreement},
		{"/fn/app1x/greet", `{"jsonrpc":"2.0","method":"other"}`, service.CodeInvalid},
		{"/fn/app1x/greet", `{"jsonrpc":"1.0"}`, service.CodeInvalid},
		{"/fn/app1x/greet", `{`, service.CodeParse},
		{"/fn/app1x", `{"jsonrpc":"2.0"}`, service.CodeInvalid},
	} {
		_, out := post(t, h, tc.path, tc.body)
		e, ok := out["error"].(map[string]any)
		if !ok || e["code"].(float64) != tc.code {
			t.Errorf("%s %s: %v, want code %v", tc.path, tc.body, out, tc.code)
		}
	}
	fc.err, fc.res = nil, caller.Result{FnError: "trap: unreachable"}
	if _, out := post(t, h, "/fn/app1x/greet", `{"jsonrpc":"2.0"}`); out["error"].(map[string]any)["code"].(float64) != codeFnError {
		t.Errorf("function error: %v", out)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/fn/app1x/greet", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", rec.Code)
	}
}
