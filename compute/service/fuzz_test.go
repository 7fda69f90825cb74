package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stratos-net/stratos/compute/service"
	"github.com/stratos-net/stratos/identity"
)

// FuzzServeHTTP: whatever bytes a hostile caller posts, the node answers a
// JSON-RPC response and keeps no module it was not meant to.
func FuzzServeHTTP(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"fn_call","params":{"app":"app1test","function":"greet","seed":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`,
		`{"jsonrpc":"2.0","id":"x","method":"fn_load","params":{"app":"app1test","module":"AGFzbQEAAAA="}}`,
		`{"jsonrpc":"1.0","method":"fn_call"}`, `[]`, `{"params":7}`, ``,
	} {
		f.Add([]byte(s))
	}
	ctx := context.Background()
	key, err := identity.Generate(nil)
	if err != nil {
		f.Fatal(err)
	}
	c := &chain{app: service.App{CodeHash: "00", Active: true, Nodes: []string{key.ID()}}}
	cfg := service.DefaultConfig()
	cfg.Dir, cfg.Apps, cfg.Key = f.TempDir(), c, key
	s, err := service.New(ctx, cfg)
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close(ctx)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		var resp service.Response
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.JSONRPC != "2.0" {
			t.Fatalf("not a JSON-RPC response: %q", rec.Body.Bytes())
		}
		if resp.Error == nil && resp.Result == nil {
			t.Fatalf("neither result nor error: %q", rec.Body.Bytes())
		}
	})
}
