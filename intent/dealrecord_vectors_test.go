package intent_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/intentcast/intentcast/intent"
)

// TestDealRecordVectors verifies every deal record vector: the valid one
// verifies and holds the valid messages, every other fails exactly its
// named check.
func TestDealRecordVectors(t *testing.T) {
	set := loadVectors(t)
	if len(set.Deals) == 0 {
		t.Fatal("no deal record vectors")
	}
	for _, v := range set.Deals {
		t.Run(v.Name, func(t *testing.T) {
			if got := intent.IDOf(v.Wire).String(); got != v.ID {
				t.Fatalf("id %s, the vector says %s", got, v.ID)
			}
			d, err := intent.VerifyDealRecord(v.Wire, set.Time())
			if v.Check == "" {
				if err != nil {
					t.Fatalf("valid record refused: %v", err)
				}
				if !bytes.Equal(d.Intent.Raw, set.Vector("intent").Wire) || !bytes.Equal(d.Offer.Raw, set.Offer.Inner) ||
					!bytes.Equal(d.Accept.Raw, set.Vector("accept").Wire) {
					t.Fatal("the valid record does not hold the valid intent, offer and accept")
				}
				return
			}
			var de *intent.DealError
			if !errors.As(err, &de) || string(de.Check) != v.Check {
				t.Fatalf("got %v, want check %s to fail", err, v.Check)
			}
		})
	}
}
