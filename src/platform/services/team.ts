/**
 * A service's team: members and what each may do, and invitations by email (a single-use link, stored hashed,
 * valid 2 days). One rule holds throughout: someone must always be able to manage the service, so the last member
 * with manage_service can neither lose it nor leave. No HTTP here: the UI calls these and turns TeamError codes
 * into words.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import type { Db } from '../database/connection.ts';
import { CodedError } from '../coded-error.ts';
import { ALL_PERMISSIONS, type Permission } from './permissions.ts';
import { recordAudit } from '../audit.ts';
import { passwordProblem, type PasswordProblem } from '../accounts/accounts.ts';
import { InvalidRecipientError, normaliseEmail, validateEmailAddress } from '../recipients.ts';
import {
  countManagers,
  deleteMember,
  insertMember,
  listMemberRows,
  lockMembers,
  memberPermissions,
  memberWithEmailExists,
  updateMemberPermissions,
} from '../repositories/service-members.ts';
import {
  cancelInvitationRow,
  cancelInvitationsTo,
  insertInvitation,
  type InvitationRow,
  openInvitationByTokenHash,
  openInvitations,
  spendInvitation,
} from '../repositories/invitations.ts';
import { findUserByEmailAnyCase, insertUser, updateUser, userWithPasswordExists } from '../repositories/users.ts';

export const INVITATION_DAYS = 2;

export type TeamErrorCode =
  | 'last-manager'
  | 'already-member'
  | 'not-member'
  | 'no-permissions'
  | 'invalid-email'
  | 'invitation-invalid'
  | 'wrong-account'
  | 'account-exists'
  | 'password';

export class TeamError extends CodedError<TeamErrorCode> {
  constructor(
    code: TeamErrorCode,
    readonly problem?: PasswordProblem,
  ) {
    super(code);
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

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** Only known permissions, each once, in the usual order. */
export function cleanPermissions(given: readonly string[]): Permission[] {
  return ALL_PERMISSIONS.filter((p) => given.includes(p));
}

export async function listMembers(db: Db, serviceId: string): Promise<Member[]> {
  const rows = await listMemberRows(db, serviceId);
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
    await lockMembers(trx, serviceId);
    const result = await change(trx);
    if ((await countManagers(trx, serviceId)) === 0) throw new TeamError('last-manager');
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
    await updateMemberPermissions(trx, input.serviceId, input.userId, permissions);
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
    if (!(await deleteMember(trx, input.serviceId, input.userId))) throw new TeamError('not-member');
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
  if (await memberWithEmailExists(db, input.serviceId, email)) throw new TeamError('already-member');
  const now = input.now ?? new Date();
  const token = randomBytes(32).toString('base64url');
  const id = await db.transaction().execute(async (trx) => {
    await cancelInvitationsTo(trx, input.serviceId, email, now);
    const invitationId = await insertInvitation(trx, {
      service_id: input.serviceId,
      email_address: email,
      permissions,
      invited_by_id: input.actorId,
      token_hash: sha256(token),
      created_at: now,
      expires_at: new Date(now.getTime() + INVITATION_DAYS * 86_400_000),
    });
    await recordAudit(trx, {
      event: 'member-invited',
      actorId: input.actorId,
      userId: null,
      ip: input.ip,
      details: { serviceId: input.serviceId, email, permissions },
    });
    return invitationId;
  });
  const invitation = (await pendingInvitations(db, input.serviceId, now)).find((i) => i.id === id)!;
  return { invitation, token };
}

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
  return (await openInvitations(db, serviceId, now)).map(toInvitation);
}

export async function cancelInvitation(
  db: Db,
  input: { serviceId: string; invitationId: string; actorId: string; ip: string | null },
): Promise<boolean> {
  const email = await cancelInvitationRow(db, input.serviceId, input.invitationId);
  if (email === undefined) return false;
  await recordAudit(db, {
    event: 'invitation-cancelled',
    actorId: input.actorId,
    userId: null,
    ip: input.ip,
    details: { serviceId: input.serviceId, email },
  });
  return true;
}

/** The invitation a link's token opens, while it can still be used. */
export async function invitationByToken(db: Db, token: string, now = new Date()): Promise<Invitation | null> {
  if (!/^[\w-]{20,100}$/.test(token)) return null;
  const row = await openInvitationByTokenHash(db, sha256(token), now);
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
    if (!(await spendInvitation(trx, invitation.id, input.userId, now))) throw new TeamError('invitation-invalid');
    const current = await memberPermissions(trx, invitation.serviceId, input.userId);
    if (current) {
      const merged = cleanPermissions([...current, ...invitation.permissions]);
      await updateMemberPermissions(trx, invitation.serviceId, input.userId, merged);
    } else {
      await insertMember(trx, invitation.serviceId, input.userId, invitation.permissions);
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
  const taken = await findUserByEmailAnyCase(db, invitation.email);
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
    ? await updateUser(db, taken.id, values)
    : await insertUser(db, { ...values, email_address: invitation.email });
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
  return userWithPasswordExists(db, email);
}
