/**
 * The emails and text messages Envoi's web UI sends to its own users (address confirmation, security codes,
 * password reset, and later invitations) go through Envoi itself: an internal "Envoi" service owns one template
 * per message and language, and each send is an ordinary notification. So in embedded mode they land in the
 * sink outbox (`envoi outbox`), and in production they go through the real providers with receipts and retries.
 */
import {
  type AccountMessageName,
  type AccountMessages,
  type Language,
  SYSTEM_SERVICE_ID,
} from '../../platform/accounts/account-messages.ts';
import type { Db } from '../../platform/database/connection.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { applyBootstrap } from '../provisioning/apply-bootstrap.ts';
import { findApiKeyByName } from '../repositories/api-keys.ts';
import type { BootstrapService } from '../provisioning/bootstrap-file.ts';
import { acceptNotification, type SendContext } from './send-rules.ts';

/** Fixed, so that every replica and every start finds the same service. */
const SYSTEM_KEY_NAME = 'envoi-web-ui';

interface Wording {
  name: string;
  subject?: string;
  content: string;
}

/** Each message in both languages. Add a message here (and its name to AccountMessageName) to send a new one. */
export const SYSTEM_TEMPLATES = {
  'email-confirmation': {
    type: 'email',
    en: {
      name: 'Confirm your email address',
      subject: 'Confirm your email address',
      content:
        'Hello ((name)),\n\nTo finish creating your Envoi account, confirm your email address with this link:\n\n((link))\n\n' +
        'The link works once and expires in 24 hours. If you did not ask for an account, you can ignore this email.',
    },
    fr: {
      name: 'Confirmez votre adresse courriel',
      subject: 'Confirmez votre adresse courriel',
      content:
        'Bonjour ((name)),\n\nPour terminer la création de votre compte Envoi, confirmez votre adresse courriel à l’aide de ce lien :\n\n((link))\n\n' +
        'Ce lien ne peut servir qu’une fois et expire dans 24 heures. Si vous n’avez pas demandé de compte, vous pouvez ignorer ce courriel.',
    },
  },
  'sign-in-code': {
    type: 'email',
    en: {
      name: 'Security code (email)',
      subject: 'Your Envoi security code',
      content:
        'Hello ((name)),\n\n((code)) is your Envoi security code.\n\nIt expires in 15 minutes. If you did not try to sign in, change your password.',
    },
    fr: {
      name: 'Code de sécurité (courriel)',
      subject: 'Votre code de sécurité Envoi',
      content:
        'Bonjour ((name)),\n\n((code)) est votre code de sécurité Envoi.\n\nIl expire dans 15 minutes. Si vous n’avez pas tenté de vous connecter, changez votre mot de passe.',
    },
  },
  'sign-in-code-sms': {
    type: 'sms',
    en: {
      name: 'Security code (text message)',
      content: '((code)) is your Envoi security code. It expires in 15 minutes.',
    },
    fr: {
      name: 'Code de sécurité (message texte)',
      content: '((code)) est votre code de sécurité Envoi. Il expire dans 15 minutes.',
    },
  },
  'password-reset': {
    type: 'email',
    en: {
      name: 'Reset your password',
      subject: 'Reset your Envoi password',
      content:
        'Hello ((name)),\n\nSomeone asked to reset the password of your Envoi account. To choose a new password, use this link:\n\n((link))\n\n' +
        'The link works once and expires in 1 hour. If you did not ask for this, you can ignore this email: your password has not changed.',
    },
    fr: {
      name: 'Réinitialisez votre mot de passe',
      subject: 'Réinitialisez votre mot de passe Envoi',
      content:
        'Bonjour ((name)),\n\nQuelqu’un a demandé la réinitialisation du mot de passe de votre compte Envoi. Pour choisir un nouveau mot de passe, utilisez ce lien :\n\n((link))\n\n' +
        'Ce lien ne peut servir qu’une fois et expire dans 1 heure. Si vous n’avez rien demandé, vous pouvez ignorer ce courriel : votre mot de passe n’a pas changé.',
    },
  },
  'team-invitation': {
    type: 'email',
    en: {
      name: 'Invitation to a team',
      subject: '((inviter)) invited you to join ((service)) on Envoi',
      content:
        'Hello,\n\n((inviter)) invited you to join the team of ((service)) on Envoi, the service that sends emails and text messages for public services.\n\n' +
        'To accept, use this link:\n\n((link))\n\nThe link works once and expires in 2 days. If you were not expecting this invitation, you can ignore this email.',
    },
    fr: {
      name: 'Invitation à une équipe',
      subject: '((inviter)) vous invite à vous joindre à ((service)) sur Envoi',
      content:
        'Bonjour,\n\n((inviter)) vous invite à vous joindre à l’équipe de ((service)) sur Envoi, le service qui envoie des courriels et des messages texte pour les services publics.\n\n' +
        'Pour accepter, utilisez ce lien :\n\n((link))\n\nCe lien ne peut servir qu’une fois et expire dans 2 jours. Si vous n’attendiez pas cette invitation, vous pouvez ignorer ce courriel.',
    },
  },
  'go-live-approved': {
    type: 'email',
    en: {
      name: 'Service is live',
      subject: '((service)) is now live on Envoi',
      content:
        'Hello ((name)),\n\nYour request to go live was approved: ((service)) can now send messages to anyone, up to its daily limits.\n\n((link))',
    },
    fr: {
      name: 'Service activé',
      subject: '((service)) est maintenant activé sur Envoi',
      content:
        'Bonjour ((name)),\n\nVotre demande d’activation a été approuvée : ((service)) peut maintenant envoyer des messages à n’importe qui, dans la limite de ses plafonds quotidiens.\n\n((link))',
    },
  },
  'go-live-declined': {
    type: 'email',
    en: {
      name: 'Request to go live declined',
      subject: 'Your request to make ((service)) live',
      content:
        'Hello ((name)),\n\nYour request to make ((service)) live was declined, for this reason:\n\n^ ((reason))\n\nThe service stays in trial mode. You can make changes and ask again:\n\n((link))',
    },
    fr: {
      name: 'Demande d’activation refusée',
      subject: 'Votre demande d’activation de ((service))',
      content:
        'Bonjour ((name)),\n\nVotre demande d’activation de ((service)) a été refusée, pour la raison suivante :\n\n^ ((reason))\n\nLe service reste en mode d’essai. Vous pouvez apporter des changements et présenter une nouvelle demande :\n\n((link))',
    },
  },
} satisfies Record<AccountMessageName, { type: 'email' | 'sms'; en: Wording; fr: Wording }>;

export class SystemMessages implements AccountMessages {
  #ready: Promise<{ templates: Record<string, string>; keyId: string }> | null = null;

  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
    private readonly send: SendContext,
    private readonly opts: { phoneRegion: string; emailDomain: string },
  ) {}

  /** Creates or updates the system service and its templates; safe to call on every start, on every replica. */
  ensure(): Promise<{ templates: Record<string, string>; keyId: string }> {
    this.#ready ??= this.#provision().catch((err) => {
      this.#ready = null;
      throw err;
    });
    return this.#ready;
  }

  async #provision(): Promise<{ templates: Record<string, string>; keyId: string }> {
    const spec: BootstrapService = {
      id: SYSTEM_SERVICE_ID,
      name: 'Envoi',
      restricted: false,
      active: true,
      permissions: ['email', 'sms', 'international_sms'],
      message_limit: { email: 10_000_000, sms: 10_000_000, international_sms: 10_000_000 },
      rate_limit: 100_000,
      email_sender: 'envoi',
      templates: Object.entries(SYSTEM_TEMPLATES).flatMap(([key, t]) =>
        (['en', 'fr'] as const).map((lang) => {
          const w: Wording = t[lang];
          return {
            key: `${key}-${lang}`,
            type: t.type as 'email' | 'sms',
            category: 'high' as const,
            versions: [
              {
                name: `${w.name} (${lang.toUpperCase()})`,
                content: w.content,
                ...(w.subject ? { subject: w.subject } : {}),
              },
            ],
          };
        }),
      ),
      api_keys: [{ name: SYSTEM_KEY_NAME, type: 'normal' }],
    };
    let result;
    try {
      result = await applyBootstrap(this.db, this.secrets, { services: [spec] }, this.opts);
    } catch {
      // Two replicas starting together: one of them created the rows; applying again finds them.
      result = await applyBootstrap(this.db, this.secrets, { services: [spec] }, this.opts);
    }
    this.send.directory.invalidate(SYSTEM_SERVICE_ID);
    const key = await findApiKeyByName(this.db, SYSTEM_SERVICE_ID, SYSTEM_KEY_NAME);
    if (!key) throw new Error('the Envoi system service has no API key');
    return { templates: result.services[0]!.templates, keyId: key.id };
  }

  /** Queues one message; resolves once it is committed (delivery follows through the worker). */
  async deliver(
    name: AccountMessageName,
    language: Language,
    recipient: string,
    personalisation: Record<string, string>,
  ): Promise<string> {
    const { templates, keyId } = await this.ensure();
    const service = await this.send.directory.service(SYSTEM_SERVICE_ID);
    if (!service) throw new Error('the Envoi system service is missing');
    const accepted = await acceptNotification(
      this.send,
      { service, keyId, keyType: 'normal' },
      {
        type: SYSTEM_TEMPLATES[name].type as 'email' | 'sms',
        recipient,
        templateId: templates[`${name}-${language}`]!,
        personalisation,
        reference: name,
        scheduledFor: null,
        replyToId: null,
        oneClickUnsubscribeUrl: null,
        sanitiseContentFor: null,
      },
    );
    return accepted.id;
  }
}
