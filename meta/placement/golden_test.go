package placement

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output in testdata/*.txt")

// TestGolden runs the scenario files in testdata/ (format in the header of
// testdata/basic.txt) and compares each directive's output with the text
// after its "----". Run with -rewrite to regenerate the expected output
// after an intended change, then review the diff.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) { runScenario(t, path) })
	}
}

func runScenario(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	s := &scenario{cfg: DefaultConfig()}
	var out []string
	for i := 0; i < len(lines); {
		line := lines[i]
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			out = append(out, line)
			i++
			continue
		}
		d, next := readDirective(t, path, lines, i)
		got := s.run(d)
		if *rewrite {
			d.want = got
		} else if !slices.Equal(got, d.want) {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, d.line, d.cmd,
				strings.Join(got, "\n"), strings.Join(d.want, "\n"))
		}
		out = append(out, d.cmd)
		out = append(out, d.input...)
		out = append(out, "----")
		out = append(out, d.want...)
		i = next
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// directive is one block of a scenario file: a command line, input lines,
// "----", and the expected output up to the next blank line.
type directive struct {
	line        int
	cmd         string
	input, want []string
}

func readDirective(t *testing.T, path string, lines []string, i int) (directive, int) {
	d := directive{line: i + 1, cmd: lines[i]}
	i++
	for ; i < len(lines) && lines[i] != "----"; i++ {
		if strings.TrimSpace(lines[i]) == "" {
			t.Fatalf("%s:%d: blank line before ----", path, i+1)
		}
		d.input = append(d.input, lines[i])
	}
	if i == len(lines) {
		t.Fatalf("%s:%d: directive without ----", path, d.line)
	}
	for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		d.want = append(d.want, lines[i])
	}
	return d, i
}

// scenario is the state a file builds up: the node list and the config.
type scenario struct {
	cfg   Config
	nodes []Node
}

func (s *scenario) run(d directive) []string {
	name, args, err := parseArgs(d.cmd)
	if err == nil {
		var out []string
		switch name {
		case "nodes":
			out, err = s.setNodes(d.input)
		case "weights":
			out, err = s.setWeights(args)
		case "place":
			out, err = s.place(args)
		case "tally":
			out, err = s.tally(args)
		default:
			err = fmt.Errorf("unknown directive %q", name)
		}
		if err == nil {
			return out
		}
	}
	return []string{"error: " + err.Error()}
}

func (s *scenario) setNodes(input []string) ([]string, error) {
	s.nodes = nil
	for _, line := range input {
		id, args, err := parseArgs(line)
		if err != nil {
			return nil, err
		}
		n := Node{ID: id, Region: args["region"]}
		for key, dst := range map[string]*uint64{"cap": &n.Capacity, "free": &n.Free} {
			if *dst, err = parseUint(args, key, 0); err != nil {
				return nil, err
			}
		}
		if n.Uptime, err = parseFloat(args, "up", 1); err != nil {
			return nil, err
		}
		conns, err := parseUint(args, "conns", 0)
		if err != nil {
			return nil, err
		}
		n.Connections = int(conns)
		s.nodes = append(s.nodes, n)
	}
	return []string{fmt.Sprintf("%d nodes", len(s.nodes))}, nil
}

// setWeights sets the weights named and zeroes the others; with no
// arguments it restores DefaultConfig.
func (s *scenario) setWeights(args map[string]string) ([]string, error) {
	s.cfg = DefaultConfig()
	if len(args) == 0 {
		return []string{"ok"}, nil
	}
	s.cfg.Weights = Weights{}
	w := &s.cfg.Weights
	for key, dst := range map[string]*float64{
		"capacity": &w.Capacity, "free": &w.Free, "uptime": &w.Uptime,
		"connections": &w.Connections, "locality": &w.Locality, "random": &w.Random,
	} {
		v, err := parseFloat(args, key, 0)
		if err != nil {
			return nil, err
		}
		*dst = v
	}
	if err := s.cfg.Validate(); err != nil {
		return nil, err
	}
	return []string{"ok"}, nil
}

// place answers one request with a fresh Placer seeded with
// rand.NewPCG(seed, 0); output is the pipeline, one id@region per node.
func (s *scenario) place(args map[string]string) ([]string, error) {
	seed, err := parseUint(args, "seed", 1)
	if err != nil {
		return nil, err
	}
	req, err := parseRequest(args)
	if err != nil {
		return nil, err
	}
	got, err := s.placeSeed(seed, req)
	if err != nil {
		return nil, err
	}
	var parts []string
	for _, n := range got {
		parts = append(parts, n.ID+"@"+n.Region)
	}
	return []string{strings.Join(parts, " ")}, nil
}

// tally places the same request once for each seed 1..seeds and counts, per
// node, how often it was chosen and how often it led the pipeline.
func (s *scenario) tally(args map[string]string) ([]string, error) {
	seeds, err := parseUint(args, "seeds", 100)
	if err != nil {
		return nil, err
	}
	req, err := parseRequest(args)
	if err != nil {
		return nil, err
	}
	chosen, first := map[string]int{}, map[string]int{}
	for seed := uint64(1); seed <= seeds; seed++ {
		got, err := s.placeSeed(seed, req)
		if err != nil {
			return nil, fmt.Errorf("seed %d: %w", seed, err)
		}
		first[got[0].ID]++
		for _, n := range got {
			chosen[n.ID]++
		}
	}
	var out []string
	for _, n := range s.nodes {
		out = append(out, fmt.Sprintf("%s chosen=%d first=%d", n.ID, chosen[n.ID], first[n.ID]))
	}
	return out, nil
}

func (s *scenario) placeSeed(seed uint64, req Request) ([]Node, error) {
	p, err := New(s.cfg, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		return nil, err
	}
	return p.Place(s.nodes, req)
}

func parseRequest(args map[string]string) (Request, error) {
	count, err := parseUint(args, "count", 3)
	if err != nil {
		return Request{}, err
	}
	size, err := parseUint(args, "size", 0)
	if err != nil {
		return Request{}, err
	}
	req := Request{Count: int(count), Size: size, ClientRegion: args["client"]}
	if ex := args["exclude"]; ex != "" {
		req.Exclude = make(map[string]bool)
		for _, id := range strings.Split(ex, ",") {
			req.Exclude[id] = true
		}
	}
	return req, nil
}

// parseArgs splits "name key=value ..." into the name and the arguments.
func parseArgs(line string) (string, map[string]string, error) {
	sc := bufio.NewScanner(strings.NewReader(line))
	sc.Split(bufio.ScanWords)
	if !sc.Scan() {
		return "", nil, fmt.Errorf("empty line")
	}
	name, args := sc.Text(), map[string]string{}
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			return "", nil, fmt.Errorf("argument %q is not key=value", sc.Text())
		}
		args[k] = v
	}
	return name, args, nil
}

func parseUint(args map[string]string, key string, def uint64) (uint64, error) {
	v, ok := args[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return n, nil
}

func parseFloat(args map[string]string, key string, def float64) (float64, error) {
	v, ok := args[key]
	if !ok {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return f, nil
}
