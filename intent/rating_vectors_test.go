package intent_test

import (
	"fmt"
	"testing"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/intent/internal/vectors"
)

// TestRatingVectors reaches every ratings-topic vector's verdict the way a
// node does: ParseTrust, then Validate (a reply: CheckSigned, then Validate
// against the rating it names) at the set's time and policy.
func TestRatingVectors(t *testing.T) {
	set := loadVectors(t)
	if len(set.Ratings) == 0 {
		t.Fatal("no rating vectors")
	}
	ratings := map[string]*intent.SignedRating{}
	for _, v := range set.Ratings {
		t.Run(v.Name, func(t *testing.T) {
			if got := intent.IDOf(v.Wire).String(); got != v.ID {
				t.Fatalf("id %s, the vector says %s", got, v.ID)
			}
			if v.Topic != intent.RatingsTopic {
				t.Fatalf("topic %q, want %q", v.Topic, intent.RatingsTopic)
			}
			assertVerdict(t, v, trustVerdict(v, ratings, set))
		})
	}
}

func trustVerdict(v vectors.Vec, ratings map[string]*intent.SignedRating, set *vectors.Set) error {
	m, err := intent.ParseTrust(v.Wire)
	if err != nil {
		return err
	}
	switch m := m.(type) {
	case *intent.SignedRating:
		if err := m.Validate(set.Time(), set.Policy()); err != nil {
			return err
		}
		ratings[v.Name] = m
		if m.IntentID().String() != set.Vector("intent").ID || string(m.VendorKey()) != string(set.Keys.VendorSigningPublic) {
			return fmt.Errorf("the rating does not rate the intent vector's deal with the vendor")
		}
		return nil
	case *intent.SignedRatingReply:
		if err := m.CheckSigned(set.Policy()); err != nil {
			return err
		}
		r, ok := ratings[v.Intent]
		if !ok {
			return fmt.Errorf("vector names no valid rating (%q)", v.Intent)
		}
		return m.Validate(r.Rated(), set.Time(), set.Policy())
	case *intent.SignedVendorProfile:
		return m.Validate(set.Time(), set.Policy())
	}
	return fmt.Errorf("a %s vector parsed as %T", v.Kind, m)
}
