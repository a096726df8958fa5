package main

import (
	"context"
	"fmt"

	"github.com/candor/candor/internal/postgres"
	"github.com/candor/candor/internal/store"
)

// openPostgres opens the PostgreSQL store; create says the command may
// create the schema in a database without one (serve, import), where a
// reader is refused.
func openPostgres(ctx context.Context, url string, create bool) (store.Store, error) {
	open := postgres.OpenExisting
	if create {
		open = postgres.Open
	}
	db, err := open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("opening the PostgreSQL store: %w", err)
	}
	return db, nil
}
