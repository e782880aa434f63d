/**
 * Loading many rows in one transaction (CSV jobs: up to a million notifications, all or nothing). PostgreSQL takes
 * them through `COPY … FROM STDIN`, streamed, so that building rows in Node overlaps the server's work; PGlite has
 * no COPY from a client stream, so it gets large multi-row inserts (one JSON parameter per batch).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** A column to load and its SQL type; values are strings, numbers, booleans, Dates or null. */
export interface BulkColumn {
  name: string;
  type: string;
}

export type BulkValue = string | number | boolean | Date | null;

export interface BulkTransaction {
  /** A statement inside the transaction. Not while `insertRows` is running. */
  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /**
   * A statement that may run while `insertRows` is pulling rows (reading the job's own file, say). On PostgreSQL
   * it runs on another connection and so sees only committed data; on PGlite, on the transaction's own.
   */
  read(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Inserts every row of every batch; resolves to the number of rows. */
  insertRows(table: string, columns: readonly BulkColumn[], batches: AsyncIterable<BulkValue[][]>): Promise<number>;
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL: COPY in text format.

export async function pgBulkTransaction<T>(pool: pg.Pool, fn: (tx: BulkTransaction) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const tx: BulkTransaction = {
      query: async (text, params) => (await client.query(text, params)).rows,
      read: async (text, params) => (await pool.query(text, params)).rows,
      async insertRows(table, columns, batches) {
        const stream = client.query(
          copyFrom(`COPY ${quoteIdent(table)} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`),
        );
        // One batch ahead of what the connection has taken, not sixteen: memory stays flat whatever the job's size.
        await pipeline(Readable.from(copyText(batches), { highWaterMark: 1 }), stream);
        return stream.rowCount;
      },
    };
    const result = await fn(tx);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      // The connection itself failed (e.g. mid-COPY): it must not go back to the pool.
      broken = true;
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * Rows as COPY text (tab-separated, `\N` for null, backslash escapes for the characters that would break a line),
 * written straight into a buffer per batch: no string per row is built, so there is little for the garbage
 * collector to do and nothing left to convert at the socket.
 */
async function* copyText(batches: AsyncIterable<BulkValue[][]>): AsyncGenerator<Buffer> {
  let buffer = Buffer.allocUnsafe(256 * 1024);
  for await (const batch of batches) {
    let at = 0;
    for (const row of batch) {
      // One short-lived string and one native write per row (a write per value costs more than the join).
      const line = row.map(copyValue).join('\t');
      // UTF-8 takes at most 3 bytes per UTF-16 unit; +1 for the newline.
      const room = line.length * 3 + 1;
      if (at + room > buffer.length) {
        const bigger = Buffer.allocUnsafe(Math.max(buffer.length * 2, at + room));
        buffer.copy(bigger, 0, 0, at);
        buffer = bigger;
      }
      at += buffer.write(line, at, 'utf8');
      buffer[at++] = 0x0a;
    }
    if (at === 0) continue;
    // The bytes are handed over; the next batch writes into a fresh buffer.
    const out = buffer.subarray(0, at);
    buffer = Buffer.allocUnsafe(buffer.length);
    yield out;
  }
}

const COPY_SPECIAL = /[\\\t\n\r]/;

function copyValue(value: BulkValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') {
    // Four native passes beat one pass with a callback (message bodies are full of \r\n).
    return COPY_SPECIAL.test(value)
      ? value.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n').replaceAll('\r', '\\r')
      : value;
  }
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

// ---------------------------------------------------------------------------------------------------------------
// PGlite: one INSERT … SELECT per batch from a JSON array of arrays (a single parameter, whatever the batch size).

export interface ScriptConnection {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

export async function pgliteBulkTransaction<T>(
  conn: ScriptConnection,
  fn: (tx: BulkTransaction) => Promise<T>,
): Promise<T> {
  const query = async (text: string, params?: unknown[]) =>
    (await conn.query(text, params)).rows as Record<string, unknown>[];
  await query('BEGIN');
  try {
    const result = await fn({
      query,
      read: query,
      async insertRows(table, columns, batches) {
        const select = columns.map((c, i) => `(r->>${i})::${c.type}`).join(', ');
        const text = `INSERT INTO ${quoteIdent(table)} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) SELECT ${select} FROM json_array_elements($1::json) AS r`;
        let count = 0;
        for await (const batch of batches) {
          if (batch.length === 0) continue;
          await query(text, [JSON.stringify(batch)]);
          count += batch.length;
        }
        return count;
      },
    });
    await query('COMMIT');
    return result;
  } catch (err) {
    await query('ROLLBACK');
    throw err;
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
