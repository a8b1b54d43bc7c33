package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

// apiError is an error with its HTTP status and stable code. Handlers
// return one where they know what went wrong; errorFrom classifies the
// errors of the node and the protocol.
type apiError struct {
	Status  int
	Code    string
	Message string
	Field   intent.Field // the input at fault, if one is
}

func (e *apiError) Error() string { return e.Message + " (" + e.Code + ")" }

// errf builds an apiError with a formatted message.
func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(code string, err error) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: code, Message: err.Error()}
}

// errorFrom maps any error to an apiError. The node's and the protocol's
// sentinel errors get their own codes; the message is the error's own
// text, which says which intent or offer and why. Anything unexpected is
// internal (500), still with its text: the API is local and its caller
// holds the token, so hiding the cause would help nobody.
func errorFrom(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	msg := err.Error()
	e := func(status int, code string) *apiError { return &apiError{Status: status, Code: code, Message: msg} }
	var fe *intent.FieldError
	switch {
	case errors.As(err, &fe):
		return fieldError(fe)
	case errors.Is(err, intent.ErrMintCancelled):
		// The request went away or the node is closing.
		return e(http.StatusServiceUnavailable, client.CodeMintingCancelled)
	case errors.Is(err, node.ErrClosed):
		return e(http.StatusServiceUnavailable, client.CodeNodeClosed)
	case errors.Is(err, node.ErrThreadClosed):
		return e(http.StatusConflict, client.CodeThreadClosed)
	case errors.Is(err, intent.ErrThreadFull):
		return e(http.StatusConflict, client.CodeThreadFull)
	case errors.Is(err, node.ErrThreadTurn):
		return e(http.StatusConflict, client.CodeNotYourTurn)
	case errors.Is(err, node.ErrNoThread):
		return e(http.StatusNotFound, client.CodeUnknownOffer)
	case errors.Is(err, node.ErrNotOwn):
		return e(http.StatusNotFound, client.CodeUnknownIntent)
	case errors.Is(err, node.ErrIntentState):
		return e(http.StatusConflict, client.CodeIntentNotOpen)
	case errors.Is(err, node.ErrOfferState), errors.Is(err, intent.ErrOfferExpired):
		return e(http.StatusConflict, client.CodeOfferNotAcceptable)
	case errors.Is(err, node.ErrNotLive):
		return e(http.StatusNotFound, client.CodeIntentNotLive)
	case errors.Is(err, node.ErrCategory):
		return e(http.StatusBadRequest, client.CodeBadCategory)
	case errors.Is(err, node.ErrOwnIntent):
		return e(http.StatusConflict, client.CodeOwnIntent)
	case errors.Is(err, node.ErrRefused):
		// This node's own check refused the message it made: the intent
		// it names closed or expired meanwhile, or (PublishMinted) the
		// caller's intent breaks the network's rules. It never left.
		return e(http.StatusConflict, client.CodeRefused)
	case errors.Is(err, intent.ErrLifetime):
		return e(http.StatusBadRequest, client.CodeBadExpiry)
	case errors.Is(err, intent.ErrOverCeiling):
		return e(http.StatusBadRequest, client.CodeBadPrice)
	case errors.Is(err, intent.ErrCurrency):
		return e(http.StatusBadRequest, client.CodeBadCurrency)
	case errors.Is(err, intent.ErrDetailsTooLarge):
		return e(http.StatusBadRequest, client.CodeBadDetails)
	case errors.Is(err, intent.ErrBadKey):
		// A key in a remote party's message is broken (e.g. the intent's
		// reply key, which no offer can be sealed to): not our fault.
		return e(http.StatusUnprocessableEntity, client.CodeBadKey)
	case errors.As(err, new(*intent.DealError)):
		// The deal's parts, one of them the other party's, do not make a
		// verifiable record (node.Rate, ExportDeal).
		return e(http.StatusConflict, client.CodeDealUnverifiable)
	case isRemoteBroken(err):
		return e(http.StatusUnprocessableEntity, client.CodeRemoteInvalid)
	case errors.Is(err, intent.ErrSchema), errors.Is(err, intent.ErrTooLarge):
		return e(http.StatusBadRequest, client.CodeBadRequest)
	case errors.Is(err, node.ErrNotFound):
		return e(http.StatusNotFound, client.CodeNotFound)
	case errors.Is(err, context.Canceled):
		// The client left; nobody reads this, but the metrics do.
		return e(499, client.CodeClientClosed)
	}
	return e(http.StatusInternalServerError, client.CodeInternal)
}

// remoteBroken are the errors of a message from another party (an offer
// or thread message a vendor sealed, a rating, the parts of a deal) that
// a request had to open or check and found broken. No input of the caller
// makes them, and nothing on this node is broken: 422, not 500. They come
// after ErrRefused in errorFrom, which wraps the same checks for messages
// this node made itself.
var remoteBroken = []error{
	crypto.ErrOpen, crypto.ErrUnknownSuite, intent.ErrBadSignature, intent.ErrMalformed, intent.ErrNonCanonical,
	intent.ErrVersion, intent.ErrInsufficientWork, intent.ErrWrongTopic,
	intent.ErrWrongIntent, intent.ErrTermsMismatch, intent.ErrOfferMalformed,
	intent.ErrNotChained, intent.ErrWrongThread, intent.ErrThreadReplay, intent.ErrThreadMalformed,
	intent.ErrNotBound, intent.ErrNoDeal, intent.ErrWrongVendor,
}

func isRemoteBroken(err error) bool {
	return slices.ContainsFunc(remoteBroken, func(target error) bool { return errors.Is(err, target) })
}

// writeJSON writes v as the response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client left if this fails; nothing to tell it
}

// writeError writes e as the JSON error body.
func writeError(w http.ResponseWriter, e *apiError) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="intentcast"`)
	}
	writeJSON(w, e.Status, client.ErrorBody{Error: client.ErrorDetail{Code: e.Code, Message: e.Message, Field: string(e.Field)}})
}

// fieldCodes are the error codes of the inputs of intent's drafts.
var fieldCodes = map[intent.Field]string{
	intent.FieldCategory:    client.CodeBadCategory,
	intent.FieldPath:        client.CodeBadPath,
	intent.FieldText:        client.CodeBadText,
	intent.FieldQuantity:    client.CodeBadQuantity,
	intent.FieldMaxPrice:    client.CodeBadPrice,
	intent.FieldPrice:       client.CodeBadPrice,
	intent.FieldCurrency:    client.CodeBadCurrency,
	intent.FieldRegion:      client.CodeBadRegion,
	intent.FieldDeliverBy:   client.CodeBadDeadline,
	intent.FieldExpires:     client.CodeBadExpiry,
	intent.FieldValidFor:    client.CodeBadExpiry,
	intent.FieldTerms:       client.CodeBadTerms,
	intent.FieldCustomTerms: client.CodeBadTerms,
	intent.FieldVendorName:  client.CodeBadVendor,
	intent.FieldVendorURL:   client.CodeBadVendor,
}

// fieldError is the answer to a bad input: 400, the field's code, the
// input rules' sentence and the field, so that a form can show the
// sentence next to it.
func fieldError(fe *intent.FieldError) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: cmp.Or(fieldCodes[fe.Field], client.CodeBadRequest), Message: fe.Msg, Field: fe.Field}
}

func isNotFound(err error) bool { return errors.Is(err, node.ErrNotFound) }
