/**
 * A signed-in session made straight in the database, as if the person had passed the second step (the sign-in
 * journey itself is journeys.test.ts's): for tests about what a member sees, not how they got in.
 */
import { Accounts } from '../../src/platform/accounts/accounts.ts';
import type { Db } from '../../src/platform/database/connection.ts';
import { SecretBox } from '../../src/platform/secret-box.ts';
import { ALL_PERMISSIONS, type Permission } from '../../src/platform/services/permissions.ts';
import { TEST_SECRET_KEY } from './envoi.ts';

/**
 * The session token of the active account with `email` (made if missing). With `serviceId`, the account is a
 * member of that service with `permissions` (every one unless said).
 */
export async function memberSession(
  db: Db,
  email: string,
  membership?: { serviceId: string; permissions?: readonly Permission[] },
): Promise<string> {
  let user = await db.selectFrom('users').select('id').where('email_address', '=', email).executeTakeFirst();
  if (!user)
    user = await db
      .insertInto('users')
      .values({ name: email.split('@')[0]!, email_address: email, mobile_number: null })
      .returning('id')
      .executeTakeFirstOrThrow();
  await db
    .updateTable('users')
    .set({ state: 'active', email_confirmed_at: new Date() })
    .where('id', '=', user.id)
    .execute();
  if (membership) {
    const permissions = [...(membership.permissions ?? ALL_PERMISSIONS)];
    await db
      .insertInto('service_users')
      .values({ service_id: membership.serviceId, user_id: user.id, permissions })
      .onConflict((oc) => oc.columns(['service_id', 'user_id']).doUpdateSet({ permissions }))
      .execute();
  }
  const accounts = new Accounts(db, new SecretBox(TEST_SECRET_KEY), { signupDomains: [] });
  return accounts.createSession(user.id, 'signed-in', { ip: null, userAgent: null });
}
