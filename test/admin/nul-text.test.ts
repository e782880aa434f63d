/**
 * PostgreSQL's text cannot hold a NUL (issue 13 §5): it is never carried to SQL as a 500. A query field holding
 * one is ignored, as pages ignore other nonsense in their queries; a form holding one gets the UI's 400 page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnvoi, type RunningEnvoi } from '../support/envoi.ts';
import { serviceFile } from './activity-support.ts';
import { memberSession } from '../support/sessions.ts';

let envoi: RunningEnvoi;
let serviceId: string;
let cookie: string;

beforeAll(async () => {
  envoi = await startEnvoi({ bootstrap: serviceFile() });
  serviceId = envoi.provisioned.services[0]!.id;
  cookie = `envoi_session=${await memberSession(envoi.database.db, 'pat@example.gc.ca', { serviceId })}`;
});

afterAll(async () => {
  await envoi?.stop();
});

describe('a NUL in what a page is given', () => {
  it('a search with a NUL is ignored: the page answers 200, as without a search', async () => {
    const page = (search: string) =>
      fetch(`${envoi.url}/services/${serviceId}/activity?search=${search}`, { headers: { cookie } });
    for (const search of ['case-1234', '%00', 'case%001234']) expect((await page(search)).status).toBe(200);
  });

  it('a form with a NUL answers the 400 page', async () => {
    const res = await fetch(`${envoi.url}/services/${serviceId}/templates/new`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=a%00b&type=email',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  });
});
