package bench

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
)

// ValidationResult compares, on one pool of distinct intents, how many
// intents per second can be checked by
//   - a bare Ed25519 verification of exactly the bytes each intent's
//     signature covers (the floor: a relay cannot do less);
//   - intent.Parse + Validate (the protocol's stateless checks);
//   - a node's whole gossip validator (Node.CheckMessage: the above plus
//     tombstone and replay lookups and the live set),
//
// with 1 worker and with one worker per core. The 1-worker rates are per
// second of process CPU time (the garbage collector's included), which
// other load on the machine disturbs far less than wall time; the
// multi-worker rates are per second of wall time, as they measure how the
// checks scale across cores.
type ValidationResult struct {
	Intents int
	Workers int // the multi-worker runs' worker count (GOMAXPROCS)

	Ed25519, ParseValidate, NodeCheck          float64 // intents per CPU second, 1 worker
	Ed25519Par, ParseValidatePar, NodeCheckPar float64 // intents/s, Workers workers
}

// Efficiency is ParseValidate / Ed25519 with one worker: the share of a
// core's verification rate the protocol's checks keep.
func (v ValidationResult) Efficiency() float64 { return v.ParseValidate / v.Ed25519 }

// NodeEfficiency is NodeCheck / Ed25519 with one worker.
func (v ValidationResult) NodeEfficiency() float64 { return v.NodeCheck / v.Ed25519 }

// NodeEfficiencyPar is NodeCheckPar / Ed25519Par: whether the node's checks
// scale across cores as well as bare verification does.
func (v ValidationResult) NodeEfficiencyPar() float64 { return v.NodeCheckPar / v.Ed25519Par }

// sigInput is what one intent's signature covers, ready for ed25519.Verify.
type sigInput struct {
	pub ed25519.PublicKey
	tbs []byte
	sig []byte
}

// sigInputOf builds the COSE Sig_structure ["Signature1", protected, h”,
// payload] of a signed intent and checks that it verifies.
func sigInputOf(in *intent.SignedIntent) (sigInput, error) {
	m, err := crypto.ParseSign1(in.Raw)
	if err != nil {
		return sigInput{}, err
	}
	tbs, err := cbor.Marshal([]any{"Signature1", m.Protected, []byte{}, m.Payload})
	if err != nil {
		return sigInput{}, err
	}
	si := sigInput{pub: ed25519.PublicKey(in.Body.SigningKey), tbs: tbs, sig: m.Signature}
	if !ed25519.Verify(si.pub, si.tbs, si.sig) {
		return sigInput{}, fmt.Errorf("the Sig_structure is not what intent %s's signature covers", in.ID.Short())
	}
	return si, nil
}

// newCheckNode starts a node to run CheckMessage on: it needs no peers.
func newCheckNode(ctx context.Context, minWork int) (*node.Node, error) {
	return node.New(ctx, node.Config{
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		DisableMDNS: true,
		Categories:  []string{benchCategory},
		Policy:      intent.Policy{MinWork: minWork, MinOfferWork: minWork},
		Logger:      quietLogger,
	})
}

// chunkTime runs f on items [lo, hi) with workers goroutines and returns
// how long it took, in wall time and in process CPU time.
func chunkTime(lo, hi, workers int, f func(k int) error) (wall, cpu time.Duration, err error) {
	var next atomic.Int64
	next.Store(int64(lo))
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	start, c0 := time.Now(), cpuTime()
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= hi {
					return
				}
				if err := f(k); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), cpuTime() - c0, firstErr
}

// validationChunk is how many intents each check runs on before the next
// check takes its turn: the three checks are interleaved in chunks, so
// that other load on the machine slows them alike and their ratios hold.
const validationChunk = 500

// MeasureValidation mints pool distinct intents and measures the three
// validation rates on them with 1 and with workers workers.
func MeasureValidation(ctx context.Context, pool, workers int) (ValidationResult, error) {
	res := ValidationResult{Intents: pool, Workers: workers}
	ins, _, _, err := mintIntents(ctx, pool, DefaultMinWork)
	if err != nil {
		return res, err
	}
	sigs := make([]sigInput, pool)
	for k, in := range ins {
		if sigs[k], err = sigInputOf(in); err != nil {
			return res, err
		}
	}
	policy := intent.Policy{MinWork: DefaultMinWork}
	verify := func(k int) error {
		if !ed25519.Verify(sigs[k].pub, sigs[k].tbs, sigs[k].sig) {
			return fmt.Errorf("intent %d: bad signature", k)
		}
		return nil
	}
	parseValidate := func(k int) error {
		m, err := intent.Parse(ins[k].Raw)
		if err != nil {
			return err
		}
		in, ok := m.(*intent.SignedIntent)
		if !ok {
			return fmt.Errorf("intent %d parsed as %T", k, m)
		}
		return in.Validate(time.Now(), policy)
	}
	for _, w := range []int{1, workers} {
		// A fresh node per run: a node accepts each intent once.
		nd, err := newCheckNode(ctx, DefaultMinWork)
		if err != nil {
			return res, err
		}
		check := func(k int) error { return nd.CheckMessage(ctx, benchCategory, false, ins[k].Raw) }
		var times, cpus [3]time.Duration
		for lo := 0; lo < pool; lo += validationChunk {
			hi := min(lo+validationChunk, pool)
			for i, f := range []func(int) error{verify, parseValidate, check} {
				d, c, err := chunkTime(lo, hi, w, f)
				if err != nil {
					nd.Close()
					return res, err
				}
				times[i] += d
				cpus[i] += c
			}
		}
		nd.Close()
		rate := func(d time.Duration) float64 { return float64(pool) / d.Seconds() }
		if w == 1 {
			res.Ed25519, res.ParseValidate, res.NodeCheck = rate(cpus[0]), rate(cpus[1]), rate(cpus[2])
		} else {
			res.Ed25519Par, res.ParseValidatePar, res.NodeCheckPar = rate(times[0]), rate(times[1]), rate(times[2])
		}
	}
	return res, nil
}
