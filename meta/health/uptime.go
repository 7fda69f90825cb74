package health

import (
	"math"
	"time"
)

// uptime is a node's decaying average of "was alive", one sample per
// heartbeat interval since the node was first seen. The average is stored
// as of mark, the end of the last interval folded in; later intervals are
// folded in lazily, in closed form, so a node silent for a week costs no
// more than one silent for a second.
type uptime struct {
	avg  float64
	mark time.Time
}

// uptimeModel holds what every node's average shares.
type uptimeModel struct {
	interval time.Duration
	alive    time.Duration // a node is alive this long after a heartbeat
	keep     float64       // weight of the old average per interval
}

func newUptimeModel(cfg Config) uptimeModel {
	return uptimeModel{
		interval: cfg.HeartbeatInterval,
		alive:    cfg.SuspectAfter,
		keep:     math.Exp2(-float64(cfg.HeartbeatInterval) / float64(cfg.halfLife())),
	}
}

// advance folds in every whole interval that ends by now, given the node's
// last heartbeat. An interval counts as up when the node was alive (not
// yet Suspect) at its end, so heartbeats arriving a little late or a
// little early never count against a node.
func (m uptimeModel) advance(u uptime, lastSeen, now time.Time) uptime {
	n := int64(0)
	if now.After(u.mark) {
		n = int64(now.Sub(u.mark) / m.interval)
	}
	if n == 0 {
		return u
	}
	// Intervals 1..up end before lastSeen+alive; the rest end after it.
	up := int64(0)
	if d := lastSeen.Add(m.alive).Sub(u.mark); d > 0 {
		up = min(int64((d-1)/m.interval), n)
	}
	avg := 1 - (1-u.avg)*math.Pow(m.keep, float64(up))
	avg *= math.Pow(m.keep, float64(n-up))
	return uptime{avg: avg, mark: u.mark.Add(time.Duration(n) * m.interval)}
}
