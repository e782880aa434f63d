/**
 * The operator commands that work on Envoi's data (bootstrap, outbox, send-bulk). Each runs either directly on
 * an open database or, when an embedded server holds the data folder, inside that server through the command
 * bridge.
 */
import type { DbHandle } from '../platform/database/connection.ts';
import type { Config } from '../platform/config.ts';
import { SecretBox } from '../platform/secret-box.ts';
import { applyBootstrap } from '../notify/provisioning/apply-bootstrap.ts';
import { checkBootstrapFile } from '../notify/provisioning/bootstrap-file.ts';
import { latestOutbox } from '../notify/delivery/outbox.ts';
import { resealSecrets } from './reseal-secrets.ts';
import type { AppServices } from '../app-services.ts';
import type { JobStatus } from '../notify/vocabulary.ts';
import { refusalAnswer } from '../notify/api/v2/refusal-wire.ts';
import { SendRefused } from '../notify/sending/refusals.ts';
import { JobRejected, type JobCounts } from '../notify/jobs/jobs.ts';
import { SpreadsheetReadError, type SpreadsheetFormat } from '../notify/jobs/spreadsheet.ts';

export type CommandName = 'bootstrap' | 'outbox' | 'rotate-secret-key';

export interface CommandInput {
  bootstrap: { file: unknown };
  outbox: { limit: number; serviceId?: string };
  'rotate-secret-key': Record<string, never>;
}

export async function runCommand<K extends CommandName>(
  name: K,
  input: CommandInput[K],
  env: { config: Config; database: DbHandle; secretKey: string; afterWrite?: (serviceIds: string[]) => void },
): Promise<unknown> {
  if (name === 'bootstrap') {
    const file = checkBootstrapFile(
      (input as CommandInput['bootstrap']).file,
      env.config.phoneRegion,
      env.config.callbacks.allowedHosts,
    );
    const result = await applyBootstrap(
      env.database.db,
      new SecretBox(env.secretKey, env.config.previousSecretKeys),
      file,
      env.config,
    );
    env.afterWrite?.(result.services.map((s) => s.id));
    return result;
  }
  if (name === 'rotate-secret-key') {
    return resealSecrets(env.database.db, new SecretBox(env.secretKey, env.config.previousSecretKeys));
  }
  const { limit, serviceId } = input as CommandInput['outbox'];
  return latestOutbox(env.database.db, { limit, serviceId });
}

// ---------------------------------------------------------------------------------------------------------------
// envoi send-bulk: a file of recipients becomes a job, which is queued at once (or scheduled).

export interface SendBulkInput {
  serviceId: string;
  templateId: string;
  /** The job's name (original_file_name). */
  name: string;
  format: SpreadsheetFormat;
  /** ISO 8601 from the operator, already checked; null to send now. */
  scheduledFor: string | null;
}

/** What `envoi send-bulk` shows as it goes; through the command bridge, one JSON line each. */
export type SendBulkEvent =
  | { type: 'progress'; stage: 'checking' | 'queueing'; rows: number; bytes?: number; total?: number }
  | { type: 'created'; jobId: string; status: JobStatus; rows: number; scheduledFor: string | null; warnings: string[] }
  | { type: 'done'; jobId: string; status: JobStatus; scheduledFor: string | null; counts: JobCounts }
  | { type: 'refused'; problems: string[] };

/**
 * Creates the job from `source` and, unless it is scheduled, queues its rows here and now (waiting instead if
 * another process got to it first). Resolves to the last event: `done` (with status `error` if the job failed on
 * its last attempt, here or in that process), or `refused` with the report.
 */
export async function sendBulk(
  services: Pick<AppServices, 'directory' | 'jobs'>,
  input: SendBulkInput,
  source: AsyncIterable<Uint8Array>,
  onEvent: (event: SendBulkEvent) => void,
): Promise<SendBulkEvent> {
  const { jobs } = services;
  const service = await services.directory.service(input.serviceId);
  if (!service) return { type: 'refused', problems: [`There is no service with id ${input.serviceId}.`] };
  const onProgress = (e: { stage: 'checking' | 'queueing'; rows: number; bytes?: number; total?: number }) =>
    onEvent({ type: 'progress', ...e });
  let created;
  try {
    created = await jobs.create(
      { service, keyId: null, keyType: 'normal' },
      {
        templateId: input.templateId,
        name: input.name,
        source,
        format: input.format,
        scheduledFor: input.scheduledFor ? new Date(input.scheduledFor) : null,
        replyToId: null,
        reference: null,
        onProgress,
      },
    );
  } catch (err) {
    if (err instanceof JobRejected) return { type: 'refused', problems: err.report.summary };
    // In the API's words, which operators know from Notify; no job refusal names the site, so no root is needed.
    if (err instanceof SendRefused) return { type: 'refused', problems: [refusalAnswer(err.refusal, '/').message] };
    if (err instanceof SpreadsheetReadError) return { type: 'refused', problems: [err.message] };
    throw err;
  }
  let job = created.job;
  onEvent({
    type: 'created',
    jobId: job.id,
    status: job.status,
    rows: job.notificationCount,
    scheduledFor: job.scheduledFor?.toISOString() ?? null,
    warnings: created.warnings,
  });
  // Another process (a worker's job loop) may claim the job first: then follow its progress, and take the job
  // over should that process die and its lease run out. Any other status is final (finished, cancelled, error).
  while (job.status === 'pending' || job.status === 'in progress') {
    if (await jobs.processNext({ jobId: job.id, onProgress })) break;
    job = (await jobs.get(service.id, job.id))!;
    const counts = await jobs.counts(job);
    onProgress({ stage: 'queueing', rows: counts.rows - counts.notQueued, total: counts.rows });
    if (job.status === 'pending' || job.status === 'in progress')
      await new Promise((resolve) => setTimeout(resolve, 500));
  }
  job = (await jobs.get(service.id, job.id))!;
  return {
    type: 'done',
    jobId: job.id,
    status: job.status,
    scheduledFor: job.scheduledFor?.toISOString() ?? null,
    counts: await jobs.counts(job),
  };
}
