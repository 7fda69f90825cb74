package round

import (
	"fmt"
	"testing"
)

// FuzzRound drives a round of four nodes with any sequence of messages
// (honest, forged or out of turn) and block heights, and checks the rules'
// invariants whatever the order: a message either changes the round or is
// refused; the round ends within its timeouts; once done, no node is left
// half-way, only Majority and Excused are paid, only Lied and Stalled are
// slashed, every Majority node gave the winning output, and a TRUE round
// has a quorum of them.
func FuzzRound(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 10, 20, 21, 22, 23, 30})
	f.Add([]byte{0, 1, 14, 4, 5, 10, 20, 30, 30, 30})
	f.Add([]byte{30, 30, 30, 30, 30, 30, 30})
	f.Fuzz(func(t *testing.T, ops []byte) {
		id := ID{ChainID: "c", Round: 3}
		nodes := []string{"n0", "n1", "n2", "n3"}
		appSalt := func(i int) []byte { return []byte(fmt.Sprint("app", i)) }
		nodeSalt := func(i int) []byte { return []byte(fmt.Sprint("node", i)) }
		out := func(i int) Hash { return OutputHash([]byte{byte(i % 4 / 3)}) } // n0-n2 say 0, n3 says 1
		hashes := make([]Hash, 4)
		for i := range nodes {
			hashes[i] = SaltHash(id, nodes[i], appSalt(i))
		}
		r, err := Open(id, nodes, hashes, nil, Agreement{1, 2}, 3, 3, 0)
		if err != nil {
			t.Fatal(err)
		}
		height := int64(0)
		for _, op := range ops {
			i := int(op % 4)
			switch op / 4 % 8 {
			case 0: // honest commit
				r.Commit(nodes[i], SaltHash(id, nodes[i], nodeSalt(i)), CommitHash(id, nodes[i], appSalt(i), nodeSalt(i), out(i), 5))
			case 1: // garbage commit
				r.Commit(nodes[i], Hash{op}, Hash{op, 1})
			case 2: // a complaint, with or without the right salt
				if op%2 == 0 {
					r.Refuse(nodes[i], appSalt(i))
				} else {
					r.Refuse(nodes[i], []byte("forged"))
				}
			case 3: // the app reveals, honestly or not
				salts := map[string][]byte{}
				for k := range nodes {
					salts[nodes[k]] = appSalt(k)
				}
				if op%2 == 1 {
					salts[nodes[i]] = []byte("wrong")
				}
				r.RevealApp(salts, nil, nil, height)
			case 4, 5: // a node reveals, honestly or lying about its output
				o := out(i)
				if op/4%8 == 5 {
					o = out(i + 1)
				}
				r.RevealNode(nodes[i], nodeSalt(i), o, 5)
			default: // blocks pass
				height += int64(op%3) + 1
				r.Advance(height)
			}
		}
		for range 20 { // let every timeout pass
			height++
			r.Advance(height)
		}
		if r.Phase != Done {
			t.Fatalf("not done after every timeout: %s", r.Phase)
		}
		majority := 0
		for _, m := range r.Members {
			switch m.Status {
			case Assigned, Committed, Revealed:
				t.Fatalf("%s left %s in a done round", m.Node, m.Status)
			}
			if m.Status.Paid() != (m.Status == Majority || m.Status == Excused) ||
				m.Status.Slashed() != (m.Status == Lied || m.Status == Stalled) {
				t.Fatalf("%s: %s paid %v slashed %v", m.Node, m.Status, m.Status.Paid(), m.Status.Slashed())
			}
			if m.Status == Majority {
				majority++
				if m.Output != r.Winner {
					t.Fatalf("%s in the majority with another output", m.Node)
				}
			}
		}
		if r.Result != (majority >= r.Agreement.Quorum(len(r.Members))) || (r.Result && r.AppDefaulted) {
			t.Fatalf("result %v with %d in the majority (defaulted %v)", r.Result, majority, r.AppDefaulted)
		}
	})
}
