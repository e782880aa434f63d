/**
 * A service's team: members and what each may do, invitations by email (a single-use link, stored hashed,
 * valid 2 days), and the guest list a trial service may also send to. One rule holds throughout: someone must
 * always be able to manage the service, so the last member with manage_service can neither lose it nor leave.
 * No HTTP here: the UI calls these and turns TeamError codes into words.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { hash as argon2Hash } from '@node-rs/argon2';
import type { Db } from '../database/connection.ts';
import type { Permission } from '../database/schema.ts';
import { recordAudit } from '../audit.ts';
import { passwordProblem, type PasswordProblem } from '../accounts/accounts.ts';
import {
  InvalidRecipientError,
  normaliseEmail,
  validateEmailAddress,
  validatePhoneNumber,
  type CountryCode,
} from '../recipients.ts';

export const ALL_PERMISSIONS: readonly Permission[] = [
  'send_messages',
  'manage_templates',
  'manage_service',
  'manage_api_keys',
  'view_activity',
];
export const INVITATION_DAYS = 2;
/** GC Notify's guest list holds 5 addresses and 5 numbers; a little more room here. */
export const GUEST_LIST_MAX_PER_TYPE = 20;

export type TeamErrorCode =
  | 'last-manager'
  | 'already-member'
  | 'not-member'
  | 'no-permissions'
  | 'invalid-email'
  | 'invalid-recipient'
  | 'guest-list-full'
  | 'already-on-guest-list'
  | 'invitation-invalid'
  | 'wrong-account'
  | 'account-exists'
  | 'password';

export class TeamError extends Error {
  constructor(
    readonly code: TeamErrorCode,
    readonly problem?: PasswordProblem,
  ) {
    super(code);
    this.name = 'TeamError';
  }
}

export interface Member {
  userId: string;
  name: string;
  email: string;
  permissions: Permission[];
  joinedAt: Date;
}

export interface Invitation {
  id: string;
  serviceId: string;
  serviceName: string;
  email: string;
  permissions: Permission[];
  invitedBy: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface Guest {
  id: string;
  type: 'email' | 'sms';
  recipient: string;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** Only known permissions, each once, in the usual order. */
export function cleanPermissions(given: readonly string[]): Permission[] {
  return ALL_PERMISSIONS.filter((p) => given.includes(p));
}

export async function listMembers(db: Db, serviceId: string): Promise<Member[]> {
  const rows = await db
    .selectFrom('service_users as su')
    .innerJoin('users as u', 'u.id', 'su.user_id')
    .select(['u.id', 'u.name', 'u.email_address', 'su.permissions', 'su.created_at'])
    .where('su.service_id', '=', serviceId)
    .orderBy('u.name')
    .orderBy('u.email_address')
    .execute();
  return rows.map((r) => ({
    userId: r.id,
    name: r.name,
    email: r.email_address,
    permissions: cleanPermissions(r.permissions),
    joinedAt: r.created_at,
  }));
}

export async function member(db: Db, serviceId: string, userId: string): Promise<Member | null> {
  return (await listMembers(db, serviceId)).find((m) => m.userId === userId) ?? null;
}

/**
 * Runs `change` with the service's memberships locked, then checks that someone can still manage the service;
 * if no one can, the change is undone and `last-manager` thrown.
 */
async function withManagerKept<T>(db: Db, serviceId: string, change: (trx: Db) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await trx.selectFrom('service_users').select('user_id').where('service_id', '=', serviceId).forUpdate().execute();
    const result = await change(trx);
    const managers = await trx
      .selectFrom('service_users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('service_id', '=', serviceId)
      .where(sql<boolean>`'manage_service' = ANY(permissions)`)
      .executeTakeFirstOrThrow();
    if (Number(managers.n) === 0) throw new TeamError('last-manager');
    return result;
  });
}

export async function setPermissions(
  db: Db,
  input: { serviceId: string; userId: string; permissions: readonly string[]; actorId: string; ip: string | null },
): Promise<void> {
  const permissions = cleanPermissions(input.permissions);
  const before = await member(db, input.serviceId, input.userId);
  if (!before) throw new TeamError('not-member');
  await withManagerKept(db, input.serviceId, async (trx) => {
    await trx
      .updateTable('service_users')
      .set({ permissions })
      .where('service_id', '=', input.serviceId)
      .where('user_id', '=', input.userId)
      .execute();
    await recordAudit(trx, {
      event: 'permissions-changed',
      actorId: input.actorId,
      userId: input.userId,
      ip: input.ip,
      details: { serviceId: input.serviceId, before: before.permissions, after: permissions },
    });
  });
}

export async function removeMember(
  db: Db,
  input: { serviceId: string; userId: string; actorId: string; ip: string | null },
): Promise<void> {
  await withManagerKept(db, input.serviceId, async (trx) => {
    const removed = await trx
      .deleteFrom('service_users')
      .where('service_id', '=', input.serviceId)
      .where('user_id', '=', input.userId)
      .executeTakeFirst();
    if (removed.numDeletedRows === 0n) throw new TeamError('not-member');
    await recordAudit(trx, {
      event: 'member-removed',
      actorId: input.actorId,
      userId: input.userId,
      ip: input.ip,
      details: { serviceId: input.serviceId },
    });
  });
}

// ---- invitations ----------------------------------------------------------------------------------------------

/**
 * A new invitation and the token of its link (the caller sends it). Inviting the same address again replaces
 * the earlier invitation; a current member cannot be invited.
 */
export async function createInvitation(
  db: Db,
  input: {
    serviceId: string;
    email: string;
    permissions: readonly string[];
    actorId: string;
    ip: string | null;
    now?: Date;
  },
): Promise<{ invitation: Invitation; token: string }> {
  let email: string;
  try {
    email = validateEmailAddress(input.email);
  } catch (err) {
    if (err instanceof InvalidRecipientError) throw new TeamError('invalid-email');
    throw err;
  }
  const permissions = cleanPermissions(input.permissions);
  if (permissions.length === 0) throw new TeamError('no-permissions');
  const existing = await db
    .selectFrom('service_users as su')
    .innerJoin('users as u', 'u.id', 'su.user_id')
    .select('u.id')
    .where('su.service_id', '=', input.serviceId)
    .where(sql`lower(u.email_address)`, '=', email.toLowerCase())
    .executeTakeFirst();
  if (existing) throw new TeamError('already-member');
  const now = input.now ?? new Date();
  const token = randomBytes(32).toString('base64url');
  const id = await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('invitations')
      .set({ cancelled_at: now })
      .where('service_id', '=', input.serviceId)
      .where(sql`lower(email_address)`, '=', email.toLowerCase())
      .where('accepted_at', 'is', null)
      .where('cancelled_at', 'is', null)
      .execute();
    const row = await trx
      .insertInto('invitations')
      .values({
        service_id: input.serviceId,
        email_address: email,
        permissions,
        invited_by_id: input.actorId,
        token_hash: sha256(token),
        created_at: now,
        expires_at: new Date(now.getTime() + INVITATION_DAYS * 86_400_000),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordAudit(trx, {
      event: 'member-invited',
      actorId: input.actorId,
      userId: null,
      ip: input.ip,
      details: { serviceId: input.serviceId, email, permissions },
    });
    return row.id;
  });
  const invitation = (await pendingInvitations(db, input.serviceId, now)).find((i) => i.id === id)!;
  return { invitation, token };
}

function invitationQuery(db: Db) {
  return db
    .selectFrom('invitations as i')
    .innerJoin('services as s', 's.id', 'i.service_id')
    .leftJoin('users as u', 'u.id', 'i.invited_by_id')
    .select([
      'i.id',
      'i.service_id',
      's.name as service_name',
      'i.email_address',
      'i.permissions',
      'u.name as invited_by',
      'i.created_at',
      'i.expires_at',
    ]);
}

type InvitationRow = {
  id: string;
  service_id: string;
  service_name: string;
  email_address: string;
  permissions: Permission[];
  invited_by: string | null;
  created_at: Date;
  expires_at: Date;
};

function toInvitation(r: InvitationRow): Invitation {
  return {
    id: r.id,
    serviceId: r.service_id,
    serviceName: r.service_name,
    email: r.email_address,
    permissions: cleanPermissions(r.permissions),
    invitedBy: r.invited_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

/** Invitations sent and not yet accepted, cancelled or expired. */
export async function pendingInvitations(db: Db, serviceId: string, now = new Date()): Promise<Invitation[]> {
  const rows = await invitationQuery(db)
    .where('i.service_id', '=', serviceId)
    .where('i.accepted_at', 'is', null)
    .where('i.cancelled_at', 'is', null)
    .where('i.expires_at', '>', now)
    .orderBy('i.created_at', 'desc')
    .execute();
  return rows.map(toInvitation);
}

export async function cancelInvitation(
  db: Db,
  input: { serviceId: string; invitationId: string; actorId: string; ip: string | null },
): Promise<boolean> {
  const row = await db
    .updateTable('invitations')
    .set({ cancelled_at: new Date() })
    .where('id', '=', input.invitationId)
    .where('service_id', '=', input.serviceId)
    .where('accepted_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .returning('email_address')
    .executeTakeFirst();
  if (!row) return false;
  await recordAudit(db, {
    event: 'invitation-cancelled',
    actorId: input.actorId,
    userId: null,
    ip: input.ip,
    details: { serviceId: input.serviceId, email: row.email_address },
  });
  return true;
}

/** The invitation a link's token opens, while it can still be used. */
export async function invitationByToken(db: Db, token: string, now = new Date()): Promise<Invitation | null> {
  if (!/^[\w-]{20,100}$/.test(token)) return null;
  const row = await invitationQuery(db)
    .where('i.token_hash', '=', sha256(token))
    .where('i.accepted_at', 'is', null)
    .where('i.cancelled_at', 'is', null)
    .where('i.expires_at', '>', now)
    .executeTakeFirst();
  return row ? toInvitation(row) : null;
}

/**
 * The signed-in person accepts: the link is spent and they join with the invited permissions (someone already a
 * member keeps their membership and gains the invited permissions). Only the invited address may accept.
 */
export async function acceptInvitation(
  db: Db,
  input: { token: string; userId: string; userEmail: string; ip: string | null; now?: Date },
): Promise<Invitation> {
  const now = input.now ?? new Date();
  const invitation = await invitationByToken(db, input.token, now);
  if (!invitation) throw new TeamError('invitation-invalid');
  if (normaliseEmail(invitation.email) !== normaliseEmail(input.userEmail)) throw new TeamError('wrong-account');
  await db.transaction().execute(async (trx) => {
    const spent = await trx
      .updateTable('invitations')
      .set({ accepted_at: now, accepted_by_id: input.userId })
      .where('id', '=', invitation.id)
      .where('accepted_at', 'is', null)
      .where('cancelled_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!spent) throw new TeamError('invitation-invalid');
    const current = await trx
      .selectFrom('service_users')
      .select('permissions')
      .where('service_id', '=', invitation.serviceId)
      .where('user_id', '=', input.userId)
      .executeTakeFirst();
    if (current) {
      const merged = cleanPermissions([...current.permissions, ...invitation.permissions]);
      await trx
        .updateTable('service_users')
        .set({ permissions: merged })
        .where('service_id', '=', invitation.serviceId)
        .where('user_id', '=', input.userId)
        .execute();
    } else {
      await trx
        .insertInto('service_users')
        .values({ service_id: invitation.serviceId, user_id: input.userId, permissions: invitation.permissions })
        .execute();
    }
    await recordAudit(trx, {
      event: 'invitation-accepted',
      actorId: input.userId,
      userId: input.userId,
      ip: input.ip,
      details: { serviceId: invitation.serviceId, permissions: invitation.permissions },
    });
  });
  return invitation;
}

/**
 * Someone invited who has no account yet creates one from the link, whatever their address's domain (being
 * invited vouches for them, and using the link proves the mailbox, so the address counts as confirmed), and
 * joins the team. They sign in afterwards as anyone does, with a code by email.
 */
export async function signUpFromInvitation(
  db: Db,
  input: { token: string; name: string; password: string; language: 'en' | 'fr'; ip: string | null; now?: Date },
): Promise<{ invitation: Invitation; userId: string }> {
  const now = input.now ?? new Date();
  const invitation = await invitationByToken(db, input.token, now);
  if (!invitation) throw new TeamError('invitation-invalid');
  const problem = passwordProblem(input.password);
  if (problem) throw new TeamError('password', problem);
  const taken = await db
    .selectFrom('users')
    .select(['id', 'password_hash', 'state'])
    .where(sql`lower(email_address)`, '=', invitation.email.toLowerCase())
    .executeTakeFirst();
  if (taken && (taken.password_hash || taken.state !== 'active')) throw new TeamError('account-exists');
  const passwordHash = await argon2Hash(input.password);
  const values = {
    name: input.name,
    password_hash: passwordHash,
    state: 'active' as const,
    email_confirmed_at: now,
    language: input.language,
    password_changed_at: now,
  };
  // A row without a password (a team member from a bootstrap file) becomes the account.
  const userId = taken
    ? (await db.updateTable('users').set(values).where('id', '=', taken.id).returning('id').executeTakeFirstOrThrow())
        .id
    : (
        await db
          .insertInto('users')
          .values({ ...values, email_address: invitation.email })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
  await recordAudit(db, {
    event: 'account-created',
    actorId: null,
    userId,
    ip: input.ip,
    details: { via: 'invitation', serviceId: invitation.serviceId },
  });
  await acceptInvitation(db, { token: input.token, userId, userEmail: invitation.email, ip: input.ip, now });
  return { invitation, userId };
}

/** Whether an account that can sign in exists for this address. */
export async function accountExists(db: Db, email: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where(sql`lower(email_address)`, '=', email.toLowerCase())
    .where('password_hash', 'is not', null)
    .executeTakeFirst();
  return row !== undefined;
}

// ---- guest list -----------------------------------------------------------------------------------------------

export async function listGuests(db: Db, serviceId: string): Promise<Guest[]> {
  const rows = await db
    .selectFrom('guest_list')
    .select(['id', 'recipient_type', 'recipient'])
    .where('service_id', '=', serviceId)
    .orderBy('recipient_type')
    .orderBy('recipient')
    .execute();
  return rows.map((r) => ({ id: r.id, type: r.recipient_type, recipient: r.recipient }));
}

/** Adds an email address or a phone number (told apart by the @), stored in the form sends are compared in. */
export async function addGuest(
  db: Db,
  input: { serviceId: string; recipient: string; phoneRegion: string },
): Promise<Guest> {
  const raw = input.recipient.trim();
  const type = raw.includes('@') ? ('email' as const) : ('sms' as const);
  let recipient: string;
  try {
    recipient =
      type === 'email'
        ? normaliseEmail(validateEmailAddress(raw))
        : validatePhoneNumber(raw, { defaultRegion: input.phoneRegion as CountryCode }).e164;
  } catch (err) {
    if (err instanceof InvalidRecipientError) throw new TeamError('invalid-recipient');
    throw err;
  }
  const current = await listGuests(db, input.serviceId);
  if (current.some((g) => g.type === type && g.recipient === recipient)) throw new TeamError('already-on-guest-list');
  if (current.filter((g) => g.type === type).length >= GUEST_LIST_MAX_PER_TYPE) throw new TeamError('guest-list-full');
  const row = await db
    .insertInto('guest_list')
    .values({ service_id: input.serviceId, recipient_type: type, recipient })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!row) throw new TeamError('already-on-guest-list');
  return { id: row.id, type, recipient };
}

export async function removeGuest(db: Db, serviceId: string, guestId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('guest_list')
    .where('service_id', '=', serviceId)
    .where('id', '=', guestId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
