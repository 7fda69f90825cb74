// Package devnet starts and supervises a complete local Stratos network on
// loopback: one meta node and several resource nodes, each its own OS
// process running `stratos node start`, with all state under one home
// directory so the network can be stopped and started again (DESIGN §2).
//
// Layout of a devnet home:
//
//	devnet.toml          the network's settings, fixed at creation
//	devnet.json          the running nodes: name, role, id, pid, addr, data_dir
//	client.toml          where client commands find the meta node
//	nodes/<name>/        each node's home: config.toml, node_key.pem, data/
//	logs/<name>.log      each node's log
package devnet
