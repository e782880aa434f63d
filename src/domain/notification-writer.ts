/**
 * Group commit for accepted notifications: concurrent requests queue their rows, and one statement inserts a
 * whole batch and bumps the daily counters. Each request's promise settles only after its row is committed, so
 * a 201 always means the row is durable, while the database sees one round trip per batch, not per request.
 */
import { sql, type Insertable } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { NotificationsTable } from '../db/schema.ts';
import type { CounterRow, DailyLimits, Reservation } from './limits.ts';

interface Pending {
  row: Insertable<NotificationsTable>;
  reservation: Reservation | null;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class NotificationWriter {
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly db: Db,
    private readonly limits: DailyLimits,
    private readonly opts: { maxBatch: number; maxInFlight: number } = { maxBatch: 500, maxInFlight: 2 },
  ) {}

  write(row: Insertable<NotificationsTable>, reservation: Reservation | null): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, reservation, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.inFlight += 1;
      void this.flush(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    const reservations = batch.flatMap((p) => (p.reservation ? [p.reservation] : []));
    try {
      // One statement, committed on its own: the rows go in as one array per column (so the statement's text is
      // the same whatever the batch size, and planned once), and the daily counters are bumped in its tail.
      const columns = Object.keys(batch[0]!.row) as Array<keyof Insertable<NotificationsTable>>;
      const arrays = columns.map(
        (column) => sql`${batch.map((p) => p.row[column] ?? null)}::${sql.raw(columnType(column))}[]`,
      );
      const counters = this.limits.counterUpsert(reservations);
      const { rows } = await sql<CounterRow>`
        WITH inserted AS (
          INSERT INTO notifications (${sql.join(columns.map((c) => sql.ref(c)))})
          SELECT * FROM unnest(${sql.join(arrays)})
          RETURNING 1)
        ${counters.statement}`.execute(this.db);
      counters.apply(rows);
      for (const p of batch) p.resolve();
    } catch (err) {
      // One bad row must not fail its neighbours: retry them one by one so each request gets its own answer.
      if (batch.length > 1) {
        await Promise.all(batch.map((p) => this.flush([p])));
        return;
      }
      for (const r of reservations) this.limits.release(r);
      batch[0]!.reject(err);
    }
  }
}

const COLUMN_TYPES: Partial<Record<keyof NotificationsTable, string>> = {
  id: 'uuid',
  service_id: 'uuid',
  template_id: 'uuid',
  api_key_id: 'uuid',
  created_by_id: 'uuid',
  job_id: 'uuid',
  template_version: 'int4',
  billable_units: 'int4',
  job_row_number: 'int4',
  priority: 'int2',
  personalisation: 'jsonb',
  scheduled_for: 'timestamptz',
  next_attempt_at: 'timestamptz',
  created_at: 'timestamptz',
};

/** The SQL type of a notifications column, for the array it is sent in; text unless listed. */
function columnType(column: keyof NotificationsTable): string {
  return COLUMN_TYPES[column] ?? 'text';
}
