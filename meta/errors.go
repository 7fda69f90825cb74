package meta

import (
	"time"

	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/meta/index"
	"github.com/stratos-net/stratos/meta/placement"
	"github.com/stratos-net/stratos/meta/raftnode"
	"github.com/stratos-net/stratos/slice"
)

// Errors of the meta service that are not the index's.
var (
	ErrNoSpace      = errors.New("not enough free space in the network")
	ErrUnderReplica = errors.New("too few verified replicas")
	ErrUnknownNode  = errors.New("node is not registered")
	ErrNotNode      = errors.New("caller is not the node")
	ErrStarting     = errors.New("meta node starting: waiting for the resource nodes' heartbeats")
	ErrInvalid      = errors.New("invalid request")
	ErrNoHolder     = errors.New("no holder left to try")
)

// starting turns "not enough nodes" into ErrStarting while the meta node is
// younger than a node's death timeout: after a restart the resource nodes
// are unknown until they heartbeat, and the client should retry, not give
// up (found by the Docker fault test).
func (s *Server) starting(err error) error {
	if err == nil || s.now().Sub(time.Unix(0, s.started.Load())) >= s.cfg.Health.DeadAfter {
		return err
	}
	if errors.Is(err, ErrNoSpace) || errors.Is(err, placement.ErrNotEnoughNodes) {
		return fmt.Errorf("%w: %w", ErrStarting, err)
	}
	return err
}

// toStatus turns an error into the gRPC status clients map back to their
// sentinels: the code carries the kind, the message carries the detail.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codeOf(err), err.Error())
}

func codeOf(err error) codes.Code {
	switch {
	case errors.Is(err, index.ErrNotFound):
		return codes.NotFound
	case errors.Is(err, index.ErrExists):
		return codes.AlreadyExists
	case errors.Is(err, index.ErrBadPath), errors.Is(err, index.ErrBadCommand), errors.Is(err, identity.ErrBadTicket),
		errors.Is(err, slice.ErrBadID), errors.Is(err, identity.ErrBadSignature),
		errors.Is(err, identity.ErrBadKey), errors.Is(err, ErrUnderReplica), errors.Is(err, ErrInvalid):
		return codes.InvalidArgument
	case errors.Is(err, errBadVote):
		return codes.InvalidArgument
	case errors.Is(err, ErrNotNode), errors.Is(err, ErrVoteSender), errors.Is(err, ErrNotAuthority), errors.Is(err, ErrNotRegistered), errors.Is(err, ErrNoPrepay), errors.Is(err, ErrNotOwner),
		errors.Is(err, ErrReplayed):
		return codes.PermissionDenied
	case errors.Is(err, ErrChainDown), errors.Is(err, ErrStarting), errors.Is(err, raftnode.ErrNotLeader), errors.Is(err, raftnode.ErrClosed):
		return codes.Unavailable
	case errors.Is(err, ErrNoSpace), errors.Is(err, placement.ErrNotEnoughNodes), errors.Is(err, ErrRateLimited), errors.Is(err, ErrTooManyRequests):
		return codes.ResourceExhausted
	case errors.Is(err, index.ErrTaskExpired), errors.Is(err, ErrUnknownNode), errors.Is(err, ErrTaskGone), errors.Is(err, ErrNoHolder):
		return codes.FailedPrecondition
	case errors.Is(err, index.ErrNotEmpty):
		return codes.Aborted // the client's ErrNotEmpty; FailedPrecondition is its ErrTaskExpired
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	default:
		return codes.Internal
	}
}
