package chain_test

import (
	dbm "github.com/cosmos/cosmos-db"
	"github.com/rs/zerolog"

	"cosmossdk.io/log/v2"

	"github.com/stratos-net/stratos/app"
)

const levelError = zerolog.ErrorLevel

type noOpts struct{}

func (noOpts) Get(string) any { return nil }

func newTempApp() *app.StratosApp {
	return app.NewStratosApp(log.NewNopLogger(), dbm.NewMemDB(), nil, false, noOpts{})
}
