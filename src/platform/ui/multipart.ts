/**
 * File uploads in the web UI (a recipient spreadsheet, a logo). Browsers send them as multipart/form-data, which
 * the platform's own Response parses; the result is an object like @fastify/formbody's, so the CSRF check finds
 * its field as on any other form. Only the plugin that calls acceptMultipart takes such bodies, up to its limit.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface UploadedFile {
  filename: string;
  bytes: Uint8Array;
}

/** Text fields as strings; a file as its name and bytes (a file input left empty is left out). */
export type MultipartForm = Record<string, string | UploadedFile | undefined>;

export function acceptMultipart(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer', bodyLimit },
    async (request: FastifyRequest, body: Buffer) => {
      try {
        const form = await new Response(new Uint8Array(body), {
          headers: { 'content-type': String(request.headers['content-type']) },
        }).formData();
        const fields: MultipartForm = {};
        for (const [key, value] of form.entries()) {
          if (typeof value === 'string') fields[key] = value;
          else if (value.size > 0)
            fields[key] = { filename: value.name, bytes: new Uint8Array(await value.arrayBuffer()) };
        }
        return fields;
      } catch {
        throw Object.assign(new Error('The form could not be read'), { statusCode: 400 });
      }
    },
  );
}
