package intent

import (
	"fmt"

	"github.com/intentcast/intentcast/crypto"
)

// Parse decodes any intentcast wire message, running the stateless checks of
// its kind. It returns *SignedIntent, *SignedCancel (intent topics),
// *SealedOffer, *SealedThread or *SignedAccept (offer topics). The envelope is parsed once:
// sealed offers are tag 16, everything signed is tag 18 and told apart by its
// protected content type.
func Parse(raw []byte) (any, error) {
	return parseWire(raw, crypto.ParseSign1)
}

// ParseOwned is Parse of a buffer the caller hands over: what it returns
// keeps slices of raw itself rather than of a copy (crypto.ParseSign1Owned),
// so nothing may write raw afterwards. A node parses what its gossip router
// received this way, as the router never writes a message: a relay then
// keeps the router's copy of each live intent instead of making its own.
func ParseOwned(raw []byte) (any, error) {
	return parseWire(raw, crypto.ParseSign1Owned)
}

// parseWire is Parse with the envelope parser that decides whether raw is
// copied.
func parseWire(raw []byte, parseSign1 func([]byte) (*crypto.Sign1Message, error)) (any, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrMalformed)
	}
	if raw[0] == tagEncrypt0 {
		return parseSealedMessage(raw)
	}
	if len(raw) > MaxIntentSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxIntentSize)
	}
	msg, err := parseSign1(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch msg.ContentType {
	case ContentIntent:
		return orNil(intentFrom(raw, msg))
	case ContentCancel:
		if len(raw) > MaxCancelSize {
			return nil, fmt.Errorf("cancel: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxCancelSize)
		}
		return orNil(cancelFrom(raw, msg))
	case ContentAccept:
		if len(raw) > MaxAcceptSize {
			return nil, fmt.Errorf("accept: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxAcceptSize)
		}
		return orNil(acceptFrom(raw, msg))
	}
	return nil, fmt.Errorf("%w: content type %q is not an intentcast wire message", ErrMalformed, msg.ContentType)
}

// parseSealedMessage parses a sealed offer or a sealed thread message, told
// apart by the protected content type.
func parseSealedMessage(raw []byte) (any, error) {
	s, ct, err := parseSealed(raw, "sealed message")
	if err != nil {
		return nil, err
	}
	if ct == ContentSealedThread {
		return &SealedThread{*s}, nil
	}
	return &SealedOffer{*s}, nil
}

// orNil returns a nil interface on error: returned directly, a parser's nil
// *T would become a non-nil any holding a nil pointer.
func orNil[T any](m *T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return m, nil
}
