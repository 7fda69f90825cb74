package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/traffic"
)

// The traffic ledger of the current period (DESIGN §5.1, §7): audited bytes
// per resource node (v/<node id>) and per user (u/<user>), 8 bytes
// big-endian, never zero (a cleared counter is deleted). The counters add
// up saturating at 2^64-1: a command that counted real traffic must not
// fail, or the leader would retry its batch forever.

// addTraffic counts a batch of audited traffic.
func (t *txn) addTraffic(c *metav1.AddTrafficCmd) (*metav1.CommandResult, error) {
	if len(c.GetEntries()) == 0 {
		return nil, badCommand("add traffic: no entries")
	}
	for i, e := range c.GetEntries() {
		if err := checkName("node ID", e.GetNodeId()); err != nil {
			return nil, fmt.Errorf("add traffic: entry %d: %w", i, err)
		}
		if err := checkName("user", e.GetUser()); err != nil {
			return nil, fmt.Errorf("add traffic: entry %d: %w", i, err)
		}
		if e.GetBytes() == 0 {
			return nil, badCommand("add traffic: entry %d (%s, %s): zero bytes", i, e.GetNodeId(), e.GetUser())
		}
		if err := t.addVolume(nodeTrafficKey(e.GetNodeId()), e.GetBytes()); err != nil {
			return nil, fmt.Errorf("add traffic: %w", err)
		}
		if err := t.addVolume(userTrafficKey(e.GetUser()), e.GetBytes()); err != nil {
			return nil, fmt.Errorf("add traffic: %w", err)
		}
	}
	return &metav1.CommandResult{}, nil
}

// takeTraffic closes a period: it reports the top N nodes and every user
// and clears their counters; the other nodes keep theirs for the next
// period (whitepaper §3.2.1). It reads the store directly, so it must be
// the first thing its txn does. With seal, the report also carries the
// storage here and is kept as the period's sealed report (see
// TakeTrafficCmd).
func (t *txn) takeTraffic(c *metav1.TakeTrafficCmd) (*metav1.CommandResult, error) {
	if c.GetTopN() == 0 {
		return nil, badCommand("take traffic: top N is 0")
	}
	if c.GetSeal() {
		var sealed metav1.TrafficReport
		switch found, err := t.getMsg(sealKey(c.GetPeriod()), &sealed, false); {
		case err != nil:
			return nil, fmt.Errorf("take traffic: %w", err)
		case found:
			return &metav1.CommandResult{Traffic: &sealed}, nil
		}
	}
	inactive := make(map[string]bool, len(c.GetInactive()))
	for _, id := range c.GetInactive() {
		inactive[id] = true
	}
	nodes, err := t.ix.volumes(prefixTrafficNode)
	if err != nil {
		return nil, fmt.Errorf("take traffic: %w", err)
	}
	users, err := t.ix.volumes(prefixTrafficUser)
	if err != nil {
		return nil, fmt.Errorf("take traffic: %w", err)
	}
	active := nodes[:0:0]
	for _, v := range nodes {
		if inactive[v.ID] {
			t.del(nodeTrafficKey(v.ID)) // a node no longer active earns nothing
			continue
		}
		active = append(active, v)
	}
	top := traffic.Top(active, int(min(c.GetTopN(), math.MaxInt32)))
	for _, v := range top {
		t.del(nodeTrafficKey(v.ID))
	}
	for _, v := range users {
		t.del(userTrafficKey(v.ID))
	}
	r := &metav1.TrafficReport{Nodes: volumesProto(top), Users: volumesProto(users)}
	if c.GetSeal() {
		if err := t.seal(c, inactive, r); err != nil {
			return nil, fmt.Errorf("take traffic: %w", err)
		}
	}
	return &metav1.CommandResult{Traffic: r}, nil
}

// keptSeals is how many periods' sealed reports the index keeps: enough
// for a new leader to find the report the old one sealed and did not get
// on chain.
const keptSeals = 16

// seal adds the storage at this position to r (DESIGN §7: storage fees
// follow the replicas held at the period's end) and the index root of the
// same state (issue 7: the anchor is taken at the report's log position,
// so every replica computes the same root; root.go), and keeps r as the
// period's report, dropping seals keptSeals periods old.
func (t *txn) seal(c *metav1.TakeTrafficCmd, inactive map[string]bool, r *metav1.TrafficReport) error {
	held, err := t.ix.volumes(prefixHeldNode)
	if err != nil {
		return err
	}
	stored, err := t.ix.volumes(prefixStoredUser)
	if err != nil {
		return err
	}
	kept := held[:0:0]
	for _, v := range held {
		if !inactive[v.ID] {
			kept = append(kept, v)
		}
	}
	// x/pot takes at most StoredNodesPerTopN × N stored nodes, and no stored
	// user without a stored node to pay.
	kept = traffic.Top(kept, int(min(uint64(c.GetTopN())*traffic.StoredNodesPerTopN, math.MaxInt32)))
	if len(kept) > 0 {
		r.StoredNodes, r.StoredUsers = volumesProto(kept), volumesProto(stored)
	}
	r.IndexRoot = t.sealRoot()
	if err := t.set(sealKey(c.GetPeriod()), r); err != nil {
		return err
	}
	if err := t.addReporting(r.GetUsers()); err != nil {
		return err
	}
	if p := c.GetPeriod(); p >= keptSeals {
		return t.ix.scan([]byte(prefixSeal), func(k, _ []byte) error {
			if binary.BigEndian.Uint64(k[len(prefixSeal):]) > p-keptSeals {
				return errStop
			}
			k = bytes.Clone(k)
			if err := t.unreport(k, false); err != nil { // forgotten: it will not be charged
				return err
			}
			t.del(k)
			return nil
		})
	}
	return nil
}

// ReportedNodes lists the nodes a sealed report would name now: those with
// traffic or holding replicas, sorted, each once.
func (ix *Index) ReportedNodes() ([]string, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	seen := map[string]bool{}
	for _, p := range []string{prefixTrafficNode, prefixHeldNode} {
		vols, err := ix.volumes(p)
		if err != nil {
			return nil, err
		}
		for _, v := range vols {
			seen[v.ID] = true
		}
	}
	return sortedKeys(seen), nil
}

// SealedReport is the report sealed for a period, or ErrNotFound.
func (ix *Index) SealedReport(period uint64) (*metav1.TrafficReport, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var r metav1.TrafficReport
	if err := ix.getMsg(sealKey(period), &r); err != nil {
		return nil, notFound("sealed report of period", fmt.Sprint(period), err)
	}
	return &r, nil
}

// restoreTraffic adds a report back, as if its traffic had never been taken.
func (t *txn) restoreTraffic(c *metav1.RestoreTrafficCmd) (*metav1.CommandResult, error) {
	r := c.GetReport()
	if len(r.GetNodes()) == 0 && len(r.GetUsers()) == 0 && !c.GetUnseal() {
		return nil, badCommand("restore traffic: empty report")
	}
	for _, part := range []struct {
		what   string
		prefix string
		vols   []*metav1.TrafficVolume
	}{{"node ID", prefixTrafficNode, r.GetNodes()}, {"user", prefixTrafficUser, r.GetUsers()}} {
		for _, v := range part.vols {
			if err := checkName(part.what, v.GetId()); err != nil {
				return nil, fmt.Errorf("restore traffic: %w", err)
			}
			if v.GetBytes() == 0 {
				return nil, badCommand("restore traffic: %s %s: zero bytes", part.what, v.GetId())
			}
			if err := t.addVolume([]byte(part.prefix+v.GetId()), v.GetBytes()); err != nil {
				return nil, fmt.Errorf("restore traffic: %w", err)
			}
		}
	}
	if c.GetUnseal() {
		if err := t.unreport(sealKey(c.GetPeriod()), false); err != nil {
			return nil, fmt.Errorf("restore traffic: %w", err)
		}
		t.del(sealKey(c.GetPeriod()))
	}
	return &metav1.CommandResult{}, nil
}

// addVolume adds n bytes to a traffic counter, saturating.
func (t *txn) addVolume(key []byte, n uint64) error {
	v, err := t.get(key, false)
	cur, err := decodeCounter(string(key), v, err)
	if err != nil {
		return err
	}
	t.setRaw(key, binary.BigEndian.AppendUint64(nil, traffic.AddBytes(cur, n)))
	return nil
}

// volumes returns every traffic counter under prefix, in ID order.
func (ix *Index) volumes(prefix string) ([]traffic.Volume, error) {
	var out []traffic.Volume
	err := ix.scan([]byte(prefix), func(k, v []byte) error {
		n, err := decodeCounter(string(k), v, nil)
		if err != nil {
			return err
		}
		out = append(out, traffic.Volume{ID: string(k[len(prefix):]), Bytes: n})
		return nil
	})
	return out, err
}

func volumesProto(vols []traffic.Volume) []*metav1.TrafficVolume {
	out := make([]*metav1.TrafficVolume, len(vols))
	for i, v := range vols {
		out[i] = &metav1.TrafficVolume{Id: v.ID, Bytes: v.Bytes}
	}
	return out
}

// NodeTraffic returns a resource node's audited bytes in the current
// ledger period; 0 if it has none.
func (ix *Index) NodeTraffic(node string) (uint64, error) {
	return ix.trafficOf(nodeTrafficKey(node))
}

// UserTraffic returns the bytes a user was served in the current ledger
// period and not yet reported; 0 if none. Prepay checks charge it against
// the user's balance (DESIGN §7).
func (ix *Index) UserTraffic(user string) (uint64, error) {
	return ix.trafficOf(userTrafficKey(user))
}

func (ix *Index) trafficOf(key []byte) (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n, err := ix.counter(string(key))
	if err != nil {
		return 0, fmt.Errorf("traffic: %w", err)
	}
	return n, nil
}
