package intent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

// ContentIntent is the COSE content type of a signed intent.
const ContentIntent = "intentcast/intent"

// Intent is what a customer wants to buy, on their terms. It travels as the
// payload of a COSE_Sign1 signed by SigningKey, a key made for this intent
// alone, so two intents of one customer cannot be linked by their keys.
type Intent struct {
	Version    uint     `cbor:"0,keyasint"`
	Category   string   `cbor:"1,keyasint"`           // on the Categories roster
	Path       []string `cbor:"2,keyasint,omitempty"` // sub-categories, filtered locally
	Text       string   `cbor:"3,keyasint,omitempty"` // free text, any language
	Want       Want     `cbor:"4,keyasint"`
	Terms      Terms    `cbor:"5,keyasint"`
	Created    int64    `cbor:"6,keyasint"`  // unix seconds
	Expires    int64    `cbor:"7,keyasint"`  // unix seconds
	SigningKey []byte   `cbor:"8,keyasint"`  // Ed25519 public key, 32 bytes
	ReplyKey   ReplyKey `cbor:"9,keyasint"`  // HPKE key offers are sealed to
	Work       uint     `cbor:"10,keyasint"` // leading zero bits the payload commits to
	Nonce      []byte   `cbor:"11,keyasint"` // proof-of-work nonce; highest key, so last
}

// Want is the structured part of an intent.
type Want struct {
	Quantity  uint64 `cbor:"0,keyasint"`
	MaxPrice  uint64 `cbor:"1,keyasint"` // price ceiling in minor units (cents)
	Currency  string `cbor:"2,keyasint"` // ISO 4217 code
	Region    string `cbor:"3,keyasint,omitempty"`
	DeliverBy int64  `cbor:"4,keyasint,omitempty"` // unix seconds
}

// ReplyKey is an HPKE public key with its KEM (suite) identifier.
type ReplyKey struct {
	Suite uint16 `cbor:"0,keyasint"`
	Key   []byte `cbor:"1,keyasint"`
}

// check enforces a reply key's rules: a suite of the table and a key of
// its length are schema; a key that is not valid for its suite (e.g. of
// small order) is ErrBadKey.
func (k ReplyKey) check(what string) error {
	err := k.public().Check()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, crypto.ErrBadKey):
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrSchema, what, err)
}

// checkSigningKey enforces a signing key's rules: 32 bytes (schema), and a
// valid Ed25519 key (ErrBadKey).
func checkSigningKey(what string, key []byte) error {
	_, err := parseSigningKey(what, key)
	return err
}

// parseSigningKey is checkSigningKey that keeps the decoded key.
func parseSigningKey(what string, key []byte) (crypto.VerifyingKey, error) {
	if len(key) != 32 {
		return crypto.VerifyingKey{}, fmt.Errorf("%w: %s of %d bytes, want 32", ErrSchema, what, len(key))
	}
	k, err := crypto.ParseVerifyingKey(key)
	if err != nil {
		return k, fmt.Errorf("%s: %w", what, err)
	}
	return k, nil
}

func (k ReplyKey) public() crypto.PublicReplyKey {
	return crypto.PublicReplyKey{Suite: crypto.Suite(k.Suite), Key: k.Key}
}

func replyKeyOf(p crypto.PublicReplyKey) ReplyKey {
	return ReplyKey{Suite: uint16(p.Suite), Key: p.Key}
}

// CreatedAt and ExpiresAt return the intent's times.
func (in *Intent) CreatedAt() time.Time { return time.Unix(in.Created, 0) }
func (in *Intent) ExpiresAt() time.Time { return time.Unix(in.Expires, 0) }

// check enforces the schema: every bound and format rule that needs nothing
// but the message itself.
func (in *Intent) check() error {
	_, err := in.checkKey()
	return err
}

// checkKey is check, returning the signing key it decoded for its check.
func (in *Intent) checkKey() (crypto.VerifyingKey, error) {
	var none crypto.VerifyingKey
	if err := CheckCategory(in.Category); err != nil {
		return none, err
	}
	if len(in.Path) > MaxPathDepth {
		return none, fmt.Errorf("%w: sub-category path of %d segments, at most %d", ErrSchema, len(in.Path), MaxPathDepth)
	}
	for _, s := range in.Path {
		if err := checkPathSegment(s); err != nil {
			return none, err
		}
	}
	if len(in.Text) > MaxText {
		return none, fmt.Errorf("%w: text of %d bytes, at most %d", ErrSchema, len(in.Text), MaxText)
	}
	if err := in.Want.check(in.Created); err != nil {
		return none, err
	}
	if err := in.Terms.check(); err != nil {
		return none, err
	}
	if in.Created <= 0 || in.Expires <= in.Created {
		return none, fmt.Errorf("%w: expires (%d) must come after created (%d)", ErrSchema, in.Expires, in.Created)
	}
	key, err := parseSigningKey("signing key", in.SigningKey)
	if err != nil {
		return none, err
	}
	if err := in.ReplyKey.check("reply key"); err != nil {
		return none, err
	}
	if in.Work > MaxWork {
		return none, fmt.Errorf("%w: work of %d bits, at most %d", ErrSchema, in.Work, MaxWork)
	}
	if len(in.Nonce) != NonceSize {
		return none, fmt.Errorf("%w: nonce of %d bytes, want %d", ErrSchema, len(in.Nonce), NonceSize)
	}
	return key, nil
}

func (w Want) check(created int64) error {
	if w.Quantity == 0 || w.Quantity > MaxQuantity {
		return fmt.Errorf("%w: quantity %d must be 1..%d", ErrSchema, w.Quantity, MaxQuantity)
	}
	if w.MaxPrice > MaxPrice {
		return fmt.Errorf("%w: price ceiling %d over %d minor units", ErrSchema, w.MaxPrice, uint64(MaxPrice))
	}
	if err := CheckCurrency(w.Currency); err != nil {
		return err
	}
	if err := CheckRegion(w.Region); err != nil {
		return err
	}
	if w.DeliverBy != 0 && w.DeliverBy < created {
		return fmt.Errorf("%w: deliver-by (%d) is before the intent was created (%d)", ErrSchema, w.DeliverBy, created)
	}
	return nil
}

// CheckCurrency accepts an ISO 4217 alphabetic code: three upper-case ASCII
// letters. Which codes exist is the parties' business, not the relays'.
func CheckCurrency(c string) error {
	if len(c) != 3 || !isUpper(c) {
		return fmt.Errorf("%w: currency %q must be an ISO 4217 code such as EUR or USD", ErrSchema, c)
	}
	return nil
}

// CheckRegion accepts "" (anywhere), an ISO 3166-1 alpha-2 country ("DE") or
// an ISO 3166-2 subdivision ("US-CA").
func CheckRegion(r string) error {
	if r == "" {
		return nil
	}
	if !regionShape(r) {
		return fmt.Errorf("%w: region %q must be an ISO 3166 code such as DE or US-CA", ErrSchema, r)
	}
	return nil
}

// regionShape reports whether r has the shape CheckRegion asks for. The
// error is made only on failure: every intent a relay checks passes here.
func regionShape(r string) bool {
	if len(r) > MaxRegion || len(r) < 2 || !isUpper(r[:2]) {
		return false
	}
	if len(r) == 2 {
		return true
	}
	sub := r[3:]
	if r[2] != '-' || len(sub) < 1 || len(sub) > 3 {
		return false
	}
	for _, c := range []byte(sub) {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isUpper(s string) bool {
	for _, c := range []byte(s) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// Keys are the private halves of an intent's per-intent keys. The customer's
// node stores them so it can open offers and sign an accept or cancel, also
// after a restart.
type Keys struct {
	Signing crypto.SigningKey
	Reply   crypto.ReplyKey
}

// Draft is what a customer fills in; NewIntent turns it into a signed intent.
type Draft struct {
	Category string
	Path     []string
	Text     string
	Want     Want
	Terms    Terms
	Created  time.Time
	Expires  time.Time
	Work     int          // leading zero bits to mint
	Suite    crypto.Suite // reply key suite; zero means X25519
}

// NewIntent makes fresh per-intent keys, mints the proof of work (which takes
// about 2^Work hashes; progress is reported and ctx cancels) and signs.
func NewIntent(ctx context.Context, d Draft, progress Progress) (*SignedIntent, Keys, error) {
	if d.Suite == 0 {
		d.Suite = crypto.SuiteX25519
	}
	sk, err := crypto.GenerateSigningKey()
	if err != nil {
		return nil, Keys{}, fmt.Errorf("new intent: %w", err)
	}
	rk, err := crypto.GenerateReplyKey(d.Suite)
	if err != nil {
		return nil, Keys{}, fmt.Errorf("new intent: %w", err)
	}
	keys := Keys{Signing: sk, Reply: rk}
	body := Intent{
		Version:    Version,
		Category:   d.Category,
		Path:       d.Path,
		Text:       d.Text,
		Want:       d.Want,
		Terms:      d.Terms.Normalize(),
		Created:    d.Created.Unix(),
		Expires:    d.Expires.Unix(),
		SigningKey: sk.Public(),
		ReplyKey:   replyKeyOf(rk.Public()),
		Work:       uint(max(d.Work, 0)),
		Nonce:      make([]byte, NonceSize),
	}
	if err := body.check(); err != nil {
		return nil, Keys{}, fmt.Errorf("new intent: %w", err)
	}
	if d.Expires.Sub(d.Created) > MaxLifetime {
		return nil, Keys{}, fmt.Errorf("new intent: %w: %v, at most %v", ErrLifetime, d.Expires.Sub(d.Created), MaxLifetime)
	}
	payload, err := marshal(body)
	if err != nil {
		return nil, Keys{}, fmt.Errorf("new intent: encode: %w", err)
	}
	if !bytes.HasSuffix(payload, body.Nonce) {
		return nil, Keys{}, fmt.Errorf("new intent: nonce is not the last field of the payload")
	}
	if err := Mint(ctx, payload, d.Work, progress); err != nil {
		return nil, Keys{}, fmt.Errorf("new intent: %w", err)
	}
	raw, err := crypto.Sign1(sk, ContentIntent, payload)
	if err != nil {
		return nil, Keys{}, fmt.Errorf("new intent: sign: %w", err)
	}
	s, err := ParseIntent(raw)
	if err != nil {
		return nil, Keys{}, fmt.Errorf("new intent: parse own intent: %w", err)
	}
	// Signed just now, over these bytes, with the key the body names: the
	// signature is good by construction. Taken as verified, a node's
	// check of its own intent before it sends it costs no Ed25519
	// verification (most of that check); bytes parsed anew, from another
	// process or machine, are verified as any peer's are.
	s.verified.Store(true)
	s.key.Store(nil)
	return s, keys, nil
}

// SignedIntent is an intent as it travels: the wire bytes, their ID, and the
// decoded body.
type SignedIntent struct {
	Raw  []byte
	ID   ID
	Body Intent
	msg  *crypto.Sign1Message
	// key is Body.SigningKey decoded by the schema check of a parsed
	// intent, until Validate has verified the intent's own signature under
	// it; then it is dropped (nil), as it is for an intent not parsed: a
	// relay keeps every live intent for hours, and the decoded key is a
	// sixth of what one keeps alive. A cancel or an accept, one of each at
	// most per intent, decodes the key again (BenchmarkRetainedIntent).
	key atomic.Pointer[crypto.VerifyingKey]
	// verified says Validate has verified the signature, or NewIntent
	// made it: a node checks its own intent before it sends it and its
	// router checks it again as it publishes it (the same parsed
	// message), and one Ed25519 verification is most of a check.
	verified atomic.Bool
}

// verifySigned verifies msg under the intent's signing key.
func (s *SignedIntent) verifySigned(msg *crypto.Sign1Message) error {
	if k := s.key.Load(); k != nil {
		return msg.VerifyWith(k)
	}
	return msg.Verify(s.Body.SigningKey)
}

// ParseIntent runs the stateless, clock-free checks in order of cost: size,
// COSE envelope, content type, canonical payload, schema. What it accepts
// still needs Validate.
func ParseIntent(raw []byte) (*SignedIntent, error) {
	if len(raw) > MaxIntentSize {
		return nil, fmt.Errorf("intent: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxIntentSize)
	}
	msg, err := parseSign1(raw, ContentIntent)
	if err != nil {
		return nil, fmt.Errorf("intent: %w", err)
	}
	return intentFrom(raw, msg)
}

func intentFrom(raw []byte, msg *crypto.Sign1Message) (*SignedIntent, error) {
	// msg.Raw is the parse's own copy of raw, or raw itself when it was
	// handed over (ParseOwned): keeping it lets a copied buffer go.
	s := &SignedIntent{Raw: msg.Raw, ID: IDOf(raw), msg: msg}
	if _, err := decodeVersioned(msg.Payload, &s.Body, "intent payload"); err != nil {
		return nil, fmt.Errorf("intent: %w", err)
	}
	key, err := s.Body.checkKey()
	if err != nil {
		return nil, fmt.Errorf("intent: %w", err)
	}
	s.key.Store(&key)
	return s, nil
}

// Validate runs the remaining checks, Reject-class first and cheapest first
// (lifetime, proof of work, signature), then the Ignore-class ones: a
// version this node does not speak, its local work minimum, the time window.
// minWork is the topic's network minimum: every node of a network agrees on
// it, so less is Reject. localWork, if higher, is this node's own threshold:
// less than that is Ignore, because another node may accept it.
func (s *SignedIntent) Validate(now time.Time, p Policy) error {
	b := &s.Body
	// Compare in seconds: a hostile span times time.Second can overflow
	// and wrap back under the maximum.
	if life := b.Expires - b.Created; life > int64(MaxLifetime/time.Second) {
		return fmt.Errorf("intent %s: %w: %d s, at most %v", s.ID.Short(), ErrLifetime, life, MaxLifetime)
	}
	minWork := p.minWork(b.Category)
	if int(b.Work) < minWork {
		return fmt.Errorf("intent %s: %w: commits to %d bits, the %s topic needs %d", s.ID.Short(), ErrInsufficientWork, b.Work, b.Category, minWork)
	}
	if !CheckWork(s.msg.Payload, int(b.Work)) {
		return fmt.Errorf("intent %s: %w: hash has fewer than the %d bits it commits to", s.ID.Short(), ErrInsufficientWork, b.Work)
	}
	if !s.verified.Load() {
		if err := s.verifySigned(s.msg); err != nil {
			return fmt.Errorf("intent %s: %w", s.ID.Short(), err)
		}
		s.verified.Store(true)
		s.key.Store(nil)
	}
	if err := checkVersion(b.Version); err != nil {
		return fmt.Errorf("intent %s: %w", s.ID.Short(), err)
	}
	if local := p.LocalWork; int(b.Work) < local {
		return fmt.Errorf("intent %s: %w: %d bits, this node wants %d", s.ID.Short(), ErrBelowLocal, b.Work, local)
	}
	if err := checkWindow(b.Created, b.Expires, now, p); err != nil {
		return fmt.Errorf("intent %s: %w", s.ID.Short(), err)
	}
	return nil
}

// TermsHash is the hash an offer must commit to.
func (s *SignedIntent) TermsHash() [32]byte {
	h, _ := TermsHash(s.Body.Terms) // the terms decoded from canonical CBOR, so they re-encode
	return h
}

// checkVersion is the Ignore-class version check: it runs once every
// Reject-class check of the message's core has passed.
func checkVersion(v uint) error {
	if v != Version {
		return fmt.Errorf("%w: version %d, this node speaks %d", ErrVersion, v, Version)
	}
	return nil
}

// checkWindow is the Ignore-class time check shared by every message. Its
// callers name the message in the error: it runs on every message that
// passes, and naming it up front would cost an allocation each time.
func checkWindow(created, expires int64, now time.Time, p Policy) error {
	skew := p.Skew()
	if time.Unix(created, 0).After(now.Add(skew)) {
		return fmt.Errorf("%w: created %v, now %v, allowed skew %v", ErrFromFuture,
			time.Unix(created, 0).UTC(), now.UTC(), skew)
	}
	if !now.Before(time.Unix(expires, 0).Add(skew)) {
		return fmt.Errorf("%w at %v", ErrExpired, time.Unix(expires, 0).UTC())
	}
	return nil
}

// parseSign1 parses a COSE_Sign1 envelope and checks its content type.
func parseSign1(raw []byte, contentType string) (*crypto.Sign1Message, error) {
	msg, err := crypto.ParseSign1(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if msg.ContentType != contentType {
		return nil, fmt.Errorf("%w: content type %q, want %q", ErrMalformed, msg.ContentType, contentType)
	}
	return msg, nil
}
