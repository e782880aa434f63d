/**
 * The v2 API's error shape: {"status_code": N, "errors": [{"error": Name, "message": Text}]}.
 * The API's own refusals (authentication, the request's shape, a resource a route did not find) throw an ApiError;
 * the domain throws SendRefused instead, which refusal-wire.ts words. The error handler in app.ts renders both.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorName: string,
    message: string,
    /** Further problems of the same kind, reported after the first (a bulk list's every problem at once). */
    readonly more: string[] = [],
  ) {
    super(message);
  }

  toBody(): { status_code: number; errors: { error: string; message: string }[] } {
    const messages = [this.message, ...this.more];
    return { status_code: this.statusCode, errors: messages.map((message) => ({ error: this.errorName, message })) };
  }
}

/** Several validation errors at once, as the schema validator reports them. */
export class ValidationErrors extends Error {
  constructor(readonly messages: string[]) {
    super(messages.join('; '));
  }

  toBody() {
    return { status_code: 400, errors: this.messages.map((message) => ({ error: 'ValidationError', message })) };
  }
}

export const authError = (statusCode: 401 | 403, message: string) => new ApiError(statusCode, 'AuthError', message);
export const badRequest = (message: string) => new ApiError(400, 'BadRequestError', message);
export const notFound = () => new ApiError(404, 'NoResultFound', 'No result found');
