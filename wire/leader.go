package wire

import (
	"context"
	"errors"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Trailer keys by which a node that is not its cluster's leader names the
// leader in an Unavailable answer (the meta cluster, DESIGN §5.2).
const (
	LeaderIDKey   = "stratos-leader-id"
	LeaderAddrKey = "stratos-leader-addr"
)

// Member is a node of a cluster that a LeaderConn may call.
type Member struct {
	ID   string
	Addr string
}

// LeaderConn is a grpc.ClientConnInterface over every member of a cluster
// that sends each call to the member it believes leads. An Unavailable
// answer that names the leader in its trailer is sent there at once; any
// other Unavailable answer moves later calls to the next member. Callers
// retry Unavailable as they would for one node.
type LeaderConn struct {
	dial func(addr, id string) (*grpc.ClientConn, error)

	mu      sync.Mutex
	members []Member
	conns   map[string]*grpc.ClientConn
	current int
}

var _ grpc.ClientConnInterface = (*LeaderConn)(nil)

// ErrNoMembers: a LeaderConn needs at least one member.
var ErrNoMembers = errors.New("no cluster member to call")

// NewLeaderConn dials every member with dial (Dial, or DialAs for a node).
func NewLeaderConn(members []Member, dial func(addr, id string) (*grpc.ClientConn, error)) (*LeaderConn, error) {
	if len(members) == 0 {
		return nil, ErrNoMembers
	}
	l := &LeaderConn{dial: dial, conns: map[string]*grpc.ClientConn{}}
	for _, m := range members {
		if err := l.add(m); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// add dials a member not known yet, or a known one at its new address.
// Callers hold mu, or own l alone.
func (l *LeaderConn) add(m Member) error {
	i := -1
	for j, k := range l.members {
		if k.ID == m.ID {
			if k.Addr == m.Addr {
				return nil
			}
			i = j
		}
	}
	conn, err := l.dial(m.Addr, m.ID)
	if err != nil {
		return err
	}
	if i < 0 {
		l.members = append(l.members, m)
	} else {
		l.conns[m.ID].Close()
		l.members[i] = m
	}
	l.conns[m.ID] = conn
	return nil
}

func (l *LeaderConn) pick() (Member, *grpc.ClientConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.members[l.current]
	return m, l.conns[m.ID]
}

// moved follows an Unavailable answer from member from, and reports
// whether it named a leader to go to now.
func (l *LeaderConn) moved(from Member, trailer metadata.MD) (toLeader bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.members[l.current].ID != from.ID {
		return true // another call moved on already: try where it went
	}
	if ids := trailer.Get(LeaderIDKey); len(ids) == 1 && ids[0] != from.ID {
		if addrs := trailer.Get(LeaderAddrKey); len(addrs) == 1 {
			_ = l.add(Member{ID: ids[0], Addr: addrs[0]}) // a bad address fails the next call, which moves on
		}
		for i, m := range l.members {
			if m.ID == ids[0] {
				l.current = i
				return true
			}
		}
	}
	l.current = (l.current + 1) % len(l.members)
	return false
}

// Invoke sends a unary call to the leader.
func (l *LeaderConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	for redirected := false; ; redirected = true {
		m, conn := l.pick()
		var trailer metadata.MD
		err := conn.Invoke(ctx, method, args, reply, append(opts, grpc.Trailer(&trailer))...)
		if status.Code(err) != codes.Unavailable || ctx.Err() != nil {
			return err
		}
		if !l.moved(m, trailer) || redirected {
			return err
		}
	}
}

// NewStream opens a stream on the member believed to lead.
func (l *LeaderConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	_, conn := l.pick()
	return conn.NewStream(ctx, desc, method, opts...)
}

// Members lists the members known, those learned from answers included.
func (l *LeaderConn) Members() []Member {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Member(nil), l.members...)
}

// Conn is the connection to member id alone, for calls that must reach that
// node rather than the leader; nil if id is not a member.
func (l *LeaderConn) Conn(id string) grpc.ClientConnInterface {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.conns[id]; ok {
		return c
	}
	return nil
}

// Close closes every connection.
func (l *LeaderConn) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, c := range l.conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
