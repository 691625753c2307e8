#!/bin/sh
# Run once by the postgres image when it creates the primary's data: lets the standby stream WAL
# (docs/operations.md, "Read replicas").
set -e
echo "host replication all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
