package main

// There is no Docker engine where these tests run, so nothing here builds
// an image or starts a container. What can be checked without one is: the
// Dockerfile's stages and settings, that docker-compose.yml parses and every
// file it builds from or mounts exists, that the scimbridge config it mounts
// is valid for the real config parser, and that the Prometheus config, the
// alert rules and the Grafana provisioning parse and point at each other.
// The YAML models below hold only the keys these files use, decoded with
// KnownFields, so a misspelt key fails here instead of being ignored.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scimbridge/scimbridge/config"
)

// repoRoot is where docker-compose.yml and the Dockerfile live.
const repoRoot = "../.."

type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
		Target     string `yaml:"target"`
	} `yaml:"build"`
	Image           string            `yaml:"image"`
	Command         []string          `yaml:"command"`
	Environment     map[string]string `yaml:"environment"`
	Volumes         []string          `yaml:"volumes"`
	Ports           []string          `yaml:"ports"`
	DependsOn       []string          `yaml:"depends_on"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	Restart         string            `yaml:"restart"`
}

// mount is one entry of a service's volumes.
type mount struct {
	src, dst string
	bind     bool // src is a path in the repository, else a named volume
}

func (s composeService) mounts(t *testing.T) []mount {
	t.Helper()
	var out []mount
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw") {
			t.Fatalf("volume %q: want SRC:DST[:ro|rw]", v)
		}
		out = append(out, mount{src: parts[0], dst: parts[1], bind: strings.HasPrefix(parts[0], ".") || strings.HasPrefix(parts[0], "/")})
	}
	return out
}

// hostPath maps a path inside the service's container to the repository
// file mounted there ("" if none).
func (s composeService) hostPath(t *testing.T, inContainer string) string {
	t.Helper()
	for _, m := range s.mounts(t) {
		if !m.bind {
			continue
		}
		if m.dst == inContainer {
			return filepath.Join(repoRoot, m.src)
		}
		if rest, ok := strings.CutPrefix(inContainer, m.dst+"/"); ok {
			return filepath.Join(repoRoot, m.src, rest)
		}
	}
	return ""
}

// containerPort returns the container side of the service's first port.
func (s composeService) containerPort(t *testing.T) string {
	t.Helper()
	if len(s.Ports) == 0 {
		t.Fatal("service publishes no port")
	}
	parts := strings.Split(s.Ports[0], ":")
	return parts[len(parts)-1]
}

func decodeStrict(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	decodeStrict(t, filepath.Join(repoRoot, "docker-compose.yml"), &c)
	return c
}

// varRE matches compose's ${VAR}, ${VAR:-default}, ${VAR:?error} and friends.
var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+][^}]*)?\}`)

// exampleEnv reads deploy/compose/env.example.
func exampleEnv(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "deploy/compose/env.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || v == "" {
			t.Fatalf("env.example: line %q is not NAME=value", line)
		}
		env[k] = v
	}
	return env
}

// interpolate resolves compose's ${VAR...} forms from env.
func interpolate(s string, env map[string]string) string {
	return varRE.ReplaceAllStringFunc(s, func(m string) string { return env[varRE.FindStringSubmatch(m)[1]] })
}

// dockerfile is the Dockerfile split into stages of instructions.
type dockerStage struct {
	name, from string
	instr      [][2]string // keyword (upper case), arguments
}

func (s dockerStage) all(keyword string) []string {
	var out []string
	for _, in := range s.instr {
		if in[0] == keyword {
			out = append(out, in[1])
		}
	}
	return out
}

func (s dockerStage) last(t *testing.T, keyword string) string {
	t.Helper()
	all := s.all(keyword)
	if len(all) == 0 {
		t.Fatalf("stage %s has no %s", s.name, keyword)
	}
	return all[len(all)-1]
}

func loadDockerfile(t *testing.T) []dockerStage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerStage
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		kw, args, _ := strings.Cut(line, " ")
		kw, args = strings.ToUpper(kw), strings.TrimSpace(args)
		if kw == "FROM" {
			f := strings.Fields(args)
			st := dockerStage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before the first FROM", kw)
		}
		stages[len(stages)-1].instr = append(stages[len(stages)-1].instr, [2]string{kw, args})
	}
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if rest, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

func stageNamed(t *testing.T, stages []dockerStage, name string) dockerStage {
	t.Helper()
	for _, s := range stages {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("Dockerfile has no stage %q", name)
	return dockerStage{}
}

// execForm parses a JSON-array instruction argument (exec form).
func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(args), &out); err != nil || len(out) == 0 {
		t.Fatalf("%s %s: want the exec form [\"...\"]: %v", what, args, err)
	}
	return out
}

// flagValue returns the argument after name in args ("" if none).
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// composeConfig loads the config the scimbridge service mounts, with the
// service's environment resolved from env.example.
func composeConfig(t *testing.T, c composeFile, env map[string]string) *config.Config {
	t.Helper()
	sb := c.Services["scimbridge"]
	if len(sb.Command) != 3 || sb.Command[0] != "serve" || sb.Command[1] != "--config" {
		t.Fatalf("scimbridge command %v, want serve --config FILE", sb.Command)
	}
	file := sb.hostPath(t, sb.Command[2])
	if file == "" {
		t.Fatalf("the config %s is not mounted", sb.Command[2])
	}
	svcEnv := map[string]string{}
	for k, v := range sb.Environment {
		svcEnv[k] = interpolate(v, env)
	}
	cfg, err := config.Load(file, func(k string) string { return svcEnv[k] })
	if err != nil {
		t.Fatalf("the mounted config does not load with the service's environment: %v", err)
	}
	return cfg
}

func TestDockerfile(t *testing.T) {
	stages := loadDockerfile(t)
	build := stages[0]
	if !strings.HasPrefix(build.from, "golang:1.26") {
		t.Errorf("build stage FROM %s, want golang:1.26", build.from)
	}
	runs := strings.Join(build.all("RUN"), "\n")
	for _, want := range []string{"CGO_ENABLED=1", `-extldflags "-static"`, "sqlite_omit_load_extension", "./cmd/scimbridge", "./cmd/atlassian-emulator"} {
		if !strings.Contains(runs, want) {
			t.Errorf("build stage RUN lacks %s", want)
		}
	}
	for _, c := range build.all("COPY") {
		f := strings.Fields(c)
		for _, src := range f[:len(f)-1] {
			if src == "." || strings.HasPrefix(src, "--") {
				continue
			}
			if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
				t.Errorf("COPY %s: %v", src, err)
			}
		}
	}
	if got := stages[len(stages)-1].name; got != "scimbridge" {
		t.Errorf("the last (default) stage is %q, want scimbridge", got)
	}
	var names []string
	for _, s := range stages {
		for _, c := range s.all("COPY") {
			for _, f := range strings.Fields(c) {
				if from, ok := strings.CutPrefix(f, "--from="); ok && !slices.Contains(names, from) {
					t.Errorf("stage %s copies from %q, which is not an earlier stage", s.name, from)
				}
			}
		}
		names = append(names, s.name)
		if s.name == build.name {
			continue
		}
		if user := s.last(t, "USER"); strings.HasPrefix(user, "root") || strings.HasPrefix(user, "0") {
			t.Errorf("stage %s runs as %s", s.name, user)
		}
	}

	sb := stageNamed(t, stages, "scimbridge")
	if v := execForm(t, "VOLUME", sb.last(t, "VOLUME")); !slices.Equal(v, []string{"/data"}) {
		t.Errorf("VOLUME %v, want [/data]", v)
	}
	entry := execForm(t, "ENTRYPOINT", sb.last(t, "ENTRYPOINT"))
	hc := sb.last(t, "HEALTHCHECK")
	_, hcCmd, ok := strings.Cut(hc, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %s has no CMD", hc)
	}
	hcArgs := execForm(t, "HEALTHCHECK CMD", hcCmd)
	if hcArgs[0] != entry[0] || len(hcArgs) != 4 || hcArgs[1] != "healthcheck" || hcArgs[2] != "--url" {
		t.Fatalf("HEALTHCHECK runs %v, want %s healthcheck --url URL", hcArgs, entry[0])
	}
	u, err := url.Parse(hcArgs[3])
	if err != nil || u.Hostname() != "127.0.0.1" || u.Path != "/healthz" || u.Port() != sb.last(t, "EXPOSE") {
		t.Errorf("HEALTHCHECK URL %s: want http://127.0.0.1:%s/healthz (EXPOSE)", hcArgs[3], sb.last(t, "EXPOSE"))
	}
	if cmd := execForm(t, "CMD", sb.last(t, "CMD")); len(cmd) != 3 || cmd[0] != "serve" || cmd[1] != "--config" {
		t.Errorf("CMD %v, want serve --config FILE", cmd)
	}
	emu := stageNamed(t, stages, "atlassian-emulator")
	if cmd := execForm(t, "CMD", emu.last(t, "CMD")); !slices.Contains(cmd, "0.0.0.0:"+emu.last(t, "EXPOSE")) {
		t.Errorf("emulator CMD %v does not listen on all interfaces at its EXPOSEd port", cmd)
	}
}

// dockerignored reports whether a .dockerignore pattern list excludes p
// (a slash path relative to the context), the way docker reads it: each
// pattern is matched against the whole path (filepath.Match syntax plus
// "**" for any number of directories), a match on a parent directory
// excludes what is inside, "!" re-includes, and the last match wins.
func dockerignored(patterns []string, p string) bool {
	excluded := false
	for _, pat := range patterns {
		neg := strings.HasPrefix(pat, "!")
		re := dockerPatternRE(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(pat, "!"), "/"), "/"))
		for q := p; q != "." && q != "/"; q = path.Dir(q) {
			if re.MatchString(q) {
				excluded = !neg
				break
			}
		}
	}
	return excluded
}

func dockerPatternRE(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; {
		case strings.HasPrefix(pat[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(pat[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	for _, keep := range []string{"go.mod", "go.sum", "cmd/scimbridge/main.go", "cmd/atlassian-emulator/main.go",
		"store/sqlite/migrations/0001_init.sql", "presets/data/okta.yaml"} {
		if dockerignored(patterns, keep) {
			t.Errorf(".dockerignore excludes %s, which the build needs", keep)
		}
		if _, err := os.Stat(filepath.Join(repoRoot, keep)); err != nil {
			t.Errorf("build input %s: %v", keep, err)
		}
	}
	for _, drop := range []string{".git/config", ".env", "scimbridge.db", "data/x.db-wal", "scimbridge", "scimbridge-data/demo-secrets.json", "scim.test", "deploy/compose/.env"} {
		if !dockerignored(patterns, drop) {
			t.Errorf(".dockerignore lets %s into the build context", drop)
		}
	}
}

func TestComposeFile(t *testing.T) {
	c := loadCompose(t)
	env := exampleEnv(t)
	stages := loadDockerfile(t)
	for _, name := range []string{"scimbridge", "atlassian-emulator", "prometheus", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %s is missing", name)
		}
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, m := range varRE.FindAllStringSubmatch(string(raw), -1) {
		if _, ok := env[m[1]]; !ok && !used[m[1]] {
			t.Errorf("docker-compose.yml uses ${%s}, which env.example does not set", m[1])
		}
		used[m[1]] = true
	}
	for k := range env {
		if !used[k] {
			t.Errorf("env.example sets %s, which docker-compose.yml does not use", k)
		}
	}
	for name, s := range c.Services {
		if s.Build != nil {
			ctx := filepath.Join(repoRoot, s.Build.Context)
			if _, err := os.Stat(filepath.Join(ctx, s.Build.Dockerfile)); err != nil {
				t.Errorf("%s: build: %v", name, err)
			}
			stageNamed(t, stages, s.Build.Target)
		} else if s.Image == "" || !strings.Contains(s.Image, ":") || strings.HasSuffix(s.Image, ":latest") {
			t.Errorf("%s: image %q: want a pinned tag", name, s.Image)
		}
		for _, m := range s.mounts(t) {
			switch {
			case m.bind:
				if _, err := os.Stat(filepath.Join(repoRoot, m.src)); err != nil {
					t.Errorf("%s mounts %s: %v", name, m.src, err)
				}
			case c.Volumes == nil:
				t.Errorf("%s: named volume %s is not declared", name, m.src)
			default:
				if _, ok := c.Volumes[m.src]; !ok {
					t.Errorf("%s: named volume %s is not declared", name, m.src)
				}
			}
			if !path.IsAbs(m.dst) {
				t.Errorf("%s: mount target %s is not absolute", name, m.dst)
			}
		}
		for _, d := range s.DependsOn {
			if _, ok := c.Services[d]; !ok {
				t.Errorf("%s depends on unknown service %s", name, d)
			}
		}
		for _, p := range s.Ports {
			parts := strings.Split(p, ":")
			for _, n := range parts {
				if _, err := strconv.ParseUint(n, 10, 16); err != nil {
					t.Errorf("%s: port %q: %v", name, p, err)
				}
			}
		}
	}

	// scimbridge: its config is valid for the real parser with the example
	// environment, and every address in it agrees with the compose file.
	sb := c.Services["scimbridge"]
	cfg := composeConfig(t, c, env)
	_, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil || port != sb.containerPort(t) || port != stageNamed(t, stages, "scimbridge").last(t, "EXPOSE") {
		t.Errorf("listen %s, published container port %s, EXPOSE %s: want one port", cfg.Listen, sb.containerPort(t), stageNamed(t, stages, "scimbridge").last(t, "EXPOSE"))
	}
	if host, _, _ := net.SplitHostPort(cfg.Listen); host != "0.0.0.0" && host != "" {
		t.Errorf("listen %s is not reachable from the other containers", cfg.Listen)
	}
	onVolume := false
	for _, m := range sb.mounts(t) {
		onVolume = onVolume || !m.bind && strings.HasPrefix(cfg.Database, m.dst+"/")
	}
	if !onVolume {
		t.Errorf("database %s is not on a named volume: it would not survive the container", cfg.Database)
	}
	grace, err := time.ParseDuration(sb.StopGracePeriod)
	if err != nil || grace <= shutdownTimeout {
		t.Errorf("stop_grace_period %q: want more than the %v graceful stop", sb.StopGracePeriod, shutdownTimeout)
	}
	emu := c.Services["atlassian-emulator"]
	_, emuPort, _ := net.SplitHostPort(flagValue(emu.Command, "--addr"))
	for _, tg := range cfg.Targets {
		u, err := url.Parse(tg.URL)
		if err != nil || u.Hostname() != "atlassian-emulator" || u.Port() != emuPort {
			t.Errorf("target %s at %s: want the emulator service at port %s", tg.Name, tg.URL, emuPort)
		}
		if tg.Token.Reveal() != interpolate(flagValue(emu.Command, "--token"), env) {
			t.Errorf("target %s's token is not the one the emulator accepts", tg.Name)
		}
	}
}

// promConfig holds the prometheus.yml keys the compose setup uses.
type promConfig struct {
	Global struct {
		ScrapeInterval     string `yaml:"scrape_interval"`
		EvaluationInterval string `yaml:"evaluation_interval"`
	} `yaml:"global"`
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName        string `yaml:"job_name"`
		MetricsPath    string `yaml:"metrics_path"`
		ScrapeInterval string `yaml:"scrape_interval"`
		StaticConfigs  []struct {
			Targets []string          `yaml:"targets"`
			Labels  map[string]string `yaml:"labels"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// promDurationRE is Prometheus's duration syntax (model.ParseDuration).
var promDurationRE = regexp.MustCompile(`^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$`)

func checkPromDuration(t *testing.T, what, d string, required bool) {
	t.Helper()
	if d == "" && !required {
		return
	}
	if d == "" || d == "0" || !promDurationRE.MatchString(d) {
		t.Errorf("%s: %q is not a Prometheus duration", what, d)
	}
}

// ruleFile is the Prometheus rule file format.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Limit    int    `yaml:"limit"`
		Rules    []struct {
			Alert         string            `yaml:"alert"`
			Record        string            `yaml:"record"`
			Expr          string            `yaml:"expr"`
			For           string            `yaml:"for"`
			KeepFiringFor string            `yaml:"keep_firing_for"`
			Labels        map[string]string `yaml:"labels"`
			Annotations   map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// balanced reports whether s's brackets pair up outside string literals: a
// cheap stand-in for promtool's parser, which is not available here.
func balanced(s string) bool {
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote && (i == 0 || s[i-1] != '\\') {
				quote = 0
			}
		case r == '"' || r == '\'' || r == '`':
			quote = r
		case r == '(' || r == '[' || r == '{':
			stack = append(stack, r)
		case pairs[r] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return false
			}
			stack = stack[:len(stack)-1]
		}
	}
	return len(stack) == 0 && quote == 0
}

func TestPrometheusConfigAndRules(t *testing.T) {
	c := loadCompose(t)
	prom := c.Services["prometheus"]
	cfgFile := ""
	for _, a := range prom.Command {
		if f, ok := strings.CutPrefix(a, "--config.file="); ok {
			cfgFile = prom.hostPath(t, f)
		}
	}
	if cfgFile == "" {
		t.Fatal("prometheus: --config.file is not a mounted file")
	}
	var pc promConfig
	decodeStrict(t, cfgFile, &pc)
	checkPromDuration(t, "global.scrape_interval", pc.Global.ScrapeInterval, false)
	checkPromDuration(t, "global.evaluation_interval", pc.Global.EvaluationInterval, false)

	sbCfg := composeConfig(t, c, exampleEnv(t))
	metricsAddr := sbCfg.Listen
	if sbCfg.MetricsListen != "" {
		metricsAddr = sbCfg.MetricsListen
	}
	_, metricsPort, _ := net.SplitHostPort(metricsAddr)
	jobs := map[string]bool{}
	scraped := false
	for _, sc := range pc.ScrapeConfigs {
		if sc.JobName == "" || jobs[sc.JobName] {
			t.Errorf("scrape job name %q empty or repeated", sc.JobName)
		}
		jobs[sc.JobName] = true
		checkPromDuration(t, sc.JobName+".scrape_interval", sc.ScrapeInterval, false)
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, port, err := net.SplitHostPort(target)
				if err != nil {
					t.Errorf("job %s: target %q: %v", sc.JobName, target, err)
					continue
				}
				if host == "scimbridge" {
					scraped = true
					if port != metricsPort || (sc.MetricsPath != "" && sc.MetricsPath != "/metrics") {
						t.Errorf("job %s scrapes %s%s; scimbridge serves /metrics on port %s", sc.JobName, target, sc.MetricsPath, metricsPort)
					}
				}
			}
		}
	}
	if !scraped {
		t.Error("no scrape job targets the scimbridge service")
	}

	// Every rule file mounted is loaded by a rule_files glob, and every
	// glob finds a mounted file.
	var ruleFiles []string
	for _, m := range prom.mounts(t) {
		if m.bind && m.dst != strings.TrimPrefix(cfgFile, repoRoot) && strings.HasPrefix(m.dst, "/etc/prometheus/rules") {
			loaded := false
			for _, g := range pc.RuleFiles {
				ok, _ := path.Match(g, m.dst)
				loaded = loaded || ok
			}
			if !loaded {
				t.Errorf("rule file %s is mounted at %s, which no rule_files glob loads", m.src, m.dst)
			}
			ruleFiles = append(ruleFiles, filepath.Join(repoRoot, m.src))
		}
	}
	if len(ruleFiles) == 0 {
		t.Fatal("prometheus mounts no rule file")
	}
	alerts := 0
	for _, f := range ruleFiles {
		var rf ruleFile
		decodeStrict(t, f, &rf)
		if len(rf.Groups) == 0 {
			t.Errorf("%s: no rule groups", f)
		}
		groups := map[string]bool{}
		for _, g := range rf.Groups {
			if g.Name == "" || groups[g.Name] {
				t.Errorf("%s: group name %q empty or repeated", f, g.Name)
			}
			groups[g.Name] = true
			checkPromDuration(t, g.Name+".interval", g.Interval, false)
			if len(g.Rules) == 0 {
				t.Errorf("%s: group %s has no rules", f, g.Name)
			}
			for i, r := range g.Rules {
				where := fmt.Sprintf("%s: group %s rule %d (%s%s)", filepath.Base(f), g.Name, i, r.Alert, r.Record)
				if (r.Alert == "") == (r.Record == "") {
					t.Errorf("%s: want exactly one of alert and record", where)
				}
				if r.Record != "" && !metricNameRE.MatchString(r.Record) {
					t.Errorf("%s: record %q is not a metric name", where, r.Record)
				}
				if r.Alert != "" {
					alerts++
					if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
						t.Errorf("%s: an alert needs labels.severity and annotations.summary", where)
					}
				}
				if strings.TrimSpace(r.Expr) == "" || !balanced(r.Expr) {
					t.Errorf("%s: expr %q is empty or its brackets do not pair", where, r.Expr)
				}
				checkPromDuration(t, where+" for", r.For, false)
				checkPromDuration(t, where+" keep_firing_for", r.KeepFiringFor, false)
				for k, v := range r.Annotations {
					if strings.Count(v, "{{") != strings.Count(v, "}}") {
						t.Errorf("%s: annotation %s has unpaired {{ }}", where, k)
					}
				}
			}
		}
	}
	if alerts == 0 {
		t.Error("the rule files hold no alert")
	}
}

// grafanaDatasources is a Grafana datasource provisioning file.
type grafanaDatasources struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string `yaml:"name"`
		UID       string `yaml:"uid"`
		Type      string `yaml:"type"`
		Access    string `yaml:"access"`
		URL       string `yaml:"url"`
		IsDefault bool   `yaml:"isDefault"`
		Editable  bool   `yaml:"editable"`
	} `yaml:"datasources"`
}

// grafanaProviders is a Grafana dashboard provisioning file.
type grafanaProviders struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name                  string `yaml:"name"`
		Folder                string `yaml:"folder"`
		Type                  string `yaml:"type"`
		DisableDeletion       bool   `yaml:"disableDeletion"`
		AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
		UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
		Options               struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

// datasourceRefs collects every "datasource" value in a dashboard.
func datasourceRefs(v any, out *[]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if k == "datasource" {
				*out = append(*out, val)
			}
			datasourceRefs(val, out)
		}
	case []any:
		for _, e := range x {
			datasourceRefs(e, out)
		}
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	c := loadCompose(t)
	g := c.Services["grafana"]
	var dsFiles, providerFiles []string
	for _, m := range g.mounts(t) {
		switch {
		case strings.HasPrefix(m.dst, "/etc/grafana/provisioning/datasources/"):
			dsFiles = append(dsFiles, filepath.Join(repoRoot, m.src))
		case strings.HasPrefix(m.dst, "/etc/grafana/provisioning/dashboards/"):
			providerFiles = append(providerFiles, filepath.Join(repoRoot, m.src))
		}
	}
	if len(dsFiles) == 0 || len(providerFiles) == 0 {
		t.Fatalf("grafana: datasource files %v, dashboard provider files %v: want both", dsFiles, providerFiles)
	}
	promPort := c.Services["prometheus"].containerPort(t)
	uids := map[string]bool{}
	for _, f := range dsFiles {
		var ds grafanaDatasources
		decodeStrict(t, f, &ds)
		if ds.APIVersion != 1 || len(ds.Datasources) == 0 {
			t.Errorf("%s: apiVersion %d with %d datasources", f, ds.APIVersion, len(ds.Datasources))
		}
		for _, d := range ds.Datasources {
			u, err := url.Parse(d.URL)
			if d.Type != "prometheus" || err != nil || u.Hostname() != "prometheus" || u.Port() != promPort {
				t.Errorf("datasource %s: type %s at %s, want the prometheus service at port %s", d.Name, d.Type, d.URL, promPort)
			}
			uids[d.UID] = true
		}
	}
	dashboards := 0
	for _, f := range providerFiles {
		var p grafanaProviders
		decodeStrict(t, f, &p)
		if p.APIVersion != 1 || len(p.Providers) == 0 {
			t.Fatalf("%s: apiVersion %d with %d providers", f, p.APIVersion, len(p.Providers))
		}
		for _, pr := range p.Providers {
			if pr.Type != "file" || !path.IsAbs(pr.Options.Path) {
				t.Errorf("provider %s: type %s, path %q", pr.Name, pr.Type, pr.Options.Path)
			}
			for _, m := range g.mounts(t) {
				if !m.bind || !strings.HasPrefix(m.dst, pr.Options.Path+"/") || !strings.HasSuffix(m.dst, ".json") {
					continue
				}
				dashboards++
				checkDashboard(t, filepath.Join(repoRoot, m.src), uids)
			}
		}
	}
	if dashboards == 0 {
		t.Error("no dashboard JSON is mounted where a provider looks")
	}
	if home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != "" && g.hostPath(t, home) == "" {
		t.Errorf("the home dashboard %s is not mounted", home)
	}
}

// checkDashboard loads a dashboard and checks that every data source it
// names is a provisioned uid or a data source variable of its own.
func checkDashboard(t *testing.T, file string, uids map[string]bool) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title      string `json:"title"`
		Panels     []any  `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if d.Title == "" || len(d.Panels) == 0 {
		t.Errorf("%s: title %q, %d panels", file, d.Title, len(d.Panels))
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		if v.Type == "datasource" {
			vars["$"+v.Name], vars["${"+v.Name+"}"] = true, true
		}
	}
	var whole any
	_ = json.Unmarshal(data, &whole)
	var refs []any
	datasourceRefs(whole, &refs)
	for _, r := range refs {
		var uid string
		switch x := r.(type) {
		case string:
			uid = x
		case map[string]any:
			uid, _ = x["uid"].(string)
		case nil:
			continue // the panel's default
		}
		if !uids[uid] && !vars[uid] && uid != "-- Grafana --" && uid != "grafana" {
			t.Errorf("%s names data source %q: neither provisioned (%v) nor a data source variable", filepath.Base(file), uid, uids)
		}
	}
}

// The stand-ins for docker's and promtool's parsers must tell good from bad.
func TestContainerCheckHelpers(t *testing.T) {
	for expr, want := range map[string]bool{
		`sum by (a) (rate(x{b="c"}[5m])) > 0`: true,
		`x{a=")"}`:                            true,
		`rate(x[5m]`:                          false,
		`x{a="b"]`:                            false,
		`x{a="b}`:                             false,
	} {
		if got := balanced(expr); got != want {
			t.Errorf("balanced(%q) = %v", expr, got)
		}
	}
	for d, want := range map[string]bool{"15s": true, "1h30m": true, "500ms": true, "2d": true, "15": false, "1.5h": false, "0": false, "": false} {
		if got := d != "" && d != "0" && promDurationRE.MatchString(d); got != want {
			t.Errorf("duration %q accepted = %v", d, got)
		}
	}
	patterns := []string{".git", "*.db", "**/*.test", "/bin/", "/scimbridge", "docs/**", "!docs/keep.md"}
	for p, want := range map[string]bool{
		".git/HEAD": true, "x.db": true, "a/b/x.db": false, "a/b/x.test": true, "x.test": true, "bin/tool": true,
		"scimbridge": true, "cmd/scimbridge/main.go": false, "go.mod": false, "x.dbx": false,
		"docs/a/b.md": true, "docs/keep.md": false,
	} {
		if got := dockerignored(patterns, p); got != want {
			t.Errorf("dockerignored(%q) = %v", p, got)
		}
	}
	if got := interpolate("a ${X:?must} b ${Y:-d} ${X}", map[string]string{"X": "1", "Y": "2"}); got != "a 1 b 2 1" {
		t.Errorf("interpolate = %q", got)
	}
}
