package main

import (
	"context"
	"errors"

	"github.com/candor/candor/internal/store"
)

func openPostgres(ctx context.Context, url string) (store.Store, error) {
	return nil, errors.New("the PostgreSQL store is not built into this version")
}
