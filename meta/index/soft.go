package index

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/stratos-net/stratos/kv"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/traffic"
	"github.com/stratos-net/stratos/x/sds/fee"
)

// What a single meta node once kept in memory and now lives in the log
// (issue 7, "nothing that decides correctness lives only in one process's
// memory"): the signed requests already carried out (the replay guard),
// the traffic open tasks may still cause (prepay reservations), and open
// download tasks with the holder each slice was assigned to. A new leader
// finds them exactly as the old one left them.
//
// Each of them lapses at a time carried by the record; the index forgets
// it once the clock of the commands it applies (Command.unix_nano, the
// leader's clock when it proposed) has passed that time, a bounded number
// of records per command, so every replica forgets the same records at
// the same log position.

// Errors of the replicated soft state.
var (
	// ErrReplayed: the signed request was carried out already.
	ErrReplayed = errors.New("request already received (a signed request is accepted once)")
	// ErrNoPrepay: the owner's prepay does not cover the task on top of
	// every other claim on it.
	ErrNoPrepay = errors.New("prepaid balance too low")
	// ErrTooManyRequests: the account has MaxGuardsPerAccount signed
	// requests still valid in the replay guard.
	ErrTooManyRequests = errors.New("too many requests from one account")
)

// MaxGuardsPerAccount bounds the signed requests of one account the
// replay guard holds at once (issue 8: "the replay guard bounded per
// account"), so one key filling the table cannot crowd out the others. A
// request is held for account.MaxSkew (5 minutes) after it was signed:
// the bound lets an account carry out about 1,700 signed requests a
// second, sustained, above the leader's token bucket (meta.DefaultRates).
const MaxGuardsPerAccount = 1 << 19

// maxGuards is MaxGuardsPerAccount; this package's tests lower it.
var maxGuards uint64 = MaxGuardsPerAccount

const (
	prefixGuard       = "g/"  // g/<account>\x00<hex digest>: until (8 bytes)
	prefixGuardCount  = "gn/" // gn/<account>: the account's records under g/ (8 bytes)
	prefixReservation = "x/"  // x/<owner>\x00<task id>: until (8 bytes), bytes (8 bytes)
	prefixDownload    = "d/"  // d/<task id>: DownloadTask
	prefixExpiry      = "e/"  // e/<until, 8 bytes big-endian><key>: empty; key lapses at until
	prefixReporting   = "k/"  // k/<user>: bytes sealed in reports the chain has not taken (8 bytes)
	keyDownloadSeq    = prefixCounter + "downloadseq"
	prefixDisputes    = prefixCounter + "disputes/" // c/disputes/<node>: the node's disputed claims
)

// expirePerCommand bounds the lapsed records one command forgets, so no
// command's cost depends on how many lapsed at once; each command forgets
// more than any command can add.
const expirePerCommand = 256

// maxDownloadSlices bounds the slices of one download task.
const maxDownloadSlices = 1 << 20

func guardKey(account string, digest []byte) []byte {
	return []byte(prefixGuard + account + string(sepOwner) + hex.EncodeToString(digest))
}

func guardCountKey(account string) string { return prefixGuardCount + account }

// guardAccount is the account of a g/ key.
func guardAccount(k []byte) string {
	a := k[len(prefixGuard):]
	if i := bytes.IndexByte(a, sepOwner); i >= 0 {
		a = a[:i]
	}
	return string(a)
}

func reservationKey(owner, task string) []byte {
	return []byte(prefixReservation + owner + string(sepOwner) + task)
}

func reservationPrefix(owner string) []byte {
	return []byte(prefixReservation + owner + string(sepOwner))
}

func downloadKey(id string) []byte { return []byte(prefixDownload + id) }

func reportingKey(user string) []byte { return []byte(prefixReporting + user) }

func expiryKey(until int64, key []byte) []byte {
	k := binary.BigEndian.AppendUint64([]byte(prefixExpiry), uint64(until))
	return append(k, key...)
}

func downloadID(seq uint64) string { return fmt.Sprintf("d%d", seq) }

// lapse makes the record at key lapse at until.
func (t *txn) lapse(until int64, key []byte) { t.setRaw(expiryKey(until, key), nil) }

// expire forgets the records whose time has passed by now. It reads the
// store directly, so it runs before anything else in its txn.
func (t *txn) expire(now int64) error {
	if now <= 0 {
		return nil
	}
	n := 0
	return t.ix.scan([]byte(prefixExpiry), func(k, _ []byte) error {
		if len(k) < len(prefixExpiry)+8 || n >= expirePerCommand {
			return errStop
		}
		if int64(binary.BigEndian.Uint64(k[len(prefixExpiry):])) > now {
			return errStop
		}
		n++
		key := bytes.Clone(k[len(prefixExpiry)+8:])
		if bytes.HasPrefix(key, []byte(prefixGuard)) {
			if err := t.uncountGuard(guardAccount(key)); err != nil {
				return err
			}
		}
		t.del(key)
		t.del(bytes.Clone(k))
		return nil
	})
}

// uncountGuard takes one record off an account's guard count.
func (t *txn) uncountGuard(account string) error {
	n, err := t.counter(guardCountKey(account))
	if err != nil || n == 0 { // records from before the count are not in it
		return err
	}
	if n == 1 {
		t.del([]byte(guardCountKey(account)))
		return nil
	}
	return t.addCounter(guardCountKey(account), -1)
}

// guard records a signed request, or refuses it if it was recorded before
// and is still valid. A request already too old to verify is not
// recorded: it could not be sent again anyway.
func (t *txn) guard(now int64, g *metav1.RequestGuard) error {
	if err := checkName("account", g.GetAccount()); err != nil {
		return fmt.Errorf("request guard: %w", err)
	}
	if len(g.GetDigest()) != 32 {
		return badCommand("request guard: digest of %d bytes", len(g.GetDigest()))
	}
	key := guardKey(g.GetAccount(), g.GetDigest())
	switch v, err := t.get(key, false); {
	case err == nil && len(v) == 8 && int64(binary.BigEndian.Uint64(v)) > now:
		return fmt.Errorf("%w: %s, %x", ErrReplayed, g.GetAccount(), g.GetDigest()[:8])
	case err != nil && !isNotFound(err):
		return err
	}
	if g.GetUntilUnixNano() <= now {
		return nil
	}
	held, err := t.counter(guardCountKey(g.GetAccount()))
	if err != nil {
		return err
	}
	if held >= maxGuards {
		return fmt.Errorf("%w: %s has %d signed requests still valid; slow down", ErrTooManyRequests, g.GetAccount(), held)
	}
	if err := t.addCounter(guardCountKey(g.GetAccount()), 1); err != nil {
		return err
	}
	t.setRaw(key, binary.BigEndian.AppendUint64(nil, uint64(g.GetUntilUnixNano())))
	t.lapse(g.GetUntilUnixNano(), key)
	return nil
}

// reserve checks that the owner's prepay covers r on top of every other
// claim on it and holds r's traffic for task until it ends or r lapses
// (DESIGN §7: the client's prepay is charged for the traffic it used, and
// storage fees are settled to the holders; x/sds charges at most the
// prepaid balance, so anything beyond it would be served or kept for
// free). The claims are the period's traffic in the ledger, the traffic of
// sealed reports the chain has not charged yet, the live reservations of
// open tasks, and one period's storage of everything the owner keeps.
func (t *txn) reserve(now int64, owner, task string, r *metav1.Reservation) error {
	if r == nil {
		return nil
	}
	if r.GetUntilUnixNano() <= now {
		return badCommand("reservation for %s: lapses at %d, before now %d", task, r.GetUntilUnixNano(), now)
	}
	if r.GetPrepaid() == 0 {
		return fmt.Errorf("%w for %s: nothing prepaid; prepay first, e.g. `stratos tx sds prepay 10000000ustos --from <your key>`", ErrNoPrepay, owner)
	}
	pending, err := t.pendingTraffic(now, owner)
	if err != nil {
		return err
	}
	if err := t.prepareStorage(); err != nil {
		return err
	}
	kept, err := t.counter(string(storedUserKey(owner)))
	if err != nil {
		return err
	}
	kept = traffic.AddBytes(kept, r.GetStored())
	total := fee.Traffic(traffic.AddBytes(pending, r.GetBytes()), r.GetTrafficPrice())
	total.Add(total, fee.Storage(kept, r.GetStoragePrice(), r.GetPeriodSeconds()))
	if prepaid := new(big.Int).SetUint64(r.GetPrepaid()); total.Cmp(prepaid) > 0 {
		short := fee.Saturate(new(big.Int).Sub(total, prepaid))
		return fmt.Errorf("%w for %s: %d ustos prepaid, but %d bytes of traffic not yet settled and %d more, and a period's storage of %d bytes, cost %s ustos (%d ustos/GiB of traffic, %d ustos/GiB per 30 days stored); prepay more (at least %d ustos), e.g. `stratos tx sds prepay %dustos --from <your key>`",
			ErrNoPrepay, owner, r.GetPrepaid(), pending, r.GetBytes(), kept, total, r.GetTrafficPrice(), r.GetStoragePrice(), short, short)
	}
	key := reservationKey(owner, task)
	v := binary.BigEndian.AppendUint64(nil, uint64(r.GetUntilUnixNano()))
	t.setRaw(key, binary.BigEndian.AppendUint64(v, r.GetBytes()))
	t.lapse(r.GetUntilUnixNano(), key)
	return nil
}

// pendingTraffic is the traffic that weighs on owner's prepay and is not
// yet charged: in the ledger, in sealed reports not settled, and reserved
// by live tasks.
func (t *txn) pendingTraffic(now int64, owner string) (uint64, error) {
	var sum uint64
	for _, k := range [][]byte{userTrafficKey(owner), reportingKey(owner)} {
		v, err := t.get(k, false)
		n, err := decodeCounter(string(k), v, err)
		if err != nil {
			return 0, err
		}
		sum = traffic.AddBytes(sum, n)
	}
	err := t.ix.scan(reservationPrefix(owner), func(_, v []byte) error {
		if len(v) == 16 && int64(binary.BigEndian.Uint64(v)) > now {
			sum = traffic.AddBytes(sum, binary.BigEndian.Uint64(v[8:]))
		}
		return nil
	})
	return sum, err
}

// releaseReservation ends a task's reservation: its traffic, if any, is in the ledger.
func (t *txn) releaseReservation(owner, task string) { t.del(reservationKey(owner, task)) }

// openDownload opens a download task: the holder assigned to each slice,
// the key its receipts are signed with, and the reservation of its traffic
// against the owner's prepay, taken in the same step as the check.
func (t *txn) openDownload(now int64, c *metav1.OpenDownloadCmd) (*metav1.CommandResult, error) {
	if err := checkName("owner", c.GetOwner()); err != nil {
		return nil, fmt.Errorf("open download: %w", err)
	}
	if c.GetExpiresUnixNano() <= now {
		return nil, badCommand("open download: expires at %d, before now %d", c.GetExpiresUnixNano(), now)
	}
	if len(c.GetSlices()) > maxDownloadSlices {
		return nil, badCommand("open download: %d slices", len(c.GetSlices()))
	}
	if len(c.GetReceiptKey()) != receiptKeySize || c.GetWindow() == 0 {
		return nil, badCommand("open download: receipt key of %d bytes, window %d", len(c.GetReceiptKey()), c.GetWindow())
	}
	seen := make(map[string]bool, len(c.GetSlices()))
	for i, s := range c.GetSlices() {
		if err := checkName("slice ID", s.GetSliceId()); err != nil {
			return nil, fmt.Errorf("open download: slice %d: %w", i, err)
		}
		if err := checkName("node ID", s.GetNodeId()); err != nil {
			return nil, fmt.Errorf("open download: slice %d: %w", i, err)
		}
		if s.GetCountedBytes() != 0 || s.GetSize() == 0 || s.GetUncredited() {
			return nil, badCommand("open download: slice %s: counted %d, size %d", s.GetSliceId(), s.GetCountedBytes(), s.GetSize())
		}
		seen[s.GetSliceId()] = true // a slice a file holds twice is assigned once
	}
	seq, err := t.counter(keyDownloadSeq)
	if err != nil {
		return nil, fmt.Errorf("open download: %w", err)
	}
	seq++
	task := &metav1.DownloadTask{Id: downloadID(seq), Owner: c.GetOwner(), ExpiresUnixNano: c.GetExpiresUnixNano(),
		ReceiptKey: c.GetReceiptKey(), Window: c.GetWindow()}
	for _, s := range c.GetSlices() {
		if seen[s.GetSliceId()] {
			delete(seen, s.GetSliceId())
			task.Slices = append(task.Slices, proto.Clone(s).(*metav1.DownloadSlice))
		}
	}
	if err := t.reserve(now, c.GetOwner(), task.Id, c.GetReservation()); err != nil {
		return nil, fmt.Errorf("open download: %w", err)
	}
	if err := t.set(downloadKey(task.Id), task); err != nil {
		return nil, fmt.Errorf("open download: %w", err)
	}
	t.lapse(task.ExpiresUnixNano, downloadKey(task.Id))
	if err := t.addCounter(keyDownloadSeq, 1); err != nil {
		return nil, fmt.Errorf("open download: %w", err)
	}
	return &metav1.CommandResult{Download: task}, nil
}

// receiptKeySize is an ed25519 public key's.
const receiptKeySize = 32

// maxAssignments bounds the holders one slice of a download may be
// assigned to: the first and every reassignment.
const maxAssignments = 8

// liveDownload is the owner's open download task id, or an error.
func (t *txn) liveDownload(now int64, id, owner, op string) (*metav1.DownloadTask, error) {
	task := new(metav1.DownloadTask)
	found, err := t.getMsg(downloadKey(id), task, false)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", op, clip(id), err)
	case !found || task.GetOwner() != owner:
		return nil, fmt.Errorf("%s %s of %s: %w", op, clip(id), clip(owner), ErrNotFound)
	case now > task.GetExpiresUnixNano():
		return nil, fmt.Errorf("%s %s: expired at %d, now %d: %w", op, task.GetId(), task.GetExpiresUnixNano(), now, ErrTaskExpired)
	}
	return task, nil
}

// reassign moves a slice of a download from the holder it is assigned to
// (which failed the downloader) to another; a holder the slice was ever
// assigned to in this task is refused, so the downloader cannot go round
// the holders until it reaches the one it wants.
func (t *txn) reassign(now int64, c *metav1.ReassignCmd) (*metav1.CommandResult, error) {
	task, err := t.liveDownload(now, c.GetTaskId(), c.GetOwner(), "reassign")
	if err != nil {
		return nil, err
	}
	if err := checkName("node ID", c.GetNodeId()); err != nil {
		return nil, fmt.Errorf("reassign: %w", err)
	}
	var current *metav1.DownloadSlice
	tried := 0
	for _, s := range task.GetSlices() {
		if s.GetSliceId() != c.GetSliceId() {
			continue
		}
		current, tried = s, tried+1
		if s.GetNodeId() == c.GetNodeId() {
			return nil, badCommand("reassign %s: slice %s was assigned to %s already", task.GetId(), clip(c.GetSliceId()), clip(c.GetNodeId()))
		}
	}
	switch {
	case current == nil:
		return nil, fmt.Errorf("reassign %s: slice %s: %w", task.GetId(), clip(c.GetSliceId()), ErrNotFound)
	case current.GetNodeId() != c.GetFailedNode():
		return nil, badCommand("reassign %s: slice %s is assigned to %s, not %s", task.GetId(), current.GetSliceId(), current.GetNodeId(), clip(c.GetFailedNode()))
	case tried >= maxAssignments:
		return nil, badCommand("reassign %s: slice %s has had %d holders", task.GetId(), current.GetSliceId(), tried)
	}
	next := &metav1.DownloadSlice{SliceId: current.GetSliceId(), NodeId: c.GetNodeId(), Size: current.GetSize(), Uncredited: c.GetUncredited()}
	task.Slices = append(task.Slices, next)
	if err := t.set(downloadKey(task.GetId()), task); err != nil {
		return nil, fmt.Errorf("reassign: %w", err)
	}
	return &metav1.CommandResult{Download: task}, nil
}

// countDownload counts the traffic a download's receipts proved (DESIGN
// §7). Receipts are cumulative: each (slice, holder) assignment counts up
// to the most its downloader signed for, never past the ticketed bytes,
// whoever brought the receipt and however often. The owner is charged for
// every byte counted; the holder is credited unless the assignment is
// uncredited. Counted bytes leave the reservation; a finished download
// gives back the rest, and a task whose slices are all counted in full
// ends. Each disputed node loses standing.
func (t *txn) countDownload(now int64, c *metav1.CountDownloadCmd) (*metav1.CommandResult, error) {
	task, err := t.liveDownload(now, c.GetTaskId(), c.GetOwner(), "count download")
	if err != nil {
		return nil, err
	}
	type assignment struct{ slice, node string }
	assigned := make(map[assignment]*metav1.DownloadSlice, len(task.GetSlices()))
	for _, s := range task.GetSlices() {
		assigned[assignment{s.GetSliceId(), s.GetNodeId()}] = s
	}
	var counted uint64
	for _, s := range c.GetServed() {
		a := assigned[assignment{s.GetSliceId(), s.GetNodeId()}]
		if a == nil || min(s.GetSize(), a.GetSize()) <= a.GetCountedBytes() {
			continue
		}
		delta := min(s.GetSize(), a.GetSize()) - a.GetCountedBytes()
		a.CountedBytes += delta
		if !a.GetUncredited() {
			if err := t.addVolume(nodeTrafficKey(a.GetNodeId()), delta); err != nil {
				return nil, fmt.Errorf("count download: %w", err)
			}
		}
		if err := t.addVolume(userTrafficKey(task.GetOwner()), delta); err != nil {
			return nil, fmt.Errorf("count download: %w", err)
		}
		counted = traffic.AddBytes(counted, delta)
	}
	for _, node := range c.GetDisputed() {
		if err := checkName("node ID", node); err != nil {
			return nil, fmt.Errorf("count download: disputed: %w", err)
		}
		if err := t.addCounter(disputesKey(node), 1); err != nil {
			return nil, fmt.Errorf("count download: %w", err)
		}
	}
	full := make(map[string]bool, len(task.GetSlices()))
	for _, s := range task.GetSlices() {
		full[s.GetSliceId()] = full[s.GetSliceId()] || s.GetCountedBytes() == s.GetSize()
	}
	done := true
	for _, f := range full {
		done = done && f
	}
	switch {
	case done:
		t.releaseReservation(task.GetOwner(), task.GetId())
		t.del(downloadKey(task.GetId()))
		return &metav1.CommandResult{CountedBytes: counted}, nil
	case c.GetFinished():
		t.releaseReservation(task.GetOwner(), task.GetId())
	default:
		if err := t.shrinkReservation(task.GetOwner(), task.GetId(), counted); err != nil {
			return nil, fmt.Errorf("count download: %w", err)
		}
	}
	if err := t.set(downloadKey(task.GetId()), task); err != nil {
		return nil, fmt.Errorf("count download: %w", err)
	}
	return &metav1.CommandResult{CountedBytes: counted}, nil
}

// shrinkReservation takes n counted bytes off a task's reservation: they
// weigh on the prepay as traffic in the ledger now.
func (t *txn) shrinkReservation(owner, task string, n uint64) error {
	if n == 0 {
		return nil
	}
	key := reservationKey(owner, task)
	v, err := t.get(key, false)
	if errors.Is(err, kv.ErrNotFound) || (err == nil && len(v) != 16) {
		return nil // none: released already, or never taken
	}
	if err != nil {
		return err
	}
	left := binary.BigEndian.Uint64(v[8:])
	left -= min(left, n)
	t.setRaw(key, binary.BigEndian.AppendUint64(slices.Clone(v[:8]), left))
	return nil
}

func disputesKey(node string) string { return prefixDisputes + node }

// Disputes is how often node claimed more traffic than its downloaders
// signed for: its standing.
func (ix *Index) Disputes(node string) (uint64, error) { return ix.counter(disputesKey(node)) }

// Download is an open download task, or ErrNotFound.
func (ix *Index) Download(id string) (*metav1.DownloadTask, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	task := new(metav1.DownloadTask)
	if err := ix.getMsg(downloadKey(id), task); err != nil {
		return nil, notFound("download task", id, err)
	}
	return task, nil
}

// Reserved is the traffic owner's live reservations hold at now.
func (ix *Index) Reserved(owner string, now int64) (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var sum uint64
	err := ix.scan(reservationPrefix(owner), func(_, v []byte) error {
		if len(v) == 16 && int64(binary.BigEndian.Uint64(v)) > now {
			sum = traffic.AddBytes(sum, binary.BigEndian.Uint64(v[8:]))
		}
		return nil
	})
	return sum, err
}

// Reporting is the traffic of owner's in sealed reports the chain has not
// taken yet.
func (ix *Index) Reporting(owner string) (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.trafficOf(reportingKey(owner))
}

// addReporting counts the users of a new seal as reported, not settled.
func (t *txn) addReporting(users []*metav1.TrafficVolume) error {
	for _, v := range users {
		if err := t.addVolume(reportingKey(v.GetId()), v.GetBytes()); err != nil {
			return err
		}
	}
	return nil
}

// subVolume takes n bytes off a counter, deleting it at zero.
func (t *txn) subVolume(key []byte, n uint64) error {
	v, err := t.get(key, false)
	cur, err := decodeCounter(string(key), v, err)
	if err != nil {
		return err
	}
	if cur <= n {
		t.del(key)
		return nil
	}
	t.setRaw(key, binary.BigEndian.AppendUint64(nil, cur-n))
	return nil
}

// unreport ends the seal at key, if it is not settled: its users' traffic
// no longer waits for the chain (settled, put back into the ledger, or
// forgotten).
func (t *txn) unreport(key []byte, settle bool) error {
	r := new(metav1.TrafficReport)
	found, err := t.getMsg(key, r, false)
	if err != nil || !found || r.GetSettled() {
		return err
	}
	for _, v := range r.GetUsers() {
		if err := t.subVolume(reportingKey(v.GetId()), v.GetBytes()); err != nil {
			return err
		}
	}
	if settle {
		r.Settled = true
		return t.set(key, r)
	}
	return nil
}

// settleReport records that the chain took a period's sealed report.
func (t *txn) settleReport(c *metav1.SettleReportCmd) (*metav1.CommandResult, error) {
	if err := t.unreport(sealKey(c.GetPeriod()), true); err != nil {
		return nil, fmt.Errorf("settle report %d: %w", c.GetPeriod(), err)
	}
	return &metav1.CommandResult{}, nil
}

// isSoftKey reports whether k belongs to the replicated soft state.
func isSoftKey(k []byte) bool {
	for _, p := range []string{prefixGuard, prefixGuardCount, prefixReservation, prefixDownload, prefixExpiry, prefixReporting} {
		if bytes.HasPrefix(k, []byte(p)) {
			return true
		}
	}
	return string(k) == keyDownloadSeq
}

// checkSoftRecord checks a record of the replicated soft state in a
// snapshot.
func checkSoftRecord(k, v []byte) error {
	s := string(k)
	switch {
	case strings.HasPrefix(s, prefixGuard) && len(v) == 8, strings.HasPrefix(s, prefixGuardCount) && len(v) == 8,
		strings.HasPrefix(s, prefixReservation) && len(v) == 16:
		return nil
	case strings.HasPrefix(s, prefixDownload):
		return proto.Unmarshal(v, new(metav1.DownloadTask))
	case strings.HasPrefix(s, prefixExpiry) && len(k) > len(prefixExpiry)+8 && len(v) == 0:
		return nil
	case strings.HasPrefix(s, prefixReporting):
		return checkVolumeRecord(k[len(prefixReporting):], v)
	case s == keyDownloadSeq && len(v) == 8:
		return nil
	}
	return fmt.Errorf("key %q: value of %d bytes", clip(s), len(v))
}

// countUpload counts a committed upload as traffic: each holder received
// each of its slices, proved by its receipt inside the owner's request
// (DESIGN §7: traffic both sides signed for).
func (t *txn) countUpload(f *metav1.FileEntry, replicas []*metav1.ReplicaSet) error {
	for i, ref := range f.GetSlices() {
		if ref.GetSize() == 0 {
			continue
		}
		for _, node := range replicas[i].GetNodeIds() {
			if err := t.addVolume(nodeTrafficKey(node), ref.GetSize()); err != nil {
				return err
			}
			if err := t.addVolume(userTrafficKey(f.GetOwner()), ref.GetSize()); err != nil {
				return err
			}
		}
	}
	return nil
}
