package poa_test

import (
	"fmt"

	"github.com/stratos-net/stratos/meta/poa"
)

// Three authorities hold the round for term 1; the caller's job is to carry
// what Start and Receive return to every other authority. Here the votes
// are delivered in the order sent.
func Example() {
	voters := []string{"a", "b", "c"}
	hash := []byte("hash of the block that ended term 1")
	rounds := map[string]*poa.Round{}
	type msg struct {
		to string
		v  poa.Vote
	}
	var queue []msg
	send := func(from string, votes []poa.Vote) {
		for _, v := range votes {
			for _, to := range voters {
				if to != from {
					queue = append(queue, msg{to, v})
				}
			}
		}
	}
	for _, a := range voters {
		r, err := poa.NewRound(poa.Config{Self: a, Voters: voters}, 1, hash)
		if err != nil {
			panic(err)
		}
		rounds[a] = r
		send(a, r.Start())
	}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		out, err := rounds[m.to].Receive(m.v)
		if err != nil {
			panic(err) // a real caller logs and drops the vote
		}
		send(m.to, out)
	}
	for _, a := range voters {
		w, _ := rounds[a].Winner()
		fmt.Printf("%s: %v, winner %s\n", a, rounds[a].State(), w)
	}
	// Output:
	// a: Following, winner c
	// b: Following, winner c
	// c: Leading, winner c
}
