/**
 * Paging of the v2 lists: 250 rows a page, newest first, continued with `older_than=<id of the last row>`
 * (repositories/notification-lists.ts reads the rows older than it).
 */
export const PAGE_SIZE = 250;
