package raftnode

import "github.com/hashicorp/raft"

type raftAddr = raft.ServerAddress
