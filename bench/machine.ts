/** What both benchmarks need from the machine and the local PostgreSQL server. */
import os from 'node:os';
import pg from 'pg';

export const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function onAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * pg's Pool.end() resolves before its connections have closed: wait for them to go rather than drop the database
 * under them, and force only as a last resort.
 */
export async function dropDatabase(name: string): Promise<void> {
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      await onAdmin(`DROP DATABASE IF EXISTS ${name}`);
      return;
    } catch {
      await sleep(250);
    }
  }
  await onAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

export function machineBusy(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

export const cpuSeconds = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / 1e6;

/**
 * Waits (up to `maxSeconds`) until processes other than this one use less than 0.3 cores over a second, so that
 * a figure is not taken while something else (a test run, a compiler) shares the two cores. Returns the cores
 * other processes used in the last second sampled.
 */
export async function waitForQuiet(maxSeconds: number): Promise<{ otherCores: number; waitedSeconds: number }> {
  const started = Date.now();
  for (;;) {
    const m0 = machineBusy();
    const own0 = process.cpuUsage();
    await sleep(1000);
    const m1 = machineBusy();
    const own = cpuSeconds(own0, process.cpuUsage());
    const total = m1.total - m0.total;
    const otherCores = total > 0 ? ((m1.busy - m0.busy) / total) * os.cpus().length - own : 0;
    const waitedSeconds = (Date.now() - started) / 1000;
    if (otherCores < 0.3 || waitedSeconds >= maxSeconds)
      return { otherCores: Math.max(0, Math.round(otherCores * 100) / 100), waitedSeconds };
  }
}
