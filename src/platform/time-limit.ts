/** A wait that must end: for answers that may never come (a database out of reach), so a caller is never held. */

/** Settles as `work` does, or rejects with "no answer within `ms` ms" if it has not settled by then. */
export async function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
