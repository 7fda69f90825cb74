package resource

import (
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storagev1 "github.com/stratos-net/stratos/proto/stratos/storage/v1"
)

// idleRecv receives the messages of a Store stream from its own goroutine,
// so the handler can give up on a client that goes silent: a server
// stream's Recv has no deadline, and only the handler's return ends the
// stream (which then ends the goroutine's Recv as well).
type idleRecv struct {
	msgs    chan recvResult // unbuffered: at most one message read ahead
	done    chan struct{}
	timeout time.Duration
	timer   *time.Timer
	// end, once set (within), ends the stream as a whole: a deadline that
	// frames arriving in time do not push back.
	end <-chan struct{}
	why error
}

type recvResult struct {
	msg *storagev1.StoreRequest
	err error
}

// recvWithin starts receiving from stream; the caller must call stop.
func recvWithin(stream storagev1.SliceService_StoreServer, timeout time.Duration) *idleRecv {
	r := &idleRecv{
		msgs:    make(chan recvResult),
		done:    make(chan struct{}),
		timeout: timeout,
		timer:   time.NewTimer(timeout),
	}
	go r.run(stream)
	return r
}

func (r *idleRecv) run(stream storagev1.SliceService_StoreServer) {
	for {
		msg, err := stream.Recv()
		select {
		case r.msgs <- recvResult{msg, err}:
		case <-r.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// Recv returns the next message, or DeadlineExceeded if none arrives within
// the timeout. Only the wait counts, not the time the node spends on the
// previous frame: a slow disk or downstream is not the client's fault.
func (r *idleRecv) Recv() (*storagev1.StoreRequest, error) {
	r.timer.Reset(r.timeout)
	select {
	case m := <-r.msgs:
		return m.msg, m.err
	case <-r.timer.C:
		return nil, status.Errorf(codes.DeadlineExceeded, "store: no frame for %v", r.timeout)
	case <-r.end:
		return nil, r.why
	}
}

// within sets the idle timeout from now on, and ends every Recv once end
// is closed, with why.
func (r *idleRecv) within(timeout time.Duration, end <-chan struct{}, why error) {
	r.timeout, r.end, r.why = timeout, end, why
}

// stop releases the receiving goroutine once the handler returns.
func (r *idleRecv) stop() {
	close(r.done)
	r.timer.Stop()
}
