/**
 * The UI's words in English and French. `en.json` and `fr.json` hold the shared words, and each area of the UI
 * keeps its own in `<area>.en.json` and `<area>.fr.json`; all are merged into one flat set of keys per language
 * (a key in two files is refused). `{name}` in a string is replaced by the parameter of that name (escaped later by
 * `html`, like any other value). Dates and numbers use Intl.
 */
import { readdirSync, readFileSync } from 'node:fs';

export type Locale = 'en' | 'fr';
export const LOCALES: readonly Locale[] = ['en', 'fr'];

export type Messages = Record<string, string>;

function load(locale: Locale): Messages {
  const files = readdirSync(new URL('./', import.meta.url)).filter(
    (f) => f === `${locale}.json` || f.endsWith(`.${locale}.json`),
  );
  const messages: Messages = {};
  for (const file of files.sort()) {
    const words = JSON.parse(readFileSync(new URL(`./${file}`, import.meta.url), 'utf8')) as Messages;
    for (const [key, text] of Object.entries(words)) {
      if (key in messages) throw new Error(`i18n: the key "${key}" is in ${file} and in another ${locale} file`);
      messages[key] = text;
    }
  }
  return messages;
}

export const MESSAGES: Record<Locale, Messages> = { en: load('en'), fr: load('fr') };

export type Params = Record<string, string | number>;
export type Translate = (key: string, params?: Params) => string;

/** Times are shown in Eastern time, as GC Notify does, with the zone named. */
const TIME_ZONE = 'America/Toronto';

export interface Translator {
  locale: Locale;
  t: Translate;
  /** 'en-CA' or 'fr-CA'. */
  intlLocale: string;
  formatDateTime(date: Date): string;
  formatDate(date: Date): string;
  formatNumber(n: number): string;
}

export function translator(locale: Locale): Translator {
  const messages = MESSAGES[locale];
  const intlLocale = locale === 'fr' ? 'fr-CA' : 'en-CA';
  const dateTime = new Intl.DateTimeFormat(intlLocale, { dateStyle: 'long', timeStyle: 'short', timeZone: TIME_ZONE });
  const dateOnly = new Intl.DateTimeFormat(intlLocale, { dateStyle: 'long', timeZone: TIME_ZONE });
  const number = new Intl.NumberFormat(intlLocale);
  const t: Translate = (key, params) => {
    const text = messages[key];
    // A missing key shows itself, so that it is noticed (the completeness test keeps this from shipping).
    if (text === undefined) return key;
    return params
      ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole))
      : text;
  };
  return {
    locale,
    t,
    intlLocale,
    formatDateTime: (d) => dateTime.format(d),
    formatDate: (d) => dateOnly.format(d),
    formatNumber: (n) => number.format(n),
  };
}

/** The cookie's choice first, then the browser's preference (the first of en/fr it names), then English. */
export function chooseLocale(cookie: string | undefined, acceptLanguage: string | undefined): Locale {
  if (cookie === 'en' || cookie === 'fr') return cookie;
  const wanted = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...rest] = part.trim().split(';');
      const q = rest.find((p) => p.trim().startsWith('q='));
      return { lang: tag.trim().slice(0, 2).toLowerCase(), q: q ? Number(q.trim().slice(2)) || 0 : 1 };
    })
    .filter((x) => x.lang === 'en' || x.lang === 'fr')
    .sort((a, b) => b.q - a.q);
  return (wanted[0]?.lang as Locale | undefined) ?? 'en';
}
