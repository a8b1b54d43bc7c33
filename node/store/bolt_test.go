package store_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/intentcast/intentcast/node/store"
	"github.com/intentcast/intentcast/node/store/storetest"
)

func TestBoltConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openBolt(t, filepath.Join(t.TempDir(), "store.db"))
	})
}

// openBolt opens the store at path and closes it when the test ends.
func openBolt(t testing.TB, path string) *store.Bolt {
	t.Helper()
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func id(name string) store.ID { return sha256.Sum256([]byte(name)) }

var now = time.Date(2031, time.May, 6, 7, 8, 9, 123456789, time.UTC)

// TestBoltReopen writes one record of every kind, closes the store, opens
// the file again and finds everything as it was.
func TestBoltReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	own := store.OwnIntent{ID: id("own"), Category: "home", Raw: []byte("intent"), SigningSeed: make([]byte, 32),
		ReplySuite: 1, ReplyKey: []byte("key"), Created: now, Expires: now.Add(time.Hour), State: store.IntentOpen}
	live := store.LiveIntent{ID: id("live"), Category: "home", Raw: []byte("intent"), Expires: now.Add(time.Hour), Received: now}
	tomb := store.Tombstone{IntentID: id("tomb"), Category: "home", Raw: []byte("cancel"), Expires: now.Add(time.Hour)}
	offer := store.Offer{ID: id("offer"), IntentID: id("own"), Direction: store.Received, Raw: []byte("sealed"),
		Inner: []byte("inner"), Status: store.OfferRefused, Reason: "terms", Received: now}
	deal := store.Deal{IntentID: id("own"), OfferID: id("offer"), Role: store.RoleCustomer, IntentRaw: []byte("intent"),
		OfferInner: []byte("inner"), AcceptRaw: []byte("accept"), Closed: now}

	s := openBolt(t, path)
	for _, err := range []error{
		s.PutOwnIntent(ctx, own),
		s.PutLiveIntent(ctx, live),
		s.PutTombstone(ctx, tomb),
		s.PutOffer(ctx, offer),
		s.PutDeal(ctx, deal),
		errOf(s.MarkSeen(ctx, id("seen"), now)),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openBolt(t, path)
	tests := []struct {
		name string
		got  func() (any, error)
		want any
	}{
		{"OwnIntents", func() (any, error) { return s.OwnIntents(ctx) }, []store.OwnIntent{own}},
		{"LiveIntents", func() (any, error) { return s.LiveIntents(ctx, now) }, []store.LiveIntent{live}},
		{"Tombstones", func() (any, error) { return s.Tombstones(ctx, "home", now) }, []store.Tombstone{tomb}},
		{"Offers", func() (any, error) { return s.Offers(ctx, id("own")) }, []store.Offer{offer}},
		{"OffersByDirection", func() (any, error) { return s.OffersByDirection(ctx, store.Received) }, []store.Offer{offer}},
		{"Deals", func() (any, error) { return s.Deals(ctx) }, []store.Deal{deal}},
		{"Seen", func() (any, error) { return s.Seen(ctx, id("seen")) }, true},
	}
	for _, tc := range tests {
		got, err := tc.got()
		if err != nil {
			t.Errorf("%s after reopening: %v", tc.name, err)
		} else if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s after reopening:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

// TestBoltFileMode checks that Open creates the parent directory 0700 and
// the file 0600, and restores 0600 on a file that was opened up.
func TestBoltFileMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "intentcast")
	path := filepath.Join(dir, "store.db")
	s := openBolt(t, path)
	checkMode(t, dir, 0o700|os.ModeDir)
	checkMode(t, path, 0o600)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	openBolt(t, path)
	checkMode(t, path, 0o600)
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModePerm | os.ModeDir); got != want {
		t.Errorf("mode of %s = %v, want %v", path, got, want)
	}
}

// TestBoltLocked opens a store that is already open: the second Open fails
// with ErrLocked within the lock timeout instead of hanging. bbolt locks with
// flock, which conflicts between two opens in one process just as between
// two processes.
func TestBoltLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	openBolt(t, path)
	start := time.Now()
	s, err := store.Open(path)
	if err == nil {
		s.Close()
		t.Fatal("second Open of an open store succeeded")
	}
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("second Open: got %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("second Open: error %q does not say the store is locked", err)
	}
	if elapsed := time.Since(start); elapsed > time.Minute {
		t.Errorf("second Open took %s to fail", elapsed)
	}
}

// TestBoltRefusesFiles checks what Open makes of files it must not use.
func TestBoltRefusesFiles(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		want    error
	}{
		{"NewerSchema", func(t *testing.T, path string) {
			openBolt(t, path).Close()
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte{0, 0, 0, 0xff})
			})
		}, store.ErrNewerSchema},
		{"ForeignBolt", func(t *testing.T, path string) {
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("someone-else"))
				return err
			})
		}, store.ErrCorrupt},
		{"NotBolt", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, store.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			tc.prepare(t, path)
			s, err := store.Open(path)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Open: got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestBoltUpgrades opens files of schemas 1 and 2 as those builds wrote
// their live intents (keyed by ID, the expiry in the record and in
// live_by_exp; schema 1 also had live_by_cat). Open rekeys them by expiry,
// drops the indexes and a record neither could decode, and stamps schema 3;
// the intents read back whole, and Prune deletes the expired one.
func TestBoltUpgrades(t *testing.T) {
	for _, from := range []byte{1, 2} {
		t.Run(fmt.Sprint("schema ", from), func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "store.db")
			expired := store.LiveIntent{ID: id("expired"), Category: "home", Raw: []byte("intent 1"), Expires: now, Received: now.Add(-time.Hour)}
			live := store.LiveIntent{ID: id("live"), Category: "travel", Raw: []byte("intent 2"), Expires: now.Add(time.Hour), Received: now}
			s := openBolt(t, path)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				return writeOldLive(tx, from, []store.LiveIntent{expired, live})
			})

			s = openBolt(t, path)
			got, err := s.LiveIntents(ctx, time.Time{})
			if err != nil || !reflect.DeepEqual(got, []store.LiveIntent{expired, live}) {
				t.Errorf("LiveIntents after the upgrade = %+v, %v; want the two intents of schema %d", got, err, from)
			}
			if n, err := s.Prune(ctx, now.Add(time.Second)); n != 1 || err != nil {
				t.Errorf("Prune after the upgrade = %d, %v; want 1, nil", n, err)
			}
			if got, err := s.LiveIntents(ctx, time.Time{}); err != nil || !reflect.DeepEqual(got, []store.LiveIntent{live}) {
				t.Errorf("LiveIntents after Prune = %+v, %v; want the unexpired one", got, err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := rawView(t, path, func(tx *bolt.Tx) error {
				if v := tx.Bucket([]byte("meta")).Get([]byte("schema")); !bytes.Equal(v, []byte{0, 0, 0, 3}) {
					t.Errorf("schema after the upgrade = %x, want 00000003", v)
				}
				for _, old := range []string{"live_by_cat", "live_by_exp"} {
					if tx.Bucket([]byte(old)) != nil {
						t.Errorf("the upgrade left bucket %s", old)
					}
				}
				var keys []string
				_ = tx.Bucket([]byte("live")).ForEach(func(k, _ []byte) error { keys = append(keys, fmt.Sprintf("%x", k)); return nil })
				if want := fmt.Sprintf("%x%x", stamp(live.Expires), live.ID); !reflect.DeepEqual(keys, []string{want}) {
					t.Errorf("live keys = %v, want [%s] (stamp(Expires)|ID)", keys, want)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// writeOldLive makes the file a store of schema 1 or 2 holding live, with
// a third live record that does not decode.
func writeOldLive(tx *bolt.Tx, schema byte, live []store.LiveIntent) error {
	if err := tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte{0, 0, 0, schema}); err != nil {
		return err
	}
	if err := tx.DeleteBucket([]byte("live")); err != nil {
		return err
	}
	byID, err := tx.CreateBucket([]byte("live"))
	if err != nil {
		return err
	}
	byExp, err := tx.CreateBucket([]byte("live_by_exp"))
	if err != nil {
		return err
	}
	var byCat *bolt.Bucket // schema 1's alone
	if schema == 1 {
		if byCat, err = tx.CreateBucket([]byte("live_by_cat")); err != nil {
			return err
		}
	}
	for _, in := range live {
		rec, err := cbor.Marshal(map[int]any{1: in.Category, 2: in.Raw, 3: stamp(in.Expires), 4: stamp(in.Received)})
		if err != nil {
			return err
		}
		expKey := append(stamp(in.Expires), in.ID[:]...)
		if err := errors.Join(byID.Put(in.ID[:], rec), byExp.Put(expKey, nil)); err != nil {
			return err
		}
		if byCat != nil {
			catKey := append(append([]byte{byte(len(in.Category))}, in.Category...), expKey...)
			if err := byCat.Put(catKey, nil); err != nil {
				return err
			}
		}
	}
	damaged := id("damaged")
	return byID.Put(damaged[:], []byte("garbage"))
}

// stamp is the store's 12-byte time: Unix seconds with the sign bit
// flipped, then nanoseconds, both big-endian.
func stamp(t time.Time) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// rawView reads the bbolt file at path as it lies on disk, not through the
// store; it returns fn's error.
func rawView(t *testing.T, path string, fn func(*bolt.Tx) error) error {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.View(fn)
}

// rawUpdate changes the bbolt file at path behind the store's back.
func rawUpdate(t *testing.T, path string, fn func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// TestBoltCorruptRecord damages stored records: reads report ErrCorrupt,
// and the records can still be replaced or pruned, leaving no stale index
// entries behind.
func TestBoltCorruptRecord(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	offer := store.Offer{ID: id("offer"), IntentID: id("intent"), Direction: store.Received, Status: store.OfferValid, Received: now}
	live := store.LiveIntent{ID: id("live"), Category: "home", Expires: now, Received: now}
	s := openBolt(t, path)
	if err := s.PutOffer(ctx, offer); err != nil {
		t.Fatal(err)
	}
	if err := s.PutLiveIntent(ctx, live); err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		// {7: h'ff'}: well-formed CBOR, but the Received time is 1 byte long.
		if err := tx.Bucket([]byte("offer")).Put(offer.ID[:], []byte{0xa1, 0x07, 0x41, 0xff}); err != nil {
			return err
		}
		k, _ := tx.Bucket([]byte("live")).Cursor().First()
		return tx.Bucket([]byte("live")).Put(k, []byte("garbage"))
	})

	s = openBolt(t, path)
	if _, err := s.Offer(ctx, offer.ID); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Offer of a damaged record: got %v, want ErrCorrupt", err)
	}
	if _, err := s.Offers(ctx, offer.IntentID); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Offers listing a damaged record: got %v, want ErrCorrupt", err)
	}
	offer.Status = store.OfferRefused
	if err := s.PutOffer(ctx, offer); err != nil {
		t.Fatalf("replacing a damaged record: %v", err)
	}
	if got, err := s.Offers(ctx, offer.IntentID); err != nil || len(got) != 1 || got[0].Status != store.OfferRefused {
		t.Errorf("Offers after replacing the damaged record = %+v, %v; want the replacement alone", got, err)
	}

	if n, err := s.Prune(ctx, now.Add(time.Second)); n != 1 || err != nil {
		t.Errorf("Prune of a damaged expired record = %d, %v; want 1, nil", n, err)
	}
	if got, err := s.LiveIntents(ctx, time.Time{}); err != nil || len(got) != 0 {
		t.Errorf("LiveIntents after pruning the damaged record = %+v, %v; want none", got, err)
	}
}
