/** How statuses and dates read in what Envoi sends out: API responses and callbacks to services share these. */

/** Notify's `%Y-%m-%dT%H:%M:%S.%fZ`: UTC with six fractional digits. */
export function formatDate(date: Date | null | undefined): string | null {
  if (!date) return null;
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

// GC Notify's plain-language labels for each status.
export const STATUS_DESCRIPTION: Record<string, string> = {
  created: 'In transit',
  sending: 'In transit',
  pending: 'In transit',
  sent: 'Delivered',
  delivered: 'Delivered',
  'technical-failure': 'Tech issue',
  'temporary-failure': 'Content or inbox issue',
  'permanent-failure': 'No such address',
  cancelled: 'Cancelled',
};
