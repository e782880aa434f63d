/**
 * The one typed configuration object. Nothing else in Envoi reads process.env: every setting is parsed and
 * checked here once, and a bad value stops start-up with a message naming the variable.
 */
import { isIP } from 'node:net';
import path from 'node:path';

export type EmailProviderName = 'sink' | 'smtp' | 'ses';
export type SmsProviderName = 'sink' | 'aws-sms' | 'twilio';

export interface Config {
  port: number;
  host: string;
  /** Absent: embedded PGlite in dataDir. */
  databaseUrl: string | null;
  /** PostgreSQL only: how long a request waits for a connection, and for a statement's answer (0: for ever). */
  databaseTimeouts: { connectMs: number; queryMs: number };
  /** How long SIGTERM waits for work in flight to finish before the process exits anyway (non-zero). */
  shutdownTimeoutSeconds: number;
  /** A read replica for reads that may lag (activity, dashboards, exports); absent: they go to DATABASE_URL. */
  databaseReadUrl: string | null;
  dataDir: string;
  /** In order of preference: traffic fails over to the next one while a provider is failing (providers/failover.ts). */
  emailProviders: EmailProviderName[];
  smtpUrl: string | null;
  /** Connections nodemailer keeps open to the relay. */
  smtpPoolSize: number;
  smsProviders: SmsProviderName[];
  aws: {
    region: string;
    /** Another endpoint than AWS's own for every AWS client (a local peer in tests, a VPC endpoint). */
    endpoint: string | null;
    /** Both null: the SDK's default credential chain (instance role, web identity, shared files). */
    accessKeyId: string | null;
    secretAccessKey: string | null;
  };
  /** SES v2: the configuration set whose event destination (SNS) sends delivery, bounce and complaint events. */
  sesConfigurationSet: string | null;
  awsSms: {
    /** Origination pool id or ARN, phone number or sender id; null lets End User Messaging choose. */
    originationIdentity: string | null;
    configurationSet: string | null;
  };
  twilio: {
    accountSid: string | null;
    authToken: string | null;
    /** A sending number (+1…) or a Messaging Service SID (MG…). */
    from: string | null;
    apiUrl: string;
  };
  failover: {
    /** Share of failed sends over the window past which a provider is skipped. */
    errorRate: number;
    windowSeconds: number;
    /** Fewer sends than this in the window never trip failover. */
    minSends: number;
    /** How long a tripped provider rests before it is tried again. */
    cooldownSeconds: number;
  };
  /** SMTP port where bounces (RFC 3464 reports) to the VERP return path are received; null: not listening. */
  bounceSmtpPort: number | null;
  /** Interface the bounce listener binds; HOST unless set (the MX of ENVOI_EMAIL_DOMAIN must reach it). */
  bounceSmtpHost: string;
  /** SNS topics whose messages the receipt hooks accept; empty: any topic (signatures are still verified). */
  snsTopicArns: string[];
  callbacks: {
    /** Hosts that callbacks may reach even on loopback or private addresses (an operator's own receivers). */
    allowedHosts: string[];
    timeoutMs: number;
    maxAttempts: number;
    /** Requests in flight at once to one service's receiver, so a slow one holds back only that service. */
    perServiceConcurrency: number;
  };
  scheduler: {
    /** How often the leader looks for stale messages and expired data. */
    intervalMs: number;
    /** `sending` or `pending` for longer than this becomes `temporary-failure`. */
    sendingTimeoutHours: number;
  };
  /** Null until resolved: in embedded mode it is generated and kept in dataDir. */
  secretKey: string | null;
  /** Keys that sealed secrets before secretKey (ENVOI_SECRET_KEY_PREVIOUS): still opened, until re-sealed. */
  previousSecretKeys: string[];
  /** Domain of the From address: <service email_sender>@<emailDomain>. */
  emailDomain: string;
  /**
   * Origin of every link Envoi gives out (messages, API responses), e.g. https://envoi.example.ca: ENVOI_PUBLIC_URL,
   * else http://HOST:PORT. Never taken from a request, whose Host and X-Forwarded-Host anyone can forge.
   */
  publicUrl: string;
  /** Whether ENVOI_PUBLIC_URL set publicUrl (false: the default from HOST and PORT, reachable from here only). */
  publicUrlSet: boolean;
  /**
   * Fastify's trustProxy: which peers' X-Forwarded-For (and -Proto) to believe. False: none, the peer's own
   * address counts; a number: that many proxies in front; a list: the proxies' addresses or CIDR ranges.
   */
  trustProxy: false | number | string[];
  /** Region for phone numbers written without a country code. */
  phoneRegion: string;
  /** Email domains (and their subdomains) allowed to sign up to the web UI. */
  signupDomains: string[];
  /** Price of one text message fragment, reported as cost_in_pounds/sms_rate by GET notification. */
  smsRate: number;
  logLevel: string;
  worker: {
    batchSize: number;
    concurrency: number;
    leaseSeconds: number;
    pollMs: number;
    maxAttempts: number;
  };
  metrics: {
    /** Port of the process's own Prometheus listener (GET /metrics); null: no listener. */
    port: number | null;
    /** Loopback unless set, so that metrics are never public by accident. */
    host: string;
  };
  jobs: {
    /** How often the worker looks for scheduled jobs and jobs left by a process that died. */
    pollMs: number;
    /** A processor's lease on a job, renewed while it runs; a job whose processor died waits this long. */
    leaseSeconds: number;
    /** Tries of a job (each claim counts) before a failing one ends as `error`. */
    maxAttempts: number;
  };
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

function optional(env: Env, name: string): string | null {
  const v = env[name];
  return v === undefined || v.trim() === '' ? null : v.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function decimal(env: Env, name: string, fallback: number): number {
  const raw = optional(env, name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${name} must be a number of 0 or more, got "${raw}"`);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = str(env, name, fallback);
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = optional(env, name);
  if (raw === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: "${redact(raw)}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(
      `${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${redact(raw)}"`,
    );
  }
  return raw;
}

/** Hide a password inside a URL before showing it in an error. */
function list<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T[] {
  const raw = str(env, name, fallback);
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new ConfigError(`${name} must be a comma-separated list of ${allowed.join(', ')}, got "${raw}"`);
    }
  }
  if (new Set(items).size !== items.length) throw new ConfigError(`${name} names a provider twice: "${raw}"`);
  return items as T[];
}

function commaList(env: Env, name: string): string[] {
  return (optional(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function ratio(env: Env, name: string, fallback: number): number {
  const n = decimal(env, name, fallback);
  if (n <= 0 || n > 1) throw new ConfigError(`${name} must be a number above 0 and at most 1, got "${n}"`);
  return n;
}

function redact(raw: string): string {
  return raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export function loadConfig(env: Env = process.env): Config {
  // Read in this order, so that of several mistakes the first named is always the same one.
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const databaseReadUrl = readReplicaUrl(env, databaseUrl);
  const providers = providerSettings(env);
  const secretKey = secretKeySetting(env, databaseUrl);
  const phoneRegion = str(env, 'ENVOI_PHONE_REGION', 'CA').toUpperCase();
  if (!/^[A-Z]{2}$/.test(phoneRegion)) {
    throw new ConfigError(`ENVOI_PHONE_REGION must be a two-letter country code, got "${phoneRegion}"`);
  }
  const publicUrl = url(env, 'ENVOI_PUBLIC_URL', ['http:', 'https:']);
  const port = int(env, 'PORT', 6011, 0, 65535);
  const host = str(env, 'HOST', '127.0.0.1');
  return {
    port,
    host,
    databaseUrl,
    databaseTimeouts: {
      connectMs: int(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
      queryMs: int(env, 'DATABASE_QUERY_TIMEOUT_MS', 30_000, 0, 86_400_000),
    },
    shutdownTimeoutSeconds: int(env, 'SHUTDOWN_TIMEOUT_SECONDS', 30, 1, 3600),
    databaseReadUrl,
    dataDir: path.resolve(str(env, 'ENVOI_DATA_DIR', '.envoi')),
    ...deliverySettings(env, providers),
    secretKey,
    previousSecretKeys: previousSecretKeys(env),
    emailDomain: str(env, 'ENVOI_EMAIL_DOMAIN', 'notification.localhost'),
    ...publicUrlSettings(publicUrl, host, port),
    trustProxy: trustProxySetting(env),
    phoneRegion,
    signupDomains: (optional(env, 'ENVOI_SIGNUP_DOMAINS') === null
      ? ['gc.ca', 'canada.ca']
      : commaList(env, 'ENVOI_SIGNUP_DOMAINS')
    ).map((d) => d.toLowerCase().replace(/^[@.]+/, '')),
    smsRate: decimal(env, 'SMS_RATE', 0),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    ...loopSettings(env, providers),
  };
}

/** A wildcard interface is reached through localhost; an IPv6 address is bracketed in a URL. */
function defaultPublicUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' || host === '[::]' ? 'localhost' : host;
  return `http://${isIP(reachable) === 6 ? `[${reachable}]` : reachable}:${port}`;
}

function publicUrlSettings(publicUrl: string | null, host: string, port: number) {
  if (publicUrl) return { publicUrl: publicUrl.replace(/\/+$/, ''), publicUrlSet: true };
  return { publicUrl: defaultPublicUrl(host, port), publicUrlSet: false };
}

/**
 * PORT=0 (tests) asks for any free port, known only once the server listens: the default public URL then takes it.
 * The first listener of a process settles it; an ENVOI_PUBLIC_URL is never changed.
 */
export function settlePublicUrl(config: Config, port: number): void {
  if (config.publicUrlSet || config.port !== 0 || !config.publicUrl.endsWith(':0')) return;
  config.publicUrl = defaultPublicUrl(config.host, port);
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** Off unless set: believing X-Forwarded-For from any peer lets every client choose the address it is throttled by. */
function trustProxySetting(env: Env): Config['trustProxy'] {
  const raw = optional(env, 'TRUST_PROXY');
  if (raw === null || /^(false|0)$/i.test(raw)) return false;
  if (/^true$/i.test(raw)) {
    throw new ConfigError(
      'TRUST_PROXY=true would believe X-Forwarded-For from any client, so anyone could pick the address that ' +
        'sign-in throttles and the audit log see: set the number of proxies in front of Envoi (e.g. 1), or their ' +
        'addresses or CIDR ranges (e.g. 10.0.0.0/8,192.168.1.10)',
    );
  }
  if (/^\d+$/.test(raw)) return int(env, 'TRUST_PROXY', 0, 0, 20) || false;
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const item of items) {
    if (!PROXY_NAMES.includes(item) && !isAddressOrRange(item)) {
      throw new ConfigError(
        `TRUST_PROXY must be a number of proxies (e.g. 1) or a comma-separated list of their addresses or CIDR ranges (e.g. 10.0.0.0/8,::1), got "${item}"`,
      );
    }
  }
  return items;
}

/**
 * The setting as Fastify takes it. Fastify refuses a bare hop count (it cannot tell a proxy from a client), so a count
 * becomes proxy-addr's rule for one: the nearest `hops` peers are proxies. Right only when clients cannot reach
 * Envoi but through them.
 */
export function proxyTrust(
  setting: Config['trustProxy'],
): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting !== 'number') return setting;
  return (_address, hop) => hop < setting;
}

function isAddressOrRange(item: string): boolean {
  const [address = '', prefix, ...rest] = item.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/** The providers chosen, and the settings each one cannot do without. */
function providerSettings(env: Env) {
  const emailProviders = list(env, 'EMAIL_PROVIDER', 'sink', ['sink', 'smtp', 'ses'] as const);
  const smtpUrl = url(env, 'SMTP_URL', ['smtp:', 'smtps:']);
  if (emailProviders.includes('smtp') && !smtpUrl) {
    throw new ConfigError('EMAIL_PROVIDER=smtp needs SMTP_URL, e.g. smtp://user:pass@relay.example.ca:587');
  }
  const smsProviders = list(env, 'SMS_PROVIDER', 'sink', ['sink', 'aws-sms', 'twilio'] as const);
  const twilio = {
    accountSid: optional(env, 'TWILIO_ACCOUNT_SID'),
    authToken: optional(env, 'TWILIO_AUTH_TOKEN'),
    from: optional(env, 'TWILIO_FROM'),
    apiUrl: (url(env, 'TWILIO_API_URL', ['http:', 'https:']) ?? 'https://api.twilio.com').replace(/\/+$/, ''),
  };
  if (smsProviders.includes('twilio') && (!twilio.accountSid || !twilio.authToken || !twilio.from)) {
    throw new ConfigError('SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM');
  }
  const accessKeyId = optional(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = optional(env, 'AWS_SECRET_ACCESS_KEY');
  if ((accessKeyId === null) !== (secretAccessKey === null)) {
    throw new ConfigError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both or neither');
  }
  return { emailProviders, smtpUrl, smsProviders, twilio, accessKeyId, secretAccessKey };
}

/** A replica of DATABASE_URL's database: without a primary on PostgreSQL there is nothing to replicate. */
function readReplicaUrl(env: Env, databaseUrl: string | null): string | null {
  const readUrl = url(env, 'DATABASE_READ_URL', ['postgres:', 'postgresql:']);
  if (readUrl && !databaseUrl) {
    throw new ConfigError('DATABASE_READ_URL needs DATABASE_URL: a read replica is a copy of the PostgreSQL primary');
  }
  return readUrl;
}

function secretKeySetting(env: Env, databaseUrl: string | null): string | null {
  const secretKey = optional(env, 'ENVOI_SECRET_KEY');
  if (secretKey !== null && secretKey.length < 32) {
    throw new ConfigError(
      'ENVOI_SECRET_KEY must be at least 32 characters (generate one with: openssl rand -base64 32)',
    );
  }
  if (databaseUrl && !secretKey) {
    throw new ConfigError(
      'ENVOI_SECRET_KEY is required with DATABASE_URL: it encrypts API keys at rest and must be the same on every replica',
    );
  }
  return secretKey;
}

function previousSecretKeys(env: Env): string[] {
  const keys = optional(env, 'ENVOI_SECRET_KEY_PREVIOUS') === null ? [] : commaList(env, 'ENVOI_SECRET_KEY_PREVIOUS');
  if (keys.some((key) => key.length < 32)) {
    throw new ConfigError('ENVOI_SECRET_KEY_PREVIOUS must be a comma-separated list of keys of at least 32 characters');
  }
  return keys;
}

/** How messages leave and come back: providers, failover, bounces, receipts, callbacks and the scheduler. */
function deliverySettings(env: Env, providers: ReturnType<typeof providerSettings>) {
  const { emailProviders, smtpUrl, smsProviders, twilio, accessKeyId, secretAccessKey } = providers;
  return {
    emailProviders,
    smtpUrl,
    smtpPoolSize: smtpPoolSize(env),
    smsProviders,
    aws: {
      region: str(env, 'AWS_REGION', 'ca-central-1'),
      endpoint: url(env, 'AWS_ENDPOINT_URL', ['http:', 'https:']),
      accessKeyId,
      secretAccessKey,
    },
    sesConfigurationSet: optional(env, 'SES_CONFIGURATION_SET'),
    awsSms: {
      originationIdentity: optional(env, 'AWS_SMS_ORIGINATION_IDENTITY'),
      configurationSet: optional(env, 'AWS_SMS_CONFIGURATION_SET'),
    },
    twilio,
    failover: {
      errorRate: ratio(env, 'PROVIDER_FAILOVER_ERROR_RATE', 0.5),
      windowSeconds: int(env, 'PROVIDER_FAILOVER_WINDOW_SECONDS', 60, 1, 3600),
      minSends: int(env, 'PROVIDER_FAILOVER_MIN_SENDS', 20, 1, 100_000),
      cooldownSeconds: int(env, 'PROVIDER_FAILOVER_COOLDOWN_SECONDS', 30, 1, 3600),
    },
    bounceSmtpPort: optional(env, 'BOUNCE_SMTP_PORT') === null ? null : int(env, 'BOUNCE_SMTP_PORT', 0, 0, 65535),
    bounceSmtpHost: str(env, 'BOUNCE_SMTP_HOST', str(env, 'HOST', '127.0.0.1')),
    snsTopicArns: commaList(env, 'SNS_TOPIC_ARNS'),
    callbacks: {
      allowedHosts: commaList(env, 'CALLBACK_ALLOWED_HOSTS').map((h) => h.toLowerCase()),
      timeoutMs: int(env, 'CALLBACK_TIMEOUT_MS', 5000, 100, 60_000),
      maxAttempts: int(env, 'CALLBACK_MAX_ATTEMPTS', 6, 1, 50),
      perServiceConcurrency: int(env, 'CALLBACK_PER_SERVICE_CONCURRENCY', 4, 1, 100),
    },
    scheduler: {
      intervalMs: int(env, 'SCHEDULER_INTERVAL_MS', 60_000, 100, 86_400_000),
      sendingTimeoutHours: int(env, 'SENDING_TIMEOUT_HOURS', 72, 1, 720),
    },
  };
}

const smtpPoolSize = (env: Env) => int(env, 'SMTP_POOL_SIZE', 5, 1, 100);

/**
 * Sends a worker has in flight unless WORKER_CONCURRENCY says otherwise. Through an SMTP relay, four per pooled
 * connection: with one, each connection waited between messages for the next to be rendered, and at the end of
 * each batch for the next claim's round trips. The sends beyond the pool wait rendered for a free connection
 * (providers/smtp.ts), so a connection always has its next message ready. Other providers keep 20.
 */
function defaultConcurrency(env: Env, providers: ReturnType<typeof providerSettings>): number {
  if (!providers.emailProviders.includes('smtp')) return 20;
  return Math.max(20, 4 * smtpPoolSize(env));
}

/** The delivery worker's and the bulk jobs' loops, and the metrics listener. */
function loopSettings(env: Env, providers: ReturnType<typeof providerSettings>) {
  return {
    worker: {
      batchSize: int(env, 'WORKER_BATCH_SIZE', 250, 1, 10_000),
      concurrency: int(env, 'WORKER_CONCURRENCY', defaultConcurrency(env, providers), 1, 1000),
      leaseSeconds: int(env, 'WORKER_LEASE_SECONDS', 60, 5, 3600),
      pollMs: int(env, 'WORKER_POLL_MS', 200, 10, 60_000),
      maxAttempts: int(env, 'WORKER_MAX_ATTEMPTS', 5, 1, 50),
    },
    metrics: {
      port: optional(env, 'METRICS_PORT') === null ? null : int(env, 'METRICS_PORT', 0, 0, 65535),
      host: str(env, 'METRICS_HOST', '127.0.0.1'),
    },
    jobs: {
      pollMs: int(env, 'JOB_POLL_MS', 1000, 10, 60_000),
      leaseSeconds: int(env, 'JOB_LEASE_SECONDS', 60, 1, 3600),
      maxAttempts: int(env, 'JOB_MAX_ATTEMPTS', 5, 1, 50),
    },
  };
}
