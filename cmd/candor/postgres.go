package main

import (
	"context"
	"fmt"

	"github.com/candor/candor/internal/postgres"
	"github.com/candor/candor/internal/store"
)

func openPostgres(ctx context.Context, url string) (store.Store, error) {
	db, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("opening the PostgreSQL store: %w", err)
	}
	return db, nil
}
