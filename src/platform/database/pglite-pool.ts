/**
 * Lets Kysely's own PostgresDialect drive an embedded PGlite database. PGlite is a single connection, so the
 * "pool" hands that one connection to one caller at a time; the others wait in line, which also keeps a
 * transaction's statements together.
 */
import type { PGlite } from '@electric-sql/pglite';

interface QueryResult {
  rows: unknown[];
  rowCount: number;
  command: string;
}

export class PGlitePool {
  private busy = false;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly db: PGlite) {}

  async connect() {
    if (this.busy) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.busy = true;
    let released = false;
    return {
      query: async (text: string, params?: unknown[]): Promise<QueryResult> => {
        const result = await this.db.query(text, params as unknown[]);
        return {
          rows: result.rows,
          rowCount: result.affectedRows ?? result.rows.length,
          command: commandOf(text),
        };
      },
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiting.shift();
        if (next) next();
        else this.busy = false;
      },
    };
  }

  async end(): Promise<void> {
    await this.db.close();
  }
}

/** Kysely reads `command` to tell inserts, updates and deletes apart. */
function commandOf(text: string): string {
  const match = /^\s*(?:with\s[\s\S]*?\)\s*)?(\w+)/i.exec(text);
  return (match?.[1] ?? '').toUpperCase();
}
