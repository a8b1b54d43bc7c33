package node

import (
	"context"
	"fmt"

	"github.com/intentcast/intentcast/intent"
)

// ExportDeal returns the record of the deal for an intent, as anyone can
// verify it offline (intent.VerifyDealRecord; docs/PROTOCOL.md, "Deal
// records"). It is built from the three messages exactly as the node
// stored them, so customer and vendor export the same bytes, and verified
// before it is returned: the error of a record that would not verify is an
// *intent.DealError naming the failed check.
func (n *Node) ExportDeal(ctx context.Context, intentID intent.ID) (*intent.DealRecord, error) {
	if err := n.alive(); err != nil {
		return nil, err
	}
	d, err := n.store.Deal(ctx, intentID)
	if err != nil {
		return nil, fmt.Errorf("deal for intent %s: %w", intentID.Short(), err)
	}
	rec, err := intent.NewDealRecord(d.IntentRaw, d.OfferInner, d.AcceptRaw, n.now())
	if err != nil {
		return nil, fmt.Errorf("export the deal for intent %s: %w", intentID.Short(), err)
	}
	return rec, nil
}
