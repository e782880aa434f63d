/** A job's uploaded file, kept in the database as numbered chunks (job_files) until its retention runs out. */
import { sql } from 'kysely';
import type { Db } from '../../platform/database/connection.ts';
import type { BulkTransaction } from '../../platform/database/bulk-load.ts';

export async function insertJobFileChunk(db: Db, jobId: string, seq: number, bytes: Buffer): Promise<void> {
  await db.insertInto('job_files').values({ job_id: jobId, seq, bytes }).execute();
}

/** Chunk `seq` of the job's file; null past its last chunk (or when the file was deleted). */
export async function readJobFileChunk(db: Db, jobId: string, seq: number): Promise<Uint8Array | null> {
  return (
    (
      await db
        .selectFrom('job_files')
        .select('bytes')
        .where('job_id', '=', jobId)
        .where('seq', '=', seq)
        .executeTakeFirst()
    )?.bytes ?? null
  );
}

/** The same, read while the job's rows are being loaded (bulk-load.ts: committed data only, on PostgreSQL). */
export async function readJobFileChunkDuringLoad(
  tx: BulkTransaction,
  jobId: string,
  seq: number,
): Promise<Uint8Array | null> {
  return (
    ((await tx.read('SELECT bytes FROM job_files WHERE job_id = $1 AND seq = $2', [jobId, seq]))[0]?.bytes as
      | Uint8Array
      | undefined) ?? null
  );
}

export async function hasJobFile(db: Db, jobId: string): Promise<boolean> {
  const chunk = await db.selectFrom('job_files').select('seq').where('job_id', '=', jobId).limit(1).executeTakeFirst();
  return chunk !== undefined;
}

export async function deleteJobFile(db: Db, jobId: string): Promise<void> {
  await db.deleteFrom('job_files').where('job_id', '=', jobId).execute();
}

export async function deleteJobFiles(db: Db, jobIds: readonly string[]): Promise<void> {
  await db.deleteFrom('job_files').where('job_id', 'in', jobIds).execute();
}

/** Chunks of uploads that never became a job (refused lists whose process died before cleaning up). */
export async function deleteOrphanJobFiles(db: Db): Promise<void> {
  await sql`
      DELETE FROM job_files f
      WHERE f.created_at < now() - interval '1 day'
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = f.job_id)`.execute(db);
}
