/**
 * Signing in (password, then a second step), signing out (here or everywhere), signing up with an allowed
 * address, confirming it, resetting a password, and the account's own settings (language, two-step method,
 * authenticator app). Every form works without JavaScript.
 */
import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../../ui/admin-deps.ts';
import { signInRoutes } from './sign-in.ts';
import { secondStepRoutes } from './second-step.ts';
import { signUpRoutes } from './sign-up.ts';
import { accountPageRoutes } from './account.ts';

export async function accountRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  await signInRoutes(app, deps);
  await secondStepRoutes(app, deps);
  await signUpRoutes(app, deps);
  await accountPageRoutes(app, deps);
}
