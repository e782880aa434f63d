/**
 * envoi send-bulk --service ID --template ID [--name NAME] [--schedule ISO-8601] FILE: every row of a CSV, TSV or
 * Excel file becomes a message of one bulk job. The file goes to a running embedded server if there is one,
 * streamed through the command bridge; else the job runs here, on the database directly.
 */
import { stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Config } from '../platform/config.ts';
import { runningServer, type ServerHandoff } from '../platform/runtime.ts';
import { MIGRATIONS } from '../migrations.ts';
import type { SendBulkEvent, SendBulkInput } from './commands.ts';
import { OperatorError } from './operator-error.ts';
import { progressDisplay } from './progress-display.ts';

const USAGE = 'usage: envoi send-bulk --service ID --template ID [--name NAME] [--schedule ISO-8601] FILE';

export async function sendBulkCommand(config: Config, args: string[]): Promise<number> {
  const { input, file, size } = await readSendBulkArgs(args);
  const display = progressDisplay(path.basename(file), size);
  const holder = runningServer(config);
  let outcome: SendBulkEvent;
  try {
    outcome = holder
      ? await sendBulkThroughServer(holder, input, file, display.show)
      : await sendBulkDirectly(config, input, file, display.show);
  } finally {
    display.end();
  }
  return reportOutcome(file, outcome);
}

/** The job's settings from the command line, checked, and the file's size (for the progress bar). */
async function readSendBulkArgs(args: string[]): Promise<{ input: SendBulkInput; file: string; size: number }> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      service: { type: 'string' },
      template: { type: 'string' },
      name: { type: 'string' },
      schedule: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (positionals.length !== 1 || !values.service || !values.template || !file) throw new OperatorError(USAGE);
  const [{ formatFromFilename }, { parseIsoDate }, { canonicalUuid }] = await Promise.all([
    import('../notify/jobs/spreadsheet.ts'),
    import('../notify/api/v2/request.ts'),
    import('../platform/ids.ts'),
  ]);
  const serviceId = canonicalUuid(values.service);
  const templateId = canonicalUuid(values.template);
  if (!serviceId) throw new OperatorError(`--service must be a service id (a UUID), got "${values.service}"`);
  if (!templateId) throw new OperatorError(`--template must be a template id (a UUID), got "${values.template}"`);
  const format = formatFromFilename(file);
  if (!format)
    throw new OperatorError(`cannot tell what kind of file ${file} is: its name must end in .csv, .tsv, .txt or .xlsx`);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new OperatorError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let scheduledFor: string | null = null;
  if (values.schedule) {
    const date = parseIsoDate(values.schedule);
    if (!date)
      throw new OperatorError(`--schedule must be a date and time in ISO 8601, e.g. 2026-03-02T09:00:00-05:00`);
    scheduledFor = date.toISOString();
  }
  const input: SendBulkInput = {
    serviceId,
    templateId,
    name: values.name ?? path.basename(file),
    format,
    scheduledFor,
  };
  return { input, file, size };
}

/** The job's outcome for the operator, and the exit status: 2 for a refused file, 1 for a job that failed. */
function reportOutcome(file: string, outcome: SendBulkEvent): number {
  if (outcome.type === 'refused') {
    console.error(`envoi: ${file} cannot be sent:`);
    for (const line of outcome.problems) console.error(`  ${line}`);
    return 2;
  }
  if (outcome.type !== 'done') throw new Error(`unexpected outcome ${outcome.type}`);
  const { counts } = outcome;
  console.log(
    `job ${outcome.jobId}: ${counts.rows.toLocaleString('en')} rows, ${outcome.status}${outcome.scheduledFor ? ` for ${outcome.scheduledFor}` : ''}`,
  );
  if (outcome.status === 'error') {
    // Failed on every attempt (JOB_MAX_ATTEMPTS): a fault of Envoi or its database, not of the command.
    console.error(
      `envoi: job ${outcome.jobId} failed on every attempt and none of its messages were sent; the log has the errors`,
    );
    return 1;
  }
  if (outcome.status !== 'scheduled') {
    console.log(
      `queued ${counts.queued.toLocaleString('en')}, sending ${counts.sending.toLocaleString('en')}, ` +
        `delivered ${counts.delivered.toLocaleString('en')}, failed ${counts.failed.toLocaleString('en')}`,
    );
  }
  return 0;
}

async function sendBulkDirectly(
  config: Config,
  input: SendBulkInput,
  file: string,
  onEvent: (e: SendBulkEvent) => void,
) {
  const [{ openState }, { createServices }, { sendBulk }] = await Promise.all([
    import('../platform/runtime.ts'),
    import('../app-services.ts'),
    import('./commands.ts'),
  ]);
  const { database, secretKey } = await openState(config, MIGRATIONS);
  const services = createServices(config, database, secretKey);
  try {
    return await sendBulk(services, input, createReadStream(file), onEvent);
  } finally {
    await services.jobs.idle();
    await database.close();
  }
}

/** The file goes to the server as the request body, as it is; the answer is one JSON event per line. */
async function sendBulkThroughServer(
  holder: ServerHandoff,
  input: SendBulkInput,
  file: string,
  onEvent: (e: SendBulkEvent) => void,
) {
  const query = new URLSearchParams({
    service: input.serviceId,
    template: input.templateId,
    name: input.name,
    format: input.format,
  });
  if (input.scheduledFor) query.set('schedule', input.scheduledFor);
  const response = await fetch(`${holder.url}/_internal/commands/send-bulk?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'x-envoi-command-token': holder.token },
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  if (!response.ok || !response.body) throw new OperatorError(`the running server answered ${response.status}`);
  let buffered = '';
  let last: SendBulkEvent | { type: 'error'; message: string } | null = null;
  for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      last = JSON.parse(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      if (last!.type === 'progress' || last!.type === 'created') onEvent(last as SendBulkEvent);
    }
  }
  if (!last) throw new Error('the running server closed the connection without an answer');
  if (last.type === 'error') throw new Error(`the running server could not send the file: ${last.message}`);
  return last;
}
