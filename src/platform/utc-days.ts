/**
 * Days as 'YYYY-MM-DD' strings (UTC), as statistics, retention and the day partitions of notifications count them: a
 * JS Date would bring the local time zone back in.
 */
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The first instant of a UTC day, as the timestamptz literal PostgreSQL reads. */
export function dayStart(day: string): string {
  if (!DAY.test(day)) throw new Error(`not a day: ${day}`);
  return `${day}T00:00:00Z`;
}

/** `day` moved by `days` (may be negative). */
export function addDays(day: string, days: number): string {
  const date = new Date(dayStart(day));
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}
