#!/usr/bin/env bash
# Creates the demo table `public.demo_orders` (with a few rows) in the local PostgreSQL
# database `postgres`, which the bundled ducktail.yaml replicates. Idempotent.
set -euo pipefail
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
if ! command -v psql >/dev/null 2>&1 || ! psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  echo "demo: PostgreSQL not reachable; skipped"; exit 0
fi
psql -d postgres -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE IF NOT EXISTS public.demo_orders (
  id         bigserial PRIMARY KEY,
  customer   text        NOT NULL,
  amount     numeric(12,2) NOT NULL,
  status     text        NOT NULL DEFAULT 'new',
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO public.demo_orders (customer, amount, status)
SELECT 'customer-' || g, round((random() * 500)::numeric, 2), (ARRAY['new','paid','shipped'])[1 + g % 3]
FROM generate_series(1, 100) g
WHERE NOT EXISTS (SELECT 1 FROM public.demo_orders);
SQL
echo "demo: public.demo_orders has $(psql -d postgres -Atqc 'select count(*) from public.demo_orders') rows"
