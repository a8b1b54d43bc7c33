package intent_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// created is the examples' fixed clock: the package reads none.
var created = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// exampleIntent publishes a small intent with little work, so the examples
// run instantly; a real network asks for intent.DefaultWork bits.
func exampleIntent() (*intent.SignedIntent, intent.Keys) {
	s, keys, err := intent.NewIntent(context.Background(), intent.Draft{
		Category: "electronics",
		Path:     []string{"laptops"},
		Text:     "Light 14-inch laptop, 16 GB",
		Want:     intent.Want{Quantity: 1, MaxPrice: 120000, Currency: "EUR", Region: "DE"},
		Terms:    intent.DefaultTerms(),
		Created:  created,
		Expires:  created.Add(7 * 24 * time.Hour),
		Work:     8,
	}, nil)
	if err != nil {
		panic(err)
	}
	return s, keys
}

// A customer's node turns a draft into a signed intent: fresh per-intent
// keys, proof of work, signature. It keeps the keys (to open offers and to
// accept or cancel) and publishes the wire bytes on the category's topic.
func ExampleNewIntent() {
	var reports int
	s, keys, err := intent.NewIntent(context.Background(), intent.Draft{
		Category: "electronics",
		Path:     []string{"laptops"},
		Text:     "Light 14-inch laptop, 16 GB",
		Want:     intent.Want{Quantity: 1, MaxPrice: 120000, Currency: "EUR", Region: "DE"},
		Terms:    intent.DefaultTerms(),
		Created:  created,
		Expires:  created.Add(7 * 24 * time.Hour),
		Work:     8,
	}, func(tries uint64) { reports++ }) // a UI would show tries / 2^Work
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("publish on:", intent.IntentTopic(s.Body.Category))
	fmt.Println("message ID is the hash of the bytes:", s.ID == intent.IDOf(s.Raw))
	fmt.Println("signed by its own key:", bytes.Equal(s.Body.SigningKey, keys.Signing.Public()))
	fmt.Println("progress reported:", reports > 0)
	fmt.Println("valid:", s.Validate(created, intent.Policy{MinWork: 8}) == nil)
	// Output:
	// publish on: intentcast/1/intents/electronics
	// message ID is the hash of the bytes: true
	// signed by its own key: true
	// progress reported: true
	// valid: true
}

// A vendor answers an intent with an offer sealed to the intent's reply key;
// relays see only which intent it answers; the customer's node opens it and
// checks it against the intent before showing it.
func ExampleOpenOffer() {
	in, keys := exampleIntent()
	vendor, err := crypto.GenerateIdentity()
	if err != nil {
		fmt.Println(err)
		return
	}

	// The vendor's node.
	sealed, _, err := intent.NewOffer(in, vendor, intent.OfferDraft{
		Price:      99900,
		Text:       "ThinkPad X1, ships tomorrow",
		Vendor:     intent.Vendor{Name: "Laptop Laden", URL: "https://laptops.example"},
		Created:    created.Add(time.Minute),
		ValidUntil: created.Add(48 * time.Hour),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// A relay on intent.OfferTopic("electronics").
	relayed, err := intent.ParseSealedOffer(sealed.Raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("relay sees the intent it answers:", relayed.IntentID == in.ID)
	fmt.Println("relay sees the price:", bytes.Contains(relayed.Raw, []byte("ThinkPad")))

	// The customer's node, which kept the intent and its keys.
	offer, err := intent.OpenOffer(relayed, in, keys.Reply, created.Add(time.Hour))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s offers %d %s: %s\n", offer.Body.Vendor.Name, offer.Body.Price, offer.Body.Currency, offer.Body.Text)
	// Output:
	// relay sees the intent it answers: true
	// relay sees the price: false
	// Laptop Laden offers 99900 EUR: ThinkPad X1, ships tomorrow
}

// A node's gossip validator maps a validation error to the pubsub verdict:
// Reject penalises the peer that forwarded the message, Ignore drops it
// without blame (it may be valid elsewhere or at another time).
func ExampleSignedIntent_Validate() {
	in, _ := exampleIntent()
	verdict := func(raw []byte, now time.Time, p intent.Policy) string {
		s, err := intent.ParseIntent(raw)
		if err == nil {
			err = s.Validate(now, p)
		}
		switch {
		case err == nil:
			return "accept"
		case intent.Ignorable(err):
			return "ignore"
		default:
			return "reject"
		}
	}
	network := intent.Policy{MinWork: 8}
	fmt.Println("fresh:", verdict(in.Raw, created, network))
	fmt.Println("expired:", verdict(in.Raw, created.Add(8*24*time.Hour), network))
	fmt.Println("receiver's clock an hour slow:", verdict(in.Raw, created.Add(-time.Hour), network))
	fmt.Println("below this node's own minimum:", verdict(in.Raw, created, intent.Policy{MinWork: 8, LocalWork: 12}))
	fmt.Println("below the network minimum:", verdict(in.Raw, created, intent.Policy{MinWork: 12}))
	fmt.Println("trailing byte:", verdict(append(bytes.Clone(in.Raw), 0), created, network))
	// Output:
	// fresh: accept
	// expired: ignore
	// receiver's clock an hour slow: ignore
	// below this node's own minimum: ignore
	// below the network minimum: reject
	// trailing byte: reject
}
