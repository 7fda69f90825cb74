package poa_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stratos-net/stratos/meta/poa"
)

func TestVoteRoundTrip(t *testing.T) {
	for _, v := range []poa.Vote{
		vote(derived(testHash), "v1", "v3"),
		{},
		{Term: 1<<64 - 1, BlockHash: []byte{0}, From: "é", Candidate: "\x00", Number: 1},
	} {
		got, err := poa.UnmarshalVote(v.Marshal())
		if err != nil || !equalVotes(got, v) {
			t.Errorf("UnmarshalVote(%+v.Marshal()) = %+v, %v", v, got, err)
		}
	}
}

func TestUnmarshalVoteRejects(t *testing.T) {
	good := vote(derived(testHash), "v1", "v3").Marshal()
	other := bytes.Replace(good, []byte("stratos/poa/vote/v1"), []byte("stratos/poa/vote/v2"), 1)
	huge := bytes.Clone(good)
	huge[len(huge)-8-len("v3")-8] = 0xff // the top byte of the candidate's length
	tests := map[string][]byte{
		"empty":          nil,
		"truncated":      good[:len(good)-1],
		"trailing byte":  append(bytes.Clone(good), 0),
		"other domain":   other,
		"length too big": append(good[:8:8], 0xff),
		"field overruns": huge,
	}
	for name, b := range tests {
		if _, err := poa.UnmarshalVote(b); !errors.Is(err, poa.ErrBadEncoding) {
			t.Errorf("%s: err = %v, want ErrBadEncoding", name, err)
		}
	}
}

// FuzzUnmarshalVote: the decoder never panics, and what it accepts is
// canonical: encoding the vote again gives the same bytes.
func FuzzUnmarshalVote(f *testing.F) {
	f.Add(vote(derived(testHash), "v1", "v3").Marshal())
	f.Add(poa.Vote{}.Marshal())
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := poa.UnmarshalVote(b)
		if err != nil {
			if !errors.Is(err, poa.ErrBadEncoding) {
				t.Fatalf("err = %v, want ErrBadEncoding", err)
			}
			return
		}
		if again := v.Marshal(); !bytes.Equal(again, b) {
			t.Fatalf("not canonical: %x decodes to %+v, which encodes to %x", b, v, again)
		}
		back, err := poa.UnmarshalVote(v.Marshal())
		if err != nil || !equalVotes(back, v) {
			t.Fatalf("round trip of %+v: %+v, %v", v, back, err)
		}
	})
}
