// Command wordcount is an example trusted function (issue 10): "count"
// reads text on standard input and answers the number of words and the
// ten most frequent ones, as JSON. Build it with examples/fn/build.sh.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode"
)

type count struct {
	Word  string `json:"word"`
	Count int    `json:"count"`
}

func main() {
	if len(os.Args) < 2 || os.Args[1] != "count" {
		fmt.Fprintln(os.Stderr, "call count")
		os.Exit(2)
	}
	freq := map[string]int{}
	total := 0
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		w := strings.ToLower(strings.TrimFunc(sc.Text(), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
		if w == "" {
			continue
		}
		freq[w]++
		total++
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var top []count
	for w, n := range freq {
		top = append(top, count{w, n})
	}
	// Ties broken by the word: map order must not reach the output.
	sort.Slice(top, func(i, j int) bool {
		if top[i].Count != top[j].Count {
			return top[i].Count > top[j].Count
		}
		return top[i].Word < top[j].Word
	})
	if len(top) > 10 {
		top = top[:10]
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"words": total, "top": top})
}
