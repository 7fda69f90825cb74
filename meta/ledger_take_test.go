package meta

import (
	"sync"

	"github.com/stratos-net/stratos/traffic"
)

// Take and Restore are the tests' short hand for a period's Seal and a
// refused report's Unseal: each Take seals the next period.
var (
	sealedMu   sync.Mutex
	lastSealed = map[*ledger]uint64{}
)

func (l *ledger) Take(topN int) traffic.Report {
	sealedMu.Lock()
	lastSealed[l]++
	p := lastSealed[l]
	sealedMu.Unlock()
	r, err := l.Seal(p, topN, nil)
	if err != nil {
		return traffic.Report{}
	}
	return reportFromProto(r).Traffic()
}

func (l *ledger) Restore(r traffic.Report) {
	sealedMu.Lock()
	p := lastSealed[l]
	sealedMu.Unlock()
	l.Unseal(p, r)
}
