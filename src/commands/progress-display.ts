import type { SendBulkEvent } from './commands.ts';

/**
 * What send-bulk shows on stderr: a bar redrawn in place on a terminal; elsewhere (a log, CI) one plain line per
 * stage.
 */
export function progressDisplay(fileName: string, fileSize: number) {
  const tty = process.stderr.isTTY === true;
  const width = 30;
  let stage = '';
  let barShown = false;
  const number = (n: number) => n.toLocaleString('en');
  const bar = (label: string, fraction: number, detail: string) => {
    const f = Math.max(0, Math.min(1, fraction));
    const filled = Math.round(f * width);
    process.stderr.write(
      `\r${label.padEnd(10)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(f * 100)).padStart(3)}%  ${detail}\x1b[K`,
    );
    barShown = true;
  };
  const line = (text: string) => {
    if (barShown) process.stderr.write('\n');
    barShown = false;
    process.stderr.write(`${text}\n`);
  };
  return {
    show(event: SendBulkEvent) {
      if (event.type === 'progress') {
        const first = event.stage !== stage;
        stage = event.stage;
        if (event.stage === 'checking') {
          if (tty) bar('Checking', fileSize ? (event.bytes ?? 0) / fileSize : 0, `${number(event.rows)} rows`);
          else if (first) line(`checking ${fileName} (${(fileSize / 1e6).toFixed(1)} MB)`);
        } else {
          const total = event.total ?? 0;
          if (tty) bar('Queueing', total ? event.rows / total : 1, `${number(event.rows)} of ${number(total)} rows`);
          else if (first) line(`queueing ${number(total)} rows`);
        }
      } else if (event.type === 'created') {
        line(
          `checked ${number(event.rows)} rows; job ${event.jobId} ${event.status}${event.scheduledFor ? ` for ${event.scheduledFor}` : ''}`,
        );
        for (const warning of event.warnings) line(`warning: ${warning}`);
      }
    },
    end() {
      if (barShown) process.stderr.write('\n');
      barShown = false;
    },
  };
}
