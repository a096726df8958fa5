package importer

import (
	"io"

	"github.com/candor/candor/internal/ingest"
)

// hubspotSpec names the deal properties as HubSpot's export heads its
// columns (property labels: "Record ID", "Deal Name", "Deal Stage", …),
// with the internal property names (hs_object_id, dealstage, …) as
// alternatives for exports made through the API. The default stages are
// those of HubSpot's default sales pipeline, by label and by internal id.
var hubspotSpec = crmSpec{
	product:    "HubSpot",
	id:         []string{"Record ID", "Deal ID", "hs_object_id"},
	created:    []string{"Create Date", "createdate"},
	amount:     []string{"Amount", "amount"},
	stage:      []string{"Deal Stage", "dealstage"},
	closeDate:  []string{"Close Date", "closedate"},
	owner:      []string{"Deal owner", "hubspot_owner_id"},
	currency:   []string{"Currency", "deal_currency_code"},
	closed:     []string{"hs_is_closed"},
	won:        []string{"hs_is_closed_won"},
	wonStages:  []string{"Closed Won", "closedwon"},
	lostStages: []string{"Closed Lost", "closedlost"},
}

// readHubSpot maps a HubSpot deals export.
func readHubSpot(name string, r io.Reader, opt Options, maxLine int, add func(ingest.Entry) error) error {
	return readCRM(hubspotSpec, name, r, opt, maxLine, add)
}
