package chain

import (
	"io"
	"os"

	"github.com/rs/zerolog"
)

const levelInfo = zerolog.InfoLevel

func newStderr() io.Writer { return os.Stderr }
