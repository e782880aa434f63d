import { html, type Html } from '../../../platform/ui/html.ts';
import type { UiContext } from '../../../platform/ui/context.ts';
import type { TemplateType } from '../../vocabulary.ts';
import { addDays } from '../../../platform/utc-days.ts';
import type { DailyStatistic } from '../../reporting/statistics.ts';
import { statusGroupOf } from '../../reporting/activity.ts';
export const CHANNELS: readonly TemplateType[] = ['email', 'sms'];

export interface DayFigures {
  day: string;
  sent: number;
  delivered: number;
  failed: number;
}

/** Per channel, one entry per day from `from` for `days` days (zeros where nothing was sent). */
export function figuresByDay(
  stats: readonly DailyStatistic[],
  from: string,
  days: number,
): Record<TemplateType, DayFigures[]> {
  const out = {} as Record<TemplateType, DayFigures[]>;
  for (const channel of CHANNELS) {
    out[channel] = Array.from({ length: days }, (_, i) => ({
      day: addDays(from, i),
      sent: 0,
      delivered: 0,
      failed: 0,
    }));
  }
  for (const s of stats) {
    if (s.keyType === 'test') continue;
    const entry = out[s.notificationType]?.find((d) => d.day === s.day);
    if (!entry) continue;
    entry.sent += s.count;
    const group = statusGroupOf(s.status);
    if (group === 'delivered') entry.delivered += s.count;
    else if (group === 'failed') entry.failed += s.count;
  }
  return out;
}
/** A day (YYYY-MM-DD, UTC) in words; noon UTC is the same date in every Canadian time zone. */
export function dayLabel(ui: UiContext, day: string, style: 'short' | 'long'): string {
  const options: Intl.DateTimeFormatOptions =
    style === 'long'
      ? { dateStyle: 'long', timeZone: 'UTC' }
      : { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(ui.intlLocale, options).format(new Date(`${day}T12:00:00Z`));
}

/** One channel: totals, the chart, and its figures as a table (the chart's text alternative). */
export function channelSection(ui: UiContext, channel: TemplateType, days: DayFigures[]): Html {
  const { t } = ui;
  const total = days.reduce(
    (a, d) => ({ sent: a.sent + d.sent, delivered: a.delivered + d.delivered, failed: a.failed + d.failed }),
    { sent: 0, delivered: 0, failed: 0 },
  );
  const id = `chart-${channel}`;
  return html`<section class="channel-figures" aria-labelledby="${id}-title">
  <h2 id="${id}-title">${t(`dashboard.heading.${channel}`)}</h2>
  <dl class="totals">
    <div><dt>${t('dashboard.sent')}</dt><dd>${ui.formatNumber(total.sent)}</dd></div>
    <div><dt>${t('dashboard.delivered')}</dt><dd>${ui.formatNumber(total.delivered)}</dd></div>
    <div class="${total.failed > 0 ? 'failed' : ''}"><dt>${t('dashboard.failed')}</dt><dd>${ui.formatNumber(total.failed)}</dd></div>
  </dl>
  ${total.sent > 0 ? chart(ui, channel, days, `${id}-table`) : html`<p>${t(`dashboard.nothing.${channel}`)}</p>`}
  <table id="${id}-table" class="chart-table">
    <caption>${t(`dashboard.tableCaption.${channel}`)}</caption>
    <thead><tr><th scope="col">${t('dashboard.day')}</th><th scope="col" class="number">${t('dashboard.sent')}</th><th scope="col" class="number">${t('dashboard.delivered')}</th><th scope="col" class="number">${t('dashboard.failed')}</th></tr></thead>
    <tbody>${days.map(
      (d) =>
        html`<tr><th scope="row">${dayLabel(ui, d.day, 'short')}</th><td class="number">${ui.formatNumber(d.sent)}</td><td class="number">${ui.formatNumber(d.delivered)}</td><td class="number">${ui.formatNumber(d.failed)}</td></tr>`,
    )}</tbody>
    <tfoot><tr><th scope="row">${t('dashboard.total')}</th><td class="number">${ui.formatNumber(total.sent)}</td><td class="number">${ui.formatNumber(total.delivered)}</td><td class="number">${ui.formatNumber(total.failed)}</td></tr></tfoot>
  </table>
</section>`;
}

// The chart's colours: GC's green and red, and a slate for messages still on their way (3:1 against white).
const COLOURS = { delivered: '#278400', failed: '#d3080c', other: '#5c6d7e' } as const;

/** Stacked bars per day: delivered, failed, and the rest (in transit, cancelled) on top. Pure SVG, no script. */
function chart(ui: UiContext, channel: TemplateType, days: DayFigures[], tableId: string): Html {
  const { t } = ui;
  const width = 700;
  const top = 16;
  const plot = 180;
  const slot = width / days.length;
  const barWidth = Math.min(56, slot * 0.6);
  const max = Math.max(1, ...days.map((d) => d.sent));
  const scale = (n: number) => (n / max) * plot;
  const bars = days.map((d, i) => {
    const x = i * slot + (slot - barWidth) / 2;
    let y = top + plot;
    const segments: Html[] = [];
    for (const [kind, n] of [
      ['delivered', d.delivered],
      ['failed', d.failed],
      ['other', d.sent - d.delivered - d.failed],
    ] as const) {
      if (n <= 0) continue;
      const h = Math.max(1, scale(n));
      y -= h;
      segments.push(
        html`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[kind]}"></rect>`,
      );
    }
    return html`<g>${segments}<text x="${(i * slot + slot / 2).toFixed(1)}" y="${top + plot + 20}" text-anchor="middle" font-size="14" fill="#333333">${dayLabel(ui, d.day, 'short')}</text>${d.sent > 0 && html`<text x="${(i * slot + slot / 2).toFixed(1)}" y="${(top + plot - scale(d.sent) - 4).toFixed(1)}" text-anchor="middle" font-size="14" fill="#333333">${ui.formatNumber(d.sent)}</text>`}</g>`;
  });
  return html`<figure class="chart">
  <svg viewBox="0 0 ${width} ${top + plot + 32}" role="img" aria-label="${t(`dashboard.chartLabel.${channel}`)}" aria-describedby="${tableId}" focusable="false">
    <line x1="0" y1="${top + plot}" x2="${width}" y2="${top + plot}" stroke="#333333" stroke-width="1"></line>
    ${bars}
  </svg>
  <figcaption>
    <ul class="legend">
      <li><svg width="14" height="14" aria-hidden="true" focusable="false"><rect width="14" height="14" fill="${COLOURS.delivered}"></rect></svg> ${t('dashboard.delivered')}</li>
      <li><svg width="14" height="14" aria-hidden="true" focusable="false"><rect width="14" height="14" fill="${COLOURS.failed}"></rect></svg> ${t('dashboard.failed')}</li>
      <li><svg width="14" height="14" aria-hidden="true" focusable="false"><rect width="14" height="14" fill="${COLOURS.other}"></rect></svg> ${t('dashboard.inTransit')}</li>
    </ul>
  </figcaption>
</figure>`;
}
