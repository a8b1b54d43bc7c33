package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/intentcast/intentcast/cmd/intentcast/internal/daemon"
	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/node/api/client"
)

func TestInitCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	r := mustRun(t, "--data-dir", dir, "init", "--profile", "test")
	for _, f := range []string{daemon.NodeKeyFile, daemon.VendorKeyFile, daemon.TokenFile, daemon.ConfigFile} {
		if !strings.Contains(r.stdout, "created "+f) {
			t.Errorf("init output does not report creating %s:\n%s", f, r.stdout)
		}
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", f, got)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("data dir has mode %04o, want 0700", got)
	}
	if _, err := crypto.ReadIdentityFile(filepath.Join(dir, daemon.VendorKeyFile)); err != nil {
		t.Errorf("vendor.key: %v", err)
	}
	if _, err := daemon.ReadNodeKey(filepath.Join(dir, daemon.NodeKeyFile)); err != nil {
		t.Errorf("node.key: %v", err)
	}
	tok, err := client.ReadToken(filepath.Join(dir, daemon.TokenFile))
	if err != nil || len(tok) != 64 {
		t.Errorf("api.token = %q (%v), want 64 hex digits", tok, err)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("data dir holds %d entries, want the 4 files: %v", len(entries), entries)
	}
}

// TestInitMakesAnOpenDataDirPrivate: a data dir that already exists with
// mode 0755 (made by hand, or by another tool) is made 0700, since the keys
// and the API token live in it.
func TestInitMakesAnOpenDataDirPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "--data-dir", dir, "init", "--profile", "test")
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("data dir has mode %04o after init, want 0700", got)
	}
}

func TestInitTwiceKeepsKeysAndToken(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "--data-dir", dir, "init")
	read := func() map[string][]byte {
		m := map[string][]byte{}
		for _, f := range []string{daemon.NodeKeyFile, daemon.VendorKeyFile, daemon.TokenFile, daemon.ConfigFile} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			m[f] = b
		}
		return m
	}
	before := read()

	// A second init, even with another profile, keeps everything.
	r := mustRun(t, "--data-dir", dir, "init", "--profile", "internet")
	for _, f := range []string{daemon.NodeKeyFile, daemon.VendorKeyFile, daemon.TokenFile, daemon.ConfigFile} {
		if !strings.Contains(r.stdout, "kept    "+f) {
			t.Errorf("second init does not say it kept %s:\n%s", f, r.stdout)
		}
	}
	after := read()
	for f := range before {
		if !bytes.Equal(before[f], after[f]) {
			t.Errorf("second init changed %s", f)
		}
	}

	// --force-config rewrites config.toml only.
	if err := os.WriteFile(filepath.Join(dir, daemon.ConfigFile), []byte("# edited\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, "--data-dir", dir, "init", "--profile", "internet", "--force-config")
	if !strings.Contains(r.stdout, "created "+daemon.ConfigFile) {
		t.Errorf("--force-config does not report rewriting config.toml:\n%s", r.stdout)
	}
	forced := read()
	for _, f := range []string{daemon.NodeKeyFile, daemon.VendorKeyFile, daemon.TokenFile} {
		if !bytes.Equal(before[f], forced[f]) {
			t.Errorf("--force-config changed %s", f)
		}
	}
	c, err := daemon.LoadConfig(filepath.Join(dir, daemon.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Node.DisableMDNS {
		t.Errorf("config after --force-config --profile internet has mDNS on")
	}
}

func TestInitJSON(t *testing.T) {
	r := mustRun(t, "--data-dir", t.TempDir(), "--json", "init")
	rep := decodeJSON[daemon.InitReport](t, r)
	if len(rep.Created) != 4 || !strings.HasPrefix(rep.PeerID, "12D3KooW") || rep.Profile != "lan" {
		t.Errorf("init --json = %+v", rep)
	}
}

// TestConfigFileSpellsOutEveryDefault checks, for every profile, that
// config.toml parses back into the profile's config and sets every key.
func TestConfigFileSpellsOutEveryDefault(t *testing.T) {
	for _, profile := range daemon.Profiles {
		t.Run(profile, func(t *testing.T) {
			dir := t.TempDir()
			mustRun(t, "--data-dir", dir, "init", "--profile", profile)
			path := filepath.Join(dir, daemon.ConfigFile)
			var got daemon.Config
			md, err := toml.DecodeFile(path, &got)
			if err != nil {
				t.Fatal(err)
			}
			want, err := daemon.ProfileConfig(profile)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config.toml decodes to\n%+v\nwant the profile's\n%+v", got, want)
			}
			for _, key := range configKeys(reflect.TypeFor[daemon.Config](), nil) {
				if !md.IsDefined(key...) {
					t.Errorf("config.toml does not set %s", strings.Join(key, "."))
				}
			}
			if len(md.Undecoded()) > 0 {
				t.Errorf("config.toml has keys Config does not know: %v", md.Undecoded())
			}
			if _, err := daemon.LoadConfig(path); err != nil {
				t.Errorf("loadConfig: %v", err)
			}
			b, _ := os.ReadFile(path)
			if n := strings.Count(string(b), "\n#"); n < 10 {
				t.Errorf("config.toml has %d comment lines; every setting should be explained:\n%s", n, b)
			}
		})
	}
}

// configKeys lists the TOML keys of a config struct.
func configKeys(typ reflect.Type, prefix []string) [][]string {
	var keys [][]string
	for f := range typ.Fields() {
		key := append(append([]string(nil), prefix...), f.Tag.Get("toml"))
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, configKeys(f.Type, key)...)
		} else {
			keys = append(keys, key)
		}
	}
	return keys
}

func TestLoadConfigRejectsUnknownKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), daemon.ConfigFile)
	os.WriteFile(path, []byte("[node]\nlisten_addrs = []\n"), 0o600)
	_, err := daemon.LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), "node.listen_addrs") {
		t.Fatalf("loadConfig with a misspelt key: %v, want an error naming node.listen_addrs", err)
	}
	os.WriteFile(path, []byte("[log]\nlevel = \"loud\"\n"), 0o600)
	if _, err := daemon.LoadConfig(path); err == nil || !strings.Contains(err.Error(), "log.level") {
		t.Fatalf("loadConfig with a bad level: %v, want an error naming log.level", err)
	}
}

func TestReadPrivateFileRefusesOpenModes(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "--data-dir", dir, "init")
	path := filepath.Join(dir, daemon.TokenFile)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ReadToken(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("readToken of a 0644 file: %v, want a refusal that says chmod 600", err)
	}
}

// The internet profile takes its bootstrap list from init and turns on the
// DHT, the relay service and NAT traversal.
func TestInitInternetProfile(t *testing.T) {
	dir := t.TempDir()
	const boot = "/ip4/203.0.113.7/tcp/4001/p2p/12D3KooWRBhwfeP2Y9CDkFRBAZ1pmxUadH36TKuk3KvKm5XXP8mA"
	mustRun(t, "--data-dir", dir, "init", "--profile", "internet", "--bootstrap", boot)
	c, err := daemon.LoadConfig(filepath.Join(dir, daemon.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Node
	if !slices.Equal(n.Bootstrap, []string{boot}) || n.DHT != "auto" || !n.RelayService || n.Reachability != "auto" || n.DisableNATTraversal || !n.DisableMDNS {
		t.Errorf("internet profile's [node] = %+v", n)
	}
	for key, bad := range map[string]string{"dht": "sometimes", "advertise": "loudly", "reachability": "maybe"} {
		path := filepath.Join(t.TempDir(), daemon.ConfigFile)
		os.WriteFile(path, []byte("[node]\n"+key+" = \""+bad+"\"\n"), 0o600)
		if _, err := daemon.LoadConfig(path); err == nil || !strings.Contains(err.Error(), "node."+key) {
			t.Errorf("loadConfig with %s = %q: %v, want an error naming node.%s", key, bad, err, key)
		}
	}
}

// TestLoadConfigConnections: the connection watermarks come from
// config.toml, one alone or both, and bad ones name their key.
func TestLoadConfigConnections(t *testing.T) {
	path := refusesConfigs(t, map[string]string{
		"[node]\nconn_low = -1\n":                 "node.conn_low",
		"[node]\nconn_high = 5000\n":              "node.conn_high",
		"[node]\nconn_low = 50\nconn_high = 40\n": "node.conn_low = 50 is above node.conn_high = 40",
		"[node]\nconn_low = \"many\"\n":           "conn_low",
	})
	for body, want := range map[string][2]int{
		"[node]\nconn_low = 8\nconn_high = 200\n": {8, 200},
		"[node]\nconn_high = 200\n":               {0, 200},
		"":                                        {0, 0},
	} {
		os.WriteFile(path, []byte(body), 0o600)
		c, err := daemon.LoadConfig(path)
		if err != nil {
			t.Fatalf("loadConfig(%q): %v", body, err)
		}
		nc := (&daemon.Daemon{Config: c}).NodeConfig(nil)
		if nc.ConnLow != want[0] || nc.ConnHigh != want[1] {
			t.Errorf("config %q gives the node watermarks %d/%d, want %d/%d", body, nc.ConnLow, nc.ConnHigh, want[0], want[1])
		}
	}
}

// refusesConfigs checks that loadConfig refuses each config.toml body with
// an error containing its text, and returns the path it used.
func refusesConfigs(t *testing.T, bodies map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), daemon.ConfigFile)
	for body, key := range bodies {
		os.WriteFile(path, []byte(body), 0o600)
		if _, err := daemon.LoadConfig(path); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("loadConfig(%q): %v, want an error naming %s", body, err, key)
		}
	}
	return path
}

func TestLoadConfigChecksStem(t *testing.T) {
	path := refusesConfigs(t, map[string]string{
		"[node]\nstem_fluff_probability = 1.5\n": "node.stem_fluff_probability",
		"[node]\nstem_epoch = \"ten minutes\"\n": "node.stem_epoch",
		"[node]\nstem_timeout = \"-4s\"\n":       "node.stem_timeout",
	})
	os.WriteFile(path, []byte("[node]\ndisable_stem = true\nstem_fluff_probability = 0.25\nstem_epoch = \"5m\"\nstem_timeout = \"2s\"\n"), 0o600)
	c, err := daemon.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	nc := (&daemon.Daemon{Config: c}).NodeConfig(nil)
	if !nc.DisableStem || nc.StemFluffProbability != 0.25 || nc.StemEpoch != 5*time.Minute || nc.StemTimeout != 2*time.Second {
		t.Errorf("the node gets stem settings %v %v %v %v from config.toml", nc.DisableStem, nc.StemFluffProbability, nc.StemEpoch, nc.StemTimeout)
	}
}
