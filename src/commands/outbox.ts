/** envoi outbox [--limit N] [--service ID] [--json]: the latest messages the sink providers kept. */
import { parseArgs } from 'node:util';
import type { Config } from '../platform/config.ts';
import type { OutboxEntry } from '../notify/delivery/outbox.ts';
import { dataCommand } from './data-command.ts';
import { OperatorError } from './operator-error.ts';

export async function outboxCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      limit: { type: 'string', default: '10' },
      service: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new OperatorError('--limit must be a whole number from 1 to 1000');
  const entries = (await dataCommand(config, 'outbox', { limit, serviceId: values.service })) as OutboxEntry[];
  if (values.json) {
    console.log(JSON.stringify(entries, null, 2));
    return 0;
  }
  if (entries.length === 0) {
    console.log('The outbox is empty: nothing has been sent through the sink providers yet.');
    return 0;
  }
  for (const e of entries) {
    console.log(
      `── ${e.channel} to ${e.recipient} · ${new Date(e.createdAt).toISOString()} · notification ${e.notificationId}`,
    );
    if (e.sender) console.log(`From: ${e.sender}`);
    if (e.subject) console.log(`Subject: ${e.subject}`);
    console.log('');
    console.log(e.body);
    console.log('');
  }
  return 0;
}
