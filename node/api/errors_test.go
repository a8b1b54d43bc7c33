package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

func TestErrorFrom(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("accept offer 0123456789ab: %w", err) }
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{wrap(node.ErrNotOwn), http.StatusNotFound, client.CodeUnknownIntent},
		{wrap(node.ErrIntentState), http.StatusConflict, client.CodeIntentNotOpen},
		{wrap(node.ErrOfferState), http.StatusConflict, client.CodeOfferNotAcceptable},
		{wrap(intent.ErrOfferExpired), http.StatusConflict, client.CodeOfferNotAcceptable},
		{wrap(node.ErrNotLive), http.StatusNotFound, client.CodeIntentNotLive},
		{wrap(node.ErrCategory), http.StatusBadRequest, client.CodeBadCategory},
		{wrap(intent.ErrLifetime), http.StatusBadRequest, client.CodeBadExpiry},
		{wrap(intent.ErrSchema), http.StatusBadRequest, client.CodeBadRequest},
		{wrap(node.ErrNotFound), http.StatusNotFound, client.CodeNotFound},
		{fmt.Errorf("publish: %w after 3 tries: %w", intent.ErrMintCancelled, context.Canceled), http.StatusServiceUnavailable, client.CodeMintingCancelled},
		{wrap(node.ErrClosed), http.StatusServiceUnavailable, client.CodeNodeClosed},
		{wrap(intent.ErrDetailsTooLarge), http.StatusBadRequest, client.CodeBadDetails},
		// A remote party's fault is never a 500: a message of the other
		// party's that a request opens or checks is broken.
		{wrap(crypto.ErrOpen), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(crypto.ErrUnknownSuite), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrBadSignature), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrMalformed), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrNonCanonical), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrVersion), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrInsufficientWork), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrWrongTopic), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrWrongIntent), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrTermsMismatch), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrOfferMalformed), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrNotChained), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrWrongThread), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrThreadReplay), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrThreadMalformed), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrNotBound), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrNoDeal), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrWrongVendor), http.StatusUnprocessableEntity, client.CodeRemoteInvalid},
		{wrap(intent.ErrBadKey), http.StatusUnprocessableEntity, client.CodeBadKey},
		{wrap(&intent.DealError{Check: intent.DealCheck("accept"), Err: intent.ErrNotBound}), http.StatusConflict, client.CodeDealUnverifiable},
		// This node's own check refusing its own message is a conflict
		// with the network's state, whichever rule it broke.
		{wrap(fmt.Errorf("%w: %w", node.ErrRefused, intent.ErrBadSignature)), http.StatusConflict, client.CodeRefused},
		{wrap(fmt.Errorf("%w: %w", node.ErrRefused, intent.ErrExpired)), http.StatusConflict, client.CodeRefused},
		{errors.New("disk on fire"), http.StatusInternalServerError, client.CodeInternal},
		{fmt.Errorf("outer: %w", errf(http.StatusTeapot, "tea", "short and stout")), http.StatusTeapot, "tea"},
	}
	for _, tt := range tests {
		e := errorFrom(tt.err)
		if e.Status != tt.status || e.Code != tt.code {
			t.Errorf("errorFrom(%v) = %d %s; want %d %s", tt.err, e.Status, e.Code, tt.status, tt.code)
		}
		if e.Message == "" {
			t.Errorf("errorFrom(%v) has no message", tt.err)
		}
	}
	// Sealing an offer to a broken reply key (here the all-zero X25519
	// point) is the remote intent's fault: a 4xx, never a 500.
	_, sealErr := crypto.Seal(crypto.PublicReplyKey{Suite: crypto.SuiteX25519, Key: make([]byte, 32)}, nil, nil, []byte("offer"))
	if e := errorFrom(fmt.Errorf("send offer: %w", sealErr)); e.Status != http.StatusUnprocessableEntity || e.Code != client.CodeBadKey {
		t.Errorf("sealing to a zero reply key maps to %d %s, want 422 %s", e.Status, e.Code, client.CodeBadKey)
	}
	// The message keeps the story the error tells.
	if e := errorFrom(wrap(node.ErrNotOwn)); e.Message != wrap(node.ErrNotOwn).Error() {
		t.Errorf("message %q lost the error's text", e.Message)
	}
}
