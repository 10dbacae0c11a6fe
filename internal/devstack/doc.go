// Package devstack starts and stops a local Kafka, ClickHouse and PostgreSQL
// for development and integration tests, without Docker. It backs
// `pushpipe dev up|down|status|env|logs`.
//
// Everything lives under one state directory (Config.Dir, default .dev):
//
//	cache/      downloads: Kafka jars (Maven), libchdb.so (npm), the Maven repository
//	bin/        the compiled ClickHouse launcher
//	kafka/      server.properties, log4j2.properties, data/
//	clickhouse/ data/
//	postgres/   data/ (the cluster), run/ (unix socket)
//	logs/       <service>.log: each child's stdout and stderr, and the output of setup tools
//	run/        <service>.pid
//
// The services:
//
//   - Kafka 4.1.2 in KRaft mode, broker and controller in one JVM, from jars
//     that Maven fetches once; needs java (17+) and mvn. Up creates the topics
//     of schemas.Topics with Config.Partitions partitions.
//   - ClickHouse: the engine of chdb (libchdb.so from the npm package
//     @chdb/lib-linux-x64-gnu), run by a small embedded C launcher compiled
//     with cc at first up, serving the native protocol on ClickHousePort.
//   - PostgreSQL from the Debian packages (installed with apt-get when missing
//     and running as root); as root the server runs as the postgres user.
//     Up creates the database pushpipe, owned by the trust-authenticated user pushpipe.
//
// Child processes run in their own process group with their output in the
// log file and outlive the program that started them; pid files (checked
// against /proc/PID/cmdline) make Up idempotent and let a later Down stop
// them: the stop signal, then SIGKILL once the budget is spent.
//
// The package does not manage remote or production infrastructure, does not
// apply migrations (see internal/migrate), and does not tune the services
// for anything but a developer machine: one node, replication factor 1,
// trust authentication, listening on 127.0.0.1 only.
package devstack
