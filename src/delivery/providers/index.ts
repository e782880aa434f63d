/** Picks each channel's provider from config. */
import type { Config } from '../../config.ts';
import type { Db } from '../../db/connection.ts';
import { createSinkEmailProvider, createSinkSmsProvider } from './sink.ts';
import { createSmtpEmailProvider } from './smtp.ts';
import type { EmailProvider, SmsProvider } from './types.ts';

export type { EmailMessage, EmailProvider, ProviderResult, SmsMessage, SmsProvider } from './types.ts';

export interface Providers {
  email: EmailProvider;
  sms: SmsProvider;
  close(): Promise<void>;
}

export function createProviders(config: Config, db: Db): Providers {
  let email: EmailProvider;
  switch (config.emailProviders[0]) {
    case 'smtp':
      // loadConfig refuses EMAIL_PROVIDER=smtp without SMTP_URL; this guards hand-built configs.
      if (!config.smtpUrl) throw new Error('emailProvider "smtp" needs smtpUrl');
      email = createSmtpEmailProvider({ url: config.smtpUrl, poolSize: config.smtpPoolSize });
      break;
    case 'sink':
      email = createSinkEmailProvider(db);
      break;
    default:
      throw new Error(`email provider ${config.emailProviders[0]} is not available yet`);
  }
  let sms: SmsProvider;
  switch (config.smsProviders[0]) {
    case 'sink':
      sms = createSinkSmsProvider(db);
      break;
    default:
      throw new Error(`text message provider ${config.smsProviders[0]} is not available yet`);
  }
  return {
    email,
    sms,
    async close() {
      await Promise.all([email.close(), sms.close()]);
    },
  };
}
