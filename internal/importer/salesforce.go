package importer

import (
	"io"

	"github.com/candor/candor/internal/ingest"
)

// salesforceSpec names the Opportunity object's fields as a Data Loader or
// Data Export file heads its columns (API names: Id, CreatedDate,
// StageName, …), with the labels a report export uses as alternatives
// ("Opportunity ID", "Created Date", "Stage", …). The default stages are
// those of a new Salesforce org.
var salesforceSpec = crmSpec{
	product:    "Salesforce",
	id:         []string{"Id", "Opportunity ID"},
	created:    []string{"CreatedDate", "Created Date"},
	amount:     []string{"Amount"},
	stage:      []string{"StageName", "Stage"},
	closeDate:  []string{"CloseDate", "Close Date"},
	owner:      []string{"Owner.Name", "Opportunity Owner", "OwnerId", "Owner ID"},
	currency:   []string{"CurrencyIsoCode", "Opportunity Currency"},
	channel:    []string{"LeadSource", "Lead Source"},
	closed:     []string{"IsClosed", "Closed"},
	won:        []string{"IsWon", "Won"},
	wonStages:  []string{"Closed Won"},
	lostStages: []string{"Closed Lost"},
}

// readSalesforce maps a Salesforce Opportunity export.
func readSalesforce(name string, r io.Reader, opt Options, maxLine int, add func(ingest.Entry) error) error {
	return readCRM(salesforceSpec, name, r, opt, maxLine, add)
}
