package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/api/client"
)

// dealRecord exports the deal of one intent as a record anyone can verify
// offline (docs/PROTOCOL.md, "Deal records"). Customer and vendor get
// byte-identical files. The node checks the record before it hands it
// out: a record that would not verify is refused with the failed check.
func (s *Server) dealRecord(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"), "intent id")
	if err != nil {
		return err
	}
	rec, err := s.n.ExportDeal(r.Context(), id)
	var de *intent.DealError
	switch {
	case isNotFound(err):
		err = errf(http.StatusNotFound, client.CodeNotFound, "no deal for intent %s; intentcast deals lists them", id)
	case errors.As(err, &de):
		// Deals stored before accepts committed to the offer's hash land
		// here: their accept cannot prove which offer it took.
		err = errf(http.StatusConflict, client.CodeDealUnverifiable,
			"the deal of intent %s does not make a verifiable record (%v); nothing was exported", id, err)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", client.ContentTypeDealRecord)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", dealRecordFile(id)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(rec.Raw) // the client left if this fails; nothing to tell it
	return nil
}

// dealRecordFile is the file name the API suggests for a deal's record.
func dealRecordFile(intentID intent.ID) string {
	return "deal-" + intentID.Short() + ".cbor"
}
