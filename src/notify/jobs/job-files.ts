/**
 * A job's uploaded file, kept in the database (job_files) in chunks: written while the upload is read and checked,
 * read back as a stream when the job runs or its report is asked for. Memory holds a chunk or two, whatever the
 * file's size.
 */
import type { Db } from '../../platform/database/connection.ts';
import { deleteJobFile, insertJobFileChunk } from '../repositories/job-files.ts';

/** An upload: the file's bytes, or text (the bulk API's `csv`). */
export type FileSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/** Reads chunk `seq` of a stored file; null past its end. */
export type ChunkReader = (seq: number) => Promise<Uint8Array | null>;

// Chunks of 64 KiB. Bigger ones cost memory out of proportion: each read back is a string and a buffer too big for
// V8's young generation, so they pile up as old garbage (with 1 MiB chunks a million-row job peaked 100 MB higher).
const CHUNK_BYTES = 64 * 1024;
/** A stream over a file's chunks reads one ahead, not Node's default sixteen (16 MB of a stored file). */
export const ONE_AHEAD = { highWaterMark: 1 };

/** The stored file, chunk after chunk; the next chunk is fetched while the current one is parsed. */
export async function* storedFile(chunk: ChunkReader, jobId: string): AsyncGenerator<Buffer> {
  let next = chunk(0);
  for (let seq = 0; ; seq++) {
    const bytes = await next;
    if (bytes === null) {
      if (seq === 0) throw new Error(`the file of job ${jobId} has been deleted`);
      return;
    }
    next = chunk(seq + 1);
    next.catch(() => {}); // surfaced when awaited
    yield Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

/**
 * Stores an upload in chunks while it is being read. One chunk write is in flight at a time, so reading
 * goes on while the database writes, and memory holds at most two chunks.
 */
export class ChunkWriter {
  bytes = 0;
  private parts: Buffer[] = [];
  private size = 0;
  private seq = 0;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  constructor(
    private readonly db: Db,
    private readonly jobId: string,
  ) {}

  /** Passes the source through, keeping a copy of every byte. */
  async *tee(source: FileSource): AsyncGenerator<Buffer> {
    for await (const piece of source) {
      const chunk =
        typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
      this.bytes += chunk.length;
      for (let at = 0; at < chunk.length; at += CHUNK_BYTES) {
        const part = at === 0 && chunk.length <= CHUNK_BYTES ? chunk : chunk.subarray(at, at + CHUNK_BYTES);
        this.parts.push(part);
        this.size += part.length;
        if (this.size >= CHUNK_BYTES) await this.flush();
      }
      yield chunk;
    }
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.size === 0) return;
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    const seq = this.seq++;
    await this.writing;
    if (this.failure) throw this.failure;
    this.writing = insertJobFileChunk(this.db, this.jobId, seq, bytes).then(
      () => undefined,
      (err) => {
        this.failure = err;
      },
    );
  }

  async end(): Promise<void> {
    await this.flush();
    await this.writing;
    if (this.failure) throw this.failure;
  }

  async discard(): Promise<void> {
    await this.writing;
    await deleteJobFile(this.db, this.jobId);
  }
}
