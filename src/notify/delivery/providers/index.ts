/**
 * Builds each channel's providers from config, in the configured order; more than one are wrapped in failover,
 * which sends to the first healthy one (failover.ts).
 */
import type { Logger } from '../../../platform/queue/background.ts';
import type { Config, EmailProviderName, SmsProviderName } from '../../../platform/config.ts';
import type { Db } from '../../../platform/database/connection.ts';
import { createAwsSmsProvider } from './aws-sms.ts';
import { createFailoverProvider, type ChannelProvider } from './failover.ts';
import { createSesEmailProvider } from './ses.ts';
import { createSinkEmailProvider, createSinkSmsProvider } from './sink.ts';
import { createSmtpEmailProvider } from './smtp.ts';
import { createTwilioSmsProvider } from './twilio.ts';
import type { EmailMessage, EmailProvider, SmsMessage, SmsProvider } from './types.ts';

export type { EmailProvider, SmsProvider } from './types.ts';

export interface Providers {
  email: EmailProvider;
  sms: SmsProvider;
  close(): Promise<void>;
}

/** `logger` hears when failover moves traffic away from a provider and back. */
export function createProviders(config: Config, db: Db, logger?: Logger): Providers {
  const email = chain<EmailMessage>(
    config.emailProviders.map((name) => createEmailProvider(name, config, db)),
    config,
    logger,
  );
  const sms = chain<SmsMessage>(
    config.smsProviders.map((name) => createSmsProvider(name, config, db)),
    config,
    logger,
  );
  return {
    email,
    sms,
    async close() {
      await Promise.all([email.close(), sms.close()]);
    },
  };
}

function chain<M>(
  providers: Array<ChannelProvider<M>>,
  config: Config,
  logger: Logger | undefined,
): ChannelProvider<M> {
  if (providers.length === 0) throw new Error('each channel needs at least one provider');
  if (providers.length === 1) return providers[0]!;
  return createFailoverProvider(providers, { ...config.failover, ...(logger ? { logger } : {}) });
}

export function createEmailProvider(name: EmailProviderName, config: Config, db: Db): EmailProvider {
  switch (name) {
    case 'smtp':
      // loadConfig refuses EMAIL_PROVIDER=smtp without SMTP_URL; this guards hand-built configs.
      if (!config.smtpUrl) throw new Error('email provider "smtp" needs smtpUrl');
      return createSmtpEmailProvider({ url: config.smtpUrl, poolSize: config.smtpPoolSize });
    case 'ses':
      return createSesEmailProvider({ aws: config.aws, configurationSet: config.sesConfigurationSet });
    case 'sink':
      return createSinkEmailProvider(db);
  }
}

export function createSmsProvider(name: SmsProviderName, config: Config, db: Db): SmsProvider {
  switch (name) {
    case 'aws-sms':
      return createAwsSmsProvider({
        aws: config.aws,
        originationIdentity: config.awsSms.originationIdentity,
        configurationSet: config.awsSms.configurationSet,
      });
    case 'twilio':
      return createTwilioSmsProvider({
        twilio: config.twilio,
        publicUrl: config.publicUrlSet ? config.publicUrl : null,
      });
    case 'sink':
      return createSinkSmsProvider(db);
  }
}
