/**
 * The one runner of background work. A product declares its work as a catalogue of entries (Notify's is
 * src/notify/background-work.ts); the runner starts each and owns what every loop needs: polling, claiming through
 * claim-queue.ts, the count of tasks in flight, waking early, drain and graceful stop, and logging errors then backing
 * off for a poll interval. It knows no product: what a row means is the entry's handler's business.
 *
 * Three kinds of entry:
 *  - `queue`: rows of a table claimed in batches with a lease (deliveries, callbacks). The handler turns a batch
 *    into tasks; rows it did not start come back untried, and a row whose task dies is claimed again once its lease
 *    runs out (attempts count the claims, so `retries.maxAttempts` bounds even a row that crashes its process).
 *  - `poll`: work whose claiming lives in its own module (bulk jobs claim one job at a time inside jobs.ts): the
 *    runner calls `next()` until it finds nothing, then waits a poll interval.
 *  - `periodic`: a task run every so often (the scheduler's run, the uploaded files' clean-up).
 */
import type { Kysely } from 'kysely';
import { createFailureBackoff, createSleeper, type Logger, withRetries } from './background.ts';
import { type ClaimedRow, claim, type Fenced, giveBack, type QueueTable, type Retry } from './claim-queue.ts';

// biome-ignore lint/suspicious/noExplicitAny: the runner claims from any product's table through claim-queue.ts
type AnyDb = Kysely<any>;

export interface Retries<Row> {
  /** Tries a row gets; a row claimed more often than this had leases run out without an outcome. */
  maxAttempts: number;
  /** Delay before the next try after `attempts` failed ones. */
  delayMs(attempts: number, row: Row): number;
}

export interface QueueWork<Row extends ClaimedRow> {
  kind: 'queue';
  /** Who speaks in the logs, e.g. 'delivery worker'. */
  name: string;
  /** What the rows are, for the logs, e.g. 'notifications'. */
  rows: string;
  /** What a batch's look-ups load, for the logs when they fail. */
  lookups: string;
  table: QueueTable;
  leaseSeconds: number;
  batchSize: number;
  /** Tasks in flight at most. */
  concurrency: number;
  retries: Retries<Row>;
  /** The idle wait between claims that found less than a full batch. */
  pollMs: number;
  /** Built when the entry starts: the handler's state (caches, lanes, outcome writer) lives as long as the run. */
  handler(control: QueueControl<Row>): QueueHandler<Row>;
}

export interface PollWork {
  kind: 'poll';
  name: string;
  pollMs: number;
  /** Claims and does one piece of due work; false when none is due. */
  next(): Promise<boolean>;
  /** Errors already logged where they happened, not to be logged again. */
  alreadyLogged?(err: unknown): boolean;
}

export interface PeriodicWork {
  kind: 'periodic';
  name: string;
  everyMs: number;
  /** Delay before the first run; one interval by default, so a process restarting in a loop does not redo it. */
  firstAfterMs?: number;
  run(): Promise<unknown>;
  /** Resolves when a run started outside the loop (a test's runOnce) has ended. */
  settled?(): Promise<unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: a catalogue mixes entries whose rows differ
export type BackgroundWork = QueueWork<any> | PollWork | PeriodicWork;

/** What the runner offers a queue handler. */
export interface QueueControl<Row> {
  readonly running: boolean;
  /** Tasks in flight. */
  readonly inFlight: number;
  /** Whether another task may start under the entry's concurrency. */
  hasRoom(): boolean;
  /** Puts a task in flight: counted, and awaited by stop(). */
  start(task: Promise<void>): void;
  /** Resolves when some task in flight ends. */
  nextCompletion(): Promise<void>;
  /** Ends the idle wait, so that the loop claims again at once. */
  wake(): void;
  /** The row's next try, or null when it has had its attempts. `atLeastMs`: the far side asked for a wait. */
  retry(row: Row, note: string, atLeastMs?: number): Retry | null;
  /** Gives rows back untried, in the background (a few quick retries). */
  giveBack(rows: readonly Fenced[]): void;
}

export interface Batch {
  claimedAt: number;
  /** A row not started by then is given back rather than started late: past its lease another worker may take it. */
  startBy: number;
}

export interface QueueHandler<Row> {
  /** Narrows the next claim (fewer rows, a narrower due clause); null: no room for more now. */
  nextClaim?(): { limit: number; table: QueueTable } | null;
  /**
   * Starts the batch's rows as tasks (control.start) or settles them at once. Resolves to the rows it did not
   * try, which go back to the queue. It may throw only before starting any row (its look-ups failed): the whole
   * batch then goes back.
   */
  handleBatch(rows: Row[], batch: Batch): Promise<Fenced[]>;
  /** Rows held besides those in flight (waiting in a lane): drain waits for none. */
  held?(): number;
  /** At stop: the rows held and never tried, to give back. */
  releaseHeld?(): Fenced[];
  /** Resolves once every outcome recorded so far is written. */
  settled(): Promise<void>;
  close?(): Promise<void>;
}

export interface Running {
  /** Stops claiming, lets tasks in flight finish and records them, gives back rows not yet tried. */
  stop(): Promise<void>;
  /** Resolves the next time nothing is due and nothing is in flight (tests, benchmarks, `--wait` commands). */
  drain(): Promise<void>;
}

export interface RunnerDeps {
  /** Where queue entries claim their rows; entries of the other kinds need none. */
  db?: AnyDb;
  logger?: Logger;
}

/** Starts every entry of a catalogue; stop() stops them all, drain() waits until each is idle. */
export function startAll(work: readonly BackgroundWork[], deps: RunnerDeps): Running {
  const running = work.map((w) => start(w, deps));
  return {
    async stop() {
      await Promise.all(running.map((r) => r.stop()));
    },
    async drain() {
      await Promise.all(running.map((r) => r.drain()));
    },
  };
}

export function start(work: BackgroundWork, deps: RunnerDeps): Running {
  if (work.kind === 'queue') {
    if (!deps.db) throw new Error(`${work.name} needs a database to claim from`);
    return runQueue(work, { db: deps.db, logger: deps.logger });
  }
  if (work.kind === 'poll') return runPoll(work, deps.logger);
  return runPeriodic(work, deps.logger);
}

export function runQueue<Row extends ClaimedRow>(work: QueueWork<Row>, deps: { db: AnyDb; logger?: Logger }): Running {
  const { db } = deps;
  const log = deps.logger;
  let running = true;
  const sleeper = createSleeper();
  const inFlight = trackTasks((err) => log?.error({ err }, `${work.name}: a task failed unexpectedly`));
  const failures = createFailureBackoff(work.name, log);
  let drainWaiters: Array<() => void> = [];
  const backInQueue = (rows: readonly Fenced[]) =>
    withRetries(`give back ${work.rows}`, () => giveBack(db, work.table, rows), log);

  const control: QueueControl<Row> = {
    get running() {
      return running;
    },
    get inFlight() {
      return inFlight.size;
    },
    hasRoom: () => inFlight.size < work.concurrency,
    start: (task) => inFlight.start(task),
    nextCompletion: () => inFlight.nextCompletion(),
    wake: () => sleeper.wake(),
    retry(row, note, atLeastMs = 0) {
      if (row.attempts >= work.retries.maxAttempts) return null;
      const delayMs = Math.max(work.retries.delayMs(row.attempts, row), atLeastMs);
      return { id: row.id, attempts: row.attempts, delayMs, note };
    },
    giveBack(rows) {
      if (rows.length > 0) void backInQueue(rows);
    },
  };
  const handler = work.handler(control);

  async function settleDrain(): Promise<void> {
    if (drainWaiters.length === 0) return;
    await handler.settled();
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const w of waiters) w();
  }

  /** One claim and its batch; resolves to whether to wait a poll interval before the next. */
  async function turn(): Promise<boolean> {
    const next = handler.nextClaim ? handler.nextClaim() : { limit: work.batchSize, table: work.table };
    if (!next) return true;
    const claimedAt = Date.now();
    let rows: Row[];
    try {
      rows = await claim<Row>(db, next.table, { limit: next.limit, leaseSeconds: work.leaseSeconds });
    } catch (err) {
      // Claiming fails alike until the database returns: wait longer each time, log the run once.
      await sleeper.sleep(failures.failed(err, `could not claim ${work.rows}`, work.pollMs));
      return true;
    }
    failures.succeeded();
    if (rows.length === 0) {
      if (inFlight.size === 0 && (handler.held?.() ?? 0) === 0) await settleDrain();
      return true;
    }
    let untried: Fenced[];
    try {
      untried = await handler.handleBatch(rows, { claimedAt, startBy: claimedAt + (work.leaseSeconds * 1000) / 2 });
    } catch (err) {
      log?.error({ err }, `${work.name} could not load ${work.lookups}`);
      await backInQueue(rows);
      return true;
    }
    if (untried.length > 0) await backInQueue(untried);
    // A full batch suggests more are due: claim again at once.
    return rows.length < next.limit;
  }

  async function loop(): Promise<void> {
    while (running) {
      if ((await turn()) && running) await sleeper.sleep(work.pollMs);
    }
  }

  const loopDone = loop().catch((err) => log?.error({ err }, `${work.name} stopped unexpectedly`));

  return {
    async stop() {
      if (!running) return loopDone.then(() => undefined);
      running = false;
      sleeper.wake();
      await loopDone;
      // Rows still held were never tried: back to the queue, due at once.
      await backInQueue(handler.releaseHeld?.() ?? []);
      await inFlight.settled();
      await handler.settled();
      // Anyone still waiting on drain() would wait forever.
      for (const w of drainWaiters.splice(0)) w();
      await handler.close?.();
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

/** The tasks in flight of a queue entry: counted, awaited at stop, and a wait for the next one to end. */
interface Tasks {
  readonly size: number;
  start(task: Promise<void>): void;
  nextCompletion(): Promise<void>;
  /** Resolves once every task started so far has ended. */
  settled(): Promise<unknown>;
}

function trackTasks(onError: (err: unknown) => void): Tasks {
  const inFlight = new Set<Promise<void>>();
  // One promise for "some task ended", shared by whoever waits for room: Promise.race over every task in flight
  // would cost a reaction per task on each wait (measured: a third of the delivery throughput at 200 in flight).
  let completion: { promise: Promise<void>; resolve: () => void } | null = null;
  return {
    get size() {
      return inFlight.size;
    },
    start(task) {
      const p: Promise<void> = task.catch(onError).finally(() => {
        inFlight.delete(p);
        const c = completion;
        completion = null;
        c?.resolve();
      });
      inFlight.add(p);
    },
    nextCompletion() {
      if (!completion) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => {
          resolve = r;
        });
        completion = { promise, resolve };
      }
      return completion.promise;
    },
    settled: () => Promise.all(inFlight),
  };
}

function runPoll(work: PollWork, log: Logger | undefined): Running {
  let running = true;
  const failures = createFailureBackoff(work.name, log);
  const sleeper = createSleeper();
  const drainWaiters: Array<() => void> = [];

  async function loop(): Promise<void> {
    while (running) {
      let waitMs = work.pollMs;
      try {
        while (running && (await work.next())) {
          // more may be due: look again at once
        }
        failures.succeeded();
      } catch (err) {
        // Logged once per run of failures (a database outage fails every look), backing off meanwhile.
        if (!work.alreadyLogged?.(err)) waitMs = failures.failed(err, 'error', work.pollMs);
      }
      for (const w of drainWaiters.splice(0)) w();
      if (running) await sleeper.sleep(waitMs);
    }
  }

  const done = loop();
  return {
    async stop() {
      running = false;
      sleeper.wake();
      await done;
      for (const w of drainWaiters.splice(0)) w();
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

function runPeriodic(work: PeriodicWork, log: Logger | undefined): Running {
  let stopped = false;
  const sleeper = createSleeper();
  const loop = (async () => {
    await sleeper.sleep(work.firstAfterMs ?? work.everyMs);
    while (!stopped) {
      await work.run().catch((err) => log?.error({ err }, `${work.name} failed`));
      if (!stopped) await sleeper.sleep(work.everyMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      sleeper.wake();
      await loop;
      await work.settled?.();
    },
    // A periodic task is never "due" in the drain sense: its next run is a matter of time, not of work.
    drain: () => Promise.resolve(),
  };
}

/**
 * A handler for the simplest queue: each row is one task that records its own outcome. `handle` may throw: the
 * row is then tried again once its lease runs out, as if its process had died.
 */
export function eachRow<Row extends ClaimedRow>(
  handle: (row: Row, control: QueueControl<Row>) => Promise<void>,
): (control: QueueControl<Row>) => QueueHandler<Row> {
  return (control) => ({
    async handleBatch(rows, batch) {
      const untried: Fenced[] = [];
      for (const row of rows) {
        while (control.running && !control.hasRoom() && Date.now() <= batch.startBy) await control.nextCompletion();
        if (!control.running || Date.now() > batch.startBy) {
          untried.push(row);
          continue;
        }
        control.start(handle(row, control));
      }
      return untried;
    },
    settled: () => Promise.resolve(),
  });
}
