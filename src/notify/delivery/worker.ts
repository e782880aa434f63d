/**
 * The delivery worker: claim due notifications in batches, render, hand them to a provider, write the outcomes
 * back. The notifications table is the queue (DESIGN §1); db/claim-queue.ts holds the lease mechanics.
 *
 * The loop claims the next batch as soon as the last row of the current one has started sending, so the provider
 * is never left idle while the worker waits on the database. Outcomes are written by one flusher, many rows per
 * UPDATE: while one write runs, the next one's rows pile up.
 *
 * Status: a row stays `created` while it is tried and retried, then ends `delivered` (relay or sink took it),
 * `sending` (taken, a receipt will follow), `permanent-failure`, or `technical-failure` once worker.maxAttempts
 * tries have failed. Rows sent with a test key never reach a provider: they end as testKeyOutcome() says.
 */
import { sql } from 'kysely';
import type { Config } from '../../platform/config.ts';
import { prepared, type Db } from '../../platform/database/connection.ts';
import {
  claim,
  giveBack,
  laneBackoffMs,
  release,
  type Fenced,
  type QueueTable,
  type Retry,
} from '../../platform/queue/claim-queue.ts';
import { testKeyOutcome } from '../sending/recipients.ts';
import { emailPlainText, renderEmailDocument, renderEmailHtml, smsFragmentCount } from '../template-language/index.ts';
import { createSleeper, withRetries, type Logger } from '../../platform/queue/background.ts';
import { createOutcomeWriter } from './outcome-writer.ts';
import { createProviders, type Providers } from './providers/index.ts';
import type { EmailMessage, ProviderResult } from './providers/types.ts';
import type { Jobs } from '../jobs/jobs.ts';
import { startJobLoop } from '../jobs/job-loop.ts';
import { queueStatusCallbacks } from './callbacks/queue.ts';
import { suppressedRecipients, suppressionKey } from './suppressions.ts';
import {
  emailBranding,
  inlineImages,
  loadBrandings,
  logoCid,
  NO_BRANDING,
  type ServiceBranding,
} from '../settings/email-branding.ts';
import { PRIORITY_OF_CATEGORY } from '../sending/send-rules.ts';
import { childOf, deliveries, handoffSeconds, measureQueueAge, reportProviders } from '../../platform/metrics.ts';
import { providerChoice } from './providers/failover.ts';

export interface WorkerOptions {
  db: Db;
  config: Config;
  logger?: Logger;
  /** Defaults to the providers config names; the worker closes only providers it created. */
  providers?: Providers;
  /** Delay before the next try after `attempts` failed ones; defaults to the lane backoff of claim-queue.ts. */
  retryDelayMs?: (attempts: number, priority: number) => number;
  /** When given, a job loop runs beside the delivery loop (scheduled jobs, jobs left by a dead process). */
  jobs?: Jobs;
}

export interface Worker {
  /** Stops claiming, lets sends in flight finish and records them, gives back rows not yet tried. */
  stop(): Promise<void>;
  /** Resolves the next time nothing is due and nothing is in flight (tests, benchmarks, `envoi send --wait`). */
  drain(): Promise<void>;
}

interface ClaimedNotification {
  id: string;
  service_id: string;
  template_id: string;
  template_version: number;
  key_type: string;
  notification_type: 'email' | 'sms';
  to: string;
  normalised_to: string;
  personalisation: unknown;
  subject: string | null;
  body: string;
  reply_to_text: string | null;
  one_click_unsubscribe_url: string | null;
  priority: number;
  next_attempt_at: Date;
  attempts: number;
  created_at: Date;
  scheduled_for: Date | null;
}

export const NOTIFICATION_QUEUE: QueueTable = {
  table: 'notifications',
  idType: 'uuid',
  due: sql`status = 'created' AND next_attempt_at <= now()`,
  orderBy: ['priority', 'next_attempt_at'],
  returning: [
    'id',
    'service_id',
    'template_id',
    'template_version',
    'key_type',
    'notification_type',
    'to',
    'normalised_to',
    'personalisation',
    'subject',
    'body',
    'reply_to_text',
    'one_click_unsubscribe_url',
    'priority',
    'next_attempt_at',
    'attempts',
    'created_at',
    'scheduled_for',
  ],
  noteColumn: 'provider_response',
  touchColumn: 'updated_at',
};

/** A final outcome for one row. */
interface Final extends Fenced {
  /** The row's created_at: it names the day partition, so the UPDATE is planned against that day alone. */
  createdAt: Date;
  status: string;
  provider: string | null;
  reference: string | null;
  response: string | null;
  /** When the provider took the message; null when it never did. */
  sentAt: Date | null;
  /** Text message fragments; null keeps the row's own. */
  billableUnits: number | null;
}

interface ServiceInfo {
  name: string;
  emailSenderLocalPart: string;
  branding: ServiceBranding;
  loadedAt: number;
}

// Services can be renamed; template versions never change.
const SERVICE_TTL_MS = 60_000;
const TEMPLATE_CACHE_MAX = 1_000;

export function startWorker(opts: WorkerOptions): Worker {
  const { db, config } = opts;
  const { batchSize, concurrency, leaseSeconds, pollMs, maxAttempts } = config.worker;
  const log = opts.logger;
  const providers = opts.providers ?? createProviders(config, db, opts.logger);
  const ownsProviders = !opts.providers;
  const retryDelayMs = opts.retryDelayMs ?? laneBackoffMs;

  const services = new Map<string, ServiceInfo>();
  const templates = new Map<string, string>();

  let running = true;
  const sleeper = createSleeper();
  const inFlight = new Set<Promise<void>>();
  const channels = { email: channelGate(concurrency), sms: channelGate(concurrency) };
  let drainWaiters: Array<() => void> = [];
  // One promise for "some send finished", shared by whoever waits for a free slot: Promise.race over every send in
  // flight would cost a reaction per send on each wait (measured: a third of the throughput at 200 in flight).
  let completion: { promise: Promise<void>; resolve: () => void } | null = null;
  const nextCompletion = (): Promise<void> => {
    if (!completion) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      completion = { promise, resolve };
    }
    return completion.promise;
  };
  const completed = (): void => {
    const c = completion;
    completion = null;
    c?.resolve();
  };

  // ---- writing outcomes back --------------------------------------------------------------------------------

  type Outcome = { final: Final } | { retry: Retry } | { throttled: Fenced & { delayMs: number } };
  const outcomes = createOutcomeWriter<Outcome>(
    'write outcomes',
    async (batch) => {
      await writeFinals(batch.flatMap((o) => ('final' in o ? [o.final] : [])));
      await release(
        db,
        NOTIFICATION_QUEUE,
        batch.flatMap((o) => ('retry' in o ? [o.retry] : [])),
      );
      // Throttled rows go back with their attempt returned: slowing down is not the message's failure.
      const byDelay = new Map<number, Fenced[]>();
      for (const o of batch)
        if ('throttled' in o)
          byDelay.set(o.throttled.delayMs, [...(byDelay.get(o.throttled.delayMs) ?? []), o.throttled]);
      for (const [delayMs, rows] of byDelay) await giveBack(db, NOTIFICATION_QUEUE, rows, delayMs);
    },
    log,
  );
  const record = (outcome: Outcome): void => outcomes.add(outcome);

  const deliveryCount = childOf((channel, provider, status) => deliveries.labels(channel, provider, status));
  const handoff = { email: handoffSeconds.labels('email'), sms: handoffSeconds.labels('sms') };
  /**
   * Records a row's outcome and counts it for /metrics; `provider` answered it, null when none was called. Test
   * keys' made-up outcomes are not deliveries, so they are not counted.
   */
  function settle(row: ClaimedNotification, outcome: Outcome, provider: string | null): void {
    record(outcome);
    if (row.key_type === 'test') return;
    const status = 'final' in outcome ? outcome.final.status : 'retry' in outcome ? 'retry' : 'throttled';
    deliveryCount(row.notification_type, provider ?? 'none', status).inc();
  }

  async function writeFinals(rows: Final[]): Promise<void> {
    if (rows.length === 0) return;
    // `attempts` fences out a worker whose lease ran out; `status = 'created'` keeps a cancellation made meanwhile.
    // The services' delivery-status callbacks are queued by the same statement.
    await sql`${prepared}
      WITH changed AS (
      UPDATE notifications AS n
      SET status = v.status,
          provider = coalesce(v.provider, n.provider),
          provider_reference = coalesce(v.reference, n.provider_reference),
          provider_response = coalesce(v.response, n.provider_response),
          sent_at = coalesce(v.sent_at, n.sent_at),
          billable_units = coalesce(v.billable_units, n.billable_units),
          claimed_until = NULL,
          updated_at = now()
      FROM unnest(
        ${rows.map((r) => r.id)}::uuid[],
        ${rows.map((r) => r.attempts)}::int[],
        ${rows.map((r) => r.status)}::text[],
        ${rows.map((r) => r.provider)}::text[],
        ${rows.map((r) => r.reference)}::text[],
        ${rows.map((r) => r.response)}::text[],
        ${rows.map((r) => (r.sentAt ? r.sentAt.toISOString() : null))}::timestamptz[],
        ${rows.map((r) => r.billableUnits)}::int[]
      ) AS v(id, attempts, status, provider, reference, response, sent_at, billable_units)
      WHERE n.id = v.id AND n.attempts = v.attempts AND n.status = 'created'
        AND n.created_at BETWEEN ${oldest(rows)} AND ${newest(rows)}
      RETURNING n.id, n.service_id, n.status, n.provider_response, n.updated_at),
      queued AS (${queueStatusCallbacks('changed')})
      SELECT count(*) FROM changed`.execute(db);
  }

  // ---- per-batch look-ups -----------------------------------------------------------------------------------

  /** Loads what the batch needs (services, template versions) and answers which of its recipients are suppressed. */
  async function loadLookups(rows: ClaimedNotification[]): Promise<Set<string>> {
    const now = Date.now();
    const serviceIds = [...new Set(rows.map((r) => r.service_id))].filter((id) => {
      const s = services.get(id);
      return !s || now - s.loadedAt > SERVICE_TTL_MS;
    });
    if (serviceIds.length > 0) {
      const found = await db
        .selectFrom('services')
        .select(['id', 'name', 'email_sender_name', 'email_sender_local_part'])
        .where('id', 'in', serviceIds)
        .execute();
      // A logo's bytes are read once per file, not at each reload of its service (the GC signature's once per process).
      const brandings = await loadBrandings(db, serviceIds, (id) => services.get(id)?.branding);
      for (const s of found) {
        // The From name a service chose in its settings, else its own name.
        const branding = brandings.get(s.id) ?? NO_BRANDING;
        services.set(s.id, {
          name: s.email_sender_name ?? s.name,
          emailSenderLocalPart: s.email_sender_local_part,
          branding,
          loadedAt: now,
        });
      }
    }
    // Live email rows need their template version: the HTML part is rendered from its content with the stored
    // personalisation, so that values are escaped as HTML rather than read as markdown.
    const wanted = new Map<string, { id: string; version: number }>();
    for (const r of rows) {
      const key = `${r.template_id}:${r.template_version}`;
      if (r.notification_type === 'email' && r.key_type !== 'test' && !templates.has(key)) {
        wanted.set(key, { id: r.template_id, version: r.template_version });
      }
    }
    if (wanted.size > 0) {
      const found = await db
        .selectFrom('template_history')
        .select(['id', 'version', 'content'])
        .where((eb) =>
          eb.or([...wanted.values()].map((w) => eb.and([eb('id', '=', w.id), eb('version', '=', w.version)]))),
        )
        .execute();
      for (const t of found) {
        if (templates.size >= TEMPLATE_CACHE_MAX) templates.delete(templates.keys().next().value!);
        templates.set(`${t.id}:${t.version}`, t.content);
      }
    }
    return suppressedRecipients(
      db,
      rows
        .filter((r) => r.key_type !== 'test')
        .map((r) => ({ serviceId: r.service_id, channel: r.notification_type, recipient: r.normalised_to })),
    );
  }

  // ---- one notification ------------------------------------------------------------------------------------

  function finalFor(row: ClaimedNotification, status: string, fields: Partial<Final> = {}): { final: Final } {
    return {
      final: {
        id: row.id,
        attempts: row.attempts,
        createdAt: row.created_at,
        status,
        provider: null,
        reference: null,
        response: null,
        sentAt: null,
        billableUnits: null,
        ...fields,
      },
    };
  }

  /** The body is stored as it goes to the phone, so its fragments are what the message is billed. */
  function smsFragments(row: ClaimedNotification): number {
    return smsFragmentCount(row.body);
  }

  function failedAttempt(
    row: ClaimedNotification,
    provider: string | null,
    response: string,
  ): { final: Final } | { retry: Retry } {
    if (row.attempts >= maxAttempts) {
      return finalFor(row, 'technical-failure', { provider, response });
    }
    return {
      retry: { id: row.id, attempts: row.attempts, delayMs: retryDelayMs(row.attempts, row.priority), note: response },
    };
  }

  function buildEmail(row: ClaimedNotification): EmailMessage {
    const service = services.get(row.service_id);
    if (!service) throw new Error(`service ${row.service_id} not found`);
    const content = templates.get(`${row.template_id}:${row.template_version}`);
    if (content === undefined) throw new Error(`template ${row.template_id} version ${row.template_version} not found`);
    const personalisation = parsePersonalisation(row.personalisation);
    const subject = row.subject ?? '';
    const bodyHtml = renderEmailHtml(content, personalisation);
    const { branding } = service;
    // The language of the email's own words (the header's image and alt text follow it); every email is English
    // first for now.
    const lang = 'en';
    return {
      notificationId: row.id,
      serviceId: row.service_id,
      from: { name: service.name, address: `${service.emailSenderLocalPart}@${config.emailDomain}` },
      // normalised_to is lower-cased for comparisons; a mailbox's local part may be case-sensitive.
      to: row.to.trim(),
      replyTo: row.reply_to_text,
      subject,
      text: emailPlainText(row.body),
      html: renderEmailDocument({ subject, bodyHtml, lang, branding: emailBranding(branding, logoCid, lang) }),
      messageId: `<${row.id}@${config.emailDomain}>`,
      bounceAddress: config.bounceSmtpPort === null ? null : `bounce+${row.id}@${config.emailDomain}`,
      unsubscribeUrl: row.one_click_unsubscribe_url,
      inlineImages: inlineImages(branding, lang),
    };
  }

  async function deliver(row: ClaimedNotification): Promise<void> {
    const provider = row.notification_type === 'email' ? providers.email : providers.sms;
    let result: ProviderResult;
    let billableUnits: number | null = null;
    try {
      if (row.notification_type === 'email') {
        let msg: EmailMessage;
        try {
          msg = buildEmail(row);
        } catch (err) {
          // Rendering fails the same way every time: no point retrying.
          log?.error({ err, notificationId: row.id }, 'could not render email');
          settle(
            row,
            finalFor(row, 'technical-failure', { response: `render failed: ${(err as Error).message}` }),
            null,
          );
          return;
        }
        result = await providers.email.send(msg);
      } else {
        const service = services.get(row.service_id);
        billableUnits = smsFragments(row);
        result = await providers.sms.send({
          notificationId: row.id,
          serviceId: row.service_id,
          to: row.normalised_to,
          // The API keeps the chosen SMS sender in reply_to_text, as Notify does; the service name otherwise.
          sender: row.reply_to_text ?? service?.name ?? null,
          body: row.body,
        });
      }
    } catch (err) {
      result = { outcome: 'retry', response: `provider error: ${(err as Error).message}` };
    }
    const sentAt = new Date();
    const providerName = result.provider ?? provider.name;
    const gate = channels[row.notification_type];
    if (result.outcome === 'throttled') gate.throttled(result.retryAfterMs);
    else if (result.outcome !== 'retry') gate.succeeded();
    switch (result.outcome) {
      case 'delivered':
      case 'accepted': {
        const final = finalFor(row, result.outcome === 'delivered' ? 'delivered' : 'sending', {
          provider: providerName,
          reference: result.reference,
          response: result.response,
          sentAt,
          billableUnits,
        });
        settle(row, final, providerName);
        // From when the row could first be sent: a scheduled one waited for its time on purpose.
        const dueSince = Math.max(row.created_at.getTime(), row.scheduled_for?.getTime() ?? 0);
        handoff[row.notification_type].observe(Math.max(0, sentAt.getTime() - dueSince) / 1000);
        break;
      }
      case 'permanent-failure':
        settle(
          row,
          finalFor(row, 'permanent-failure', { provider: providerName, response: result.response }),
          providerName,
        );
        break;
      case 'retry':
        log?.warn(
          { notificationId: row.id, attempts: row.attempts, response: result.response },
          'delivery attempt failed',
        );
        settle(row, failedAttempt(row, providerName, result.response), providerName);
        break;
      case 'throttled':
        log?.warn({ provider: providerName, response: result.response }, 'provider asked to slow down');
        settle(row, { throttled: { id: row.id, attempts: row.attempts, delayMs: gate.pauseLeftMs() } }, providerName);
        break;
    }
  }

  // ---- the loop --------------------------------------------------------------------------------------------

  async function loop(): Promise<void> {
    while (running) {
      let rows: ClaimedNotification[];
      const claimedAt = Date.now();
      try {
        rows = await claim<ClaimedNotification>(db, NOTIFICATION_QUEUE, { limit: batchSize, leaseSeconds });
      } catch (err) {
        log?.error({ err }, 'delivery worker could not claim notifications');
        await sleeper.sleep(pollMs);
        continue;
      }
      if (rows.length === 0) {
        if (inFlight.size === 0) await settleDrain();
        if (running) await sleeper.sleep(pollMs);
        continue;
      }
      rows.sort((a, b) => a.priority - b.priority || a.next_attempt_at.getTime() - b.next_attempt_at.getTime());
      let suppressed: Set<string>;
      try {
        suppressed = await loadLookups(rows);
      } catch (err) {
        log?.error({ err }, 'delivery worker could not load services or templates');
        await withRetries('give back rows', () => giveBack(db, NOTIFICATION_QUEUE, rows), log);
        await sleeper.sleep(pollMs);
        continue;
      }
      // A row not started within half its lease is given back rather than sent late: past the lease another
      // worker may claim and send it too.
      const startBy = claimedAt + (leaseSeconds * 1000) / 2;
      const untried: ClaimedNotification[] = [];
      for (const row of rows) {
        if (row.key_type === 'test') {
          const status = testKeyOutcome(row.notification_type, row.to);
          const billableUnits = row.notification_type === 'sms' ? smsFragments(row) : null;
          record(finalFor(row, status, { sentAt: new Date(), billableUnits }));
          continue;
        }
        if (
          suppressed.has(
            suppressionKey({ serviceId: row.service_id, channel: row.notification_type, recipient: row.normalised_to }),
          )
        ) {
          // A hard bounce, complaint or opt-out earlier: fail fast, never bother the provider or the person again.
          const what = row.notification_type === 'email' ? 'email address' : 'phone number';
          settle(
            row,
            finalFor(row, 'permanent-failure', { response: `The ${what} is on the service's suppression list` }),
            null,
          );
          continue;
        }
        if (row.attempts > maxAttempts) {
          // Only after leases ran out without an outcome, e.g. a message that crashes the worker each time.
          settle(
            row,
            finalFor(row, 'technical-failure', { response: `no outcome after ${maxAttempts} attempts` }),
            null,
          );
          continue;
        }
        const gate = channels[row.notification_type];
        if (gate.pauseLeftMs() > 0) {
          settle(row, { throttled: { id: row.id, attempts: row.attempts, delayMs: gate.pauseLeftMs() } }, null);
          continue;
        }
        while (running && (inFlight.size >= concurrency || !gate.hasRoom()) && Date.now() <= startBy) {
          await nextCompletion();
        }
        if (!running || Date.now() > startBy) {
          untried.push(row);
          continue;
        }
        gate.inFlight += 1;
        const p: Promise<void> = deliver(row).finally(() => {
          gate.inFlight -= 1;
          inFlight.delete(p);
          completed();
        });
        inFlight.add(p);
      }
      if (untried.length > 0) {
        await withRetries('give back rows', () => giveBack(db, NOTIFICATION_QUEUE, untried), log);
      }
      // A full batch suggests more are due: claim again at once. Otherwise wait for more to arrive.
      if (rows.length < batchSize && running) await sleeper.sleep(pollMs);
    }
  }

  async function settleDrain(): Promise<void> {
    if (drainWaiters.length === 0) return;
    await outcomes.settled();
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const w of waiters) w();
  }

  const loopDone = loop().catch((err) => log?.error({ err }, 'delivery worker stopped unexpectedly'));
  const jobLoop = opts.jobs ? startJobLoop(opts.jobs, { pollMs: config.jobs.pollMs, logger: log }) : null;
  const unmeasured = [
    measureQueueAge(() => oldestDueSeconds(db), log),
    reportProviders({ channel: 'email', ...providerChoice(providers.email) }),
    reportProviders({ channel: 'sms', ...providerChoice(providers.sms) }),
  ];

  return {
    async stop() {
      if (!running) return loopDone.then(() => undefined);
      running = false;
      for (const forget of unmeasured) forget();
      sleeper.wake();
      await jobLoop?.stop();
      await loopDone;
      await Promise.all(inFlight);
      await outcomes.settled();
      // Anyone still waiting on drain() would wait forever.
      for (const w of drainWaiters.splice(0)) w();
      if (ownsProviders) await providers.close();
    },
    drain() {
      if (!running) return Promise.resolve();
      return new Promise<void>((resolve) => {
        drainWaiters.push(resolve);
        sleeper.wake();
      });
    },
  };
}

/**
 * How long the oldest notification that is due and not claimed has been due, in seconds; 0 when none: the
 * queue's lag, for /metrics. One index probe per lane on the claim queue's index (priority, next_attempt_at)
 * WHERE status = 'created', so that a long queue costs no more than a short one; rows leased by a worker are
 * stepped over (a batch at most per worker).
 */
export async function oldestDueSeconds(db: Db): Promise<number> {
  const lanes = [...new Set(Object.values(PRIORITY_OF_CATEGORY))];
  const { rows } = await sql<{ age: number | null }>`
    SELECT extract(epoch FROM now() - min(oldest.next_attempt_at))::float8 AS age
    FROM unnest(${lanes}::smallint[]) AS lane(priority)
    CROSS JOIN LATERAL (
      SELECT next_attempt_at FROM notifications
      WHERE (${NOTIFICATION_QUEUE.due}) AND priority = lane.priority AND (claimed_until IS NULL OR claimed_until < now())
      ORDER BY next_attempt_at
      LIMIT 1
    ) AS oldest`.execute(db);
  return Math.max(0, Number(rows[0]?.age ?? 0));
}

/**
 * How hard one channel may be pushed. A provider's throttling answer halves the sends it may have in flight and
 * pauses the channel for its Retry-After (or a doubling pause); each success gives one slot back. So a throttled
 * provider is slowed down rather than hammered, and its messages wait without using up their attempts.
 */
function channelGate(maxInFlight: number) {
  let limit = maxInFlight;
  let pausedUntil = 0;
  let pauseMs = 0;
  return {
    inFlight: 0,
    hasRoom(): boolean {
      return this.inFlight < limit;
    },
    pauseLeftMs(): number {
      return Math.max(0, pausedUntil - Date.now());
    },
    throttled(retryAfterMs?: number): void {
      limit = Math.max(1, Math.floor(limit / 2));
      pauseMs = Math.min(30_000, Math.max(250, pauseMs * 2));
      pausedUntil = Math.max(pausedUntil, Date.now() + (retryAfterMs ?? pauseMs));
    },
    succeeded(): void {
      limit = Math.min(maxInFlight, limit + 1);
      if (limit === maxInFlight) pauseMs = 0;
    },
  };
}

function oldest(rows: readonly { createdAt: Date }[]): Date {
  return new Date(Math.min(...rows.map((r) => r.createdAt.getTime())));
}

/** One millisecond past the newest: PostgreSQL keeps microseconds, a Date only milliseconds. */
function newest(rows: readonly { createdAt: Date }[]): Date {
  return new Date(Math.max(...rows.map((r) => r.createdAt.getTime())) + 1);
}

function parsePersonalisation(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') {
    try {
      return parsePersonalisation(JSON.parse(value));
    } catch {
      return {};
    }
  }
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
