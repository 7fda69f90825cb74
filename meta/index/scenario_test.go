package index

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt")

// Scenario files (testdata/*.txt), in the manner of etcd-io/raft's: blocks of
// a command line, "----", and the expected output, separated by blank lines;
// "#" lines are comments. go test -run Scenarios -rewrite regenerates the
// output. Slices are named by their content; time starts at 1000.
//
//	tick N                              advance the clock by N
//	register NODE...
//	create-task OWNER PATH [overwrite] [ttl=N] [kind=download|repair]
//	commit TASK CONTENT@NODE,NODE ...   commit the task's file made of these slices
//	end TASK
//	delete OWNER PATH
//	add-replicas CONTENT NODE...  |  remove-replicas CONTENT NODE...
//	add-traffic NODE:USER:BYTES...  |  take-traffic N  |  restore-traffic (the last report taken)
//	node-traffic NODE  |  user-traffic USER
//	list OWNER DIR [after=NAME] [limit=N]
//	stat OWNER PATH  |  slice CONTENT  |  slices-on NODE  |  by-id CONTENT...
//	tasks  |  nodes  |  stats
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScenario(t, file)
		})
	}
}

type block struct {
	comments []string
	cmd      string
	want     string
	line     int
}

func parseScenario(t *testing.T, file string) []block {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var blocks []block
	var b block
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "#"):
			b.comments = append(b.comments, l)
		case strings.TrimSpace(l) == "":
		default:
			b.cmd, b.line = l, i+1
			if i+1 >= len(lines) || lines[i+1] != "----" {
				t.Fatalf("%s:%d: command without ----", file, i+1)
			}
			i += 2
			var out []string
			for ; i < len(lines) && lines[i] != ""; i++ {
				out = append(out, lines[i])
			}
			b.want = strings.Join(out, "\n")
			blocks = append(blocks, b)
			b = block{}
		}
	}
	return blocks
}

func runScenario(t *testing.T, file string) {
	blocks := parseScenario(t, file)
	s := &scenario{ix: newIndex(t, nil), now: 1000, names: map[string]string{}}
	var out strings.Builder
	for i, b := range blocks {
		got := s.run(b.cmd)
		if !*rewrite && got != b.want {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", file, b.line, b.cmd, got, b.want)
		}
		if i > 0 {
			out.WriteString("\n")
		}
		for _, c := range b.comments {
			out.WriteString(c + "\n")
		}
		fmt.Fprintf(&out, "%s\n----\n%s\n", b.cmd, got)
	}
	if *rewrite {
		if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type scenario struct {
	ix    *Index
	now   int64
	names map[string]string // slice ID → content
	taken *metav1.TrafficReport
}

func (s *scenario) sliceID(content string) string {
	id := slice.Sum([]byte(content)).String()
	s.names[id] = content
	return id
}

func (s *scenario) name(id string) string {
	if n, ok := s.names[id]; ok {
		return n
	}
	return id
}

// opts splits "key=value" and bare flags off the arguments.
func opts(args []string) (pos []string, kv map[string]string) {
	kv = map[string]string{}
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			kv[k] = v
		} else if a == "overwrite" {
			kv[a] = "true"
		} else {
			pos = append(pos, a)
		}
	}
	return pos, kv
}

func (s *scenario) run(line string) string {
	f := strings.Fields(line)
	pos, kv := opts(f[1:])
	arg := func(i int) string {
		if i < len(pos) {
			return pos[i]
		}
		return ""
	}
	switch f[0] {
	case "tick":
		n, _ := strconv.ParseInt(arg(0), 10, 64)
		s.now += n
		return fmt.Sprintf("now %d", s.now)
	case "register":
		var out []string
		for _, n := range pos {
			out = append(out, s.apply(registerCmd(s.now, n)))
		}
		return strings.Join(out, "\n")
	case "create-task":
		ttl, err := strconv.ParseInt(orDefault(kv["ttl"], "100"), 10, 64)
		if err != nil {
			return "bad ttl"
		}
		kind := metav1.TaskKind_TASK_KIND_UPLOAD
		switch kv["kind"] {
		case "download":
			kind = metav1.TaskKind_TASK_KIND_DOWNLOAD
		case "repair":
			kind = metav1.TaskKind_TASK_KIND_REPAIR
		}
		return s.apply(&metav1.Command{UnixNano: s.now, Op: &metav1.Command_CreateTask{CreateTask: &metav1.CreateTaskCmd{
			Kind: kind, Owner: arg(0), Path: arg(1), Overwrite: kv["overwrite"] == "true", TtlNanos: ttl,
		}}})
	case "commit":
		return s.commit(arg(0), pos[1:])
	case "end":
		return s.apply(endCmd(s.now, arg(0)))
	case "delete":
		return s.apply(deleteCmd(s.now, arg(0), arg(1)))
	case "add-replicas":
		return s.apply(addReplicasCmd(s.now, s.sliceID(arg(0)), pos[1:]...))
	case "remove-replicas":
		return s.apply(removeReplicasCmd(s.now, s.sliceID(arg(0)), pos[1:]...))
	case "add-traffic":
		var entries []*metav1.TrafficEntry
		for _, p := range pos {
			f := strings.Split(p, ":")
			if len(f) != 3 {
				return "want NODE:USER:BYTES, not " + p
			}
			n, _ := strconv.ParseUint(f[2], 10, 64)
			entries = append(entries, entry(f[0], f[1], n))
		}
		return s.apply(addTrafficCmd(entries...))
	case "take-traffic":
		n, _ := strconv.ParseUint(arg(0), 10, 32)
		return s.apply(takeTrafficCmd(uint32(n)))
	case "restore-traffic":
		return s.apply(restoreTrafficCmd(s.taken))
	default:
		return s.query(f[0], pos, kv)
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *scenario) commit(task string, parts []string) string {
	owner, path := "?", "/?"
	if tk, err := s.ix.Task(task); err == nil {
		owner, path = tk.Owner, tk.Path
	}
	var contents []string
	var reps []*metav1.ReplicaSet
	for _, p := range parts {
		c, nodes, _ := strings.Cut(p, "@")
		contents = append(contents, c)
		s.sliceID(c)
		reps = append(reps, &metav1.ReplicaSet{NodeIds: strings.FieldsFunc(nodes, func(r rune) bool { return r == ',' })})
	}
	return s.apply(commitCmd(s.now, task, content(owner, path, contents...), reps))
}

func (s *scenario) apply(cmd *metav1.Command) string {
	res, err := s.ix.Apply(cmd)
	if err != nil {
		return "error: " + err.Error()
	}
	var out []string
	if res.Task != nil {
		out = append(out, s.task(res.Task))
	}
	if res.File != nil {
		out = append(out, s.file(res.File))
	}
	for _, r := range res.Released {
		out = append(out, "released "+s.slice(r))
	}
	if r := res.Traffic; r != nil {
		s.taken = r
		for _, v := range r.Nodes {
			out = append(out, fmt.Sprintf("node %s %d", v.Id, v.Bytes))
		}
		for _, v := range r.Users {
			out = append(out, fmt.Sprintf("user %s %d", v.Id, v.Bytes))
		}
		if len(out) == 0 {
			out = append(out, "(empty report)")
		}
	}
	if len(out) == 0 {
		return "ok"
	}
	return strings.Join(out, "\n")
}

func (s *scenario) task(t *metav1.Task) string {
	kind := strings.ToLower(strings.TrimPrefix(t.Kind.String(), "TASK_KIND_"))
	ow := ""
	if t.Overwrite {
		ow = " overwrite"
	}
	return fmt.Sprintf("task %s %s %s %s%s expires=%d", t.Id, kind, t.Owner, t.Path, ow, t.ExpiresUnixNano)
}

func (s *scenario) file(f *metav1.FileEntry) string {
	var parts []string
	for _, r := range f.Slices {
		parts = append(parts, s.name(r.Id))
	}
	return fmt.Sprintf("file %s %s size=%d slices=[%s] created=%d", f.Owner, f.Path, f.Size, strings.Join(parts, " "), f.CreatedUnixNano)
}

func (s *scenario) slice(e *metav1.SliceEntry) string {
	return fmt.Sprintf("%s size=%d refs=%d on [%s]", s.name(e.Id), e.Size, e.Refs, strings.Join(e.Replicas, " "))
}

func (s *scenario) query(verb string, pos []string, kv map[string]string) string {
	arg := func(i int) string {
		if i < len(pos) {
			return pos[i]
		}
		return ""
	}
	var out []string
	var err error
	switch verb {
	case "list":
		limit, _ := strconv.Atoi(kv["limit"])
		var entries []*metav1.DirEntry
		var more bool
		entries, more, err = s.ix.List(arg(0), arg(1), kv["after"], limit)
		for _, e := range entries {
			if e.Dir {
				out = append(out, e.Name+"/")
			} else {
				out = append(out, fmt.Sprintf("%s size=%d", e.Name, e.File.Size))
			}
		}
		if more {
			out = append(out, "(more)")
		}
		if err == nil && len(out) == 0 {
			out = append(out, "(empty)")
		}
	case "stat":
		var f *metav1.FileEntry
		if f, err = s.ix.File(arg(0), arg(1)); err == nil {
			out = append(out, s.file(f))
			for _, r := range f.Slices {
				e, serr := s.ix.Slice(r.Id)
				if serr != nil {
					out = append(out, "  slice error: "+serr.Error())
					continue
				}
				out = append(out, "  "+s.slice(e))
			}
		}
	case "slice":
		var e *metav1.SliceEntry
		if e, err = s.ix.Slice(s.sliceID(arg(0))); err == nil {
			out = append(out, s.slice(e))
		}
	case "slices-on":
		err = s.ix.SlicesOn(arg(0), func(id string) error { out = append(out, s.name(id)); return nil })
		slices.Sort(out)
	case "by-id":
		var fs []*metav1.FileEntry
		if fs, err = s.ix.FilesByID(content("", "", pos...).FileId); err == nil {
			for _, f := range fs {
				out = append(out, s.file(f))
			}
		}
	case "tasks":
		err = s.ix.Tasks(func(t *metav1.Task) error { out = append(out, s.task(t)); return nil })
	case "nodes":
		var nodes []*metav1.NodeRecord
		nodes, err = s.ix.Nodes()
		for _, n := range nodes {
			out = append(out, fmt.Sprintf("%s %s registered=%d", n.NodeId, n.Addr, n.RegisteredUnixNano))
		}
	case "node-traffic", "user-traffic":
		var n uint64
		if verb == "node-traffic" {
			n, err = s.ix.NodeTraffic(arg(0))
		} else {
			n, err = s.ix.UserTraffic(arg(0))
		}
		out = append(out, fmt.Sprintf("%s %d", arg(0), n))
	case "stats":
		var files, sl uint64
		files, sl, err = s.ix.Stats()
		out = append(out, fmt.Sprintf("files=%d slices=%d", files, sl))
	default:
		return "unknown command " + verb
	}
	if err != nil {
		out = append(out, "error: "+err.Error())
	}
	if len(out) == 0 {
		return "(none)"
	}
	return strings.Join(out, "\n")
}
