package e2e

import (
	"bytes"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// s3Tool finds a stock S3 client. .ci/run installs them from Debian's
// packages and sets STRATOS_S3_CLIENTS=require, so there a missing one
// fails; elsewhere its part of the test is skipped.
func s3Tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("STRATOS_S3_CLIENTS") == "require" {
			t.Fatalf("%s is not installed (Debian: apt-get install awscli rclone s3cmd)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

type s3Env struct {
	endpoint, access, secret string
	env                      []string
}

// run runs a client and returns its output; a failure fails t.
func (e s3Env) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = e.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes (%v), want the %d bytes sent", path, len(got), err, len(want))
	}
}

// Issue 9: the devnet's gateway works with the stock S3 clients from
// Debian's packages: the AWS CLI (copy, multipart of a 100 MiB file, list,
// range read, presigned GET, delete), rclone (sync, check) and s3cmd (list,
// get, delete); what they store is an ordinary file for `stratos ls/get`.
func TestDevnetS3Clients(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a devnet")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	startDevnet(t, bin, dir)
	var st struct {
		Gateway struct{ S3 string } `json:"gateway"`
	}
	if err := json.Unmarshal(stratos(t, bin, "status", "--home", dir, "--json"), &st); err != nil || st.Gateway.S3 == "" {
		t.Fatalf("status --json names no gateway: %v", err)
	}
	var ks []struct {
		AccessKey string `json:"access_key"`
		SecretKey string `json:"secret_key"`
	}
	if err := json.Unmarshal(stratos(t, bin, "gateway", "keys", "ls", "--home", dir, "--json"), &ks); err != nil || len(ks) == 0 {
		t.Fatalf("the devnet made no S3 key: %v", err)
	}
	e := s3Env{endpoint: st.Gateway.S3, access: ks[0].AccessKey, secret: ks[0].SecretKey}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") { // rclone refuses AWS_CA_BUNDLE over plain HTTP
			e.env = append(e.env, kv)
		}
	}
	// AWS CLI v1 presigns with Signature V2 unless told otherwise; the
	// gateway speaks V4 only (V2 is deprecated by AWS too).
	awsConfig := filepath.Join(dir, "aws-config")
	writeFile(t, awsConfig, []byte("[default]\ns3 =\n    signature_version = s3v4\n"))
	e.env = append(e.env, "AWS_ACCESS_KEY_ID="+e.access, "AWS_SECRET_ACCESS_KEY="+e.secret, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+awsConfig, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-aws-credentials"))
	work := t.TempDir()
	t.Run("aws", func(t *testing.T) { awsCLI(t, e, bin, dir, work) })
	t.Run("rclone", func(t *testing.T) { rclone(t, e, work) })
	t.Run("s3cmd", func(t *testing.T) { s3cmd(t, e, work) })
	t.Run("metrics", func(t *testing.T) { nodeMetrics(t, dir) })
	t.Run("dashboard", func(t *testing.T) { dashboardMatchesStatus(t, bin, dir, st.Gateway.S3) })
}

// Every node of the devnet serves Prometheus metrics: the runtime's and
// its own (issue 9).
func nodeMetrics(t *testing.T, dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "devnet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Nodes []struct{ Name, Role, Metrics string }
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"meta": "stratos_meta_raft_applied_index", "resource": "stratos_resource_stored_bytes", "gateway": "stratos_gateway_http_requests_total"}
	seen := 0
	for _, n := range m.Nodes {
		if want[n.Role] == "" {
			continue
		}
		resp, err := http.Get(n.Metrics)
		if err != nil {
			t.Fatalf("%s metrics at %q: %v", n.Name, n.Metrics, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want[n.Role]) || !strings.Contains(string(body), "go_goroutines") {
			t.Fatalf("%s metrics: %s, no %s", n.Name, resp.Status, want[n.Role])
		}
		seen++
	}
	if seen != 10 { // 3 meta, 6 resource, the gateway
		t.Fatalf("%d nodes serve metrics, want 10", seen)
	}
}

func awsCLI(t *testing.T, e s3Env, bin, dir, work string) {
	aws := s3Tool(t, "aws")
	ep := []string{"--endpoint-url", e.endpoint}
	s3 := func(args ...string) string {
		return e.run(t, aws, append(append([]string{}, ep...), append([]string{"s3"}, args...)...)...)
	}
	api := func(args ...string) string {
		return e.run(t, aws, append(append([]string{}, ep...), append([]string{"s3api"}, args...)...)...)
	}
	movie := randomBytes(9, 100<<20)
	writeFile(t, filepath.Join(work, "movie.mp4"), movie)
	s3("mb", "s3://videos")
	s3("cp", filepath.Join(work, "movie.mp4"), "s3://videos/movie.mp4") // multipart: 8 MiB parts
	if ls := s3("ls", "s3://videos/"); !strings.Contains(ls, fmt.Sprint(len(movie))) || !strings.Contains(ls, "movie.mp4") {
		t.Fatalf("aws s3 ls: %s", ls)
	}
	s3("cp", "s3://videos/movie.mp4", filepath.Join(work, "movie.back"))
	sameFile(t, filepath.Join(work, "movie.back"), movie)
	api("get-object", "--bucket", "videos", "--key", "movie.mp4", "--range", "bytes=50000000-50000999", filepath.Join(work, "range"))
	sameFile(t, filepath.Join(work, "range"), movie[50000000:50001000])
	url := strings.TrimSpace(s3("presign", "s3://videos/movie.mp4", "--expires-in", "300"))
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n != int64(len(movie)) {
		t.Fatalf("presigned GET: %s, %d bytes", resp.Status, n)
	}
	// The object is a file for the CLI.
	if out := string(stratos(t, bin, "ls", "--home", dir, "/videos")); !strings.Contains(out, "movie.mp4") {
		t.Fatalf("stratos ls /videos: %s", out)
	}
	// A file the CLI put has the MD5 ETag S3 clients check.
	note := []byte("a note from the CLI")
	writeFile(t, filepath.Join(work, "note.txt"), note)
	stratos(t, bin, "put", "--home", dir, filepath.Join(work, "note.txt"), "/videos/note.txt")
	if head := api("head-object", "--bucket", "videos", "--key", "note.txt"); !strings.Contains(head, fmt.Sprintf("%x", md5.Sum(note))) || !strings.Contains(head, "text/plain") {
		t.Fatalf("head-object of a CLI file: %s", head)
	}
	s3("rm", "s3://videos/note.txt")
	s3("rm", "s3://videos/movie.mp4")
	s3("rb", "s3://videos")
	if ls := s3("ls"); strings.Contains(ls, "videos") {
		t.Fatalf("bucket still listed after rb: %s", ls)
	}
}

func rclone(t *testing.T, e s3Env, work string) {
	rc := s3Tool(t, "rclone")
	conf := filepath.Join(work, "rclone.conf")
	writeFile(t, conf, []byte(fmt.Sprintf("[stratos]\ntype = s3\nprovider = Other\naccess_key_id = %s\nsecret_access_key = %s\nendpoint = %s\nregion = us-east-1\nforce_path_style = true\n",
		e.access, e.secret, e.endpoint)))
	photos := filepath.Join(work, "photos")
	for i, name := range []string{"a.jpg", "sub/b.jpg", "sub/ü c.jpg", "deep/er/d.jpg"} {
		writeFile(t, filepath.Join(photos, name), randomBytes(uint64(20+i), 150000*(i+1)))
	}
	e.run(t, rc, "--config", conf, "mkdir", "stratos:photos")
	e.run(t, rc, "--config", conf, "sync", photos, "stratos:photos")
	e.run(t, rc, "--config", conf, "check", photos, "stratos:photos") // sizes and MD5s
	if err := os.Remove(filepath.Join(photos, "sub/b.jpg")); err != nil {
		t.Fatal(err)
	}
	e.run(t, rc, "--config", conf, "sync", photos, "stratos:photos") // deletes what is gone
	ls := e.run(t, rc, "--config", conf, "ls", "stratos:photos")
	if strings.Contains(ls, "sub/b.jpg") || !strings.Contains(ls, "sub/ü c.jpg") || !strings.Contains(ls, "deep/er/d.jpg") {
		t.Fatalf("rclone ls after sync: %s", ls)
	}
}

func s3cmd(t *testing.T, e s3Env, work string) {
	s := s3Tool(t, "s3cmd")
	host := strings.TrimPrefix(e.endpoint, "http://")
	base := []string{"--access_key=" + e.access, "--secret_key=" + e.secret, "--host=" + host, "--host-bucket=" + host, "--no-ssl", "--config=/dev/null"}
	run := func(args ...string) string { return e.run(t, s, append(append([]string{}, base...), args...)...) }
	doc := randomBytes(31, 300000)
	writeFile(t, filepath.Join(work, "doc.pdf"), doc)
	run("mb", "s3://docs")
	run("put", filepath.Join(work, "doc.pdf"), "s3://docs/tax/doc.pdf")
	if ls := run("ls", "--recursive", "s3://docs"); !strings.Contains(ls, "s3://docs/tax/doc.pdf") {
		t.Fatalf("s3cmd ls: %s", ls)
	}
	run("get", "--force", "s3://docs/tax/doc.pdf", filepath.Join(work, "doc.back"))
	sameFile(t, filepath.Join(work, "doc.back"), doc)
	run("del", "s3://docs/tax/doc.pdf")
	if ls := run("ls", "--recursive", "s3://docs"); strings.Contains(ls, "doc.pdf") {
		t.Fatalf("s3cmd ls after del: %s", ls)
	}
}
