package intent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

// ContentVendorProfile is the COSE content type of a vendor profile.
const ContentVendorProfile = "intentcast/vendor-profile"

const profilePowDomain = "intentcast/1/vendor-profile-pow\x00"

// VendorProfile is how a vendor key presents itself to everyone, signed by
// that key. A newer one (by Created, then the lower ID) replaces the older.
type VendorProfile struct {
	Version     uint   `cbor:"0,keyasint"`
	VendorKey   []byte `cbor:"1,keyasint"` // 32 bytes: the key it describes and is signed by
	Name        string `cbor:"2,keyasint"` // 1..MaxVendorName bytes
	URL         string `cbor:"3,keyasint,omitempty"`
	Description string `cbor:"4,keyasint,omitempty"`
	Created     int64  `cbor:"5,keyasint"`
	Nonce       []byte `cbor:"6,keyasint"` // proof-of-work nonce, last
}

// SignedVendorProfile is a profile as it travels.
type SignedVendorProfile struct {
	Raw  []byte
	ID   ID
	Body VendorProfile
	msg  *crypto.Sign1Message
}

// ProfileDraft is what a vendor says about itself.
type ProfileDraft struct {
	Name, URL, Description string
	Created                time.Time
}

// NewVendorProfile signs a profile of vendor's key, after minting bits of
// work.
func NewVendorProfile(ctx context.Context, vendor crypto.SigningKey, d ProfileDraft, bits int) (*SignedVendorProfile, error) {
	body := VendorProfile{Version: Version, VendorKey: vendor.Public(), Name: d.Name, URL: d.URL, Description: d.Description,
		Created: d.Created.Unix(), Nonce: make([]byte, NonceSize)}
	if err := body.check(); err != nil {
		return nil, fmt.Errorf("new vendor profile: %w", err)
	}
	raw, err := signWorked(ctx, vendor, ContentVendorProfile, profilePowDomain, body, bits)
	if err != nil {
		return nil, fmt.Errorf("new vendor profile: %w", err)
	}
	return ParseVendorProfile(raw)
}

func (v *VendorProfile) check() error {
	if err := checkSigningKey("vendor key", v.VendorKey); err != nil {
		return err
	}
	if err := checkTextField("vendor name", v.Name, 1, MaxVendorName); err != nil {
		return err
	}
	if err := checkTextField("vendor URL", v.URL, 0, MaxVendorURL); err != nil {
		return err
	}
	// A page shows the URL as a link: anything but http(s) (javascript:,
	// data:) would be a script the vendor runs in every customer's page.
	if v.URL != "" && !strings.HasPrefix(v.URL, "https://") && !strings.HasPrefix(v.URL, "http://") {
		return fmt.Errorf("%w: vendor URL must start with https:// or http://", ErrSchema)
	}
	if err := checkTextField("vendor description", v.Description, 0, MaxProfileText); err != nil {
		return err
	}
	if v.Created <= 0 {
		return fmt.Errorf("%w: created must be positive", ErrSchema)
	}
	if len(v.Nonce) != NonceSize {
		return fmt.Errorf("%w: nonce of %d bytes, want %d", ErrSchema, len(v.Nonce), NonceSize)
	}
	return nil
}

// ParseVendorProfile runs the stateless checks short of work and signature.
func ParseVendorProfile(raw []byte) (*SignedVendorProfile, error) {
	if len(raw) > MaxProfileSize {
		return nil, fmt.Errorf("vendor profile: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxProfileSize)
	}
	msg, err := parseSign1(raw, ContentVendorProfile)
	if err != nil {
		return nil, fmt.Errorf("vendor profile: %w", err)
	}
	return profileFrom(raw, msg)
}

func profileFrom(raw []byte, msg *crypto.Sign1Message) (*SignedVendorProfile, error) {
	v := &SignedVendorProfile{Raw: msg.Raw, ID: IDOf(raw), msg: msg}
	if _, err := decodeVersioned(msg.Payload, &v.Body, "vendor profile payload"); err != nil {
		return nil, fmt.Errorf("vendor profile: %w", err)
	}
	if err := v.Body.check(); err != nil {
		return nil, fmt.Errorf("vendor profile: %w", err)
	}
	return v, nil
}

// Validate checks work (Reject), the signature under its own vendor key
// (Reject), the version (Ignore) and that it is not from the future
// (Ignore).
func (v *SignedVendorProfile) Validate(now time.Time, p Policy) error {
	what := "vendor profile " + v.ID.Short()
	if got, want := leadingZeros(domainHash(profilePowDomain, v.msg.Payload)), p.RatingWork(); got < want {
		return fmt.Errorf("%s: %w: %d bits, the network asks for %d", what, ErrInsufficientWork, got, want)
	}
	if err := v.msg.Verify(v.Body.VendorKey); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := checkVersion(v.Body.Version); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return checkCreated(what, v.Body.Created, now, p)
}

// CreatedAt is when the vendor made the profile.
func (v *SignedVendorProfile) CreatedAt() time.Time { return time.Unix(v.Body.Created, 0) }

// Newer reports whether v replaces old: a later Created, or the same and a
// lower ID, so that every node keeps the same one whatever the order.
func (v *SignedVendorProfile) Newer(old *SignedVendorProfile) bool {
	if v.Body.Created != old.Body.Created {
		return v.Body.Created > old.Body.Created
	}
	return string(v.ID[:]) < string(old.ID[:])
}
