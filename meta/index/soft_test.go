package index

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/x/sds/fee"
)

func guarded(cmd *metav1.Command, account, sig string, until int64) *metav1.Command {
	d := sha256.Sum256([]byte(sig))
	cmd.Guard = &metav1.RequestGuard{Account: account, Digest: d[:], UntilUnixNano: until}
	return cmd
}

// Issue 7: the replay guard is replicated state. A signed request carried
// out once is refused again, on this replica and on every other, until its
// signature is too old to verify anyway; then the index forgets it.
func TestGuardRefusesAReplay(t *testing.T) {
	ix := newIndex(t, nil)
	mustApply(t, ix, guarded(deleteCmdOK(t, ix, 10), "alice", "sig1", 1000))
	if _, err := ix.Apply(guarded(uploadCmd(20, "alice", "/b", false), "alice", "sig1", 1000)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replayed request: %v, want ErrReplayed", err)
	}
	// Nothing of the refused command was written.
	if _, err := ix.File("alice", "/b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused command left a file behind: %v", err)
	}
	mustApply(t, ix, guarded(uploadCmd(30, "alice", "/c", false), "alice", "sig2", 1000))
	// Another account's identical digest is another request.
	mustApply(t, ix, guarded(uploadCmd(40, "bob", "/c", false), "bob", "sig1", 1000))
	// Once past its time, the record is forgotten.
	mustApply(t, ix, uploadCmd(2000, "carol", "/x", false))
	if n := countPrefix(t, ix, prefixGuard); n != 0 {
		t.Fatalf("%d guard records after they lapsed", n)
	}
	if n := countPrefix(t, ix, prefixExpiry); n != 0 {
		t.Fatalf("%d expiry records after they lapsed", n)
	}
}

// deleteCmdOK creates a file for alice and returns a command deleting it.
func deleteCmdOK(t *testing.T, ix *Index, now int64) *metav1.Command {
	put(t, ix, now, content("alice", "/a", "aaaa"), "n1")
	return deleteCmd(now+1, "alice", "/a")
}

func countPrefix(t *testing.T, ix *Index, prefix string) int {
	t.Helper()
	n := 0
	if err := ix.scan([]byte(prefix), func(_, _ []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// reservation of bytes of traffic against prepaid ustos at 1 ustos per
// byte... in GiB: price GiB makes a byte cost one ustos.
func reservation(bytes, prepaid uint64, until int64) *metav1.Reservation {
	return &metav1.Reservation{Bytes: bytes, Prepaid: prepaid, TrafficPrice: fee.GiB, UntilUnixNano: until}
}

func reservedUpload(now int64, owner, path string, r *metav1.Reservation) *metav1.Command {
	cmd := uploadCmd(now, owner, path, false)
	cmd.GetCreateTask().Reservation = r
	cmd.GetCreateTask().TtlNanos = 1000
	return cmd
}

// Issue 7: "The prepay check and its reservation become one atomic step
// (today parallel requests can both pass the check and overspend)." Two
// uploads each within the prepay, together beyond it: the log orders them,
// and the second is refused.
func TestReservationIsCheckedAndTakenAtOnce(t *testing.T) {
	ix := newIndex(t, nil)
	first := mustApply(t, ix, reservedUpload(10, "alice", "/a", reservation(60, 100, 500)))
	if _, err := ix.Apply(reservedUpload(11, "alice", "/b", reservation(60, 100, 500))); !errors.Is(err, ErrNoPrepay) {
		t.Fatalf("second upload beyond the prepay: %v, want ErrNoPrepay", err)
	}
	if n, _ := ix.Reserved("alice", 12); n != 60 {
		t.Fatalf("reserved %d, want 60", n)
	}
	// Ending the first task frees its reservation.
	mustApply(t, ix, endCmd(12, first.GetTask().GetId()))
	mustApply(t, ix, reservedUpload(13, "alice", "/b", reservation(60, 100, 500)))
	// Traffic in the ledger counts against the prepay too.
	mustApply(t, ix, addTrafficCmd(entry("n1", "alice", 30)))
	if _, err := ix.Apply(reservedUpload(14, "alice", "/c", reservation(20, 100, 500))); !errors.Is(err, ErrNoPrepay) {
		t.Fatalf("60 reserved + 30 served + 20 against 100: %v, want ErrNoPrepay", err)
	}
	// A reservation that lapsed no longer counts.
	mustApply(t, ix, reservedUpload(600, "alice", "/c", reservation(60, 100, 900)))
	// Nothing prepaid says so.
	if _, err := ix.Apply(reservedUpload(601, "bob", "/a", reservation(1, 0, 900))); !errors.Is(err, ErrNoPrepay) {
		t.Fatalf("nothing prepaid: %v", err)
	}
}

// Storage a user keeps weighs on the prepay for one period ahead.
func TestReservationCountsStorage(t *testing.T) {
	ix := newIndex(t, nil)
	put(t, ix, 1, content("alice", "/f", "0123456789"), "n1", "n2") // 20 bytes kept
	r := &metav1.Reservation{Stored: 10, Prepaid: 29, StoragePrice: fee.GiB, PeriodSeconds: fee.StoragePeriodSeconds, UntilUnixNano: 100}
	if _, err := ix.Apply(reservedUpload(2, "alice", "/g", r)); !errors.Is(err, ErrNoPrepay) {
		t.Fatalf("30 bytes kept against 29: %v", err)
	}
	r.Prepaid = 30
	mustApply(t, ix, reservedUpload(3, "alice", "/g", r))
}

// DESIGN §7: a sealed report's users' traffic still weighs on their prepay
// until the chain takes it (SettleReportCmd); a report the chain refused
// puts it back in the ledger.
func TestSealedTrafficWeighsUntilSettled(t *testing.T) {
	ix := newIndex(t, nil)
	mustApply(t, ix, addTrafficCmd(entry("n1", "alice", 70)))
	mustApply(t, ix, sealCmd(1, 10))
	if n, _ := ix.Reporting("alice"); n != 70 {
		t.Fatalf("reporting %d, want 70", n)
	}
	if _, err := ix.Apply(reservedUpload(5, "alice", "/a", reservation(40, 100, 500))); !errors.Is(err, ErrNoPrepay) {
		t.Fatalf("sealed traffic not counted: %v", err)
	}
	settle := &metav1.Command{Op: &metav1.Command_SettleReport{SettleReport: &metav1.SettleReportCmd{Period: 1}}}
	mustApply(t, ix, settle)
	mustApply(t, ix, settle) // again: nothing changes
	if n, _ := ix.Reporting("alice"); n != 0 {
		t.Fatalf("reporting %d after settling", n)
	}
	mustApply(t, ix, reservedUpload(6, "alice", "/a", reservation(40, 100, 500)))

	// A refused report: its traffic goes back to the ledger.
	mustApply(t, ix, addTrafficCmd(entry("n1", "bob", 9)))
	r := mustApply(t, ix, sealCmd(2, 10)).GetTraffic()
	mustApply(t, ix, &metav1.Command{Op: &metav1.Command_RestoreTraffic{RestoreTraffic: &metav1.RestoreTrafficCmd{Report: r, Period: 2, Unseal: true}}})
	rep, _ := ix.Reporting("bob")
	led, _ := ix.UserTraffic("bob")
	if rep != 0 || led != 9 {
		t.Fatalf("after unseal: reporting %d, ledger %d; want 0, 9", rep, led)
	}
}

func openDownload(now, expires int64, owner string, r *metav1.Reservation, slices ...*metav1.DownloadSlice) *metav1.Command {
	return &metav1.Command{UnixNano: now, Op: &metav1.Command_OpenDownload{OpenDownload: &metav1.OpenDownloadCmd{
		Owner: owner, Slices: slices, ExpiresUnixNano: expires, Reservation: r, ReceiptKey: make([]byte, receiptKeySize), Window: 1 << 20}}}
}

func countDownload(now int64, task, owner string, served ...*metav1.DownloadSlice) *metav1.Command {
	return &metav1.Command{UnixNano: now, Op: &metav1.Command_CountDownload{CountDownload: &metav1.CountDownloadCmd{
		TaskId: task, Owner: owner, Served: served}}}
}

func ds(slice, node string, size uint64) *metav1.DownloadSlice {
	return &metav1.DownloadSlice{SliceId: slice, NodeId: node, Size: size}
}

// Whitepaper §3.2.2 condition 3 and DESIGN §7: a download counts only for
// the holder each slice was assigned to, up to the most its downloader
// signed for (receipts are cumulative, so a receipt brought twice, by the
// client and by the node, counts once), never past the slice's size; the
// counted bytes leave the reservation; the task is replicated, so a report
// reaching a new leader counts.
func TestDownloadCountsOnlyWhatWasAssigned(t *testing.T) {
	ix := newIndex(t, nil)
	res := mustApply(t, ix, openDownload(10, 100, "alice", reservation(30, 100, 100), ds("s1", "n1", 10), ds("s2", "n2", 20)))
	id := res.GetDownload().GetId()
	if n, _ := ix.Reserved("alice", 11); n != 30 {
		t.Fatalf("reserved %d, want 30", n)
	}
	got := mustApply(t, ix, countDownload(20, id, "alice",
		ds("s1", "n1", 10), // counts
		ds("s1", "n1", 10), // the same receipt again: no
		ds("s2", "n3", 20), // not the assigned holder: no
		ds("s3", "n1", 5),  // not in the task: no
	)).GetCountedBytes()
	if got != 10 {
		t.Fatalf("counted %d, want 10", got)
	}
	if n, _ := ix.Reserved("alice", 21); n != 20 {
		t.Fatalf("reservation after 10 of 30 bytes counted: %d, want 20", n)
	}
	if got := mustApply(t, ix, countDownload(21, id, "alice", ds("s2", "n2", 15))).GetCountedBytes(); got != 15 {
		t.Fatalf("a first receipt for 15 bytes counted %d", got)
	}
	if got := mustApply(t, ix, countDownload(21, id, "alice", ds("s2", "n2", 12))).GetCountedBytes(); got != 0 {
		t.Fatalf("an older receipt counted %d", got)
	}
	if _, err := ix.Apply(countDownload(22, id, "bob", ds("s2", "n2", 20))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another owner's report: %v", err)
	}
	if got := mustApply(t, ix, countDownload(23, id, "alice", ds("s2", "n2", 21))).GetCountedBytes(); got != 5 {
		t.Fatalf("counted %d, want the 5 left of the slice's 20 (never more than its size)", got)
	}
	// Every slice counted: the task is done.
	if _, err := ix.Download(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("finished download still open: %v", err)
	}
	if n, _ := ix.Reserved("alice", 24); n != 0 {
		t.Fatalf("reservation kept after the download was counted: %d", n)
	}
	if n, _ := ix.UserTraffic("alice"); n != 30 {
		t.Fatalf("alice's traffic %d, want 30", n)
	}
	if n, _ := ix.NodeTraffic("n2"); n != 20 {
		t.Fatalf("n2's traffic %d, want 20", n)
	}
}

// A reassigned slice counts for its new holder (uncredited: charged to
// the owner, no credit to the node); a holder already tried is refused,
// and only the slice's current holder can be moved off.
func TestDownloadReassign(t *testing.T) {
	ix := newIndex(t, nil)
	id := mustApply(t, ix, openDownload(10, 100, "alice", reservation(10, 100, 100), ds("s1", "n1", 10))).GetDownload().GetId()
	reassign := func(failed, to string, uncredited bool) (*metav1.CommandResult, error) {
		return ix.Apply(&metav1.Command{UnixNano: 11, Op: &metav1.Command_Reassign{Reassign: &metav1.ReassignCmd{
			TaskId: id, Owner: "alice", SliceId: "s1", FailedNode: failed, NodeId: to, Uncredited: uncredited}}})
	}
	if _, err := reassign("n2", "n3", false); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("moving off a holder the slice is not assigned to: %v", err)
	}
	mustApply(t, ix, &metav1.Command{UnixNano: 11, Op: &metav1.Command_Reassign{Reassign: &metav1.ReassignCmd{
		TaskId: id, Owner: "alice", SliceId: "s1", FailedNode: "n1", NodeId: "n2", Uncredited: true}}})
	if _, err := reassign("n2", "n1", false); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("back to a holder already tried: %v", err)
	}
	if got := mustApply(t, ix, countDownload(12, id, "alice", ds("s1", "n2", 10))).GetCountedBytes(); got != 10 {
		t.Fatalf("counted %d, want 10", got)
	}
	if n, _ := ix.UserTraffic("alice"); n != 10 {
		t.Fatalf("alice's traffic %d, want 10", n)
	}
	if n, _ := ix.NodeTraffic("n2"); n != 0 {
		t.Fatalf("an uncredited holder earned %d", n)
	}
}

func TestDownloadExpires(t *testing.T) {
	ix := newIndex(t, nil)
	id := mustApply(t, ix, openDownload(10, 100, "alice", nil, ds("s1", "n1", 10))).GetDownload().GetId()
	if _, err := ix.Apply(countDownload(101, id, "alice", ds("s1", "n1", 10))); !errors.Is(err, ErrTaskExpired) && !errors.Is(err, ErrNotFound) {
		t.Fatalf("report after expiry: %v", err)
	}
	// A refused command writes nothing; the next command forgets the task.
	mustApply(t, ix, uploadCmd(102, "bob", "/x", false))
	if _, err := ix.Download(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired download kept: %v", err)
	}
	if _, err := ix.Apply(openDownload(200, 150, "alice", nil, ds("s1", "n1", 10))); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("download already expired: %v", err)
	}
	if _, err := ix.Apply(openDownload(200, 300, "alice", nil, ds("s1", "n1", 0))); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("empty slice: %v", err)
	}
}

// A replica restored from a snapshot holds the same soft state: a new
// leader that caught up from a snapshot still refuses replays and counts
// open downloads.
func TestSoftStateSurvivesSnapshot(t *testing.T) {
	ix := newIndex(t, nil)
	id := mustApply(t, ix, openDownload(10, 1000, "alice", reservation(10, 100, 1000), ds("s1", "n1", 10))).GetDownload().GetId()
	mustApply(t, ix, guarded(uploadCmd(11, "alice", "/a", false), "alice", "sig", 1000))
	var buf bytes.Buffer
	if err := ix.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	other := newIndex(t, nil)
	if err := other.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Apply(guarded(uploadCmd(12, "alice", "/b", false), "alice", "sig", 1000)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replay after restore: %v", err)
	}
	if got := mustApply(t, other, countDownload(13, id, "alice", ds("s1", "n1", 10))).GetCountedBytes(); got != 10 {
		t.Fatalf("counted %d after restore", got)
	}
}

// Issue 8: "the replay guard bounded per account and replicated". One
// account holding the most signed requests the guard keeps is refused
// more, with a clear error, while another account goes on; as its
// requests lapse it may send again, and its count leaves the index.
func TestGuardBoundedPerAccount(t *testing.T) {
	defer func(old uint64) { maxGuards = old }(maxGuards)
	maxGuards = 3
	ix := newIndex(t, nil)
	for i := range 3 {
		mustApply(t, ix, guarded(uploadCmd(int64(10+i), "alice", fmt.Sprintf("/a%d", i), false), "alice", fmt.Sprintf("a%d", i), 1000))
	}
	if _, err := ix.Apply(guarded(uploadCmd(20, "alice", "/a3", false), "alice", "a3", 1000)); !errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("alice's fourth request: %v, want ErrTooManyRequests", err)
	}
	mustApply(t, ix, guarded(uploadCmd(21, "bob", "/b", false), "bob", "b0", 1000))
	// Once her requests lapse (a command applied after their time), alice
	// may send again.
	mustApply(t, ix, uploadCmd(2000, "carol", "/c", false))
	mustApply(t, ix, guarded(uploadCmd(2001, "alice", "/a3", false), "alice", "a3", 5000))
	if n := countPrefix(t, ix, prefixGuardCount+"alice"); n != 1 {
		t.Fatalf("%d guard counts for alice, want 1", n)
	}
	if n := countPrefix(t, ix, prefixGuardCount+"bob"); n != 0 {
		t.Fatalf("bob's lapsed request is still counted (%d records)", n)
	}
}
