import { openDatabase } from '../src/db/connection.ts';
import { sql } from 'kysely';
const h = await openDatabase({ databaseUrl: process.env.DATABASE_URL ?? null });
const r = await sql<any>`SELECT * FROM unnest(${['a1b2c3d4-0000-4000-8000-000000000001', 'a1b2c3d4-0000-4000-8000-000000000002']}::uuid[], ${[1, null]}::int[], ${[new Date().toISOString(), null]}::timestamptz[], ${['x', null]}::text[]) AS v(id, n, t, s)`.execute(h.db);
console.log(r.rows);
const r2 = await sql<any>`SELECT now() + ${5} * interval '1 second' AS x, version() v`.execute(h.db);
console.log(r2.rows);
await h.close();
