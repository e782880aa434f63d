/**
 * The one typed configuration object. Nothing else in Envoi reads process.env: every setting is parsed and
 * checked here once, and a bad value stops start-up with a message naming the variable.
 */
import path from 'node:path';

export type EmailProviderName = 'sink' | 'smtp';
export type SmsProviderName = 'sink';

export interface Config {
  port: number;
  host: string;
  /** Absent: embedded PGlite in dataDir. */
  databaseUrl: string | null;
  dataDir: string;
  emailProvider: EmailProviderName;
  smtpUrl: string | null;
  /** Connections nodemailer keeps open to the relay. */
  smtpPoolSize: number;
  smsProvider: SmsProviderName;
  /** Null until resolved: in embedded mode it is generated and kept in dataDir. */
  secretKey: string | null;
  /** Domain of the From address: <service email_sender>@<emailDomain>. */
  emailDomain: string;
  /** Origin used in absolute links when the request's own host is not trusted, e.g. https://envoi.example.ca */
  publicUrl: string | null;
  /** Region for phone numbers written without a country code. */
  phoneRegion: string;
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
  jobs: {
    /** How often the worker looks for scheduled jobs and jobs left by a process that died. */
    pollMs: number;
    /** A processor's lease on a job, renewed while it runs; a job whose processor died waits this long. */
    leaseSeconds: number;
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
    throw new ConfigError(`${name} must start with ${protocols.map((p) => p + '//').join(' or ')}, got "${redact(raw)}"`);
  }
  return raw;
}

/** Hide a password inside a URL before showing it in an error. */
function redact(raw: string): string {
  return raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const emailProvider = oneOf(env, 'EMAIL_PROVIDER', 'sink', ['sink', 'smtp'] as const);
  const smtpUrl = url(env, 'SMTP_URL', ['smtp:', 'smtps:']);
  if (emailProvider === 'smtp' && !smtpUrl) {
    throw new ConfigError('EMAIL_PROVIDER=smtp needs SMTP_URL, e.g. smtp://user:pass@relay.example.ca:587');
  }
  const secretKey = optional(env, 'ENVOI_SECRET_KEY');
  if (secretKey !== null && secretKey.length < 32) {
    throw new ConfigError('ENVOI_SECRET_KEY must be at least 32 characters (generate one with: openssl rand -base64 32)');
  }
  if (databaseUrl && !secretKey) {
    throw new ConfigError(
      'ENVOI_SECRET_KEY is required with DATABASE_URL: it encrypts API keys at rest and must be the same on every replica',
    );
  }
  const phoneRegion = str(env, 'ENVOI_PHONE_REGION', 'CA').toUpperCase();
  if (!/^[A-Z]{2}$/.test(phoneRegion)) {
    throw new ConfigError(`ENVOI_PHONE_REGION must be a two-letter country code, got "${phoneRegion}"`);
  }
  const publicUrl = url(env, 'ENVOI_PUBLIC_URL', ['http:', 'https:']);
  return {
    port: int(env, 'PORT', 6011, 0, 65535),
    host: str(env, 'HOST', '127.0.0.1'),
    databaseUrl,
    dataDir: path.resolve(str(env, 'ENVOI_DATA_DIR', '.envoi')),
    emailProvider,
    smtpUrl,
    smtpPoolSize: int(env, 'SMTP_POOL_SIZE', 5, 1, 100),
    smsProvider: oneOf(env, 'SMS_PROVIDER', 'sink', ['sink'] as const),
    secretKey,
    emailDomain: str(env, 'ENVOI_EMAIL_DOMAIN', 'notification.localhost'),
    publicUrl: publicUrl ? publicUrl.replace(/\/+$/, '') : null,
    phoneRegion,
    smsRate: decimal(env, 'SMS_RATE', 0),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    worker: {
      batchSize: int(env, 'WORKER_BATCH_SIZE', 100, 1, 10_000),
      concurrency: int(env, 'WORKER_CONCURRENCY', 20, 1, 1000),
      leaseSeconds: int(env, 'WORKER_LEASE_SECONDS', 60, 5, 3600),
      pollMs: int(env, 'WORKER_POLL_MS', 200, 10, 60_000),
      maxAttempts: int(env, 'WORKER_MAX_ATTEMPTS', 5, 1, 50),
    },
    jobs: {
      pollMs: int(env, 'JOB_POLL_MS', 1000, 10, 60_000),
      leaseSeconds: int(env, 'JOB_LEASE_SECONDS', 60, 1, 3600),
    },
  };
}
