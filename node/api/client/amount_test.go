package client

import (
	"errors"
	"strings"
	"testing"

	"github.com/intentcast/intentcast/intent"
)

func TestAmountFields(t *testing.T) {
	minor := uint64(500)
	if v, err := amount("", &minor, "EUR", intent.FieldPrice, "price"); err != nil || v != 500 {
		t.Errorf("minor only: %d, %v", v, err)
	}
	if v, err := amount("5.00", nil, "EUR", intent.FieldPrice, "price"); err != nil || v != 500 {
		t.Errorf("major only: %d, %v", v, err)
	}
	if _, err := amount("5.00", &minor, "EUR", intent.FieldPrice, "price"); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("both: %v; want an error saying not both", err)
	}
	var fe *intent.FieldError
	if _, err := amount("", nil, "EUR", intent.FieldMaxPrice, "max_price"); !errors.As(err, &fe) || fe.Field != intent.FieldMaxPrice || strings.Contains(fe.Msg, "minor") {
		t.Errorf("neither: %v; want a plain sentence on max_price", err)
	}
	big := uint64(intent.MaxPrice) + 1
	if _, err := amount("", &big, "EUR", intent.FieldPrice, "price"); err == nil {
		t.Errorf("minor over the maximum: no error")
	}
}
