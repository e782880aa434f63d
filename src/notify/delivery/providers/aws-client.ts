/** What the SES and End User Messaging clients share: region, endpoint, credentials, timeouts and no SDK retries. */
import type { Config } from '../../../platform/config.ts';

export interface AwsClientOptions {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number };
}

/**
 * One attempt per call: the worker owns retries and backoff, a throttled answer must reach it at once so that it
 * slows the lane down, and failover must see a failing provider without the SDK hiding it behind its own retries.
 * The timeouts sit well inside the worker's lease (60 s by default), so a hung endpoint becomes a retry rather
 * than a second worker sending the same message after the lease has run out.
 */
export function awsClientOptions(aws: Config['aws']): AwsClientOptions {
  return {
    region: aws.region,
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    // Both or neither (loadConfig checks it); neither leaves the SDK's default chain (instance role, web identity…).
    ...(aws.accessKeyId && aws.secretAccessKey
      ? { credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } }
      : {}),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
  };
}

/** The parts of an SDK error the classifiers read: its name, HTTP status and the service's own words. */
export interface AwsError {
  name: string;
  message: string;
  Reason?: string;
  /** End User Messaging's ValidationException: the fields it refused. */
  Fields?: Array<{ Name?: string; Message?: string }>;
  $metadata?: { httpStatusCode?: number };
  $fault?: 'client' | 'server';
}

export function awsErrorStatus(err: AwsError): number | undefined {
  return err.$metadata?.httpStatusCode;
}

export function describeAwsError(err: AwsError): string {
  const status = awsErrorStatus(err);
  return [status === undefined ? null : String(status), err.name, err.Reason ?? null, err.message]
    .filter((part) => part !== null && part !== '')
    .join(': ');
}
