import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseLocale, MESSAGES, translator } from '../../src/platform/ui/i18n/index.ts';
import { AUDIT_EVENTS } from '../../src/platform/audit.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

describe('English and French words', () => {
  it('have the same keys, and no empty value', () => {
    expect(Object.keys(MESSAGES.fr).sort()).toEqual(Object.keys(MESSAGES.en).sort());
    for (const locale of ['en', 'fr'] as const) {
      for (const [key, value] of Object.entries(MESSAGES[locale]))
        expect(value.trim(), `${locale} ${key}`).not.toBe('');
    }
  });

  it('use the same {parameters} in both languages', () => {
    const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(MESSAGES.en))
      expect(params(MESSAGES.fr[key]!), key).toEqual(params(MESSAGES.en[key]!));
  });

  it('cover every key the UI code names literally, and every audit event', () => {
    const used = new Set<string>();
    for (const file of sourceFiles(new URL('../../src', import.meta.url).pathname)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\('([\w.-]+)'/g)) used.add(m[1]!);
    }
    for (const event of AUDIT_EVENTS) used.add(`audit.event.${event}`);
    const missing = [...used].filter((key) => !(key in MESSAGES.en));
    expect(missing).toEqual([]);
  });

  it('fill in parameters, and format dates and numbers the Canadian way in each language', () => {
    const en = translator('en');
    const fr = translator('fr');
    expect(en.t('layout.signedInAs', { email: 'a@gc.ca' })).toBe('Signed in as a@gc.ca');
    expect(fr.t('home.welcome', { name: 'Élise' })).toBe('Bienvenue, Élise.');
    expect(en.formatNumber(1234567.5)).toBe('1,234,567.5');
    expect(fr.formatNumber(1234567.5)).toBe('1\u00a0234\u00a0567,5');
    const date = new Date('2026-03-02T14:30:00Z');
    expect(en.formatDateTime(date)).toContain('March 2, 2026');
    expect(fr.formatDateTime(date)).toContain('2 mars 2026');
  });
});

describe('choosing the language', () => {
  it('prefers the remembered choice, then the browser, then English', () => {
    expect(chooseLocale('fr', 'en-CA,en;q=0.9')).toBe('fr');
    expect(chooseLocale(undefined, 'fr-CA,fr;q=0.9,en;q=0.8')).toBe('fr');
    expect(chooseLocale(undefined, 'de-DE,en;q=0.5,fr;q=0.7')).toBe('fr');
    expect(chooseLocale('xx', 'de')).toBe('en');
    expect(chooseLocale(undefined, undefined)).toBe('en');
  });
});
