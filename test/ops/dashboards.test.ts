/**
 * docs/grafana-dashboard.json and docs/alerts.yml name only metrics Envoi exports: every `envoi_…` name in their
 * queries is in the registry's output (a histogram's _bucket, _sum and _count series by its own name), so that a
 * renamed metric cannot leave a panel or an alert silently empty. promtool checks the rules themselves (npm run
 * check:alerts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MetricsServer, scrape, startMetricsServer } from '../../src/platform/metrics.ts';

const DOCS = path.resolve(import.meta.dirname, '../../docs');
const METRIC_NAME = /\benvoi_[a-z0-9_]+/g;

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

/** Each metric the registry exports, by name and type (histograms also by their series' names). */
async function exported(): Promise<Map<string, string>> {
  const types = new Map<string, string>();
  for (const [, name, type] of (await scrape()).body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    types.set(name!, type!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) types.set(name + suffix, type);
  }
  return types;
}

describe('the dashboard and alert rules', () => {
  let names: Map<string, string>;
  let server: MetricsServer;

  beforeAll(async () => {
    // The process metrics (envoi_process_*, envoi_nodejs_*) join the registry once a listener starts.
    server = await startMetricsServer({ port: 0, host: '127.0.0.1' });
    names = await exported();
  });

  afterAll(() => server?.close());

  it('the Grafana dashboard is valid JSON whose every panel queries metrics Envoi exports', () => {
    const dashboard = JSON.parse(readFileSync(path.join(DOCS, 'grafana-dashboard.json'), 'utf8'));
    const panels = (dashboard.panels as Panel[]).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    const unknown: string[] = [];
    for (const panel of panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets!) {
        const used = expr.match(METRIC_NAME) ?? [];
        expect(used.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of used) if (!names.has(name)) unknown.push(`${panel.title}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
    // Every metric of Envoi's own (not Node's) has a panel.
    const charted = new Set(panels.flatMap((p) => p.targets!.flatMap((t) => t.expr.match(METRIC_NAME) ?? [])));
    const own = [...names.keys()].filter(
      (n) => !/^envoi_(process|nodejs)_/.test(n) && !/_(bucket|sum|count)$/.test(n) && !charted.has(n),
    );
    const histogramsCharted = own.filter((n) => names.get(n) === 'histogram' && charted.has(`${n}_bucket`));
    expect(own.filter((n) => !histogramsCharted.includes(n))).toEqual([]);
  });

  it('the alert rules query metrics Envoi exports', () => {
    const rules = readFileSync(path.join(DOCS, 'alerts.yml'), 'utf8');
    const used = [...new Set(rules.match(METRIC_NAME))];
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((name) => !names.has(name))).toEqual([]);
  });
});
