/**
 * The callback sender's lanes, one per service: at most callbacks.perServiceConcurrency requests in flight, and a
 * short local backlog of claimed rows waiting for a slot. A service whose lane is full is left out of the next
 * claims (full()), so a slow or dead receiver holds back only its own service's callbacks; a row that waits in a
 * lane past its start-by time goes back to the queue untried before its lease could run out.
 */
import type { Logger } from '../../../platform/queue/background.ts';
import type { Fenced } from '../../../platform/queue/claim-queue.ts';
import type { QueueControl } from '../../../platform/queue/runner.ts';
import type { CallbackType } from '../../vocabulary.ts';
import type { ClaimedCallback, Prepared } from './preparing.ts';

/** A lane holds at most this many times its concurrency (in flight and waiting) before its service is skipped. */
const LANE_BACKLOG_FACTOR = 10;

interface Lane {
  inFlight: number;
  waiting: Prepared[];
  /** Left out of a claim for being full: wake the loop when it has room again. */
  wasFull: boolean;
}

export interface Lanes {
  /** Requests in flight plus rows waiting, over all services. */
  held(): number;
  /** Queues a prepared row in its service's lane; false when the lane is full (or the sender stopping). */
  admit(prepared: Prepared): boolean;
  /** Starts what the lanes of these services have room for. */
  pump(serviceIds: Iterable<string>): void;
  /** Gives back the rows that waited in a lane past their start-by time. */
  expireWaiting(): void;
  /** The services whose lanes are full, to leave out of the next claim. */
  full(): string[];
  /** Forgets the waiting rows of a service's callback of this type (it was just disabled). */
  forget(serviceId: string, type: CallbackType): void;
  /** At stop: the rows waiting and never tried. */
  releaseWaiting(): Fenced[];
}

export function createLanes(opts: {
  perServiceConcurrency: number;
  control: QueueControl<ClaimedCallback>;
  send(prepared: Prepared): Promise<void>;
  log?: Logger;
}): Lanes {
  const { perServiceConcurrency, control, send, log } = opts;
  const laneCap = perServiceConcurrency * LANE_BACKLOG_FACTOR;
  const lanes = new Map<string, Lane>();

  function laneOf(serviceId: string): Lane {
    let lane = lanes.get(serviceId);
    if (!lane) {
      lane = { inFlight: 0, waiting: [], wasFull: false };
      lanes.set(serviceId, lane);
    }
    return lane;
  }

  const heldBy = (lane: Lane): number => lane.inFlight + lane.waiting.length;

  function totalHeld(): number {
    let n = 0;
    for (const lane of lanes.values()) n += heldBy(lane);
    return n;
  }

  /** Starts waiting rows while the lane has free slots; rows past their start-by time go back to the queue. */
  function pump(serviceId: string, lane: Lane): void {
    const late: Fenced[] = [];
    while (lane.inFlight < perServiceConcurrency && lane.waiting.length > 0) {
      const next = lane.waiting.shift()!;
      if (!control.running || Date.now() > next.startBy) {
        late.push(next.row);
        continue;
      }
      lane.inFlight += 1;
      const task = send(next)
        .catch((err) => log?.error({ err, callbackId: next.row.id }, 'callback send failed unexpectedly'))
        .finally(() => {
          lane.inFlight -= 1;
          pump(serviceId, lane);
          if (heldBy(lane) === 0) lanes.delete(serviceId);
          if (lane.wasFull && heldBy(lane) < laneCap / 2) {
            lane.wasFull = false;
            control.wake();
          }
          if (totalHeld() === 0) control.wake();
        });
      control.start(task);
    }
    control.giveBack(late);
  }

  return {
    held: totalHeld,
    admit(prepared) {
      const lane = laneOf(prepared.row.service_id);
      if (!control.running || heldBy(lane) >= laneCap) return false;
      lane.waiting.push(prepared);
      return true;
    },
    pump(serviceIds) {
      for (const serviceId of serviceIds) pump(serviceId, laneOf(serviceId));
    },
    expireWaiting() {
      const now = Date.now();
      const late: Fenced[] = [];
      for (const lane of lanes.values()) {
        const keep = lane.waiting.filter((w) => w.startBy >= now);
        if (keep.length === lane.waiting.length) continue;
        for (const w of lane.waiting) if (w.startBy < now) late.push(w.row);
        lane.waiting = keep;
      }
      control.giveBack(late);
    },
    full() {
      const full: string[] = [];
      for (const [serviceId, lane] of lanes) {
        if (heldBy(lane) >= laneCap) {
          full.push(serviceId);
          lane.wasFull = true;
        }
      }
      return full;
    },
    forget(serviceId, type) {
      const lane = lanes.get(serviceId);
      if (lane) lane.waiting = lane.waiting.filter((w) => w.row.callback_type !== type);
    },
    releaseWaiting() {
      const untried: Fenced[] = [];
      for (const lane of lanes.values()) untried.push(...lane.waiting.splice(0).map((w) => w.row));
      return untried;
    },
  };
}
