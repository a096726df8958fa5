package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candor/candor/internal/leader"
)

// leaderLockKey is the session-level advisory lock of the instance that
// runs scheduled work (see package leader). Never change it: every Candor
// version sharing a database must agree on it.
const leaderLockKey int64 = 0x63616e64_00000003

// TryLeaderLock tries to take the leadership lock (a leader.Locker: use
// leader.LockFunc(db.TryLeaderLock)). It opens a dedicated connection,
// outside the pool so a held lock never pins a pooled connection nor holds
// up Close, and takes a session-level pg_try_advisory_lock on it. It
// returns nil and no error when another session holds the lock. The lock
// lives as long as that connection: PostgreSQL releases it when the
// connection or the process dies, and Check notices a dead connection.
func (s *DB) TryLeaderLock(ctx context.Context) (leader.Held, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: leader connection: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, leaderLockKey).Scan(&ok); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("postgres: leader lock: %w", err)
	}
	if !ok {
		closeConn(conn)
		return nil, nil
	}
	return &leaderConn{conn: conn}, nil
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.Close(ctx)
}

// leaderConn is a held leadership lock. Check and Release are called from
// one goroutine (the elector's), as a pgx.Conn requires.
type leaderConn struct{ conn *pgx.Conn }

// Check runs SELECT 1 on the lock's connection: if it fails the session,
// and so the lock, may be gone.
func (l *leaderConn) Check(ctx context.Context) error {
	_, err := l.conn.Exec(ctx, `SELECT 1`)
	return err
}

// Release ends the session, which releases the lock.
func (l *leaderConn) Release() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return l.conn.Close(ctx)
}
