package schemas

import "embed"

// ClickHouseMigrations holds clickhouse/NNNN_name.sql, applied in order by internal/migrate.
//
//go:embed clickhouse/*.sql
var ClickHouseMigrations embed.FS

// PostgresMigrations holds postgres/NNNN_name.sql, applied in order by internal/migrate.
//
//go:embed postgres/*.sql
var PostgresMigrations embed.FS
