/**
 * One way to reach the database: a Kysely instance over a real PostgreSQL server (pg) when DATABASE_URL is set,
 * otherwise over PGlite in the data folder. Everything above this file is the same SQL for both.
 */
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { PGlitePool } from './pglite-pool.ts';
import { pgBulkTransaction, pgliteBulkTransaction, type BulkTransaction } from './bulk-load.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

/** One round trip to the database: resolves when it answers, rejects when it cannot be reached. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db);
}

export interface DbHandle {
  db: Db;
  kind: 'postgres' | 'pglite';
  /**
   * Runs SQL text that may hold several statements (migrations) on one dedicated connection; each call
   * resolves to the rows of its last statement.
   */
  withScriptRunner<T>(fn: (runScript: (text: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T>;
  /** One transaction for loading many rows (see bulk-load.ts); commits when fn resolves, rolls back if it throws. */
  withBulkTransaction<T>(fn: (tx: BulkTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const PREPARED_MARK = '/* prepared */ ';

/**
 * Marks a hot statement to be prepared once per connection and its plan reused: put it first in the statement's
 * SQL. Planning a statement over the day-partitioned notifications table costs more than running it for a small
 * batch. Its text should not vary (arrays as parameters, not lists): each distinct text is one more statement
 * kept on every connection. On PGlite it is only a comment.
 */
export const prepared: RawBuilder<unknown> = sql.raw(PREPARED_MARK);

/**
 * A pg client that runs statements marked `prepared` as named statements, named after their text, and that never
 * ends the process when its connection dies.
 */
class PreparingClient extends pg.Client {
  /** The pool's statement bound (openDatabase makes a subclass per pool that sets it). */
  static queryTimeoutMs = 0;
  static probe: () => Promise<boolean> = async () => true;
  /** This connection's bound: none while it runs migrations or loads a bulk transaction. */
  timeoutMs = (this.constructor as typeof PreparingClient).queryTimeoutMs;

  constructor(config?: pg.ClientConfig) {
    super(config);
    // pg-pool listens for errors only while a client is idle: a connection lost while checked out (a server
    // restart, crash or failover mid-query) would be an unhandled 'error' event, which ends the process. Its
    // queries already fail with the error, and the pool drops the client (no longer queryable) when released.
    this.on('error', () => {});
  }

  override query(...args: unknown[]): never {
    const [text, values] = args;
    const run = super.query as (...a: unknown[]) => never;
    const result =
      typeof text === 'string' && text.startsWith(PREPARED_MARK) && Array.isArray(values)
        ? run.call(this, { name: statementName(text), text, values }, ...args.slice(2))
        : run.apply(this, args);
    return this.bounded(result);
  }

  /**
   * A server gone silent (a network cut, a frozen host) would leave a query waiting for as long as TCP does. A
   * query unanswered for a couple of seconds has the server probed on a fresh connection: if that fails too, the
   * connection is cut at once; a query that is merely slow is cut only past the timeout. A cut query fails as a
   * lost connection does, and the pool drops the client. (pg's own query_timeout would leave the connection busy
   * with the unanswered query.)
   */
  private bounded<T>(result: T): T {
    const limit = this.timeoutMs;
    if (limit <= 0 || !(result instanceof Promise)) return result;
    const { probe } = this.constructor as typeof PreparingClient;
    let answered = false;
    const cut = () => {
      if (!answered) (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    };
    const stalled = setTimeout(async () => {
      if (!(await probe())) cut();
    }, STALL_MS);
    const timer = setTimeout(cut, limit);
    stalled.unref();
    timer.unref();
    return result.finally(() => {
      answered = true;
      clearTimeout(stalled);
      clearTimeout(timer);
    }) as T;
  }
}

/** How long a query waits for its first sign of life before the server is probed, and how long a probe may take. */
const STALL_MS = 2000;

/** Whether the server takes a fresh connection and answers on it; one probe at a time, shared by whoever asks. */
function serverProbe(connectionString: string): () => Promise<boolean> {
  let probing: Promise<boolean> | null = null;
  async function probeOnce(): Promise<boolean> {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: STALL_MS, query_timeout: STALL_MS });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      client.end().catch(() => {});
    }
  }
  return () => {
    probing ??= probeOnce().finally(() => {
      probing = null;
    });
    return probing;
  };
}

const statementNames = new Map<string, string>();

/** The name is a digest of the text: two texts never share a name, so a connection never runs the wrong one. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `envoi_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    if (statementNames.size < 1_000) statementNames.set(text, name);
  }
  return name;
}

// Dates come back as JS Dates; bigint counts as numbers (they stay far below 2^53).
pg.types.setTypeParser(20, (v) => Number(v));

export async function openDatabase(opts: {
  databaseUrl: string | null;
  dataDir?: string;
  poolSize?: number;
  /** How long to wait for a connection (a new one, or a free one from a full pool); 0: for ever. */
  connectTimeoutMs?: number;
  /** How long a statement may wait for the server's answer before its connection is cut; 0: for ever. */
  queryTimeoutMs?: number;
}): Promise<DbHandle> {
  const { databaseUrl } = opts;
  if (databaseUrl) {
    const probe = serverProbe(databaseUrl);
    const Client = class extends PreparingClient {
      static override queryTimeoutMs = opts.queryTimeoutMs ?? 0;
      static override probe = probe;
    };
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      max: opts.poolSize ?? 20,
      Client,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 0,
      // Idle connections to a vanished server are found out and replaced rather than tried by the next query.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // A server restart or failover kills idle connections; pg reports it here, and an unhandled 'error' event
    // would end the process. The pool replaces the connection on the next query.
    // One line per burst: a restart drops every idle connection at once.
    let lastLogged = 0;
    pool.on('error', (err) => {
      if (Date.now() - lastLogged < 10_000) return;
      lastLogged = Date.now();
      console.error(`envoi: a PostgreSQL connection was lost: ${err.message}`);
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      async withScriptRunner(fn) {
        const client = await pool.connect();
        // A migration may rightly take longer than any request.
        (client as unknown as PreparingClient).timeoutMs = 0;
        try {
          return await fn(async (text) => {
            const result = (await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
            return Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows;
          });
        } finally {
          (client as unknown as PreparingClient).timeoutMs = Client.queryTimeoutMs;
          client.release();
        }
      },
      withBulkTransaction: (fn) => pgBulkTransaction(pool, fn),
      close: () => db.destroy(),
    };
  }
  // Loaded only here: PGlite's module alone adds some 40 MB to a process that runs on PostgreSQL.
  const { PGlite } = await import('@electric-sql/pglite');
  // No dataDir: an in-memory database (tests).
  const pglite = opts.dataDir ? await PGlite.create(opts.dataDir) : await PGlite.create();
  const pool = new PGlitePool(pglite);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pool as never }) });
  return {
    db,
    kind: 'pglite',
    async withScriptRunner(fn) {
      const conn = await pool.connect();
      try {
        return await fn(async (text) => ((await pglite.exec(text)).at(-1)?.rows ?? []) as Record<string, unknown>[]);
      } finally {
        conn.release();
      }
    },
    async withBulkTransaction(fn) {
      const conn = await pool.connect();
      try {
        return await pgliteBulkTransaction(conn, fn);
      } finally {
        conn.release();
      }
    },
    close: () => db.destroy(),
  };
}
